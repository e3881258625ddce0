"""The OpenAPI 3.1 schema describes every operation exactly (issue 17): it validates with no
warning, and each operation has an operationId, a summary, an area tag, a documented error
answer, and responses whose every JSON value has a type (no free-form `{}`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.urls import path
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import AreaTaggingSchemaGenerator

pytestmark = pytest.mark.django_db

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
AREAS_IN_ORDER = [tag["name"] for tag in settings.SPECTACULAR_SETTINGS["TAGS"]]
AREAS = set(AREAS_IN_ORDER)


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    """The schema as `manage.py spectacular` writes it, generated once for the module."""
    with django_db_blocker.unblock():
        generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
        return json.loads(json.dumps(generator.get_schema(request=None, public=True)))


def operations(schema: dict) -> Iterator[tuple[str, dict]]:
    for route, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {route}", operation


def untyped(node, components: dict, where: str, seen: set[str]) -> Iterator[str]:
    """Where, under this schema, a JSON value may be anything: `{}`, an object with no
    properties, `additionalProperties: {}`/true, an array without typed items."""
    if node is True or node == {}:
        yield where
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from untyped(components[name], components, f"{where} ({name})", seen)
        return
    combined = [key for key in ("allOf", "oneOf", "anyOf") if key in node]
    for key in combined:
        for index, part in enumerate(node[key]):
            yield from untyped(part, components, f"{where}/{key}/{index}", seen)
    kinds = node.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds} if kinds else set()
    if not kinds and not combined and not ({"enum", "const"} & node.keys()):
        yield where
    if "object" in kinds:
        extra = node.get("additionalProperties", False)
        if extra is True or extra == {}:
            yield f"{where}/additionalProperties"
        elif isinstance(extra, dict):
            yield from untyped(extra, components, f"{where}/additionalProperties", seen)
        elif not node.get("properties"):
            yield where
    for name, child in node.get("properties", {}).items():
        yield from untyped(child, components, f"{where}/{name}", seen)
    if "array" in kinds:
        yield from untyped(node.get("items", {}), components, f"{where}/items", seen)


def test_schema_validates_as_openapi_3_1_without_a_warning(tmp_path: Path, capsys) -> None:
    # given the project's API
    target = tmp_path / "schema.yaml"

    # when `manage.py spectacular --validate --fail-on-warn` writes the schema
    try:
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    except Exception as error:  # the warnings themselves went to stderr
        pytest.fail(f"{error!r}\n{capsys.readouterr().err}")

    # then it is an OpenAPI 3.1 document with the conventions written once, up front
    written = yaml.safe_load(target.read_text())
    assert written["openapi"] == "3.1.0"
    for convention in ("Idempotency-Key", "problem+json", "RateLimit-Remaining", "next"):
        assert convention in written["info"]["description"]
    # No licence is claimed: the project has not chosen one.
    assert written["servers"] and written["info"]["contact"]
    assert [tag["name"] for tag in written["tags"]] == AREAS_IN_ORDER


def test_every_operation_has_a_unique_operation_id_and_a_summary(schema: dict) -> None:
    # given every operation of the schema
    found = list(operations(schema))
    assert found

    # then each is named once and says in a line what it does
    ids = [operation.get("operationId") for _name, operation in found]
    assert all(ids), [name for name, operation in found if not operation.get("operationId")]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    missing = [name for name, operation in found if not operation.get("summary", "").strip()]
    assert not missing, f"operations without a summary: {missing}"


def test_every_operation_sits_under_the_area_its_key_scope_names(schema: dict) -> None:
    # given every operation of the schema
    # then its tag is one of the areas a key's scopes name, so a reader knows the scope
    wrong = {
        name: operation.get("tags")
        for name, operation in operations(schema)
        if len(operation.get("tags") or []) != 1 or operation["tags"][0] not in AREAS
    }
    assert not wrong, f"operations not tagged with one area of {sorted(AREAS)}: {wrong}"


def test_every_operation_documents_an_error_answer(schema: dict) -> None:
    # given every operation of the schema
    # then at least one 4xx answer is documented, with a body a client can read
    bare = [
        name
        for name, operation in operations(schema)
        if not any(status.startswith("4") for status in operation["responses"])
    ]
    assert not bare, f"operations documenting no error answer: {bare}"


def test_no_response_holds_a_free_form_object(schema: dict) -> None:
    # given every response body of every operation
    components = schema.get("components", {}).get("schemas", {})
    spots = []
    walked: set[str] = set()  # each component is reported once, where first met
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                where = f"{name} {status} {media}"
                spots += untyped(content.get("schema", {}), components, where, walked)

    # then every value in it has a type a client can generate code from
    assert not spots, "untyped values in responses:\n" + "\n".join(spots)


def test_the_schema_endpoint_serves_the_3_1_document_and_leaves_itself_out(client) -> None:
    # when anyone asks for the schema as JSON
    answer = client.get("/api/schema/", {"format": "json"})

    # then it is the 3.1 document, without the schema endpoint as an operation of the API
    assert answer.status_code == 200
    document = json.loads(answer.content)
    assert document["openapi"] == "3.1.0"
    assert "/api/schema/" not in document["paths"]


class _AreaView(APIView):
    api_area = "members"

    @extend_schema(summary="Read", responses={200: None})
    def get(self, request):
        return Response()

    @extend_schema(summary="Write", tags=["special"], responses={204: None})
    def post(self, request):
        return Response(status=204)


def test_an_operation_is_tagged_with_its_views_area_unless_it_names_its_own() -> None:
    # given a view of the members area, one of whose operations names its own tag
    generator = AreaTaggingSchemaGenerator(patterns=[path("area/", _AreaView.as_view())])

    # when the schema is generated
    operations = generator.get_schema(request=None, public=True)["paths"]["/area/"]

    # then the area is the tag, and an explicit tag wins over it
    assert operations["get"]["tags"] == ["members"]
    assert operations["post"]["tags"] == ["special"]
