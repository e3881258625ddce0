"""`{{ reasons|case_reasons }}`: a case's reasons (data) in the language being rendered."""

from __future__ import annotations

from django import template

from feedback.reasons import reasons_render

register = template.Library()


@register.filter
def case_reasons(reasons: list[dict] | None) -> str:
    return reasons_render(reasons if isinstance(reasons, list) else [])
