"""Reading the API's error answers in tests: RFC 9457 problem details (config/api_errors.py)."""

from __future__ import annotations

from config.api_errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE


def problem(answer, status: int | None = None) -> dict:
    """The problem document an answer carries, once it is checked to be one (of `status`)."""
    body = answer.json()
    if status is not None:
        assert answer.status_code == status, (answer.status_code, body)
    assert answer["Content-Type"] == PROBLEM_CONTENT_TYPE, answer["Content-Type"]
    assert body["status"] == answer.status_code and body["type"].startswith(PROBLEM_BASE)
    assert {"title", "detail", "instance", "code"} <= body.keys(), body
    return body


def field_errors(answer, status: int | None = None) -> dict[str, list[str]]:
    """JSON pointer -> messages of a refused input ("/email", "/attributes/city")."""
    found: dict[str, list[str]] = {}
    for error in problem(answer, status).get("errors", []):
        found.setdefault(error["pointer"], []).append(error["detail"])
    return found


def refused_fields(answer, status: int | None = None) -> set[str]:
    """The top-level fields (or query parameters) a refused input names."""
    return {pointer.split("/")[1] for pointer in field_errors(answer, status) if pointer}
