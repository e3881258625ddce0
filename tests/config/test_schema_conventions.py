"""The OpenAPI schema documents what every API operation shares (config/api_schema.py):
problem responses for every error status, Idempotency-Key, RateLimit headers, scopes."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROBLEM = {"$ref": "#/components/schemas/ProblemDetails"}
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from django.test import Client

    from tests.factories.communities import UserFactory

    with django_db_blocker.unblock():
        user = UserFactory(email="schema-reader@example.com")
        client = Client()
        client.force_login(user)
        body = client.get(reverse("api:schema"), {"format": "json"}).json()
        user.delete()
    return body


def operations(schema):
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/{org}/"):
            continue
        for method, operation in item.items():
            if method in WRITES | {"get"}:
                yield path, method, operation


def test_the_problem_component_is_rfc_9457(schema):
    problem = schema["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance", "code"}
    errors = problem["properties"]["errors"]["items"]
    assert errors == {"$ref": "#/components/schemas/ProblemFieldError"}
    assert schema["components"]["schemas"]["ProblemFieldError"]["required"] == [
        "pointer",
        "detail",
        "code",
    ]


def test_every_operation_documents_its_errors_as_problems(schema):
    seen = 0
    for path, method, operation in operations(schema):
        seen += 1
        responses = operation["responses"]
        needed = {"401", "403", "404", "429"}
        if method in WRITES:
            needed |= {"400", "409", "413", "415", "422"}
        assert needed <= responses.keys(), (method, path, sorted(responses))
        for status, response in responses.items():
            if int(status) < 400:
                continue
            content = response["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            body = content["application/problem+json"]["schema"]
            assert body == PROBLEM or PROBLEM in body.get("allOf", []), (method, path, status)
            assert response["description"], (method, path, status)
    assert seen >= 10


def test_every_write_takes_an_idempotency_key_and_every_answer_has_rate_limit_headers(schema):
    key = {"$ref": "#/components/parameters/IdempotencyKey"}
    assert schema["components"]["parameters"]["IdempotencyKey"]["schema"]["maxLength"] == 255
    for path, method, operation in operations(schema):
        if method in WRITES:
            assert key in operation["parameters"], (method, path)
        for status, response in operation["responses"].items():
            assert "RateLimit-Remaining" in response["headers"], (method, path, status)
        assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)


def test_operations_a_key_may_call_name_the_scope(schema):
    for path, method, operation in operations(schema):
        if any("apiKey" in requirement for requirement in operation.get("security", [])):
            access = "write" if method in WRITES else "read"
            assert f":{access}`." in operation["description"], (method, path)
