"""What a respondent does on the survey page, in the words they see on it.

Every answer is given by clicking the visible button or label, never by setting a value
with JavaScript, and each helper checks the click took, as a person would see it did.
"""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext, ngettext
from playwright.sync_api import Locator, Page, expect

from surveys.choices import QuestionType
from surveys.models import Survey

SEND = "Send my answers"


def shown(language: str, message: str) -> str:
    """`message` as the page shows it in `language`."""
    with translation.override(language):
        return gettext(message)


def star_label(language: str, stars: int) -> str:
    with translation.override(language):
        return ngettext("%(n)s star", "%(n)s stars", stars) % {"n": stars}


CONSENT = "You may email me about this answer"


def whole(text: str) -> re.Pattern:
    """Match an element whose whole text is `text` (so "1" does not match "10")."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def question(page: Page, wording: str) -> Locator:
    """A choice or scale question, found by the words of its legend."""
    return page.get_by_role("group", name=wording)


def choose(page: Page, wording: str, answer: str) -> None:
    """Click the big button or the label of `answer` under the question `wording`.

    `answer` is what a screen reader announces ("4 stars" for ★★★★), which is also how
    the label is found, so the click lands where a person taps.
    """
    asked = question(page, wording)
    option = asked.get_by_role("radio", name=answer, exact=True).or_(
        asked.get_by_role("checkbox", name=answer, exact=True)
    )
    asked.locator(f'label[for="{option.get_attribute("id")}"]').click()
    expect(option).to_be_checked()


def write(page: Page, wording: str, text: str) -> None:
    page.get_by_label(wording).fill(text)


def tick(page: Page, label: str) -> None:
    page.get_by_text(label).click()
    expect(page.get_by_label(label)).to_be_checked()


def send(page: Page, language: str = "en") -> None:
    page.get_by_role("button", name=shown(language, SEND)).click()


def answer_every_question(
    page: Page,
    survey: Survey,
    *,
    language: str = "en",
    nps: int | None = 9,
    stars: int = 4,
    text: str = "Lovely coffee, friendly staff.",
) -> None:
    """Answer each question in the language shown: one choice, the first two boxes."""
    for asked in survey.questions.prefetch_related("choices"):
        wording = asked.text_for(language)
        labels = [choice.label_for(language) for choice in asked.choices.all()]
        if asked.type == QuestionType.NPS and nps is not None:
            choose(page, wording, str(nps))
        elif asked.type == QuestionType.STAR:
            choose(page, wording, star_label(language, stars))
        elif asked.type == QuestionType.SINGLE_CHOICE:
            choose(page, wording, labels[0])
        elif asked.type == QuestionType.MULTI_CHOICE:
            for label in labels[:2]:
                choose(page, wording, label)
        elif asked.type == QuestionType.TEXT:
            write(page, wording, text)
