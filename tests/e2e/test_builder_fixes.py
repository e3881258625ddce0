"""What staff and respondents met in the builder and on the survey page (issue 11), in a
real browser: right-to-left choice inputs, the progress label, the already-answered page,
the builder's Delete and move buttons, and a poll's results for staff."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from communities.choices import Role
from surveys.choices import Anonymity, QuestionType, SurveyKind, SurveyStatus
from surveys.models import Question, Response
from surveys.services import question_add, survey_create, survey_publish
from tests.e2e.conftest import assert_accessible, sign_in_as
from tests.e2e.survey_page import SEND, answer_every_question, choose, send, shown
from tests.factories.communities import StaffRoleFactory, UserFactory
from tests.factories.surveys import (
    AnswerFactory,
    ChannelFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
THANKS = "Thank you!"
ALREADY = "You have already answered this survey. Thank you!"


@pytest.fixture
def owner(organisation):
    user = UserFactory(email="owner@example.com")
    StaffRoleFactory(user=user, organisation=organisation, role=Role.OWNER)
    return user


@pytest.fixture
def owner_page(context: BrowserContext, page: Page, owner, live_server) -> Page:
    sign_in_as(context, owner, live_server)
    page.set_viewport_size(DESKTOP)
    return page


def link(survey, language: str | None = None) -> str:
    return f"/s/{survey.public_id}/" + (f"?lang={language}" if language else "")


def misplaced_boxes(page: Page, within: str) -> list[str]:
    """Each radio or check box under `within` that sits beside its label (not inside it,
    as the big scale buttons do) and either intersects the label's box or stands after
    the label in the reading direction."""
    return page.evaluate(
        """(within) => {
            const overlaps = [];
            const root = document.querySelector(within);
            for (const input of root.querySelectorAll('input[type=radio], input[type=checkbox]')) {
                const label = root.querySelector(`label[for="${input.id}"]`);
                if (!label || label.contains(input) || !input.offsetParent) continue;
                const a = input.getBoundingClientRect(), b = label.getBoundingClientRect();
                const apart = a.right <= b.left || b.right <= a.left
                    || a.bottom <= b.top || b.bottom <= a.top;
                // A right-to-left reader starts the line at the right: the box goes there.
                const rtl = getComputedStyle(label).direction === 'rtl';
                const before = rtl ? a.left >= b.right - 1 : a.right <= b.left + 1;
                if (!apart) overlaps.push(`${input.id} on "${label.textContent.trim()}"`);
                else if (!before) overlaps.push(`${input.id} after "${label.textContent.trim()}"`);
            }
            return overlaps;
        }""",
        within,
    )


# --- right-to-left radio and check boxes -------------------------------------------------


@pytest.mark.parametrize(
    ("staff_language", "previewed", "label"),
    [("en", "he", "Coffee HE"), ("he", "he", "Coffee HE"), ("he", "en", "Coffee")],
)
def test_preview_keeps_each_radio_and_check_box_off_its_label_in_either_direction(
    owner_page: Page, owner, organisation, survey, staff_language, previewed, label
):
    # given: staff reading the builder in one language preview the survey in another
    owner.locale = staff_language
    owner.save()
    page = owner_page
    # when
    page.goto(f"/staff/{organisation.slug}/surveys/{survey.pk}/preview/?language={previewed}")
    expect(page.locator("html")).to_have_attribute("lang", staff_language)
    preview = page.locator(".respondent")
    expect(preview).to_have_attribute("dir", "rtl" if previewed == "he" else "ltr")
    expect(preview.get_by_role("radio", name=label)).to_be_visible()
    # then: every box stands at the start of its line, clear of the words beside it
    assert misplaced_boxes(page, ".respondent") == []


def test_hebrew_respondent_page_keeps_each_radio_and_check_box_off_its_label(
    member_page: Page, survey
):
    # given: a member (so the consent box is offered too) opens the survey in Hebrew
    page = member_page
    # when
    page.goto(link(survey, "he"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("checkbox", name="Cake HE")).to_be_visible()
    # then
    assert misplaced_boxes(page, "main") == []


# --- the progress label -------------------------------------------------------------------


def progress_words(language: str, template: str, n: int, total: int) -> str:
    """The progress line as the page shows it (its template's % signs are doubled, as
    {% translate %} strings with % in them are)."""
    return shown(language, template.replace("%", "%%")).replace("%%", "%") % {
        "n": n,
        "total": total,
    }


def test_the_progress_line_counts_answers_from_zero_not_question_zero(page: Page, survey):
    # when: a visitor opens a survey that shows all five questions at once
    page.goto(link(survey))
    progress = page.locator("#survey-progress-text")
    # then: nothing answered yet, said as such
    expect(progress).to_have_text("0 of 5 answered")
    expect(progress).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuetext", "0 of 5 answered")
    expect(page.get_by_text(re.compile(r"Question 0"))).to_have_count(0)
    # when
    choose(page, survey.questions.get(type=QuestionType.NPS).text_for("en"), "8")
    # then
    expect(progress).to_have_text("1 of 5 answered")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "1")


def test_one_question_at_a_time_says_which_question_this_is(page: Page, survey):
    # given
    survey.one_question_per_page = True
    survey.save()
    # when
    page.goto(link(survey, "he"))
    progress = page.locator("#survey-progress-text")
    # then: the first question is question 1, in the respondent's language
    expect(progress).to_have_text(progress_words("he", "Question %(n)s of %(total)s", 1, 5))
    # when
    choose(page, survey.questions.get(type=QuestionType.NPS).text_for("he"), "8")
    page.get_by_role("button", name=shown("he", "Next")).click()
    # then
    expect(progress).to_have_text(progress_words("he", "Question %(n)s of %(total)s", 2, 5))


def test_the_answered_count_is_in_the_respondents_language(page: Page, survey):
    page.goto(link(survey, "th"))
    expect(page.locator("#survey-progress-text")).to_have_text(
        progress_words("th", "%(n)s of %(total)s answered", 0, 5)
    )


# --- the already-answered page ------------------------------------------------------------


def test_a_visitor_who_answered_sees_the_already_answered_page_on_return(page: Page, survey):
    # given: a visitor answered from this phone
    page.goto(link(survey))
    answer_every_question(page, survey)
    send(page)
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    # when: they open the link again later
    page.goto(link(survey))
    # then: told at once, with no form to fill in again
    expect(page.get_by_role("heading", name=ALREADY)).to_be_visible()
    expect(page.get_by_role("button", name=SEND)).to_have_count(0)
    expect(page.get_by_role("link", name=f"Back to {survey.community.name}")).to_be_visible()
    assert_accessible(page)
    assert Response.objects.count() == 1


def test_an_anonymous_surveys_answer_is_known_only_to_the_browser_that_gave_it(
    page: Page, browser, live_server, survey
):
    # given: an anonymous survey, answered from this phone in Hebrew
    survey.anonymity = Anonymity.ANONYMOUS
    survey.save()
    page.goto(link(survey, "he"))
    answer_every_question(page, survey, language="he")
    send(page, "he")
    # when: the same phone comes back
    page.goto(link(survey, "he"))
    # then: told in Hebrew, right to left
    expect(page.get_by_role("heading", name=shown("he", ALREADY))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert_accessible(page)
    # and another phone is asked the questions as anyone would be
    other = browser.new_context(base_url=live_server.url)
    try:
        stranger = other.new_page()
        stranger.goto(link(survey, "he"))
        expect(stranger.get_by_role("button", name=shown("he", SEND))).to_be_visible()
    finally:
        other.close()


def test_a_kiosk_tablet_keeps_asking_after_its_browser_answered_the_public_link(
    page: Page, survey, organisation
):
    # given: the tablet's browser was once used to answer the public link
    page.goto(link(survey))
    answer_every_question(page, survey)
    send(page)
    kiosk = ChannelFactory(
        survey=survey, kind="kiosk", device_token="t" * 32, active=True, location=None
    )
    # when: it shows the store's kiosk page
    page.goto(f"/k/{kiosk.device_token}/")
    # then: the next customer is asked the questions
    expect(page.get_by_text(ALREADY)).to_have_count(0)
    expect(
        page.get_by_role("group", name=survey.questions.get(type=QuestionType.NPS).text_for("en"))
    ).to_be_visible()


# --- a poll's results for staff -----------------------------------------------------------


def test_staff_read_a_polls_votes_as_a_table_with_bars(owner_page: Page, organisation, community):
    # given: a poll six people voted in, in an organisation reporting groups of two or more
    # (at the default five, the two "No thanks" votes would be hidden, and "Yes" beside them)
    organisation.min_group_size = 2
    organisation.save(update_fields=["min_group_size"])
    poll = survey_create(
        organisation=organisation,
        community=community,
        title={"en": "Oat milk"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question = question_add(
        survey=poll,
        type="single_choice",
        text={"en": "Should we stock oat milk?"},
        choices=[{"en": "Yes please"}, {"en": "No thanks"}],
    )
    survey_publish(survey=poll)
    yes, no = question.choices.all()
    for choice in [yes] * 4 + [no] * 2:
        answer = AnswerFactory(
            response=ResponseFactory(survey=poll), question=question, number=None
        )
        answer.choices.add(choice)
    page = owner_page
    # when
    page.goto(f"/staff/{organisation.slug}/surveys/{poll.pk}/")
    # then: each option's votes and share, in words a screen reader reads as a table
    table = page.locator("table.poll-distribution")
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("row", name="Yes please")).to_contain_text("4")
    expect(table.get_by_role("row", name="Yes please")).to_contain_text("67%")
    expect(table.get_by_role("row", name="No thanks")).to_contain_text("33%")
    expect(page.get_by_text("6 votes so far.")).to_be_visible()
    assert_accessible(page)


# --- the builder's Delete and move buttons ------------------------------------------------


def test_hebrew_delete_buttons_say_their_visible_word_first(owner_page: Page, owner, organisation):
    # given: a Hebrew-reading author with a two-question draft
    owner.locale = "he"
    owner.save()
    survey = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT, languages=["he"])
    for n in (1, 2):
        QuestionFactory(survey=survey, position=n, type=QuestionType.TEXT, text={"he": f"ש{n}"})
    page = owner_page
    # when
    page.goto(f"/staff/{organisation.slug}/surveys/{survey.pk}/edit/")
    # then: each Delete button's name starts with the word it shows (WCAG 2.5.3)
    visible = shown("he", "Delete")
    buttons = page.locator("#question-list .btn-outline-danger")
    expect(buttons).to_have_count(2)
    for index in range(2):
        button = buttons.nth(index)
        expect(button).to_have_accessible_name(re.compile(rf"^{re.escape(visible)}\s"))
        expect(button).to_have_accessible_name(re.compile(rf"{index + 1}"))
        seen = button.evaluate(
            "b => [...b.childNodes].filter(n => !(n.classList && n.classList.contains("
            "'visually-hidden'))).map(n => n.textContent).join('').trim()"
        )
        assert seen == visible
    assert_accessible(page)


def test_a_keyboard_move_keeps_the_focus_on_the_moved_question_and_says_where_it_went(
    owner_page: Page, organisation
):
    # given: a draft with three questions
    survey = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT, languages=["en"])
    asked = [
        QuestionFactory(survey=survey, position=n, type=QuestionType.TEXT, text={"en": f"Q{n}"})
        for n in (1, 2, 3)
    ]
    page = owner_page
    page.goto(f"/staff/{organisation.slug}/surveys/{survey.pk}/edit/")
    # when: the keyboard presses "Move question 3 up"
    page.get_by_role("button", name="Move question 3 up").focus()
    page.keyboard.press("Enter")
    # then: the focus is on the moved question's (now second) up button, not on <body>
    moved_up = page.get_by_role("button", name="Move question 2 up")
    expect(moved_up).to_be_focused()
    expect(
        page.locator(f"#question-{asked[2].pk}").get_by_role("button", name=re.compile("up"))
    ).to_be_focused()
    # and the move is said in a polite live region
    status = page.locator("#move-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("Question 3 moved up to position 2.")
    # when: pressed again, the question reaches the top, where "up" is disabled
    page.keyboard.press("Enter")
    # then: the focus goes to its "down" button instead
    expect(page.get_by_role("button", name="Move question 1 down")).to_be_focused()
    expect(status).to_have_text("Question 2 moved up to position 1.")
    assert list(
        Question.objects.filter(survey=survey).order_by("position").values_list("pk", flat=True)
    ) == [asked[2].pk, asked[0].pk, asked[1].pk]
    assert_accessible(page)
