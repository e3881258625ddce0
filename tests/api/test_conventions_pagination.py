"""Every API list pages by cursor, with a page_size parameter and a cap."""

import pytest
from rest_framework import generics
from rest_framework.pagination import CursorPagination

from config.api_pagination import DefaultCursorPagination
from config.api_router import api_routes

pytestmark = pytest.mark.django_db


def test_a_list_without_its_own_paginator_pages_by_cursor():
    class AnyList(generics.ListAPIView):
        pass

    assert AnyList.pagination_class is DefaultCursorPagination
    paginator = DefaultCursorPagination()
    assert paginator.page_size_query_param == "page_size"
    assert paginator.max_page_size >= paginator.page_size


def test_every_api_route_pages_by_cursor_with_page_size_and_a_cap():
    # given: every API view that pages (every list, and any view that pages a part of its
    # answer, such as a member's ledger)
    views = {
        pattern.name: pattern.callback.view_class
        for pattern in api_routes()
        if getattr(pattern.callback, "view_class", None) is not None
        and getattr(pattern.callback.view_class, "pagination_class", None) is not None
    }
    lists = [name for name, view in views.items() if hasattr(view, "list")]
    assert lists, "no list routes found"
    # then
    for name, view in views.items():
        paginator = view.pagination_class
        assert issubclass(paginator, CursorPagination), name
        assert paginator.page_size_query_param == "page_size", name
        assert paginator.max_page_size and paginator.max_page_size >= paginator.page_size, name
