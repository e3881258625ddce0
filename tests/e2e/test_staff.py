"""A staff member signs in and reads a survey's results in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from surveys.choices import QuestionType
from tests.factories.surveys import AnswerFactory, ResponseFactory
from tests.surveys.helpers import question_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_staff_signs_in_and_reads_the_results_of_a_survey(
    page: Page, live_server, organisation, survey, staff_user
):
    # given: one promoter has answered; staff work on a desktop screen
    AnswerFactory(
        response=ResponseFactory(survey=survey),
        question=question_of(survey, QuestionType.NPS),
        number=10,
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    # when
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("staff@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign In").click()
    # then: their organisation is listed and leads to its surveys
    expect(page.get_by_role("heading", name="Your organisations")).to_be_visible()
    expect(page.get_by_text("Demo Coffee")).to_be_visible()
    page.get_by_role("link", name="Surveys").click()
    expect(page).to_have_url(f"{live_server.url}/staff/{organisation.slug}/surveys/")
    row = page.get_by_role("row").filter(has_text=survey.title["en"])
    expect(row).to_contain_text("Live")
    responses_cell = row.get_by_role("cell").nth(3)  # title, status, anonymity, responses
    expect(responses_cell).to_have_text("1")
    # when
    row.get_by_role("link", name=survey.title["en"]).click()
    # then
    expect(page.get_by_role("heading", name=survey.title["en"])).to_be_visible()
    public_url = f"{live_server.url}/s/{survey.public_id}/"
    expect(page.get_by_role("link", name=public_url)).to_be_visible()
    expect(page.locator("#stat-responses")).to_have_text("1")
    # one answer is fewer than the minimum group size: its NPS is withheld
    expect(page.locator("#stat-nps")).to_have_text("–")
