"""Staff build surveys in their own pages: create, translate, reorder, skip logic, publish."""

import pytest
from django.urls import reverse

from communities.choices import Role
from surveys.choices import QuestionType, SurveyKind, SurveyStatus
from surveys.library import LIBRARY
from surveys.models import Choice, Question, Survey
from surveys.services import (
    question_add,
    question_delete,
    questions_reorder,
    survey_create,
    survey_duplicate,
    survey_publish,
)
from tests.factories.communities import StaffRoleFactory
from tests.factories.surveys import AnswerFactory, QuestionFactory, SurveyFactory
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db


def staff(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


@pytest.fixture
def draft(organisation):
    return survey_create(
        organisation=organisation, title={"en": "Store visit"}, languages=["en", "th"]
    )


# --- creating ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(LIBRARY))
def test_every_template_makes_a_publishable_survey_in_four_languages(organisation, key):
    # when
    survey = survey_create(
        organisation=organisation, title={}, languages=["en", "th", "he", "ja"], template=key
    )
    # then
    assert survey.status == SurveyStatus.DRAFT
    assert set(survey.title) == {"en", "th", "he", "ja"}
    questions = list(survey.questions.all())
    assert len(questions) == len(LIBRARY[key]["questions"])
    assert all(set(q.text) == {"en", "th", "he", "ja"} for q in questions)
    for question in questions:
        if question.show_if:
            assert question.show_if["question"] in {q.pk for q in questions}
    survey_publish(survey=survey)


def test_staff_page_creates_a_draft_from_a_template(staff_client, organisation):
    # when
    page = staff_client.post(
        staff("survey_create", organisation),
        {"template": "nps", "kind": "survey", "title": "", "languages": ["en", "he"]},
    )
    # then
    survey = Survey.objects.get()
    assert page.status_code == 302 and page["Location"].endswith(f"/surveys/{survey.pk}/edit/")
    assert survey.languages == ["en", "he"] and set(survey.title) == {"en", "he"}
    assert survey.questions.count() == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "survey", "title": "T"}, "languages"),
        ({"kind": "survey", "title": "T", "languages": ["xx"]}, "languages"),
        ({"kind": "quiz", "title": "T", "languages": ["en"]}, "kind"),
        ({"kind": "survey", "title": "", "languages": ["en"]}, "title"),
        ({"kind": "survey", "title": "T", "languages": ["en"], "template": "nope"}, "template"),
        ({"kind": "survey", "title": "x" * 201, "languages": ["en"]}, "title"),
    ],
)
def test_create_form_rejects_bad_input_and_saves_nothing(staff_client, organisation, data, field):
    page = staff_client.post(staff("survey_create", organisation), data)
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert not Survey.objects.exists()


def test_another_organisations_community_cannot_be_chosen(
    staff_client, organisation, other_organisation
):
    from tests.factories.communities import CommunityFactory

    foreign = CommunityFactory(organisation=other_organisation)
    page = staff_client.post(
        staff("survey_create", organisation),
        {"kind": "survey", "title": "T", "languages": ["en"], "community": foreign.pk},
    )
    assert "community" in page.context["form"].errors
    assert not Survey.objects.exists()


def test_analyst_cannot_build(client, organisation, survey):
    analyst = StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user
    client.force_login(analyst)
    assert client.get(staff("survey_create", organisation)).status_code == 403
    assert client.get(staff("survey_edit", organisation, survey.pk)).status_code == 403
    assert client.post(staff("survey_close", organisation, survey.pk)).status_code == 403
    assert client.get(staff("survey_preview", organisation, survey.pk)).status_code == 200


# --- questions --------------------------------------------------------------------------


def test_question_added_through_the_page_with_choices_in_each_language(
    staff_client, organisation, draft
):
    # when
    page = staff_client.post(
        staff("question_add", organisation, draft.pk),
        {
            "type": "multi_choice",
            "required": "on",
            "other": "on",
            "text_en": "What did you buy?",
            "text_th": "คุณซื้ออะไร",
            "choices_en": "Coffee\nCake\n",
            "choices_th": "กาแฟ\nเค้ก",
        },
    )
    # then
    assert page.status_code == 302
    question = Question.objects.get()
    assert question.text == {"en": "What did you buy?", "th": "คุณซื้ออะไร"}
    assert question.has_other
    assert [c.label for c in question.choices.all()] == [
        {"en": "Coffee", "th": "กาแฟ"},
        {"en": "Cake", "th": "เค้ก"},
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "nps", "text_en": ""}, "text_en"),
        ({"type": "telepathy", "text_en": "Q"}, "type"),
        ({"type": "single_choice", "text_en": "Q", "choices_en": "Only one"}, "choices_en"),
        ({"type": "single_choice", "text_en": "Q", "choices_en": "A\nA"}, "choices_en"),
        ({"type": "single_choice", "text_en": "Q", "choices_en": "A\n" + "B" * 201}, "choices_en"),
        ({"type": "nps", "text_en": "Q" * 501}, "text_en"),
        ({"type": "rating", "text_en": "Q", "scale_min": 5, "scale_max": 3}, "scale_min"),
        ({"type": "rating", "text_en": "Q", "scale_min": 0, "scale_max": 99}, "scale_min"),
    ],
)
def test_question_form_rejects_bad_input_and_saves_nothing(
    staff_client, organisation, draft, data, field
):
    page = staff_client.post(staff("question_add", organisation, draft.pk), data)
    assert page.status_code == 400
    assert field in page.context["form"].errors
    assert not Question.objects.exists()


def test_skip_rule_must_look_at_an_earlier_question_with_a_fitting_value(
    staff_client, organisation, draft
):
    # given
    nps = question_add(survey=draft, type="nps", text={"en": "Recommend?"})
    url = staff("question_add", organisation, draft.pk)
    base = {"type": "text", "text_en": "What went wrong?", "show_if_question": nps.pk}
    # when: the value lies outside the NPS scale
    page = staff_client.post(url, {**base, "show_if_op": "lte", "show_if_number": 11})
    # then
    assert page.status_code == 400 and "show_if_question" in page.context["form"].errors
    # when: it fits
    page = staff_client.post(url, {**base, "show_if_op": "lte", "show_if_number": 6})
    # then
    assert page.status_code == 302
    assert Question.objects.get(type="text").show_if == {
        "question": nps.pk,
        "op": "lte",
        "value": 6,
    }


def test_an_answered_question_is_hidden_not_deleted(survey):
    # given
    question = question_add(survey=survey, type="text", text={"en": "More?"})
    AnswerFactory(question=question, response__survey=survey, text="yes")
    # when
    deleted = question_delete(question=question)
    # then
    question.refresh_from_db()
    assert deleted is False and question.hidden and question.answers.count() == 1


def test_an_unanswered_question_is_deleted_and_the_rest_renumbered(draft):
    first, second, third = (
        question_add(survey=draft, type="nps", text={"en": f"Q{n}"}) for n in range(3)
    )
    assert question_delete(question=second) is True
    assert list(draft.questions.values_list("pk", "position")) == [(first.pk, 1), (third.pk, 2)]


def test_a_question_others_depend_on_cannot_be_deleted(draft):
    nps = question_add(survey=draft, type="nps", text={"en": "Recommend?"})
    question_add(
        survey=draft,
        type="text",
        text={"en": "Why?"},
        settings={"show_if": {"question": nps.pk, "op": "lte", "value": 6}},
    )
    with pytest.raises(Exception, match="depending on this one"):
        question_delete(question=nps)
    assert draft.questions.count() == 2


def test_reorder_keeps_rules_looking_back(draft):
    nps = question_add(survey=draft, type="nps", text={"en": "Recommend?"})
    why = question_add(
        survey=draft,
        type="text",
        text={"en": "Why?"},
        settings={"show_if": {"question": nps.pk, "op": "lte", "value": 6}},
    )
    stars = question_add(survey=draft, type="star", text={"en": "Stars?"})
    # when: a valid order
    questions_reorder(survey=draft, order=[stars.pk, nps.pk, why.pk])
    assert list(draft.questions.values_list("pk", flat=True)) == [stars.pk, nps.pk, why.pk]
    # when: the rule would look forward, or the list is not the survey's
    for order in ([why.pk, nps.pk, stars.pk], [nps.pk, why.pk], [nps.pk, why.pk, why.pk]):
        with pytest.raises(Exception):  # noqa: B017, PT011
            questions_reorder(survey=draft, order=order)
    assert list(draft.questions.values_list("pk", flat=True)) == [stars.pk, nps.pk, why.pk]


def test_move_buttons_reorder_through_the_page(staff_client, organisation, draft):
    first = question_add(survey=draft, type="nps", text={"en": "First"})
    second = question_add(survey=draft, type="star", text={"en": "Second"})
    staff_client.post(staff("question_move", organisation, second.pk), {"direction": "up"})
    assert list(draft.questions.values_list("pk", flat=True)) == [second.pk, first.pk]


def test_reorder_endpoint_rejects_a_foreign_or_malformed_order(
    staff_client, organisation, draft, other_organisation
):
    mine = question_add(survey=draft, type="nps", text={"en": "Mine"})
    foreign = QuestionFactory(survey=SurveyFactory(organisation=other_organisation))
    foreign_position = foreign.position
    url = staff("survey_reorder", organisation, draft.pk)
    for order in ([mine.pk, foreign.pk], ["x"], []):
        page = staff_client.post(url, {"order": order})
        assert page.status_code == 302
    foreign.refresh_from_db()
    assert foreign.position == foreign_position and Question.objects.get(pk=mine.pk).position == 1


# --- settings, translations, publishing --------------------------------------------------


def test_settings_save_titles_per_language_and_warn_of_gaps(staff_client, organisation, draft):
    question_add(survey=draft, type="nps", text={"en": "Recommend?"})
    page = staff_client.post(
        staff("survey_edit", organisation, draft.pk),
        {
            "languages": ["en", "th"],
            "anonymity": "identified",
            "points": 5,
            "title_en": "Visit",
            "title_th": "",
            "one_question_per_page": "on",
            "invitation_valid_days": 14,
            "reminder_limit": 1,
            "reminder_interval_days": 4,
            "trigger": "ticket_closed",
        },
    )
    assert page.status_code == 302
    draft.refresh_from_db()
    assert draft.title == {"en": "Visit"} and draft.one_question_per_page
    assert (draft.invitation_valid_days, draft.reminder_limit, draft.trigger) == (
        14,
        1,
        "ticket_closed",
    )
    page = staff_client.get(staff("survey_edit", organisation, draft.pk))
    gaps = {gap.subject: gap.languages for gap in page.context["gaps"]}
    assert gaps == {"the title": ["th"], "question 1": ["th"]}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"points": -1}, "points"),
        ({"points": "many"}, "points"),
        ({"anonymity": "secret"}, "anonymity"),
        ({"opens_at": "2030-01-02T10:00", "closes_at": "2030-01-01T10:00"}, "closes_at"),
        ({"title_en": ""}, "title_en"),
        ({"reminder_limit": 9}, "reminder_limit"),
        ({"reminder_interval_days": 0}, "reminder_interval_days"),
        ({"invitation_valid_days": ""}, "invitation_valid_days"),
        ({"trigger": "lunch"}, "trigger"),
    ],
)
def test_settings_reject_bad_input_and_keep_the_survey(
    staff_client, organisation, draft, data, field
):
    base = {
        "languages": ["en"],
        "anonymity": "identified",
        "points": 0,
        "title_en": "T",
        "invitation_valid_days": 30,
        "reminder_limit": 2,
        "reminder_interval_days": 3,
    }
    page = staff_client.post(staff("survey_edit", organisation, draft.pk), {**base, **data})
    assert page.status_code == 400 and field in page.context["form"].errors
    draft.refresh_from_db()
    assert draft.title == {"en": "Store visit"}


def test_publish_needs_questions_and_a_poll_needs_exactly_one(staff_client, organisation, draft):
    # when: nothing to ask
    staff_client.post(staff("survey_publish", organisation, draft.pk))
    draft.refresh_from_db()
    assert draft.status == SurveyStatus.DRAFT
    # when
    question_add(survey=draft, type="nps", text={"en": "Recommend?"})
    staff_client.post(staff("survey_publish", organisation, draft.pk))
    draft.refresh_from_db()
    assert draft.status == SurveyStatus.LIVE
    # and a poll with two questions stays a draft
    poll = survey_create(
        organisation=draft.organisation,
        title={"en": "Poll"},
        languages=["en"],
        kind=SurveyKind.POLL,
    )
    question_add(survey=poll, type="yes_no", text={"en": "A?"})
    question_add(survey=poll, type="yes_no", text={"en": "B?"})
    staff_client.post(staff("survey_publish", organisation, poll.pk))
    poll.refresh_from_db()
    assert poll.status == SurveyStatus.DRAFT


def test_close_stops_answers(staff_client, client, organisation, survey):
    staff_client.post(staff("survey_close", organisation, survey.pk))
    page = client.post(
        reverse("surveys:survey_respond", args=[survey.public_id]), answers_for(survey)
    )
    assert page.status_code == 410


def test_duplicate_is_a_draft_with_rules_pointing_at_its_own_questions(organisation, draft):
    single = question_add(
        survey=draft,
        type="single_choice",
        text={"en": "Which?"},
        choices=[{"en": "A"}, {"en": "B"}],
    )
    b = single.choices.get(position=2)
    question_add(
        survey=draft,
        type="text",
        text={"en": "Why B?"},
        settings={"show_if": {"question": single.pk, "op": "in", "value": [b.pk]}},
    )
    # when
    copy = survey_duplicate(survey=draft)
    # then
    assert copy.status == SurveyStatus.DRAFT and copy.public_id != draft.public_id
    new_single, new_why = copy.questions.all()
    new_b = new_single.choices.get(position=2)
    assert new_why.show_if == {"question": new_single.pk, "op": "in", "value": [new_b.pk]}
    assert Choice.objects.count() == 4


def test_preview_shows_the_chosen_language_and_saves_nothing(staff_client, organisation, draft):
    question_add(survey=draft, type="nps", text={"en": "Recommend?", "th": "แนะนำไหม"})
    page = staff_client.get(staff("survey_preview", organisation, draft.pk) + "?language=th")
    html = page.content.decode()
    assert page.status_code == 200 and "แนะนำไหม" in html and 'lang="th"' in html
    assert page.context["gaps"] == ["the title"]


def test_builder_page_query_count_does_not_grow_with_questions(
    staff_client, organisation, draft, django_assert_max_num_queries
):
    for n in range(12):
        question_add(
            survey=draft,
            type=QuestionType.SINGLE_CHOICE,
            text={"en": f"Q{n}"},
            choices=[{"en": "A"}, {"en": "B"}],
        )
    with django_assert_max_num_queries(25):
        staff_client.get(staff("survey_edit", organisation, draft.pk))


def test_a_single_choice_questions_other_box_is_saved_on_add_and_on_edit(
    staff_client, organisation, draft
):
    # when a single-choice question is added with an "other" box
    staff_client.post(
        staff("question_add", organisation, draft.pk),
        {
            "type": "single_choice",
            "other": "on",
            "text_en": "How did you hear of us?",
            "text_th": "คุณรู้จักเราจากที่ใด",
            "choices_en": "Friends\nAds",
            "choices_th": "เพื่อน\nโฆษณา",
        },
    )
    question = Question.objects.get()
    # then it keeps it
    assert question.has_other
    # when the box is unticked on edit, and ticked again
    fields = {
        "text_en": "How did you hear of us?",
        "text_th": "คุณรู้จักเราจากที่ใด",
        "choices_en": "Friends\nAds",
        "choices_th": "เพื่อน\nโฆษณา",
    }
    staff_client.post(staff("question_edit", organisation, question.pk), fields)
    question.refresh_from_db()
    assert not question.has_other
    staff_client.post(staff("question_edit", organisation, question.pk), {**fields, "other": "on"})
    question.refresh_from_db()
    assert question.has_other


def test_a_survey_published_with_a_future_open_time_is_called_scheduled_not_live(
    staff_client, organisation, draft
):
    # given a survey that opens tomorrow
    from datetime import timedelta

    from django.utils import timezone

    question_add(survey=draft, type="nps", text={"en": "Recommend?", "th": "แนะนำไหม"})
    draft.opens_at = timezone.now() + timedelta(days=1)
    draft.save()
    # when it is published
    page = staff_client.post(staff("survey_publish", organisation, draft.pk), follow=True)
    # then staff are told when it opens, and every list calls it scheduled
    html = page.content.decode()
    assert "The survey is scheduled: it opens" in html
    assert "The survey is live." not in html
    listing = staff_client.get(reverse("staff:survey_list", args=[organisation.slug]))
    assert "Scheduled" in listing.content.decode()
    draft.refresh_from_db()
    assert draft.phase == "scheduled" and not draft.is_open()
    # and once the time comes it is live
    draft.opens_at = timezone.now() - timedelta(minutes=1)
    draft.save()
    assert draft.phase == "live" and draft.phase_label == "Live"
