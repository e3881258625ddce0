"""A customer who uses the keyboard alone, or taps a kiosk: what axe-core cannot see.

On the survey page every answer is reached with Tab, in the order the questions are read,
each with a focus ring one can see; after a send with answers missing, the error summary
has the focus and its links lead to the questions (on a survey asked one question at a
time, to that question's step). On the kiosk every target is at least 24 by 24 CSS pixels
(WCAG 2.5.8), on a tablet and on a phone.

The customers, their survey and kiosk are built by test_public_accessibility.py.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from surveys.choices import QuestionType
from surveys.services import kiosk_register
from tests.e2e.conftest import sign_in_as
from tests.e2e.survey_page import shown
from tests.e2e.test_public_accessibility import LANGUAGES, Customers, build_customers
from tests.factories.communities import LocationFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

every_language = pytest.mark.parametrize(("language", "direction"), LANGUAGES)
SURVEY_FORM = "form[data-survey-form]"

# What one Tab stop is, as the keyboard user meets it: a radio group is one stop.
DESCRIBE = """el => ({
    key: el.type === 'radio'
        ? 'group ' + el.name
        : (el.id || el.name || el.tagName + ' ' + el.textContent.trim()),
    inForm: !!el.closest('form[data-survey-form]'),
    submit: el.type === 'submit',
    name: el.name || '',
    checked: !!el.checked,
})"""

# The Tab stops of the form as the page now shows it, in document order.
FORM_STOPS = """form => {
    const stops = [];
    for (const el of form.querySelectorAll('input, textarea, select, button')) {
        if (el.type === 'hidden' || el.disabled || !el.getClientRects().length) continue;
        if (el.closest('[hidden]')) continue;
        const key = el.type === 'radio' ? 'group ' + el.name : (el.id || el.name);
        if (!stops.includes(key)) stops.push(key);
    }
    return stops;
}"""

# The ring a sighted keyboard user sees: on the element, or on the big button (the label)
# of an answer whose own radio is invisible.
FOCUS_RING = """el => {
    const hidden = getComputedStyle(el).opacity === '0';
    const target = hidden ? el.closest('label') : el;
    const s = getComputedStyle(target);
    const width = parseFloat(s.outlineWidth) || 0;
    const seen = s.outlineStyle === 'auto'
        || (s.outlineStyle !== 'none' && width >= 2 && s.outlineColor !== 'rgba(0, 0, 0, 0)');
    return seen ? '' : `${target.tagName} ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`;
}"""


@pytest.fixture
def customers() -> Customers:
    return build_customers()


def survey_url(customers: Customers, language: str) -> str:
    return f"/s/{customers.survey.public_id}/?lang={language}"


def question(page: Page, customers: Customers, qtype: str, language: str) -> Locator:
    wording = customers.survey.questions.get(type=qtype).text_for(language)
    return page.get_by_role("group", name=wording)


@every_language
def test_a_keyboard_user_reaches_every_answer_in_reading_order_and_sees_where_they_are(
    context: BrowserContext, page: Page, customers: Customers, live_server, language, direction
):
    # given: a member opens the survey (so the contact box is offered too)
    sign_in_as(context, customers.member.user, live_server)
    page.goto(survey_url(customers, language))
    nps = customers.survey.questions.get(type=QuestionType.NPS)
    why = customers.survey.questions.get(type=QuestionType.SINGLE_CHOICE)
    # when: they press Tab down the page, giving a low score (Space) and the second reason
    # (Down arrow), which bring in the questions behind show-if rules
    stops, unseen = [], []
    for _ in range(120):
        page.keyboard.press("Tab")
        focused = page.evaluate_handle("document.activeElement")
        stop = focused.evaluate(DESCRIBE)
        if stop["name"] == f"q_{nps.pk}" and not stop["checked"]:
            page.keyboard.press("Space")
        elif stop["name"] == f"q_{why.pk}" and not stop["checked"]:
            page.keyboard.press("ArrowDown")
            focused = page.evaluate_handle("document.activeElement")
        ring = focused.evaluate(FOCUS_RING)
        if ring:
            unseen.append(f"{stop['key']}: {ring}")
        if stop["inForm"] and (not stops or stops[-1] != stop["key"]):
            stops.append(stop["key"])
        if stop["submit"]:
            break
    # then: the follow-up questions are shown, and Tab met every answer in the form's order
    went_wrong = customers.survey.questions.get(position=2)
    expect(page.get_by_label(went_wrong.text_for(language))).to_be_visible()
    expect(question(page, customers, QuestionType.MULTI_CHOICE, language)).to_be_visible()
    assert stops == page.locator(SURVEY_FORM).evaluate(FORM_STOPS)
    assert stops[-1] == "submit-id-submit"
    assert [s for s in stops if s.startswith("group q_")][:2] == [
        f"group q_{nps.pk}",
        f"group q_{customers.survey.questions.get(type=QuestionType.STAR).pk}",
    ]
    # and each stop showed a focus ring
    assert not unseen, "no visible focus ring on:\n" + "\n".join(unseen)


@every_language
def test_a_scales_end_words_are_said_with_its_end_buttons(
    page: Page, customers: Customers, language, direction
):
    # given
    page.goto(survey_url(customers, language))
    nps = question(page, customers, QuestionType.NPS, language).get_by_role("radio")
    clean = question(page, customers, QuestionType.RATING, language).get_by_role("radio")
    rating = customers.survey.questions.get(type=QuestionType.RATING).settings
    # then: what 0 and 10 (or 1 and 7) mean is read with them, as it is seen under them
    expect(nps.first).to_have_accessible_description(shown(language, "Not at all likely"))
    expect(nps.last).to_have_accessible_description(shown(language, "Extremely likely"))
    expect(nps.nth(5)).to_have_accessible_description("")
    expect(clean.first).to_have_accessible_description(rating["min_label"][language])
    expect(clean.last).to_have_accessible_description(rating["max_label"][language])


@every_language
def test_after_a_send_with_answers_missing_the_error_summary_has_the_focus_and_leads_to_them(
    page: Page, customers: Customers, language, direction
):
    # given: a visitor opens the survey and, by keyboard, sends it with nothing answered
    page.goto(survey_url(customers, language))
    page.locator(f"{SURVEY_FORM} [type=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # then: the summary of what is missing has the focus, with a ring one can see
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    assert summary.evaluate(FOCUS_RING) == ""
    missed = [q for q in customers.survey.questions.all() if q.required and not q.show_if]
    links = summary.get_by_role("link")
    expect(links).to_have_text([q.text_for(language) for q in missed])
    # when: they follow each link with the keyboard
    for n, asked in enumerate(missed):
        summary.focus()
        for _ in range(n + 1):
            page.keyboard.press("Tab")
        expect(links.nth(n)).to_be_focused()
        page.keyboard.press("Enter")
        # then: the first answer of that question has the focus, in view with its question
        group = page.get_by_role("group", name=asked.text_for(language))
        first = group.locator("input").first
        expect(first).to_be_focused()
        expect(group.locator("legend")).to_be_in_viewport()
        assert first.evaluate(FOCUS_RING) == ""
        expect(group).to_have_accessible_description(
            shown(language, "Please answer this question.")
        )


@every_language
def test_one_question_at_a_time_an_error_summary_link_goes_to_the_step_of_its_question(
    page: Page, customers: Customers, language, direction
):
    # given: a survey asked one question at a time, sent with nothing answered
    customers.survey.one_question_per_page = True
    customers.survey.save()
    page.goto(survey_url(customers, language))
    with page.expect_navigation():
        page.locator(SURVEY_FORM).evaluate("form => form.requestSubmit()")
    missed = [q for q in customers.survey.questions.all() if q.required and not q.show_if]
    assert len(missed) >= 2
    first, later = (
        page.get_by_role("group", name=q.text_for(language)) for q in (missed[0], missed[-1])
    )
    # then: the page resumes at the first question it sent back, the later one out of sight
    expect(first).to_be_visible()
    expect(later).to_be_hidden()
    # when: the summary's link to the later question is followed with the keyboard
    summary = page.get_by_role("alert")
    link = summary.get_by_role("link", name=missed[-1].text_for(language))
    link.focus()
    page.keyboard.press("Enter")
    # then: its step is the one shown, its first answer has the focus with its words in view
    expect(later).to_be_visible()
    expect(first).to_be_hidden()
    answer = later.locator("input").first
    expect(answer).to_be_focused()
    expect(later.locator("legend")).to_be_in_viewport()
    # and the progress says which step this is
    step = later.evaluate(
        "q => [...document.querySelectorAll('form[data-survey-form] .question')]"
        ".filter(o => !o.hidden).indexOf(q.closest('.question')) + 1"
    )
    assert step > 1
    expect(page.locator("#survey-progress [role=progressbar]")).to_have_attribute(
        "aria-valuenow", str(step)
    )


def kiosk_targets(page: Page, pane: Locator) -> dict:
    """How many targets the kiosk's header and shown language have, and each one under
    24 by 24 CSS pixels.

    An answer's own radio is invisible: its target is the big button (label) around it.
    A text box's label is not counted: the box itself is the equivalent target.
    """
    return page.evaluate(
        """([pane]) => {
            const small = [];
            const targets = [...document.querySelectorAll('.kiosk-header button, .kiosk-header a')];
            for (const el of pane.querySelectorAll('button, a[href], input, textarea, select')) {
                if (el.type === 'hidden' || !el.getClientRects().length) continue;
                if (el.closest('[hidden]')) continue;
                targets.push(getComputedStyle(el).opacity === '0' ? el.closest('label') : el);
            }
            for (const el of targets) {
                const box = el.getBoundingClientRect();
                if (box.width < 24 || box.height < 24) {
                    small.push(`${el.outerHTML.slice(0, 80)}: ${box.width}x${box.height}`);
                }
            }
            return {count: targets.length, small};
        }""",
        [pane.element_handle()],
    )


@every_language
@pytest.mark.parametrize("screen", [{"width": 800, "height": 1280}, {"width": 360, "height": 740}])
def test_every_target_on_the_kiosk_is_at_least_24_css_pixels_square(
    page: Page, customers: Customers, language, direction, screen
):
    # given: a kiosk on a tablet (or a small phone), in the customer's language
    page.set_viewport_size(screen)
    store = LocationFactory(organisation=customers.community.organisation, name="Silom")
    kiosk = kiosk_register(survey=customers.survey, location=store)
    page.goto(f"/k/{kiosk.device_token}/?lang={language}")
    pane = page.locator(f"section[data-kiosk-language={language}]")
    # when: the answers that bring in every question are given
    question(page, customers, QuestionType.NPS, language).locator("label").nth(2).click()
    question(page, customers, QuestionType.SINGLE_CHOICE, language).locator("label").nth(1).click()
    # then: every button, box and link is big enough to tap (the 11 scores alone are 11)
    expect(question(page, customers, QuestionType.MULTI_CHOICE, language)).to_be_visible()
    targets = kiosk_targets(page, pane)
    assert targets["count"] >= 40
    assert targets["small"] == []
