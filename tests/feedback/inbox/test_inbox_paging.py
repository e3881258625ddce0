"""The inbox at scale: past COUNT_CAP matching cases it says "more than" instead of
counting them all, and pages on by reading one row beyond the page, never a full count."""

from __future__ import annotations

import pytest

from feedback.views import inbox
from tests.feedback.inbox.conftest import inbox_url, listed

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(inbox, "COUNT_CAP", 3)
    monkeypatch.setattr(inbox.StaffCaseListView, "paginate_by", 2)


def test_past_the_cap_the_inbox_says_more_than_and_still_pages_to_the_end(
    agent_client, organisation, make_case, small_pages
):
    # given: 5 cases, a cap of 3, pages of 2
    cases = [make_case() for _ in range(5)]
    newest_first = [c.pk for c in reversed(cases)]

    # when
    pages = [agent_client.get(inbox_url(organisation, page=n)) for n in (1, 2, 3)]
    beyond = agent_client.get(inbox_url(organisation, page=4))

    # then: every case once, in order; no total shown; no next link on the last page
    assert [pk for page in pages for pk in listed(page)] == newest_first
    first = pages[0].content.decode()
    assert "More than 3 cases" in first and "Page 1</span>" in first
    assert "page=2" in first
    assert "page=4" not in pages[2].content.decode()
    assert beyond.status_code == 404


def test_under_the_cap_the_inbox_counts_exactly(agent_client, organisation, make_case, small_pages):
    make_case()
    make_case()

    page = agent_client.get(inbox_url(organisation)).content.decode()

    assert "2 cases" in page and "More than" not in page


@pytest.mark.parametrize("number", ["0", "-1", "x", "9" * 30])
def test_a_malformed_page_number_is_not_found(
    agent_client, organisation, make_case, small_pages, number
):
    # past the cap, so no count bounds the page number
    for _ in range(4):
        make_case()

    assert agent_client.get(inbox_url(organisation, page=number)).status_code == 404
