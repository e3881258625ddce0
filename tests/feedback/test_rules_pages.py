"""The follow-up rules staff pages: list, editor (save, "Test this rule", email preview),
reorder and delete; what each role may do, and bad input refused with clear messages."""

import pytest
from django.test import Client
from django.urls import reverse

from communities.choices import Role
from communities.models import AuditEntry
from feedback.models import Case, FollowUpRule
from surveys.choices import QuestionType
from surveys.services import question_add, response_submit
from tests.factories.communities import LocationFactory, StaffRoleFactory, UserFactory
from tests.factories.feedback import FollowUpRuleFactory, TeamFactory
from tests.factories.surveys import survey_with_every_question_type
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db


def url(organisation, name, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


def client_as(organisation, role):
    client = Client()
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
    return client


def form_data(**overrides):
    data = {
        "name": "Siam CSAT",
        "active": "on",
        "match": "all",
        "c1_kind": "score",
        "c1_score": "csat",
        "c1_max": "2",
        "open_case": "on",
        "priority": "high",
        "assign": "",
        "action": "save",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_list_names_the_standard_rules_while_there_are_none(staff_client, organisation):
    page = staff_client.get(url(organisation, "rule_list"))
    assert page.status_code == 200
    assert "the standard rules apply" in page.content.decode()


def test_the_list_shows_rules_in_order_and_analysts_get_no_buttons(organisation):
    FollowUpRuleFactory(organisation=organisation, name="Second", position=1)
    FollowUpRuleFactory(organisation=organisation, name="First", position=0)
    page = client_as(organisation, Role.ANALYST).get(url(organisation, "rule_list"))
    html = page.content.decode()
    assert html.index("First") < html.index("Second")
    assert url(organisation, "rule_create") not in html
    assert "direction" not in html


def test_the_list_reads_a_fixed_number_of_queries(
    staff_client, organisation, django_assert_max_num_queries
):
    for n in range(15):
        FollowUpRuleFactory(organisation=organisation, name=f"Rule {n}", position=n)
    with django_assert_max_num_queries(16):
        assert staff_client.get(url(organisation, "rule_list")).status_code == 200


def test_an_admin_builds_a_store_rule_with_a_team_and_a_thai_email(
    staff_client, staff_user, organisation, survey
):
    # given: the Siam store and its team
    siam = LocationFactory(organisation=organisation, name="Siam")
    team = TeamFactory(organisation=organisation, name="Siam team")
    # when
    page = staff_client.post(
        url(organisation, "rule_create"),
        form_data(
            locations=[siam.pk],
            team=team.pk,
            assign="round_robin",
            email_respondent="on",
            delay_minutes="0",
            subject_th="ขออภัยค่ะ {{ name }}",
            body_th="เราจะติดต่อกลับ {{ location_name }}",
        ),
    )
    # then
    assert page.status_code == 302, page.content.decode()[:3000]
    rule = FollowUpRule.objects.get()
    assert rule.scope["locations"] == [siam.pk]
    assert rule.conditions == [
        {"kind": "score", "score": "csat", "question": None, "min": None, "max": 2}
    ]
    assert rule.actions["case"] == {
        "priority": "high",
        "team": team.pk,
        "assign": "round_robin",
        "person": None,
    }
    assert rule.actions["email"]["templates"] == {
        "th": {"subject": "ขออภัยค่ะ {{ name }}", "body": "เราจะติดต่อกลับ {{ location_name }}"}
    }
    entry = AuditEntry.objects.get(action="followup_rule.create")
    assert entry.actor == staff_user and entry.target_id == str(rule.pk)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 201}, "at most 200 characters"),
        ({"c1_max": "9"}, "impossible range"),
        ({"c1_min": "4", "c1_max": "2"}, "impossible range"),
        ({"c1_kind": ""}, "at least one condition"),
        ({"c1_kind": "sentiment", "c1_below": "-3"}, "sentiment runs from"),
        ({"c1_question": "999999"}, "Unknown question"),
        ({"c1_max": "two"}, "Enter a number."),
        ({"email_respondent": "on", "subject_en": "Hi {{ nmae }}", "body_en": "x"}, "nmae"),
        ({"email_respondent": "on", "subject_en": "Hi", "body_en": "{% debug %}"}, "Only text"),
        ({"email_respondent": "on", "subject_en": "Hi", "body_en": ""}, "Write both"),
        ({"open_case": None, "assign": ""}, "something to do"),
        ({"assign": "round_robin"}, "needs a team"),
        ({"locations": ["999999"]}, "Select a valid choice"),
        ({"c2_kind": "keywords", "c2_words": "x" * 101}, "under 100 characters"),
    ],
)
def test_a_bad_rule_is_refused_with_a_clear_message_and_nothing_saved(
    staff_client, organisation, survey, overrides, message
):
    page = staff_client.post(url(organisation, "rule_create"), form_data(**overrides))
    assert page.status_code == 400
    assert message in page.content.decode()
    assert not FollowUpRule.objects.exists()


def test_another_organisations_question_is_unknown_here(
    staff_client, organisation, survey, other_organisation
):
    theirs = survey_with_every_question_type(organisation=other_organisation)
    nps = question_of(theirs, QuestionType.NPS)
    page = staff_client.post(
        url(organisation, "rule_create"),
        form_data(c1_score="nps", c1_question=str(nps.pk), c1_max="6"),
    )
    assert page.status_code == 400
    assert "Unknown question" in page.content.decode()


def test_a_rule_name_used_twice_is_refused(staff_client, organisation, survey):
    FollowUpRuleFactory(organisation=organisation, name="Siam CSAT")
    page = staff_client.post(url(organisation, "rule_create"), form_data())
    assert page.status_code == 400
    assert "Another rule has this name." in page.content.decode()
    assert FollowUpRule.objects.count() == 1


def test_testing_a_rule_lists_the_matching_responses_and_saves_nothing(
    staff_client, organisation, survey
):
    # given: two answers with an unhappy CSAT face, one happy
    csat = question_add(survey=survey, type=QuestionType.CSAT, text={"en": "Happy?"})
    for face in (1, 2, 5):
        data = answers_for(survey)
        data[f"q_{csat.pk}"] = face
        response_submit(
            survey=survey, raw_answers=data, idempotency_key=data.pop("idempotency_key")
        )
    cases = Case.objects.count()
    # when
    page = staff_client.post(url(organisation, "rule_create"), form_data(action="test"))
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "The rule matches 2 of the last 3 responses." in html
    assert "CSAT 1 ≤ 2" in html and "CSAT 2 ≤ 2" in html and "CSAT 5" not in html
    assert not FollowUpRule.objects.exists()
    assert Case.objects.count() == cases
    assert not AuditEntry.objects.exists()


def test_the_email_preview_renders_each_language_written(staff_client, organisation, survey):
    page = staff_client.post(
        url(organisation, "rule_create"),
        form_data(
            action="preview",
            email_respondent="on",
            subject_th="ขออภัย {{ name }}",
            body_th="สาขา {{ location_name }}",
        ),
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "ขออภัย Ana" in html and "สาขา Siam" in html
    assert not FollowUpRule.objects.exists()


def test_editing_a_rule_saves_and_audits_the_change(staff_client, organisation, survey):
    rule = FollowUpRuleFactory(organisation=organisation, name="Old")
    page = staff_client.post(url(organisation, "rule_edit", rule.pk), form_data(name="New"))
    assert page.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "New"
    assert AuditEntry.objects.get(action="followup_rule.update").changes["name"] == ["Old", "New"]


def test_an_analyst_reads_a_rule_but_cannot_change_it(organisation, survey):
    rule = FollowUpRuleFactory(organisation=organisation, name="Keep")
    analyst = client_as(organisation, Role.ANALYST)
    page = analyst.get(url(organisation, "rule_edit", rule.pk))
    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert 'value="save"' not in page.content.decode()
    assert analyst.post(url(organisation, "rule_edit", rule.pk), form_data()).status_code == 403
    assert analyst.post(url(organisation, "rule_delete", rule.pk)).status_code == 403
    rule.refresh_from_db()
    assert rule.name == "Keep"


def test_an_agent_gets_403_on_the_rules(organisation):
    agent = client_as(organisation, Role.AGENT)
    assert agent.get(url(organisation, "rule_list")).status_code == 403


def test_another_organisations_rule_is_404_under_mine(
    staff_client, organisation, other_organisation
):
    theirs = FollowUpRuleFactory(organisation=other_organisation)
    assert staff_client.get(url(organisation, "rule_edit", theirs.pk)).status_code == 404
    assert staff_client.post(url(organisation, "rule_delete", theirs.pk)).status_code == 404
    page = staff_client.post(
        url(organisation, "rule_reorder"), {"rule": theirs.pk, "direction": "up"}
    )
    assert page.status_code == 302
    assert FollowUpRule.objects.get(pk=theirs.pk).position == theirs.position
    assert not AuditEntry.objects.exists()


def test_reorder_moves_a_rule_up_and_refuses_malformed_input(staff_client, organisation):
    first = FollowUpRuleFactory(organisation=organisation, position=0)
    second = FollowUpRuleFactory(organisation=organisation, position=1)
    for bad in ({}, {"rule": "x", "direction": "up"}, {"rule": second.pk, "direction": "sideways"}):
        assert staff_client.post(url(organisation, "rule_reorder"), bad).status_code == 302
    assert list(FollowUpRule.objects.values_list("pk", flat=True)) == [first.pk, second.pk]
    staff_client.post(url(organisation, "rule_reorder"), {"rule": second.pk, "direction": "up"})
    assert list(FollowUpRule.objects.values_list("pk", flat=True)) == [second.pk, first.pk]


def test_deleting_a_rule_is_audited_with_what_it_was(staff_client, organisation):
    rule = FollowUpRuleFactory(organisation=organisation, name="Gone")
    page = staff_client.post(url(organisation, "rule_delete", rule.pk))
    assert page.status_code == 302 and not FollowUpRule.objects.exists()
    entry = AuditEntry.objects.get(action="followup_rule.delete")
    assert entry.changes["name"] == ["Gone", None]


def test_a_new_rule_applies_to_the_next_answer(staff_client, organisation, survey):
    # given: the defaults would open a case for NPS 5; the organisation's own rule only ≤ 2
    staff_client.post(
        url(organisation, "rule_create"),
        form_data(c1_score="nps", c1_max="2"),
    )
    # when
    data = answers_for(survey, nps=5)
    response_submit(survey=survey, raw_answers=data, idempotency_key=data.pop("idempotency_key"))
    # then: the new rule, read afresh, holds and the defaults no longer apply
    assert not Case.objects.exists()


def test_the_staff_navigation_links_to_the_rules(staff_client, organisation):
    page = staff_client.get(url(organisation, "rule_list"))
    assert f'href="{url(organisation, "rule_list")}"' in page.content.decode()


def test_a_person_must_work_cases_here(staff_client, organisation, survey):
    outsider = UserFactory()
    page = staff_client.post(
        url(organisation, "rule_create"), form_data(assign="person", person=str(outsider.pk))
    )
    assert page.status_code == 400
    assert not FollowUpRule.objects.exists()
