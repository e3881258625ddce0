"""Builder defects staff met (issue 11): the translation-gap list, the Delete buttons' names,
a keyboard move's focus and announcement, and the preview's own language switch."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language_info, gettext

from surveys.choices import QuestionType
from surveys.selectors import survey_translation_gaps
from surveys.services import question_add, questions_reorder, survey_create
from tests.factories.surveys import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db

# The builder names languages as their speakers write them.
THAI = get_language_info("th")["name_local"]
HEBREW = get_language_info("he")["name_local"]


def staff(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


@pytest.fixture
def draft(organisation):
    return survey_create(
        organisation=organisation,
        title={"en": "Store visit", "th": "เยี่ยมร้าน"},
        languages=["en", "th", "he"],
    )


def gap_items(html: str) -> list[str]:
    """The items of the builder's "Not yet translated" list, as text."""
    box = re.search(r'class="alert alert-warning translation-gaps".*?</ul>', html, re.S)
    assert box, "the builder shows no translation gaps"
    return [
        re.sub(r"\s+", " ", item).strip() for item in re.findall(r"<li[^>]*>(.*?)</li>", box[0])
    ]


# --- translation gaps -------------------------------------------------------------------


def test_each_gap_is_listed_once_in_question_order_with_its_languages(
    staff_client, organisation, draft
):
    # given: question 1 lacks its Hebrew wording; question 2 lacks its Thai wording and
    # an answer in Thai and Hebrew; question 3 lacks its Hebrew scale labels
    question_add(survey=draft, type="nps", text={"en": "Recommend?", "th": "แนะนำไหม"})
    question_add(
        survey=draft,
        type="single_choice",
        text={"en": "Why?", "he": "למה?"},
        choices=[
            {"en": "Coffee", "th": "กาแฟ", "he": "קפה"},
            {"en": "Cake"},
        ],
    )
    question_add(
        survey=draft,
        type="rating",
        text={"en": "Rate it", "th": "ให้คะแนน", "he": "דרגו"},
        settings={
            "min": 1,
            "max": 5,
            "min_label": {"en": "Bad", "th": "แย่"},
            "max_label": {"en": "Good", "th": "ดี"},
        },
    )
    # when
    html = staff_client.get(staff("survey_edit", organisation, draft.pk)).content.decode()
    # then: one item per title or question, in the survey's order, naming the languages
    thai, hebrew = THAI, HEBREW
    assert gap_items(html) == [
        f"the title ({hebrew})",
        f"question 1 ({hebrew})",
        f"question 2: its wording ({thai}), answer “Cake” ({thai}, {hebrew})",
        f"question 3: scale labels ({hebrew})",
    ]
    # and no question is named twice
    assert " ".join(gap_items(html)).count("question 2") == 1


def test_gaps_follow_the_new_order_after_a_reorder_and_skip_hidden_questions(draft):
    # given
    first = question_add(survey=draft, type="nps", text={"en": "First"})
    second = question_add(survey=draft, type="star", text={"en": "Second"})
    hidden = question_add(survey=draft, type="text", text={"en": "Hidden"})
    hidden.hidden = True
    hidden.save()
    # when
    questions_reorder(survey=draft, order=[second.pk, first.pk, hidden.pk])
    gaps = survey_translation_gaps(survey=draft)
    # then
    assert [gap.subject for gap in gaps] == ["the title", "question 1", "question 2"]
    assert gaps[1].languages == ["th", "he"] and gaps[0].languages == ["he"]


def test_a_survey_translated_everywhere_has_no_gaps(staff_client, organisation, draft):
    draft.title = {"en": "Visit", "th": "เยี่ยม", "he": "ביקור"}
    draft.save()
    question_add(survey=draft, type="nps", text={"en": "R?", "th": "แนะนำ?", "he": "להמליץ?"})
    assert survey_translation_gaps(survey=draft) == []
    html = staff_client.get(staff("survey_edit", organisation, draft.pk)).content.decode()
    assert "translation-gaps" not in html


def test_gap_words_are_in_the_staff_members_language(draft):
    question_add(survey=draft, type="nps", text={"en": "Recommend?"})
    with translation.override("th"):
        [title, question] = survey_translation_gaps(survey=draft)
        assert question.text == f"{gettext('question %(n)s') % {'n': 1}} ({THAI}, {HEBREW})"
        assert not question.text.startswith("question")


def test_preview_lists_what_is_missing_in_its_language_once(staff_client, organisation, draft):
    # given: question 1 lacks its Thai wording and a Thai answer
    question_add(
        survey=draft,
        type="single_choice",
        text={"en": "Why?"},
        choices=[{"en": "Coffee"}, {"en": "Cake", "th": "เค้ก"}],
    )
    # when
    page = staff_client.get(staff("survey_preview", organisation, draft.pk) + "?language=th")
    # then
    assert page.context["gaps"] == ["question 1: its wording, answer “Coffee”"]
    assert page.context["preview_language"] == "th"


def test_previewing_in_hebrew_leaves_the_staff_members_own_language_alone(
    staff_client, staff_user, organisation, draft
):
    # when: an English-reading author previews the Hebrew version
    page = staff_client.get(staff("survey_preview", organisation, draft.pk) + "?language=he")
    # then: the page around the preview stays in English, the preview is Hebrew
    html = page.content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert 'lang="he" dir="rtl"' in html
    staff_user.refresh_from_db()
    assert staff_user.locale != "he"


@pytest.mark.parametrize("language", ["xx", "", "th" * 40, "../he"])
def test_preview_in_a_language_the_survey_lacks_shows_its_first(
    staff_client, organisation, draft, language
):
    page = staff_client.get(staff("survey_preview", organisation, draft.pk), {"language": language})
    assert page.status_code == 200 and page.context["preview_language"] == "en"


def test_preview_of_another_organisations_survey_is_not_found(
    staff_client, organisation, other_organisation
):
    foreign = SurveyFactory(organisation=other_organisation)
    QuestionFactory(survey=foreign, type=QuestionType.NPS)
    page = staff_client.get(staff("survey_preview", organisation, foreign.pk) + "?language=he")
    assert page.status_code == 404


# --- Delete buttons and keyboard moves ----------------------------------------------------


def test_delete_buttons_name_their_question_after_the_visible_word(
    staff_client, organisation, draft
):
    # given
    question_add(survey=draft, type="nps", text={"en": "Recommend?"})
    # when
    html = staff_client.get(staff("survey_edit", organisation, draft.pk)).content.decode()
    # then: the accessible name is the visible word plus hidden words, not an aria-label
    # that says something else (WCAG 2.5.3, label in name)
    button = re.search(r'<button class="btn btn-sm btn-outline-danger"[^>]*>(.*?)</button>', html)
    assert "aria-label" not in button[0]
    assert re.sub(r"<[^>]+>", "", button[1]) == "Delete question 1"


def test_a_move_is_announced_once_with_the_focus_on_the_moved_questions_button(
    staff_client, organisation, draft
):
    # given
    questions = [question_add(survey=draft, type="text", text={"en": f"Q{n}"}) for n in (1, 2, 3)]
    # when: question 3 is moved up
    page = staff_client.post(
        staff("question_move", organisation, questions[2].pk), {"direction": "up"}
    )
    # then: back on the builder, without a #fragment (a fragment turns autofocus off)
    assert page.status_code == 302
    assert page.url == staff("survey_edit", organisation, draft.pk)
    html = staff_client.get(page.url).content.decode()
    assert "Question 3 moved up to position 2." in html
    moved = re.search(rf'id="question-{questions[2].pk}".*?</li>', html, re.S)[0]
    assert re.search(r'value="up"[^>]*autofocus', moved)
    # and only once: a reload says nothing more
    html = staff_client.get(page.url).content.decode()
    assert "moved up" not in html and "autofocus" not in html


def test_a_move_to_the_top_focuses_the_button_still_enabled(staff_client, organisation, draft):
    question_add(survey=draft, type="text", text={"en": "First"})
    second = question_add(survey=draft, type="text", text={"en": "Second"})
    staff_client.post(staff("question_move", organisation, second.pk), {"direction": "up"})
    html = staff_client.get(staff("survey_edit", organisation, draft.pk)).content.decode()
    assert "Question 2 moved up to position 1." in html
    moved = re.search(rf'id="question-{second.pk}".*?</li>', html, re.S)[0]
    assert re.search(r'value="down"[^>]*autofocus', moved)
    assert 'value="up"' in moved and not re.search(r'value="up"[^>]*autofocus', moved)


def test_a_move_past_the_end_says_the_question_stays(staff_client, organisation, draft):
    only = question_add(survey=draft, type="text", text={"en": "Only"})
    staff_client.post(staff("question_move", organisation, only.pk), {"direction": "sideways"})
    html = staff_client.get(staff("survey_edit", organisation, draft.pk)).content.decode()
    assert "Question 1 stays at position 1." in html


def test_a_move_announced_for_one_survey_is_not_shown_on_another(staff_client, organisation, draft):
    question = question_add(survey=draft, type="text", text={"en": "Q"})
    question_add(survey=draft, type="text", text={"en": "R"})
    other = survey_create(organisation=organisation, title={"en": "Other"}, languages=["en"])
    staff_client.post(staff("question_move", organisation, question.pk), {"direction": "down"})
    html = staff_client.get(staff("survey_edit", organisation, other.pk)).content.decode()
    assert "moved down" not in html


def test_moving_another_organisations_question_is_not_found(
    staff_client, organisation, other_organisation
):
    foreign = QuestionFactory(survey=SurveyFactory(organisation=other_organisation))
    page = staff_client.post(staff("question_move", organisation, foreign.pk), {"direction": "up"})
    assert page.status_code == 404
