"""A staff member builds a survey in a real browser, and a respondent answers what was built."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.utils.translation import get_language_info
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from communities.choices import Role
from surveys.choices import QuestionType, SurveyStatus
from surveys.models import Question, Response, Survey
from tests.e2e.conftest import PHONE, sign_in_as
from tests.e2e.survey_page import SEND, choose, send, shown, write
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.surveys import AnswerFactory, QuestionFactory, ResponseFactory, SurveyFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
THANKS = "Thank you!"
RECOMMEND = "How likely are you to recommend us?"
RECOMMEND_TH = "คุณจะแนะนำเราให้เพื่อนไหม"
WHAT_WENT_WRONG = "What went wrong?"
WHAT_WENT_WRONG_TH = "เกิดอะไรขึ้น"


@pytest.fixture
def owner(organisation):
    user = UserFactory(email="owner@example.com")
    StaffRoleFactory(user=user, organisation=organisation, role=Role.OWNER)
    return user


@pytest.fixture
def owner_page(context: BrowserContext, page: Page, owner, live_server) -> Page:
    """The owner of Demo Coffee, signed in earlier, at their desk (staff work on a desktop)."""
    sign_in_as(context, owner, live_server)
    page.set_viewport_size(DESKTOP)
    return page


@pytest.fixture
def respondent_browser(browser: Browser, live_server) -> Iterator[Callable[[], Page]]:
    """Opens a fresh phone-sized profile per respondent: nobody signed in, no cookies."""
    opened: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(10_000)
        opened.append(context)
        return context.new_page()

    yield open_page
    for context in opened:
        context.close()


def builder(organisation, survey: Survey) -> str:
    return f"/staff/{organisation.slug}/surveys/{survey.pk}/edit/"


def question_list(page: Page) -> Locator:
    """The builder's numbered list of questions, one item per question."""
    return page.get_by_role("region", name="Questions").get_by_role("listitem")


def add_question(page: Page, kind: str) -> None:
    """Pick a type under "Add a question" and press "Add", as the builder page offers."""
    page.get_by_label("Add a question").select_option(label=kind)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("heading", name="New question")).to_be_visible()


def tab_to(page: Page, target: Locator, *, presses: int = 40) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves down the page."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"{target} never got the focus after {presses} presses of Tab")


def test_staff_build_a_survey_with_skip_logic_and_a_respondent_sees_it_apply(
    owner_page: Page, organisation, respondent_browser
):
    page = owner_page
    # given: the owner starts a new survey from the survey list
    page.goto(f"/staff/{organisation.slug}/surveys/")
    page.get_by_role("link", name="New survey").click()
    expect(page.get_by_role("heading", name="New survey")).to_be_visible()
    start_from = page.get_by_label("Start from")
    expect(start_from.locator("option:checked")).to_have_text("A blank survey")
    page.get_by_label("Title").fill("After your visit")
    english, thai = page.get_by_label("English", exact=True), page.get_by_label("Thai", exact=True)
    english.check()
    thai.check()
    expect(english).to_be_checked()
    expect(thai).to_be_checked()
    # when
    page.get_by_role("button", name="Create the draft").click()
    # then: a draft, waiting for questions
    expect(page.get_by_text("Draft created. Add and translate its questions.")).to_be_visible()
    expect(page.get_by_role("heading", name="After your visit")).to_contain_text("Draft")
    survey = Survey.objects.get()
    assert survey.status == SurveyStatus.DRAFT
    assert survey.languages == ["en", "th"]

    # when: an NPS question, worded in English and Thai
    add_question(page, "NPS (0–10)")
    page.get_by_label("Question (English)").fill(RECOMMEND)
    page.get_by_label("Question (Thai)").fill(RECOMMEND_TH)
    page.get_by_role("button", name="Save question").click()
    # then
    expect(page.get_by_text("Question added.")).to_be_visible()
    expect(question_list(page)).to_have_count(1)

    # when: a long-text question shown only to those who score 6 or less
    add_question(page, "Long text")
    page.get_by_label("Question (English)").fill(WHAT_WENT_WRONG)
    page.get_by_label("Question (Thai)").fill(WHAT_WENT_WRONG_TH)
    skip_logic = page.get_by_role("group", name="Skip logic")
    skip_logic.get_by_label("Show only when the answer to").select_option(label=f"1. {RECOMMEND}")
    # The comparison is the list that offers "is at most", whatever its label reads.
    comparison = skip_logic.get_by_role("combobox").filter(
        has=page.get_by_role("option", name="is at most")
    )
    comparison.select_option(label="is at most")
    skip_logic.get_by_label("this number").fill("6")
    page.get_by_role("button", name="Save question").click()
    # then: the builder lists both, the second one behind its rule
    expect(page.get_by_text("Question added.")).to_be_visible()
    questions = question_list(page)
    expect(questions).to_have_count(2)
    expect(questions.nth(0)).to_contain_text(RECOMMEND)
    expect(questions.nth(0)).not_to_contain_text("shown by a rule")
    expect(questions.nth(1)).to_contain_text(WHAT_WENT_WRONG)
    expect(questions.nth(1)).to_contain_text("shown by a rule")
    nps, text = Question.objects.filter(survey=survey).order_by("position")
    assert text.show_if == {"question": nps.pk, "op": "lte", "value": 6}

    # when
    page.get_by_role("button", name="Publish").click()
    # then
    expect(page.get_by_text("The survey is live.")).to_be_visible()
    expect(page.get_by_role("heading", name="After your visit")).to_contain_text("Live")
    public_link = page.get_by_role("link", name=f"/s/{survey.public_id}/")
    expect(public_link).to_be_visible()
    link = public_link.get_attribute("href")

    # given: a first respondent, on their phone, opens the public link
    respondent = respondent_browser()
    respondent.goto(link)
    what_went_wrong = respondent.get_by_label(WHAT_WENT_WRONG)
    # then: the follow-up waits for a low score
    expect(respondent.get_by_role("group", name=RECOMMEND)).to_be_visible()
    expect(what_went_wrong).to_be_hidden()
    # when / then: it comes and goes with the score
    choose(respondent, RECOMMEND, "3")
    expect(what_went_wrong).to_be_visible()
    choose(respondent, RECOMMEND, "9")
    expect(what_went_wrong).to_be_hidden()
    choose(respondent, RECOMMEND, "2")
    expect(what_went_wrong).to_be_visible()
    # when
    write(respondent, WHAT_WENT_WRONG, "The milk was cold.")
    send(respondent)
    # then
    expect(respondent.get_by_role("heading", name=THANKS)).to_be_visible()
    first = Response.objects.get()
    assert first.survey == survey
    answers = {a.question_type: a for a in first.answers.all()}
    assert answers[QuestionType.NPS].number == 2
    assert answers[QuestionType.TEXT].text == "The milk was cold."

    # given: a second respondent, a promoter
    promoter = respondent_browser()
    promoter.goto(link)
    # when
    choose(promoter, RECOMMEND, "10")
    expect(promoter.get_by_label(WHAT_WENT_WRONG)).to_be_hidden()
    send(promoter)
    # then: their answer is stored without a text answer
    expect(promoter.get_by_role("heading", name=THANKS)).to_be_visible()
    assert Response.objects.count() == 2
    second = Response.objects.exclude(pk=first.pk).get()
    assert [(a.question_type, a.number) for a in second.answers.all()] == [(QuestionType.NPS, 10)]
    assert not second.answers.filter(question_type=QuestionType.TEXT).exists()


def test_untranslated_text_is_flagged_and_previewed_in_each_language(
    owner_page: Page, organisation
):
    # given: a survey in English and Thai whose question has no Thai wording yet
    survey = SurveyFactory(
        organisation=organisation,
        status=SurveyStatus.DRAFT,
        languages=["en", "th"],
        title={"en": "After your visit", "th": "หลังการเยือน"},
    )
    QuestionFactory(survey=survey, position=1, type=QuestionType.NPS, text={"en": RECOMMEND})
    page = owner_page
    # when
    page.goto(builder(organisation, survey))
    # then: the builder names what is missing, in which language
    thai = get_language_info("th")["name_local"]
    warning = page.get_by_role("status").filter(has_text="Not yet translated")
    expect(warning).to_have_count(1)
    expect(warning.get_by_role("listitem")).to_have_text([f"question 1 ({thai})"])

    # when
    page.get_by_role("link", name="Preview in English").click()
    # then: English lacks nothing
    preview = page.locator(".respondent")
    expect(preview).to_have_attribute("lang", "en")
    expect(preview.get_by_role("heading", name="After your visit")).to_be_visible()
    expect(preview.get_by_role("group", name=RECOMMEND)).to_be_visible()
    expect(page.get_by_text("Not yet translated")).to_have_count(0)

    # when
    page.get_by_role("link", name="← After your visit").click()
    page.get_by_role("link", name="Preview in Thai").click()
    # then: the respondent's page in Thai, the English wording standing in for the missing
    expect(preview).to_have_attribute("lang", "th")
    expect(preview).to_have_attribute("dir", "ltr")
    expect(preview.get_by_role("heading", name="หลังการเยือน")).to_be_visible()
    note = page.get_by_role("status").filter(has_text="Not yet translated")
    expect(note).to_contain_text(
        "Respondents see the English text (or the first language) instead."
    )
    expect(preview.get_by_role("group", name=RECOMMEND)).to_be_visible()

    # when: the author tries it out, answering and pressing the send button
    preview_url = page.url
    choose(page, RECOMMEND, "7")
    send_button = preview.get_by_role("button")
    send_button.click()
    # then: nothing is saved, and the page stays put
    expect(
        preview.get_by_text("This is a preview: nothing you choose here is saved.")
    ).to_be_visible()
    assert page.url == preview_url
    assert Response.objects.count() == 0

    # then: the page's own words are those a Thai respondent reads on the public link...
    expect(send_button).to_have_accessible_name(shown("th", SEND))
    expect(preview).to_contain_text(shown("th", "Not at all likely"))
    expect(preview).to_contain_text(shown("th", "Extremely likely"))
    # ...and the note to the author is in the author's words, as on the builder page
    expect(note).to_have_text(
        "Not yet translated: question 1. "
        "Respondents see the English text (or the first language) instead."
    )


def test_reorder_with_the_keyboard_buttons(owner_page: Page, organisation):
    # given: a draft with three questions
    survey = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT, languages=["en"])
    wordings = ["First impressions?", "Was it clean?", "Anything else?"]
    asked = [
        QuestionFactory(survey=survey, position=n, type=QuestionType.TEXT, text={"en": wording})
        for n, wording in enumerate(wordings, start=1)
    ]
    page = owner_page
    page.goto(builder(organisation, survey))
    questions = question_list(page)
    expect(questions.get_by_role("link")).to_have_text(wordings)
    # when: Tab reaches "Move question 3 up", and Enter presses it
    move_up = page.get_by_role("button", name="Move question 3 up")
    tab_to(page, move_up)
    expect(move_up).to_be_focused()
    page.keyboard.press("Enter")
    # then: the third question is now second, on the page and in the database
    expect(page.get_by_role("status").filter(has_text="moved up")).to_have_text(
        "Question 3 moved up to position 2."
    )
    assert list(
        Question.objects.filter(survey=survey).order_by("position").values_list("pk", flat=True)
    ) == [asked[0].pk, asked[2].pk, asked[1].pk]
    expect(questions.get_by_role("link")).to_have_text([wordings[0], wordings[2], wordings[1]])
    # and the buttons are renumbered for the new order
    expect(page.get_by_role("button", name="Move question 3 up")).to_be_enabled()
    expect(page.get_by_role("button", name="Move question 1 up")).to_be_disabled()
    expect(page.get_by_role("button", name="Move question 3 down")).to_be_disabled()


def test_an_answered_question_is_hidden_not_deleted(owner_page: Page, organisation, survey):
    # given: a live survey where someone has answered "Anything else?"
    anything_else = survey.questions.get(type=QuestionType.TEXT)
    AnswerFactory(
        response=ResponseFactory(survey=survey),
        question=anything_else,
        number=None,
        text="Lovely coffee.",
    )
    page = owner_page
    page.goto(builder(organisation, survey))
    expect(page.get_by_role("heading", name=survey.title["en"])).to_contain_text("Live")
    row = question_list(page).filter(has_text="Anything else?")
    expect(row).to_contain_text("1 answer")
    # when
    row.get_by_role("button", name="Delete question 5").click()
    # then: it is hidden, not gone
    expect(
        page.get_by_text("People have answered this question, so it is hidden instead of deleted.")
    ).to_be_visible()
    row = question_list(page).filter(has_text="Anything else?")
    expect(row).to_contain_text("hidden")
    expect(row.get_by_role("button", name="Delete question 5")).to_have_count(0)
    anything_else.refresh_from_db()
    assert anything_else.hidden is True
    assert anything_else.answers.count() == 1
    # and respondents no longer see it
    page.goto(f"/s/{survey.public_id}/")
    expect(page.get_by_role("group", name=RECOMMEND)).to_be_visible()
    expect(page.get_by_label("Anything else?")).to_have_count(0)

    # when
    page.goto(builder(organisation, survey))
    question_list(page).filter(has_text="Anything else?").get_by_role(
        "button", name="Show again"
    ).click()
    # then
    expect(page.get_by_text("Question shown again.")).to_be_visible()
    row = question_list(page).filter(has_text="Anything else?")
    expect(row).not_to_contain_text("hidden")
    expect(row.get_by_role("button", name="Delete question 5")).to_be_visible()
    anything_else.refresh_from_db()
    assert anything_else.hidden is False
