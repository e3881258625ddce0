"""Surveys through the API: create with questions in every language, publish, close,
duplicate, change and delete, each recorded in the audit log as who did it."""

import pytest

from communities.models import AuditEntry
from surveys.choices import QuestionType, SurveyKind, SurveyStatus
from surveys.models import Choice, Question, Survey
from tests.factories.communities import CommunityFactory
from tests.factories.surveys import QuestionFactory, ResponseFactory, SurveyFactory
from tests.surveys.api.conftest import api_url

pytestmark = pytest.mark.django_db

TEXTS = {"en": "How likely are you to recommend us?", "th": "คุณจะแนะนำเราไหม"}
NEW_SURVEY = {
    "title": {
        "en": "After your visit",
        "th": "หลังการมาเยือน",
        "he": "אחרי הביקור",
        "ja": "ご来店後",
    },
    "languages": ["en", "th", "he", "ja"],
    "anonymity": "respondent_choice",
    "points": 30,
    "one_question_per_page": True,
    "questions": [
        {
            "type": "nps",
            "text": {**TEXTS, "he": "האם תמליצו?", "ja": "勧めますか？"},
            "settings": {"min_label": {"en": "Never", "ja": "全く"}},
        },
        {
            "type": "multi_choice",
            "text": {"en": "What went wrong?"},
            "choices": [{"en": "Queue", "th": "คิว"}, {"en": "Price"}, {"en": "Noise"}],
            "settings": {
                "other": True,
                "show_if": {"question_position": 1, "op": "lte", "values": [6]},
            },
        },
        {
            "type": "single_choice",
            "text": {"en": "Would the queue be fixed by a second till?"},
            "required": False,
            "choices": [{"en": "Yes"}, {"en": "No"}],
            "settings": {"show_if": {"question_position": 2, "op": "in", "values": [1]}},
        },
        {"type": "rating", "text": {"en": "Cleanliness"}, "settings": {"min": 1, "max": 7}},
    ],
}


def test_a_survey_goes_from_draft_to_live_to_closed_and_is_copied(api, organisation):
    # given: a community to survey
    community = CommunityFactory(organisation=organisation)

    # when: created with its questions, then published, closed and duplicated
    created = api.post(
        api_url("survey_list", organisation), {**NEW_SURVEY, "community": community.pk}, "json"
    )
    survey_id = created.json()["id"]
    published = api.post(api_url("survey_publish", organisation, survey_id))
    closed = api.post(api_url("survey_close", organisation, survey_id))
    copied = api.post(api_url("survey_duplicate", organisation, survey_id))

    # then: the draft holds every text in every language, and the rules as ids
    assert created.status_code == 201, created.json()
    assert created["Location"].endswith(f"/surveys/{survey_id}/")
    body = created.json()
    assert body["status"] == "draft" and body["community"] == community.pk
    assert body["title"]["ja"] == "ご来店後" and body["points"] == 30
    nps, why, till, rating = body["questions"]
    assert nps["text"]["he"] == "האם תמליצו?"
    assert nps["settings"]["min_label"] == {"en": "Never", "ja": "全く"}
    assert [c["label"] for c in why["choices"]][0] == {"en": "Queue", "th": "คิว"}
    assert why["settings"]["show_if"] == {"question": nps["id"], "op": "lte", "values": [6]}
    first_choice = why["choices"][0]["id"]
    assert till["settings"]["show_if"] == {
        "question": why["id"],
        "op": "in",
        "values": [first_choice],
    }
    assert rating["settings"]["min"] == 1 and rating["settings"]["max"] == 7
    # and it went live, closed, and its copy is a new draft with the same questions
    assert (published.status_code, published.json()["status"]) == (200, "live")
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert copied.status_code == 201
    copy = copied.json()
    assert copy["status"] == "draft" and copy["id"] != survey_id
    assert copy["title"]["en"] == "After your visit (copy)"
    assert len(copy["questions"]) == 4
    assert copy["questions"][1]["settings"]["show_if"]["question"] == copy["questions"][0]["id"]


def test_every_survey_write_is_in_the_audit_log_with_its_staff_member(
    staff_client, staff_user, organisation
):
    # when
    created = staff_client.post(
        api_url("survey_list", organisation), NEW_SURVEY, content_type="application/json"
    )
    survey_id = created.json()["id"]
    staff_client.patch(
        api_url("survey_detail", organisation, survey_id),
        {"points": 40},
        content_type="application/json",
    )
    staff_client.post(api_url("survey_publish", organisation, survey_id))
    staff_client.post(api_url("survey_close", organisation, survey_id))
    staff_client.post(api_url("survey_duplicate", organisation, survey_id))

    # then
    entries = list(AuditEntry.objects.filter(organisation=organisation).order_by("pk"))
    assert [e.action for e in entries] == [
        "survey.create",
        "survey.update",
        "survey.publish",
        "survey.close",
        "survey.duplicate",
    ]
    assert {e.actor for e in entries} == {staff_user}
    assert entries[1].changes == {"points": [30, 40]}
    assert entries[2].changes == {"status": ["draft", "live"]}


def test_a_key_writes_as_the_organisation_with_no_person_named(api, organisation):
    api.post(api_url("survey_list", organisation), NEW_SURVEY, "json")

    entry = AuditEntry.objects.get(action="survey.create")
    assert entry.actor is None and entry.target_type == "survey"


def test_a_quick_poll_is_a_survey_of_kind_poll_and_lists_with_the_kind_filter(api, organisation):
    # given
    SurveyFactory(organisation=organisation)
    poll = {
        "title": {"en": "Which flavour next?"},
        "languages": ["en"],
        "kind": "poll",
        "questions": [
            {
                "type": "single_choice",
                "text": {"en": "Which flavour?"},
                "choices": [{"en": "Yuzu"}, {"en": "Matcha"}],
            }
        ],
    }

    # when
    created = api.post(api_url("survey_list", organisation), poll, "json").json()
    published = api.post(api_url("survey_publish", organisation, created["id"]))
    polls = api.get(api_url("survey_list", organisation), {"kind": "poll"}).json()["results"]

    # then
    assert published.json()["kind"] == "poll" and published.json()["phase"] == "live"
    assert [p["id"] for p in polls] == [created["id"]]


def test_a_poll_with_two_questions_cannot_be_published(api, organisation):
    # given
    poll = SurveyFactory(organisation=organisation, kind=SurveyKind.POLL, status=SurveyStatus.DRAFT)
    QuestionFactory(survey=poll, type=QuestionType.YES_NO)
    QuestionFactory(survey=poll, type=QuestionType.YES_NO)

    # when
    answer = api.post(api_url("survey_publish", organisation, poll.pk))

    # then
    assert answer.status_code == 409
    assert answer.json()["code"] == "not_publishable"
    poll.refresh_from_db()
    assert poll.status == SurveyStatus.DRAFT


def test_publishing_an_empty_draft_or_a_live_survey_answers_409(api, organisation):
    empty = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT)
    live = SurveyFactory(organisation=organisation)

    first = api.post(api_url("survey_publish", organisation, empty.pk))
    second = api.post(api_url("survey_publish", organisation, live.pk))

    assert (first.status_code, first.json()["code"]) == (409, "not_publishable")
    assert "Add at least one question" in first.json()["detail"]
    assert (second.status_code, second.json()["code"]) == (409, "survey_live")


def test_closing_a_draft_answers_409(api, organisation):
    draft = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT)

    answer = api.post(api_url("survey_close", organisation, draft.pk))

    assert (answer.status_code, answer.json()["code"]) == (409, "survey_not_live")
    assert answer["Content-Type"].startswith("application/problem+json")


def test_a_survey_can_be_created_from_a_library_template(api, organisation):
    answer = api.post(
        api_url("survey_list", organisation),
        {"languages": ["en", "th"], "template": "nps"},
        "json",
    )

    assert answer.status_code == 201
    body = answer.json()
    assert body["title"]["th"] and len(body["questions"]) >= 2


def test_a_draft_may_change_its_kind_but_a_live_survey_may_not(api, organisation):
    draft = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT)
    live = SurveyFactory(organisation=organisation)

    changed = api.patch(api_url("survey_detail", organisation, draft.pk), {"kind": "poll"}, "json")
    refused = api.patch(api_url("survey_detail", organisation, live.pk), {"kind": "poll"}, "json")

    assert (changed.status_code, changed.json()["kind"]) == (200, "poll")
    assert (refused.status_code, refused.json()["code"]) == (409, "survey_not_draft")
    live.refresh_from_db()
    assert live.kind == SurveyKind.SURVEY


def test_a_live_survey_settings_change_as_the_staff_builder_allows(api, organisation):
    # given
    live = SurveyFactory(organisation=organisation, title={"en": "Visit", "th": "เยี่ยม"})

    # when: a Thai title fixed, points and the close time changed
    answer = api.patch(
        api_url("survey_detail", organisation, live.pk),
        {"title": {"th": "การเยี่ยม"}, "points": 5, "closes_at": "2099-01-01T00:00:00Z"},
        "json",
    )

    # then: the English title is kept
    assert answer.status_code == 200, answer.json()
    live.refresh_from_db()
    assert live.title == {"en": "Visit", "th": "การเยี่ยม"} and live.points == 5
    assert live.status == SurveyStatus.LIVE


def test_an_empty_text_removes_a_language_and_fewer_languages_drop_their_texts(api, organisation):
    survey = SurveyFactory(
        organisation=organisation,
        status=SurveyStatus.DRAFT,
        languages=["en", "th", "ja"],
        title={"en": "Visit", "th": "เยี่ยม", "ja": "来店"},
    )
    url = api_url("survey_detail", organisation, survey.pk)

    api.patch(url, {"title": {"ja": ""}}, "json")
    survey.refresh_from_db()
    assert survey.title == {"en": "Visit", "th": "เยี่ยม"}

    api.patch(url, {"languages": ["en"]}, "json")
    survey.refresh_from_db()
    assert survey.languages == ["en"] and survey.title == {"en": "Visit"}


def test_only_a_draft_can_be_deleted(api, organisation):
    # given
    draft = SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT)
    QuestionFactory(survey=draft)
    live = SurveyFactory(organisation=organisation)
    ResponseFactory(survey=live)

    # when
    deleted = api.delete(api_url("survey_detail", organisation, draft.pk))
    refused = api.delete(api_url("survey_detail", organisation, live.pk))

    # then
    assert deleted.status_code == 204
    assert not Survey.objects.filter(pk=draft.pk).exists()
    assert not Question.objects.filter(survey_id=draft.pk).exists()
    assert (refused.status_code, refused.json()["code"]) == (409, "survey_not_draft")
    assert Survey.objects.filter(pk=live.pk).exists()
    assert AuditEntry.objects.get(action="survey.delete").target_id == str(draft.pk)


def test_the_list_filters_by_status_kind_and_community(api, organisation):
    # given
    community = CommunityFactory(organisation=organisation)
    live = SurveyFactory(organisation=organisation, community=community)
    SurveyFactory(organisation=organisation, status=SurveyStatus.DRAFT, community=community)
    SurveyFactory(organisation=organisation)
    url = api_url("survey_list", organisation)

    # when
    found = api.get(url, {"status": "live", "community": community.pk}).json()["results"]

    # then
    assert [s["id"] for s in found] == [live.pk]


def test_the_list_refuses_unknown_filters_and_values(api, organisation, other_organisation):
    url = api_url("survey_list", organisation)
    foreign = CommunityFactory(organisation=other_organisation)

    for params in ({"status": "open"}, {"kind": "quiz"}, {"community": "one"}, {"q": "x"}):
        answer = api.get(url, params)
        assert answer.status_code == 400, params
        assert answer.json()["errors"][0]["parameter"] == next(iter(params))
    for params in ({"community": foreign.pk}, {"community": 0}, {"community": 10**30}):
        answer = api.get(url, params)
        assert answer.status_code == 422, params
        assert answer.json()["errors"][0]["parameter"] == "community"


def test_the_survey_list_pages_in_bounded_queries(api, organisation, django_assert_max_num_queries):
    # given: surveys with questions and choices
    for _ in range(6):
        survey = SurveyFactory(organisation=organisation)
        question = QuestionFactory(survey=survey, type=QuestionType.SINGLE_CHOICE)
        for position in (1, 2):
            Choice.objects.create(
                organisation=organisation, question=question, position=position, label={"en": "x"}
            )
    url = api_url("survey_list", organisation)

    # when / then: one page of one survey costs as many queries as a page of a hundred
    for size in (1, 100):
        with django_assert_max_num_queries(12):
            answer = api.get(url, {"page_size": size})
        assert len(answer.json()["results"]) == min(size, 6)


def test_a_retried_create_with_the_same_idempotency_key_makes_one_survey(api, organisation):
    url = api_url("survey_list", organisation)

    first = api.post(url, NEW_SURVEY, "json", HTTP_IDEMPOTENCY_KEY="create-visit-survey")
    again = api.post(url, NEW_SURVEY, "json", HTTP_IDEMPOTENCY_KEY="create-visit-survey")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Survey.objects.count() == 1


def test_the_audit_log_names_the_survey_builders_actions():
    from communities.services.audit import audit_action_label, audit_target_label
    from surveys.services.authoring import survey_audit_register

    survey_audit_register()

    assert audit_action_label("survey.publish") == "Survey published"
    assert audit_target_label("choice") == "Answer to choose"
