"""How the OpenAPI schema groups operations: one tag per API-key area.

An API key's scopes name areas ("members:read", "cases:write"), so the documentation
groups operations the same way: a reader looking up which scope a call needs finds it in
the tag the call sits under. The area is the view's `api_area`
(communities.scoping.OrganisationScopedAPIView); a view that gives its own tags with
`extend_schema(tags=…)` keeps them.
"""

from __future__ import annotations

from functools import cache

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema


class _AreaTagSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        return [self.view.api_area]


@cache
def _area_tagged(schema_class: type[AutoSchema]) -> type[AutoSchema]:
    """`schema_class` with the area tag beneath it: extend_schema's generated subclasses
    come first, so an explicit `tags=` still wins over the area."""
    bases = (
        tuple(cls for cls in schema_class.__mro__ if cls not in AutoSchema.__mro__)
        + _AreaTagSchema.__mro__
    )
    return type(f"AreaTagged{schema_class.__name__}", bases, {})


class AreaTaggingSchemaGenerator(SchemaGenerator):
    """drf-spectacular's generator, tagging each operation with its view's area."""

    def create_view(self, callback, method, request=None):
        view = super().create_view(callback, method, request)
        if not getattr(view, "api_area", ""):
            return view
        self._set_schema_to_view(view, _area_tagged(view.schema.__class__)())
        return view
