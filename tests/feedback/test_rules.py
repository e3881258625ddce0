"""Follow-up rules v2: ordered, scoped rules with combined conditions and routed actions,
applied once per answer inside its submit; and the checks that refuse a broken rule."""

import pytest
from django.core.exceptions import ValidationError

from communities.choices import Role
from communities.models import AuditEntry
from communities.outbox.models import OutboundEmail
from feedback.choices import RuleAlert, RuleAssignment
from feedback.models import Case, FollowUpRule, RuleAlertIntent
from feedback.services.followup_admin import (
    rule_compile,
    rule_create,
    rule_delete,
    rule_move,
    rule_test,
    rule_update,
)
from feedback.services.followup_spec import keywords_match, template_check, text_fold
from surveys.choices import QuestionType
from surveys.services import response_submit
from tests.factories.communities import (
    LocationFactory,
    MemberFactory,
    SegmentFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.feedback import FollowUpRuleFactory, TeamFactory
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db


def submit(survey, member=None, consent=True, location=None, language="en", **answers):
    data = answers_for(survey, **answers)
    key = data.pop("idempotency_key")
    return response_submit(
        survey=survey,
        raw_answers=data,
        idempotency_key=key,
        member=member,
        consent_to_contact=consent,
        location=location,
        language=language,
    ).response


def rule_fields(**overrides):
    fields = {
        "name": "Low NPS",
        "active": True,
        "match": "all",
        "stop": False,
        "scope": {},
        "conditions": [{"kind": "score", "score": "nps", "question": None, "min": 0, "max": 6}],
        "actions": {
            "case": {"priority": "", "team": None, "assign": "", "person": None},
            "email": None,
            "alert": "",
            "webhook": False,
        },
    }
    fields.update(overrides)
    return fields


def worker(organisation, **kwargs):
    user = UserFactory(**kwargs)
    StaffRoleFactory(user=user, organisation=organisation, role=Role.AGENT)
    return user


# --- text matching -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "text", "found"),
    [
        (["rude"], "The barista was RUDE to me", "rude"),
        (["cafe"], "Le café était froid", "cafe"),
        (["שלום"], "שָׁלוֹם, the staff ignored me", "שלום"),
        (["แย่"], "กาแฟแย่มาก", "แย่"),
        (["まずい"], "コーヒーがまずいです", "まずい"),
        (["ｃｏｌｄ"], "cold coffee", "cold"),
        (["か"], "が", None),
        (["slow"], "Fast and friendly", None),
    ],
)
def test_keywords_match_ignores_case_and_accents_in_every_language(words, text, found):
    folded = [text_fold(w) for w in words]
    assert keywords_match(words=folded, text=text) == found


# --- applying rules on submit ------------------------------------------------------------


def test_an_organisation_without_rules_keeps_the_default_rules(survey):
    # when: a detractor answers where no rule was ever written
    response = submit(survey, nps=3)
    # then: the defaults opened the case, high priority for NPS 0–3
    assert Case.objects.get().response == response
    assert Case.objects.get().priority == "high"


def test_all_conditions_must_hold_and_any_needs_one(survey):
    # given: NPS ≤ 6 AND stars ≤ 2
    FollowUpRuleFactory(
        organisation=survey.organisation,
        match="all",
        conditions=[
            {"kind": "score", "score": "nps", "question": None, "min": None, "max": 6},
            {"kind": "score", "score": "star", "question": None, "min": None, "max": 2},
        ],
    )
    # when
    low_nps_only = submit(survey, nps=3, stars=5)
    both = submit(survey, nps=3, stars=1)
    # then
    assert list(Case.objects.values_list("response_id", flat=True)) == [both.pk]
    assert not Case.objects.filter(response=low_nps_only).exists()


def test_a_score_range_holds_only_inside_it(survey):
    FollowUpRuleFactory(
        organisation=survey.organisation,
        conditions=[{"kind": "score", "score": "nps", "question": None, "min": 7, "max": 8}],
    )
    submit(survey, nps=6)
    passive = submit(survey, nps=7)
    submit(survey, nps=9)
    assert list(Case.objects.values_list("response_id", flat=True)) == [passive.pk]
    assert Case.objects.get().reasons[0]["code"] == "score_range"


def test_keywords_open_a_case_for_a_thai_complaint_without_a_score(survey):
    FollowUpRuleFactory(
        organisation=survey.organisation,
        conditions=[{"kind": "keywords", "words": [text_fold("แย่"), "rude"]}],
    )
    thai = submit(survey, nps=10, stars=5, text="พนักงานแย่มาก", language="th")
    submit(survey, nps=10, stars=5, text="Lovely coffee")
    assert list(Case.objects.values_list("response_id", flat=True)) == [thai.pk]
    assert Case.objects.get().reasons[0]["code"] == "keywords"


def test_a_rule_scoped_to_a_store_ignores_other_stores(survey):
    siam, other = (
        LocationFactory(organisation=survey.organisation),
        LocationFactory(organisation=survey.organisation),
    )
    FollowUpRuleFactory(
        organisation=survey.organisation,
        scope={"locations": [siam.pk]},
        conditions=[{"kind": "score", "score": "nps", "question": None, "min": None, "max": 6}],
    )
    at_siam = submit(survey, nps=2, location=siam)
    submit(survey, nps=2, location=other)
    assert list(Case.objects.values_list("response_id", flat=True)) == [at_siam.pk]


def test_stop_after_this_rule_skips_later_rules(survey, member):
    organisation = survey.organisation
    FollowUpRuleFactory(
        organisation=organisation,
        position=0,
        stop=True,
        conditions=[{"kind": "score", "score": "nps", "question": None, "min": None, "max": 6}],
        actions={"case": {"priority": "low"}, "email": None, "alert": "", "webhook": False},
    )
    FollowUpRuleFactory(
        organisation=organisation,
        position=1,
        conditions=[{"kind": "score", "score": "nps", "question": None, "min": None, "max": 6}],
        actions={"case": None, "email": {"delay_minutes": 0}, "alert": "", "webhook": False},
    )
    submit(survey, member=member, nps=1)
    assert Case.objects.get().priority == "low"
    assert not OutboundEmail.objects.filter(template__startswith="followup").exists()


def test_round_robin_gives_cases_to_the_team_in_turn(survey):
    # given: a team of two agents and a rule that routes to it in turn
    organisation = survey.organisation
    first, second = worker(organisation), worker(organisation)
    team = TeamFactory(organisation=organisation)
    team.members.add(first, second)
    FollowUpRuleFactory(
        organisation=organisation,
        conditions=[{"kind": "score", "score": "nps", "question": None, "min": None, "max": 6}],
        actions={
            "case": {"priority": "", "team": team.pk, "assign": RuleAssignment.ROUND_ROBIN},
            "email": None,
            "alert": "",
            "webhook": False,
        },
    )
    # when: three detractors answer
    responses = [submit(survey, nps=2) for _ in range(3)]
    # then: first, second, first again, all in the team
    cases = [Case.objects.get(response=r) for r in responses]
    assert [c.assignee_id for c in cases] == [first.pk, second.pk, first.pk]
    assert {c.team_id for c in cases} == {team.pk}


def test_the_location_manager_gets_the_case_when_they_work_cases(survey):
    organisation = survey.organisation
    manager = worker(organisation)
    siam = LocationFactory(organisation=organisation, manager=manager)
    FollowUpRuleFactory(
        organisation=organisation,
        conditions=[{"kind": "score", "score": "nps", "question": None, "min": None, "max": 6}],
        actions={
            "case": {"assign": RuleAssignment.LOCATION_MANAGER},
            "email": None,
            "alert": "",
            "webhook": False,
        },
    )
    submit(survey, nps=2, location=siam)
    assert Case.objects.get().assignee == manager


def test_the_email_uses_the_staff_template_in_the_respondents_language(survey, member):
    FollowUpRuleFactory(
        organisation=survey.organisation,
        conditions=[{"kind": "score", "score": "nps", "question": None, "min": None, "max": 6}],
        actions={
            "case": {},
            "email": {
                "delay_minutes": 0,
                "templates": {
                    "th": {"subject": "ขออภัย {{ name }}", "body": "เรียน {{ name }} <b>"},
                },
            },
            "alert": "",
            "webhook": False,
        },
    )
    thai = submit(survey, member=member, nps=1, language="th")
    email = OutboundEmail.objects.get(idempotency_key=f"followup:response:{thai.pk}")
    assert email.subject == f"ขออภัย {member.name}"
    assert f"เรียน {member.name} <b>" in email.body_text
    # the staff's text is text in the HTML part too
    assert "&lt;b&gt;" in email.body_html


def test_an_anonymous_or_unconsenting_respondent_is_never_emailed(survey, member):
    FollowUpRuleFactory(organisation=survey.organisation, email_respondent=True)
    submit(survey, member=member, consent=False, nps=1)
    assert Case.objects.count() == 1
    assert not OutboundEmail.objects.filter(template__startswith="followup").exists()


def test_a_digest_alert_is_stored_for_the_digest_not_emailed(survey):
    rule = FollowUpRuleFactory(
        organisation=survey.organisation,
        actions={"case": {}, "email": None, "alert": RuleAlert.DIGEST, "webhook": False},
    )
    StaffRoleFactory(organisation=survey.organisation, role=Role.AGENT)
    response = submit(survey, nps=1)
    intent = RuleAlertIntent.objects.get()
    assert (intent.rule, intent.response, intent.case) == (rule, response, response.case)
    assert not OutboundEmail.objects.filter(template="case_alert").exists()


def test_a_repeat_detractor_rule_needs_an_earlier_low_nps(survey, member):
    from tests.factories.surveys import survey_with_every_question_type

    FollowUpRuleFactory(
        organisation=survey.organisation,
        conditions=[{"kind": "history", "is": "repeat_detractor"}],
    )
    later = survey_with_every_question_type(
        organisation=survey.organisation, community=member.community
    )
    first = submit(survey, member=member, nps=2)
    second = submit(later, member=member, nps=3)
    assert not Case.objects.filter(response=first).exists()
    assert Case.objects.filter(response=second).exists()


def test_a_segment_condition_holds_for_its_members_only(survey, member):
    segment = SegmentFactory(community=member.community, filter={"status": [member.status]})
    FollowUpRuleFactory(
        organisation=survey.organisation,
        match="all",
        conditions=[
            {"kind": "segment", "segment": segment.pk},
            {"kind": "score", "score": "nps", "question": None, "min": None, "max": 8},
        ],
    )
    theirs = submit(survey, member=member, nps=8)
    submit(survey, nps=8)  # no member
    assert list(Case.objects.values_list("response_id", flat=True)) == [theirs.pk]


# --- writing rules: checks and audit -----------------------------------------------------


def test_rule_create_audits_the_whole_rule_and_update_only_what_changed(survey, staff_user):
    rule = rule_create(organisation=survey.organisation, actor=staff_user, fields=rule_fields())
    rule_update(rule=rule, actor=staff_user, fields=rule_fields(name="Detractors"))
    created, updated = AuditEntry.objects.order_by("pk")
    assert created.action == "followup_rule.create" and created.actor == staff_user
    assert "conditions" in created.changes
    assert updated.action == "followup_rule.update"
    assert updated.changes == {"name": ["Low NPS", "Detractors"]}


def test_two_rules_of_one_name_are_refused(survey):
    rule_create(organisation=survey.organisation, actor=None, fields=rule_fields())
    with pytest.raises(ValidationError) as refused:
        rule_create(organisation=survey.organisation, actor=None, fields=rule_fields())
    assert refused.value.error_dict["name"][0].code == "duplicate"


def test_saving_an_unchanged_rule_leaves_no_audit_entry(survey, staff_user):
    rule = rule_create(organisation=survey.organisation, actor=staff_user, fields=rule_fields())
    rule_update(rule=rule, actor=staff_user, fields=rule_fields())
    assert AuditEntry.objects.count() == 1


def test_rule_delete_and_move_are_audited(survey, staff_user):
    a = rule_create(organisation=survey.organisation, actor=staff_user, fields=rule_fields())
    b = rule_create(
        organisation=survey.organisation, actor=staff_user, fields=rule_fields(name="B")
    )
    assert rule_move(rule=b, actor=staff_user, up=True)
    assert not rule_move(rule=b, actor=staff_user, up=True)
    assert list(FollowUpRule.objects.values_list("pk", flat=True)) == [b.pk, a.pk]
    rule_delete(rule=a, actor=staff_user)
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["followup_rule.reorder", "followup_rule.delete"]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "invalid_length"),
        ({"name": "x" * 201}, "name", "invalid_length"),
        ({"conditions": []}, "conditions", "required"),
        (
            {"conditions": [{"kind": "score", "score": "nps", "min": 8, "max": 3}]},
            "conditions",
            "impossible_range",
        ),
        (
            {"conditions": [{"kind": "score", "score": "star", "min": None, "max": 9}]},
            "conditions",
            "impossible_range",
        ),
        (
            {"conditions": [{"kind": "sentiment", "below": 4}]},
            "conditions",
            "impossible_range",
        ),
        ({"conditions": [{"kind": "keywords", "words": []}]}, "conditions", "invalid"),
        ({"conditions": [{"kind": "teleport"}]}, "conditions", "invalid"),
        ({"conditions": "nps<6"}, "conditions", "required"),
        ({"match": "most"}, "match", "invalid"),
        ({"scope": {"channels": ["pigeon"]}}, "channels", "unknown"),
        ({"scope": {"surveys": ["1"]}}, "surveys", "invalid"),
        (
            {"actions": {"case": None, "email": None, "alert": "", "webhook": False}},
            "actions",
            "required",
        ),
        (
            {"actions": {"case": {"assign": "round_robin"}, "alert": ""}},
            "team",
            "required",
        ),
        (
            {"actions": {"email": {"delay_minutes": -5}, "alert": ""}},
            "delay_minutes",
            "invalid",
        ),
    ],
)
def test_a_broken_rule_is_refused_with_a_field_and_a_code(survey, overrides, field, code):
    with pytest.raises(ValidationError) as refused:
        rule_create(organisation=survey.organisation, actor=None, fields=rule_fields(**overrides))
    assert refused.value.error_dict[field][0].code == code
    assert not FollowUpRule.objects.exists()


def test_another_organisations_question_choice_or_segment_is_unknown(survey, other_organisation):
    from tests.factories.surveys import survey_with_every_question_type

    theirs = survey_with_every_question_type(organisation=other_organisation)
    nps = question_of(theirs, QuestionType.NPS)
    choice = question_of(theirs, QuestionType.SINGLE_CHOICE).choices.first()
    segment = SegmentFactory(community__organisation=other_organisation)
    for condition, code in (
        ({"kind": "score", "score": "nps", "question": nps.pk, "max": 6}, "unknown_question"),
        ({"kind": "choice", "choice": choice.pk}, "unknown_choice"),
        ({"kind": "segment", "segment": segment.pk}, "unknown"),
    ):
        with pytest.raises(ValidationError) as refused:
            rule_create(
                organisation=survey.organisation,
                actor=None,
                fields=rule_fields(conditions=[condition]),
            )
        assert refused.value.error_dict["conditions"][0].code == code
    with pytest.raises(ValidationError):
        rule_create(
            organisation=survey.organisation,
            actor=None,
            fields=rule_fields(scope={"surveys": [theirs.pk]}),
        )


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("Hello {{ nmae }}", "template_variable"),
        ("Hello {{ name.__class__ }}", "template_syntax"),
        ("Hello {{ name.upper }}", "template_variable"),
        ("Hello {{ name", "template_syntax"),
        ("{% load static %}", "template_syntax"),
        ("{% include 'emails/followup_body.txt' %}", "template_tag"),
        ("{% debug %}", "template_tag"),
        ("{{ name|safe }}", "template_filter"),
    ],
)
def test_a_template_with_a_broken_variable_or_a_tag_is_refused(source, code):
    with pytest.raises(ValidationError) as refused:
        template_check(source, field="body_en")
    assert refused.value.error_dict["body_en"][0].code == code


def test_a_template_with_whitelisted_variables_is_accepted():
    template_check("Dear {{ name|default:'customer' }} of {{ location_name }}", field="body_en")


# --- testing a rule ---------------------------------------------------------------------


def test_rule_test_shows_matches_and_actions_without_writing(survey, member):
    organisation = survey.organisation
    first, second = worker(organisation, name="Ann"), worker(organisation, name="Bo")
    team = TeamFactory(organisation=organisation, name="Siam team")
    team.members.add(first, second)
    other = MemberFactory(community=member.community, email="other@example.com")
    low = [submit(survey, member=m, nps=9, stars=1) for m in (member, other)]
    submit(survey, nps=9, stars=5)
    cases, emails, audit = Case.objects.count(), OutboundEmail.objects.count(), 0
    compiled = rule_compile(
        organisation=organisation,
        fields=rule_fields(
            conditions=[{"kind": "score", "score": "star", "question": None, "max": 2}],
            actions={
                "case": {"team": team.pk, "assign": "round_robin", "priority": "high"},
                "email": {"delay_minutes": 0},
                "alert": "",
                "webhook": False,
            },
        ),
    )
    result = rule_test(organisation=organisation, rule=compiled)
    assert result.checked == 3
    assert [row.response.pk for row in result.rows] == [r.pk for r in reversed(low)]
    assert [row.assignee for row in result.rows] == ["Ann", "Bo"]
    assert all(row.team == "Siam team" and row.email_language == "en" for row in result.rows)
    assert (Case.objects.count(), OutboundEmail.objects.count()) == (cases, emails)
    assert AuditEntry.objects.count() == audit


def test_an_email_delay_holds_the_email_in_the_outbox_until_then(survey, member):
    from datetime import timedelta

    from django.utils import timezone

    FollowUpRuleFactory(
        organisation=survey.organisation,
        actions={"case": {}, "email": {"delay_minutes": 90}, "alert": "", "webhook": False},
    )
    before = timezone.now()
    response = submit(survey, member=member, nps=1)
    email = OutboundEmail.objects.get(idempotency_key=f"followup:response:{response.pk}")
    assert email.send_after >= before + timedelta(minutes=90)


def test_the_webhook_action_calls_the_registered_hooks_with_the_rules(survey, monkeypatch):
    from feedback.services import followup

    calls = []
    monkeypatch.setattr(followup, "RULE_WEBHOOK_HOOKS", [lambda **kw: calls.append(kw)])
    rule = FollowUpRuleFactory(
        organisation=survey.organisation,
        actions={"case": None, "email": None, "alert": "", "webhook": True},
    )
    response = submit(survey, nps=1)
    [call] = calls
    assert call["response"] == response and [r.pk for r in call["rules"]] == [rule.pk]
