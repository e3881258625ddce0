"""A draft's questions and answers to choose through the API: added, changed, removed and
reordered with the staff builder's checks; a published survey's only read (409)."""

import pytest

from communities.models import AuditEntry
from surveys.choices import QuestionType, SurveyStatus
from surveys.models import Choice, Question
from tests.factories.surveys import (
    AnswerFactory,
    ChoiceFactory,
    QuestionFactory,
    SurveyFactory,
)
from tests.surveys.api.conftest import api_url, problem_pointers

pytestmark = pytest.mark.django_db


def _questions(draft):
    return list(draft.questions.order_by("position"))


def test_a_question_is_added_at_the_end_with_its_texts_and_rule(api, organisation, draft):
    # given: the draft's star question
    stars = _questions(draft)[0]

    # when
    answer = api.post(
        api_url("survey_question_list", organisation, draft.pk),
        {
            "type": "text",
            "text": {"en": "What went wrong?", "th": "เกิดอะไรขึ้น"},
            "required": False,
            "settings": {"show_if": {"question": stars.pk, "op": "lte", "values": [2]}},
        },
        "json",
    )

    # then
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["position"] == 3 and body["text"]["th"] == "เกิดอะไรขึ้น"
    assert body["settings"]["show_if"] == {"question": stars.pk, "op": "lte", "values": [2]}
    assert answer["Location"].endswith(f"/questions/{body['id']}/")
    entry = AuditEntry.objects.get(action="question.create")
    assert entry.target_id == str(body["id"])


def test_questions_of_a_published_survey_are_read_but_not_written(api, organisation):
    # given
    live = SurveyFactory(organisation=organisation)
    question = QuestionFactory(survey=live, type=QuestionType.SINGLE_CHOICE)
    choice = ChoiceFactory(question=question)
    writes = [
        (
            "post",
            api_url("survey_question_list", organisation, live.pk),
            {"type": "star", "text": {"en": "Stars?"}},
        ),
        (
            "patch",
            api_url("survey_question_detail", organisation, live.pk, question.pk),
            {"required": False},
        ),
        ("delete", api_url("survey_question_detail", organisation, live.pk, question.pk), None),
        (
            "post",
            api_url("survey_question_reorder", organisation, live.pk),
            {"order": [question.pk]},
        ),
        (
            "post",
            api_url("survey_choice_list", organisation, live.pk, question.pk),
            {"label": {"en": "New"}},
        ),
        (
            "patch",
            api_url("survey_choice_detail", organisation, live.pk, question.pk, choice.pk),
            {"label": {"en": "New"}},
        ),
        (
            "delete",
            api_url("survey_choice_detail", organisation, live.pk, question.pk, choice.pk),
            None,
        ),
        (
            "post",
            api_url("survey_choice_reorder", organisation, live.pk, question.pk),
            {"order": [choice.pk]},
        ),
    ]

    # when
    read = api.get(api_url("survey_question_list", organisation, live.pk))
    answers = [getattr(api, method)(url, body, "json") for method, url, body in writes]

    # then
    assert read.status_code == 200 and read.json()["results"][0]["id"] == question.pk
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(409, "survey_not_draft")] * 8
    assert Question.objects.filter(survey=live).count() == 1
    assert Choice.objects.get().label == choice.label


def test_a_question_change_keeps_languages_and_settings_left_out(api, organisation, draft):
    # given: a rating scale with labels in both languages
    rating = QuestionFactory(
        survey=draft,
        position=3,
        type=QuestionType.RATING,
        text={"en": "Clean?", "th": "สะอาด?"},
        settings={"min": 1, "max": 5, "min_label": {"en": "Dirty", "th": "สกปรก"}},
    )
    url = api_url("survey_question_detail", organisation, draft.pk, rating.pk)

    # when: the English wording and the high end change
    answer = api.patch(
        url, {"text": {"en": "How clean?"}, "settings": {"max": 7}, "type": "rating"}, "json"
    )

    # then
    assert answer.status_code == 200, answer.json()
    rating.refresh_from_db()
    assert rating.text == {"en": "How clean?", "th": "สะอาด?"}
    assert rating.settings["max"] == 7 and rating.settings["min"] == 1
    assert rating.settings["min_label"] == {"en": "Dirty", "th": "สกปรก"}
    entry = AuditEntry.objects.get(action="question.update")
    assert set(entry.changes) == {"text", "settings"}


def test_a_rule_is_removed_with_null_and_choices_replaced_by_position(api, organisation, draft):
    stars, why = _questions(draft)
    why.settings = {"show_if": {"question": stars.pk, "op": "lte", "value": 2}}
    why.save()
    url = api_url("survey_question_detail", organisation, draft.pk, why.pk)

    answer = api.patch(
        url,
        {"settings": {"show_if": None}, "choices": [{"en": "Tea", "th": "ชา"}, {"en": "Cake"}]},
        "json",
    )

    assert answer.status_code == 200, answer.json()
    why.refresh_from_db()
    assert "show_if" not in why.settings
    assert [c.label for c in why.choices.order_by("position")] == [
        {"en": "Tea", "th": "ชา"},
        {"en": "Cake"},
    ]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"text": {"en": "x" * 501}}, "/text/en"),
        (
            {"settings": {"show_if": {"question": 1, "op": "between", "values": [2]}}},
            "/settings/show_if/op",
        ),
        ({"choices": [{"en": f"c{n}"} for n in range(51)]}, "/choices"),
        ({"required": []}, "/required"),
        ({"required": "false"}, "/required"),
        ({"colour": "red"}, "/colour"),
        (
            {"settings": {"show_if": {"question": 1, "op": "lte", "values": [2], "x": 1}}},
            "/settings/show_if/x",
        ),
    ],
)
def test_a_refused_question_change_names_the_field(api, organisation, draft, body, pointer):
    why = _questions(draft)[1]

    answer = api.patch(
        api_url("survey_question_detail", organisation, draft.pk, why.pk), body, "json"
    )

    assert answer.status_code == 400, answer.json()
    assert pointer in problem_pointers(answer), answer.json()
    assert why.choices.count() == 3


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"type": "nps"}, "/type"),
        ({"text": {"en": ""}}, "/text/en"),
        ({"text": {"ja": "なぜ"}}, "/text/ja"),
        ({"settings": {"min": 2}}, "/settings/min"),
        (
            {"settings": {"show_if": {"question": 10**12, "op": "lte", "values": [2]}}},
            "/settings/show_if",
        ),
        ({"choices": [{"en": "One"}]}, "/choices"),
        ({"choices": [{"en": "A"}, {"en": "A"}]}, "/choices"),
    ],
)
def test_a_question_change_that_does_not_fit_the_survey_is_a_422(
    api, organisation, draft, body, pointer
):
    why = _questions(draft)[1]

    answer = api.patch(
        api_url("survey_question_detail", organisation, draft.pk, why.pk), body, "json"
    )

    assert answer.status_code == 422, answer.json()
    assert pointer in problem_pointers(answer), answer.json()
    assert why.choices.count() == 3


def test_a_question_another_looks_at_cannot_be_deleted(api, organisation, draft):
    stars, why = _questions(draft)
    why.settings = {"show_if": {"question": stars.pk, "op": "lte", "value": 2}}
    why.save()

    refused = api.delete(api_url("survey_question_detail", organisation, draft.pk, stars.pk))
    deleted = api.delete(api_url("survey_question_detail", organisation, draft.pk, why.pk))

    assert (refused.status_code, refused.json()["code"]) == (409, "question_has_dependants")
    assert deleted.status_code == 204
    assert _questions(draft) == [stars] and stars.position == 1


def test_questions_are_reordered_and_a_rule_may_not_come_first(api, organisation, draft):
    # given
    stars, why = _questions(draft)
    url = api_url("survey_question_reorder", organisation, draft.pk)

    # when
    moved = api.post(url, {"order": [why.pk, stars.pk]}, "json")
    why.refresh_from_db()
    why.settings = {"show_if": {"question": stars.pk, "op": "lte", "value": 2}}
    why.save(update_fields=["settings"])
    refused = api.post(url, {"order": [why.pk, stars.pk]}, "json")
    incomplete = api.post(url, {"order": [why.pk]}, "json")
    repeated = api.post(url, {"order": [stars.pk, stars.pk]}, "json")

    # then
    assert moved.status_code == 200
    assert [q["id"] for q in moved.json()["questions"]] == [why.pk, stars.pk]
    assert refused.status_code == 422 and problem_pointers(refused) == {"/order"}
    assert incomplete.status_code == 422 and problem_pointers(incomplete) == {"/order"}
    assert repeated.status_code == 422 and problem_pointers(repeated) == {"/order"}


def test_answers_to_choose_are_added_renamed_reordered_and_removed(api, organisation, draft):
    # given
    why = _questions(draft)[1]
    coffee, cake, wifi = why.choices.order_by("position")
    base = (organisation, draft.pk, why.pk)

    # when
    added = api.post(
        api_url("survey_choice_list", *base), {"label": {"en": "Tea", "th": "ชา"}}, "json"
    )
    renamed = api.patch(
        api_url("survey_choice_detail", *base, cake.pk), {"label": {"th": "เค้ก"}}, "json"
    )
    tea = added.json()["id"]
    reordered = api.post(
        api_url("survey_choice_reorder", *base),
        {"order": [tea, wifi.pk, cake.pk, coffee.pk]},
        "json",
    )
    removed = api.delete(api_url("survey_choice_detail", *base, coffee.pk))

    # then
    assert added.status_code == 201 and added.json()["position"] == 4
    assert renamed.json()["label"] == {"en": "Cake", "th": "เค้ก"}
    assert [c["id"] for c in reordered.json()["choices"]] == [tea, wifi.pk, cake.pk, coffee.pk]
    assert removed.status_code == 204
    assert list(why.choices.order_by("position").values_list("pk", "position")) == [
        (tea, 1),
        (wifi.pk, 2),
        (cake.pk, 3),
    ]
    assert AuditEntry.objects.filter(target_type="choice").count() == 3


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/label"),
        ({"label": {"en": "x" * 201}}, "/label/en"),
        ({"label": ["Cake"]}, "/label"),
    ],
)
def test_a_refused_answer_to_choose_names_the_field(api, organisation, draft, body, pointer):
    why = _questions(draft)[1]

    answer = api.post(api_url("survey_choice_list", organisation, draft.pk, why.pk), body, "json")

    assert answer.status_code == 400, answer.json()
    assert pointer in problem_pointers(answer), answer.json()
    assert why.choices.count() == 3


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"label": {"en": ""}}, "/label"),
        ({"label": {"en": "Cake"}}, "/label"),
        ({"label": {"he": "עוגה"}}, "/label/he"),
    ],
)
def test_an_answer_that_does_not_fit_the_question_is_a_422(api, organisation, draft, body, pointer):
    why = _questions(draft)[1]

    answer = api.post(api_url("survey_choice_list", organisation, draft.pk, why.pk), body, "json")

    assert answer.status_code == 422, answer.json()
    assert pointer in problem_pointers(answer), answer.json()
    assert why.choices.count() == 3


def test_a_question_holds_at_most_fifty_answers_to_choose(api, organisation, draft):
    why = _questions(draft)[1]
    for position in range(4, 51):
        ChoiceFactory(question=why, position=position, label={"en": f"Option {position}"})

    answer = api.post(
        api_url("survey_choice_list", organisation, draft.pk, why.pk),
        {"label": {"en": "More"}},
        "json",
    )

    assert answer.status_code == 422 and problem_pointers(answer) == {"/label"}


def test_a_star_question_has_no_answers_to_choose(api, organisation, draft):
    stars = _questions(draft)[0]

    answer = api.post(
        api_url("survey_choice_list", organisation, draft.pk, stars.pk),
        {"label": {"en": "x"}},
        "json",
    )

    assert answer.status_code == 422 and problem_pointers(answer) == {"/question"}


def test_an_answer_a_rule_looks_for_cannot_be_removed(api, organisation, draft):
    stars, why = _questions(draft)
    coffee = why.choices.order_by("position").first()
    QuestionFactory(
        survey=draft,
        position=3,
        type=QuestionType.TEXT,
        settings={"show_if": {"question": why.pk, "op": "in", "value": [coffee.pk]}},
    )

    answer = api.delete(api_url("survey_choice_detail", organisation, draft.pk, why.pk, coffee.pk))

    assert (answer.status_code, answer.json()["code"]) == (409, "choice_has_dependants")


def test_ids_of_another_survey_or_organisation_are_not_found(
    api, organisation, other_organisation, draft
):
    # given: a question of another of my surveys, and another organisation's survey
    mine = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT)
    elsewhere = QuestionFactory(survey=mine, type=QuestionType.SINGLE_CHOICE)
    elsewhere_choice = ChoiceFactory(question=elsewhere)
    foreign = SurveyFactory(organisation=other_organisation, status=SurveyStatus.DRAFT)
    foreign_question = QuestionFactory(survey=foreign, type=QuestionType.SINGLE_CHOICE)
    why = _questions(draft)[1]
    urls = [
        api_url("survey_question_detail", organisation, draft.pk, elsewhere.pk),
        api_url("survey_question_detail", organisation, foreign.pk, foreign_question.pk),
        api_url("survey_question_list", organisation, foreign.pk),
        api_url("survey_choice_list", organisation, draft.pk, elsewhere.pk),
        api_url("survey_choice_detail", organisation, draft.pk, why.pk, elsewhere_choice.pk),
        api_url("survey_choice_list", organisation, foreign.pk, foreign_question.pk),
    ]

    # when / then: reads and writes alike
    for url in urls:
        assert api.get(url).status_code == 404, url
        assert api.patch(url, {"required": False}, "json").status_code in (404, 405), url
        assert api.delete(url).status_code in (404, 405), url
    assert Question.objects.filter(pk=elsewhere.pk).exists()
    assert Choice.objects.filter(pk=elsewhere_choice.pk).exists()


def test_a_show_if_rule_may_not_look_at_another_surveys_question(api, organisation, draft):
    other = QuestionFactory(survey=SurveyFactory(organisation=organisation), type=QuestionType.NPS)

    answer = api.post(
        api_url("survey_question_list", organisation, draft.pk),
        {
            "type": "text",
            "text": {"en": "Why?"},
            "settings": {"show_if": {"question": other.pk, "op": "lte", "values": [6]}},
        },
        "json",
    )

    assert answer.status_code == 422 and problem_pointers(answer) == {"/settings/show_if"}


def test_a_choice_question_needs_two_answers_when_added(api, organisation, draft):
    answer = api.post(
        api_url("survey_question_list", organisation, draft.pk),
        {"type": "multi_choice", "text": {"en": "Which?"}},
        "json",
    )

    assert answer.status_code == 422 and problem_pointers(answer) == {"/choices"}


def test_an_answered_rating_scale_cannot_narrow_below_its_answers(api, organisation):
    # given: a draft copy would have no answers, so an answered question is made directly
    survey = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT)
    rating = QuestionFactory(survey=survey, type=QuestionType.RATING, settings={"min": 1, "max": 9})
    AnswerFactory(question=rating, response__survey=survey, number=9)

    answer = api.patch(
        api_url("survey_question_detail", organisation, survey.pk, rating.pk),
        {"settings": {"max": 5}},
        "json",
    )

    assert answer.status_code == 422 and problem_pointers(answer) == {"/settings"}


def test_question_and_answer_lists_page_in_bounded_queries(
    api, organisation, draft, django_assert_max_num_queries
):
    # given: more choice questions with answers to choose
    for position in range(3, 8):
        question = QuestionFactory(survey=draft, position=position, type=QuestionType.MULTI_CHOICE)
        ChoiceFactory(question=question, position=1)
        ChoiceFactory(question=question, position=2)
    why = _questions(draft)[1]

    # when / then
    for size in (1, 100):
        with django_assert_max_num_queries(10):
            questions = api.get(
                api_url("survey_question_list", organisation, draft.pk), {"page_size": size}
            )
        with django_assert_max_num_queries(10):
            choices = api.get(
                api_url("survey_choice_list", organisation, draft.pk, why.pk), {"page_size": size}
            )
        assert len(questions.json()["results"]) == min(size, 7)
        assert len(choices.json()["results"]) == min(size, 3)


def test_a_change_of_an_answer_to_choose_with_no_fields_changes_nothing(api, organisation, draft):
    # given: an answer to choose
    why = _questions(draft)[1]
    coffee = why.choices.order_by("position").first()

    # when: a PATCH names no field
    answer = api.patch(
        api_url("survey_choice_detail", organisation, draft.pk, why.pk, coffee.pk), {}, "json"
    )

    # then: it keeps its label
    assert answer.status_code == 200, answer.json()
    assert answer.json()["label"] == {"en": "Coffee"}
