"""The database refuses bad states, whatever code path tries to write them."""

import uuid

import pytest
from django.db import IntegrityError, transaction

from communities.choices import MemberStatus
from surveys.choices import QuestionType
from surveys.models import Answer, Response
from tests.factories.communities import (
    CommunityFactory,
    MemberFactory,
    OrganisationFactory,
    OutboundEmailFactory,
)
from tests.factories.feedback import CaseFactory
from tests.factories.rewards import LedgerEntryFactory
from tests.factories.surveys import (
    AnswerFactory,
    ParticipationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
    SurveyInvitationFactory,
)

pytestmark = pytest.mark.django_db


def refused(factory, **kwargs) -> bool:
    try:
        with transaction.atomic():
            factory(**kwargs)
    except IntegrityError:
        return True
    return False


def test_response_idempotency_key_is_unique_per_survey():
    response = ResponseFactory()
    assert refused(
        ResponseFactory, survey=response.survey, idempotency_key=response.idempotency_key
    )
    assert not refused(ResponseFactory, idempotency_key=response.idempotency_key)


def test_ledger_idempotency_key_is_unique():
    entry = LedgerEntryFactory()
    assert refused(LedgerEntryFactory, idempotency_key=entry.idempotency_key)


def test_ledger_entry_of_zero_points_is_refused():
    assert refused(LedgerEntryFactory, points=0)


def test_one_response_per_invitation():
    invitation = SurveyInvitationFactory()
    ResponseFactory(survey=invitation.survey, invitation=invitation)
    assert refused(ResponseFactory, survey=invitation.survey, invitation=invitation)


def test_one_participation_per_member_and_survey():
    participation = ParticipationFactory()
    assert refused(ParticipationFactory, survey=participation.survey, member=participation.member)


@pytest.mark.parametrize(
    ("qtype", "number"),
    [
        (QuestionType.NPS, 11),
        (QuestionType.NPS, -1),
        (QuestionType.STAR, 0),
        (QuestionType.STAR, 6),
    ],
)
def test_scores_out_of_range_are_refused(qtype, number):
    question = QuestionFactory(type=qtype)
    response = ResponseFactory(survey=question.survey)
    assert refused(AnswerFactory, response=response, question=question, number=number)


def test_scores_at_the_edges_are_kept():
    for qtype, low, high in ((QuestionType.NPS, 0, 10), (QuestionType.STAR, 1, 5)):
        question = QuestionFactory(type=qtype)
        for number in (low, high):
            AnswerFactory(
                response=ResponseFactory(survey=question.survey), question=question, number=number
            )
    assert Answer.objects.count() == 4


def test_one_answer_per_question_per_response():
    answer = AnswerFactory()
    assert refused(AnswerFactory, response=answer.response, question=answer.question)


def test_sentiment_outside_minus_one_to_one_is_refused():
    assert refused(
        AnswerFactory, question__type=QuestionType.TEXT, number=None, text="hi", sentiment=1.5
    )


def test_text_over_5000_characters_is_refused():
    assert refused(AnswerFactory, question__type=QuestionType.TEXT, number=None, text="x" * 5001)


def test_anonymous_response_cannot_carry_a_member_or_consent():
    member = MemberFactory()
    survey = SurveyFactory(organisation=member.organisation)
    assert refused(ResponseFactory, survey=survey, is_anonymous=True, member=member)
    assert refused(ResponseFactory, survey=survey, is_anonymous=True, consent_to_contact=True)


def test_member_email_is_unique_per_community_ignoring_case():
    member = MemberFactory(email="ana@example.com")
    assert refused(MemberFactory, community=member.community, email="ANA@example.com")
    assert not refused(MemberFactory, community=CommunityFactory(), email="ana@example.com")


def test_erased_member_cannot_keep_personal_data():
    erased = dict(status=MemberStatus.ERASED, email="", name="", phone="", referral_code="")
    assert refused(MemberFactory, status=MemberStatus.ERASED)
    assert refused(MemberFactory, **{**erased, "attributes": {"city": "Bangkok"}})
    assert not refused(MemberFactory, **erased)


def test_one_case_per_response():
    case = CaseFactory()
    assert refused(CaseFactory, response=case.response)


def test_outbox_idempotency_key_is_unique():
    email = OutboundEmailFactory()
    assert refused(OutboundEmailFactory, idempotency_key=email.idempotency_key)


def test_survey_cannot_close_before_it_opens():
    from django.utils import timezone

    now = timezone.now()
    assert refused(SurveyFactory, opens_at=now, closes_at=now)


def test_brand_colour_must_be_hex():
    assert refused(OrganisationFactory, brand_colour="red")


def test_ledger_and_consent_are_append_only():
    entry = LedgerEntryFactory()
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_responses_are_indexed_by_survey_and_submitted_time():
    names = {index.name: index.fields for index in Response._meta.indexes}
    assert names["response_survey_submitted"] == ["survey", "submitted_at"]


def test_every_model_has_a_factory():
    import importlib
    import pkgutil

    from django.apps import apps

    import tests.factories as package

    modules = [
        importlib.import_module(f"tests.factories.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]
    covered = {
        obj._meta.model
        for module in modules
        for obj in vars(module).values()
        if isinstance(obj, type) and hasattr(obj, "_meta") and getattr(obj._meta, "model", None)
    }
    ours = {
        m
        for app in ("communities", "surveys", "rewards", "feedback", "insights")
        for m in apps.get_app_config(app).get_models()
    }
    assert ours - covered == set()


def test_factories_keep_tenants_consistent():
    answer = AnswerFactory()
    org = answer.response.survey.organisation
    assert answer.organisation == answer.response.organisation == org
    assert answer.question.survey.organisation == org
    assert uuid.UUID(str(ParticipationFactory().pk))
