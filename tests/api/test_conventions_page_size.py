"""Every API list's page_size is what the schema says, 1 to the list's maximum, or a 400:
DRF's own paginator would quietly answer a default page to "page_size=0" or "lots"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from communities.models.organisations import API_AREAS
from config.api_pagination import DefaultCursorPagination, StrictCursorPagination
from config.api_router import api_routes
from tests.api.problems import field_errors
from tests.api.test_conventions_scopes import client_with
from tests.factories.communities import (
    CommunityFactory,
    MemberFactory,
    SegmentFactory,
    WebhookEndpointFactory,
)
from tests.factories.surveys import ChoiceFactory

pytestmark = pytest.mark.django_db

REFUSED_PAGE_SIZES = ("0", "null", "501", "abc", "-1", "1.5", "")
# Views that page a part of their answer without being a list (a member's ledger).
PAGING_NOT_LISTS = frozenset({"member_points"})


def paging_routes() -> dict[str, type]:
    return {
        pattern.name: pattern.callback.view_class
        for pattern in api_routes()
        if getattr(pattern.callback, "view_class", None) is not None
        and getattr(pattern.callback.view_class, "pagination_class", None) is not None
        and (hasattr(pattern.callback.view_class, "list") or pattern.name in PAGING_NOT_LISTS)
    }


def route_kwargs(organisation) -> dict[str, dict[str, int]]:
    """Route name -> the ids in its path, of real objects of the organisation."""
    community = CommunityFactory(organisation=organisation)
    choice = ChoiceFactory(
        question__survey__organisation=organisation, question__organisation=organisation
    )
    question = choice.question
    return {
        "survey_question_list": {"pk": question.survey_id},
        "survey_choice_list": {"pk": question.survey_id, "qid": question.pk},
        "survey_response_list": {"pk": question.survey_id},
        "community_member_list": {"pk": community.pk},
        "community_segment_list": {"pk": community.pk},
        "segment_member_list": {
            "pk": SegmentFactory(community=community, organisation=organisation).pk
        },
        "webhook_delivery_list": {"pk": WebhookEndpointFactory(organisation=organisation).pk},
        "member_points": {"pk": MemberFactory(community=community, organisation=organisation).pk},
    }


def test_every_paging_route_uses_the_strict_paginator():
    # given: every API view that pages
    routes = paging_routes()
    assert "case_list" in routes and "member_points" in routes
    # then: its paginator (and the default of a list that names none) is the strict one
    assert issubclass(DefaultCursorPagination, StrictCursorPagination)
    for name, view in routes.items():
        assert issubclass(view.pagination_class, StrictCursorPagination), name


@pytest.mark.parametrize("page_size", REFUSED_PAGE_SIZES)
def test_every_paging_route_refuses_a_page_size_out_of_range_with_a_400(organisation, page_size):
    # given: a key of every read scope, and real objects behind every nested list
    client = client_with(organisation, *(f"{area}:read" for area in API_AREAS))
    kwargs = route_kwargs(organisation)
    for name in paging_routes():
        url = reverse(f"api:{name}", kwargs={"org": organisation.slug, **kwargs.get(name, {})})
        # when
        answer = client.get(url, {"page_size": page_size})
        # then: a problem naming the parameter, never a default page
        assert "/page_size" in field_errors(answer, 400), (name, page_size)


def test_every_paging_route_takes_a_page_size_within_its_maximum(organisation):
    # given
    client = client_with(organisation, *(f"{area}:read" for area in API_AREAS))
    kwargs = route_kwargs(organisation)
    for name, view in paging_routes().items():
        url = reverse(f"api:{name}", kwargs={"org": organisation.slug, **kwargs.get(name, {})})
        for page_size in (1, view.pagination_class.max_page_size):
            # when
            answer = client.get(url, {"page_size": page_size})
            # then
            assert answer.status_code == 200, (name, page_size, answer.json())


def test_the_schema_documents_page_size_as_an_integer_from_1_to_the_maximum():
    # given: every strict paginator's schema parameters
    for name, view in paging_routes().items():
        paginator = view.pagination_class()
        parameters = {p["name"]: p for p in paginator.get_schema_operation_parameters(None)}
        # then
        assert parameters["page_size"]["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": paginator.max_page_size,
            "default": paginator.page_size,
        }, name
