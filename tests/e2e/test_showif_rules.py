"""The browser and the server agree on whom a show-if question is asked of.

The page hides a question whose rule an earlier answer does not meet (static/js/showif.js,
used by the survey page and the kiosk) and the server skips it when the answers arrive
(surveys.services.condition_holds). Were they to disagree, a respondent would be told to
answer a question they never saw, or would answer one whose answer is then dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from surveys.choices import QuestionType
from surveys.services import condition_holds, kiosk_register, question_add
from tests.e2e.conftest import sign_in_as
from tests.e2e.survey_page import choose
from tests.factories.communities import LocationFactory
from tests.surveys.helpers import question_of

pytestmark = pytest.mark.e2e

SHOWIF_JS = settings.BASE_DIR / "static" / "js" / "showif.js"
EARLIER = 12  # the id of the earlier question every rule below looks at
OPTIONS = {
    "nps": [str(n) for n in range(11)],
    "yes_no": ["1", "0"],
    "single": ["31", "32", "33"],
    "multi": ["31", "32", "33"],
}


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # the earlier question's kind: a key of OPTIONS
    rule: dict[str, Any]  # as the server keeps it (surveys.services.show_if_clean)
    ticked: tuple[str, ...]  # the values of the ticked inputs, as the page holds them
    expected: bool
    other: str = ""  # a multi-choice question's "other" box
    target_skipped: bool = False  # the earlier question is itself hidden by a rule
    target_on_page: bool = True  # False: staff hid the earlier question


def lte(value: int) -> dict[str, Any]:
    return {"question": EARLIER, "op": "lte", "value": value}


def gte(value: int) -> dict[str, Any]:
    return {"question": EARLIER, "op": "gte", "value": value}


def eq(value: int) -> dict[str, Any]:
    return {"question": EARLIER, "op": "eq", "value": value}


def any_of(*values: int) -> dict[str, Any]:
    return {"question": EARLIER, "op": "in", "value": list(values)}


CASES = [
    # a score at most a bound (a detractor's follow-up)
    Case("lte: below the bound", "nps", lte(6), ("5",), True),
    Case("lte: at the bound", "nps", lte(6), ("6",), True),
    Case("lte: above the bound", "nps", lte(6), ("7",), False),
    Case("lte: 10 is above 6, though '10' < '6' as text", "nps", lte(6), ("10",), False),
    Case("lte: a score of 0 is an answer", "nps", lte(6), ("0",), True),
    Case("lte: bound 0, answer 0", "nps", lte(0), ("0",), True),
    Case("lte: bound 0, answer 1", "nps", lte(0), ("1",), False),
    Case("lte: unanswered", "nps", lte(6), (), False),
    # a score at least a bound (a promoter's follow-up)
    Case("gte: below the bound", "nps", gte(9), ("8",), False),
    Case("gte: at the bound", "nps", gte(9), ("9",), True),
    Case("gte: 10 is above 9, though '10' < '9' as text", "nps", gte(9), ("10",), True),
    Case("gte: bound 10, answer 9", "nps", gte(10), ("9",), False),
    Case("gte: bound 0, answer 0", "nps", gte(0), ("0",), True),
    Case("gte: unanswered", "nps", gte(9), (), False),
    # one score exactly, and yes / no
    Case("eq: the score", "nps", eq(7), ("7",), True),
    Case("eq: one below", "nps", eq(7), ("6",), False),
    Case("eq: one above", "nps", eq(7), ("8",), False),
    Case("eq: no (0) is an answer", "yes_no", eq(0), ("0",), True),
    Case("eq: yes is not no", "yes_no", eq(0), ("1",), False),
    Case("eq: yes", "yes_no", eq(1), ("1",), True),
    Case("eq: yes / no unanswered", "yes_no", eq(0), (), False),
    # any of some scores
    Case("in: the first listed", "nps", any_of(0, 9, 10), ("0",), True),
    Case("in: the last listed", "nps", any_of(0, 9, 10), ("10",), True),
    Case("in: not listed", "nps", any_of(0, 9, 10), ("5",), False),
    Case("in: only one listed", "nps", any_of(3), ("3",), True),
    Case("in: scores unanswered", "nps", any_of(0, 9, 10), (), False),
    # a single choice (choice ids)
    Case("single: the choice", "single", any_of(32), ("32",), True),
    Case("single: another choice", "single", any_of(32), ("31",), False),
    Case("single: one of two listed", "single", any_of(31, 33), ("33",), True),
    Case("single: not one of two listed", "single", any_of(31, 33), ("32",), False),
    Case("single: unanswered", "single", any_of(32), (), False),
    # multiple choice: any ticked box among those listed
    Case("multi: the box among others", "multi", any_of(32), ("31", "32"), True),
    Case("multi: the box alone", "multi", any_of(32), ("32",), True),
    Case("multi: every box", "multi", any_of(32), ("31", "32", "33"), True),
    Case("multi: other boxes only", "multi", any_of(32), ("31", "33"), False),
    Case("multi: one of two listed", "multi", any_of(31, 33), ("32", "33"), True),
    Case("multi: none of two listed", "multi", any_of(31, 33), ("32",), False),
    Case("multi: unanswered", "multi", any_of(32), (), False),
    Case("multi: only the other box", "multi", any_of(32), (), False, other="Tea"),
    Case("multi: the box and the other box", "multi", any_of(32), ("32",), True, other="Tea"),
    # an earlier question that was never asked
    Case("skipped: score ignored", "nps", lte(6), ("3",), False, target_skipped=True),
    Case("skipped: ticks ignored", "multi", any_of(32), ("32",), False, target_skipped=True),
    Case("not on the page", "nps", lte(6), (), False, target_on_page=False),
]


def server_answer(case: Case) -> dict[str, Any] | None:
    """What the server keeps of the earlier answer (surveys.services.answers_validate).

    The page posts the ticked inputs' values; the form (or the kiosk, before sending)
    makes them whole numbers. An unanswered question, or one skipped by its own rule, has
    no clean answer at all.
    """
    if case.target_skipped or not case.target_on_page or not (case.ticked or case.other):
        return None
    if case.target in ("nps", "yes_no"):
        return {"number": int(case.ticked[0])}
    answer: dict[str, Any] = {"choice_ids": sorted({int(value) for value in case.ticked})}
    if case.other:
        answer["text"] = case.other
    return answer


def page_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """The rule in the page's terms, as ResponseForm puts it in data-show-if."""
    return {"field": f"q_{rule['question']}", "op": rule["op"], "value": rule["value"]}


# Lays out the earlier question as the page does (a radio or box per option, the multiple
# choice "other" box named q_<id>_other) and a question behind the rule, lets showif.js
# apply the rules, and says whether that question is shown.
ASK_THE_PAGE = """
(c) => {
  const form = document.createElement("form");
  const earlier = document.createElement("fieldset");
  earlier.className = "question";
  if (c.skipped) {
    earlier.setAttribute("data-show-if", JSON.stringify({field: "q_1", op: "eq", value: 1}));
  }
  for (const value of c.options) {
    const input = document.createElement("input");
    input.type = c.multi ? "checkbox" : "radio";
    input.name = c.field;
    input.value = value;
    input.checked = c.ticked.includes(value);
    earlier.append(input);
  }
  if (c.multi) {
    const other = document.createElement("input");
    other.type = "text";
    other.name = c.field + "_other";
    other.value = c.other;
    earlier.append(other);
  }
  const later = document.createElement("div");
  later.className = "question";
  later.setAttribute("data-show-if", JSON.stringify(c.rule));
  later.append(document.createElement("textarea"));
  if (c.onPage) form.append(earlier);
  form.append(later);
  document.body.replaceChildren(form);
  window.ChorusShowIf.apply(form);
  return !later.hidden;
}
"""


@pytest.fixture(scope="module")
def rules_page(browser: Browser) -> Iterator[Page]:
    """A blank page in Chromium with showif.js, and nothing else, loaded."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(path=str(SHOWIF_JS))
    yield page
    context.close()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_page_and_the_server_agree_on_whom_a_question_is_asked(rules_page: Page, case):
    # given: the earlier question answered as in `case`, and a question behind `case.rule`
    # when: the server and the page each decide whether the question is asked
    on_server = condition_holds(rule=case.rule, answer=server_answer(case))
    on_page = rules_page.evaluate(
        ASK_THE_PAGE,
        {
            "field": f"q_{EARLIER}",
            "options": OPTIONS[case.target],
            "multi": case.target == "multi",
            "ticked": list(case.ticked),
            "other": case.other,
            "skipped": case.target_skipped,
            "onPage": case.target_on_page,
            "rule": page_rule(case.rule),
        },
    )
    # then
    assert {"server": on_server, "page": on_page} == {
        "server": case.expected,
        "page": case.expected,
    }


# --- the pages that load showif.js -----------------------------------------------------------

FOLLOW_UP = "What went wrong?"


@pytest.fixture
def follow_up(survey):
    """A question for detractors only: asked when the score is 6 or less."""
    nps = question_of(survey, QuestionType.NPS)
    return question_add(
        survey=survey,
        type=QuestionType.TEXT,
        text={"en": FOLLOW_UP},
        required=False,
        settings={"show_if": {"question": nps.pk, "op": "lte", "value": 6}},
    )


def open_page(where: str, request, context: BrowserContext, page: Page, survey) -> Locator:
    """Open the survey where it is answered; returns the form a respondent sees."""
    live_server = request.getfixturevalue("live_server")
    if where == "survey page":
        page.goto(f"/s/{survey.public_id}/")
        return page.locator("form[data-survey-form]")
    if where == "staff preview":
        sign_in_as(context, request.getfixturevalue("staff_user"), live_server)
        page.goto(reverse("staff:survey_preview", args=[survey.organisation.slug, survey.pk]))
        return page.locator("form[data-survey-form]")
    store = LocationFactory(organisation=survey.organisation, name="Silom store", code="silom")
    kiosk = kiosk_register(survey=survey, location=store)
    page.goto(reverse("surveys:kiosk", args=[kiosk.device_token]))
    return page.locator("section[data-kiosk-language=en] form")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["survey page", "staff preview", "kiosk"])
def test_the_follow_up_question_is_asked_of_detractors_only(
    request, context: BrowserContext, page: Page, survey, follow_up, where: str
):
    # given: the survey opened where it is answered, no score given yet
    form = open_page(where, request, context, page, survey)
    asked = form.get_by_label(FOLLOW_UP)
    expect(asked).to_be_hidden()
    expect(asked).to_be_disabled()
    nps = question_of(survey, QuestionType.NPS).text_for("en")
    # when: a detractor's score
    choose(page, nps, "6")
    # then
    expect(asked).to_be_visible()
    expect(asked).to_be_enabled()
    # when: they think better of it
    choose(page, nps, "9")
    # then: the question goes, and its answer with it
    expect(asked).to_be_hidden()
    expect(asked).to_be_disabled()
