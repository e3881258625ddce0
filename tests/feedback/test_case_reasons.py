"""Why a case was opened is stored as data and read in the reader's language: on the case
list and page, on the member page and in the staff alert email."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation

from communities.choices import Role
from communities.outbox.models import OutboundEmail
from feedback.choices import Condition
from feedback.models import Case
from feedback.reasons import reason_make, reasons_parse, reasons_render
from feedback.services import followup_apply
from surveys.choices import QuestionType
from surveys.services import response_submit
from tests.factories.communities import MemberFactory, StaffRoleFactory, UserFactory
from tests.factories.feedback import CaseFactory, FollowUpRuleFactory
from tests.factories.surveys import ResponseFactory
from tests.surveys.helpers import answers_for, question_of

pytestmark = pytest.mark.django_db

LRI, PDI = "\u2066", "\u2069"


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request leaves its language active in the thread; later tests expect English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def submit(survey, member=None, **answers):
    data = answers_for(survey, **answers)
    key = data.pop("idempotency_key")
    return response_submit(
        survey=survey, raw_answers=data, idempotency_key=key, member=member
    ).response


def rendered(case: Case, language: str) -> str:
    with translation.override(language):
        return case.reason


# --- stored as data ----------------------------------------------------------------------------


def test_a_detractors_case_stores_each_matched_rule_as_data(survey):
    # when a detractor gives NPS 0 and one star
    submit(survey, nps=0, stars=1)
    # then the case holds what matched, question by question, and no English sentence
    case = Case.objects.get()
    assert case.reasons == [
        {
            "code": "nps",
            "question": question_of(survey, QuestionType.NPS).pk,
            "value": 0,
            "threshold": 6,
        },
        {
            "code": "stars",
            "question": question_of(survey, QuestionType.STAR).pk,
            "value": 1,
            "threshold": 2,
        },
    ]
    assert case.reason_text == ""


def test_a_negative_comment_stores_its_polarity_and_the_threshold(
    survey, member, django_capture_on_commit_callbacks
):
    # when a member writes a negative comment and the sentiment rule runs after commit
    with django_capture_on_commit_callbacks(execute=True):
        submit(survey, member=member, nps=9, stars=5, text="Horrible, rude and terrible service.")
    # then
    (reason,) = Case.objects.get().reasons
    assert reason["code"] == "sentiment"
    assert reason["question"] == question_of(survey, QuestionType.TEXT).pk
    assert reason["value"] < -0.3 and reason["threshold"] == -0.3


def test_a_choice_rule_is_one_reason_however_many_answers_the_response_has(survey):
    # given a rule on one choice of the single-choice question
    choice = question_of(survey, QuestionType.SINGLE_CHOICE).choices.first()
    FollowUpRuleFactory(
        organisation=survey.organisation,
        condition=Condition.CHOICE_SELECTED,
        threshold=None,
        choice=choice,
    )
    # when a response picks it (among five answers)
    submit(survey, nps=9, stars=5)
    # then the case names the rule once
    assert Case.objects.get().reasons == [
        {"code": "choice", "question": None, "value": choice.pk, "threshold": None}
    ]


def test_a_whole_number_threshold_is_stored_and_shown_without_a_decimal(survey):
    # given an organisation rule whose threshold the form saved as 4.0
    FollowUpRuleFactory(
        organisation=survey.organisation, condition=Condition.NPS_AT_MOST, threshold=4.0
    )
    # when
    submit(survey, nps=3)
    # then
    case = Case.objects.get()
    assert case.reasons[0]["threshold"] == 4 and isinstance(case.reasons[0]["threshold"], int)
    assert rendered(case, "en") == "NPS 3 ≤ 4"


# --- read in the reader's language -------------------------------------------------------------


def test_reasons_read_in_each_language():
    case = CaseFactory(
        reasons=[
            reason_make(code="nps", question=1, value=0, threshold=6),
            reason_make(code="stars", question=2, value=1, threshold=2),
        ]
    )
    assert rendered(case, "en") == "NPS 0 ≤ 6; Stars 1 ≤ 2"
    assert rendered(case, "th") == "NPS 0 (เกณฑ์ไม่เกิน 6); 1 ดาว (เกณฑ์ไม่เกิน 2)"
    assert rendered(case, "ja") == "NPS 0（基準 6 以下）; 星 1（基準 2 以下）"
    hebrew = rendered(case, "he")
    assert "ציון NPS" in hebrew and "כוכבים" in hebrew
    assert f"{LRI}0{PDI}" in hebrew and f"{LRI}6{PDI}" in hebrew


def test_a_sentiment_reason_keeps_its_sign_left_to_right_in_hebrew():
    case = CaseFactory(
        reasons=[reason_make(code="sentiment", question=3, value=-0.8, threshold=-0.3)]
    )
    assert rendered(case, "en") == "Sentiment -0.80 below -0.30"
    hebrew = rendered(case, "he")
    # the minus stays in front of its digits inside right-to-left text
    assert f"{LRI}-0.80{PDI}" in hebrew and f"{LRI}-0.30{PDI}" in hebrew
    assert "סנטימנט" in hebrew
    assert rendered(case, "th") == "ความรู้สึก -0.80 ต่ำกว่าเกณฑ์ -0.30"


def test_a_positive_sentiment_threshold_shows_its_plus_sign():
    reasons = [reason_make(code="sentiment", value=0.05, threshold=0.1)]
    with translation.override("en"):
        assert reasons_render(reasons) == "Sentiment +0.05 below +0.10"


def test_a_reason_code_this_release_does_not_know_still_reads_as_a_sentence():
    case = CaseFactory(reasons=[{"code": "future_rule", "value": 1}])
    assert rendered(case, "en") == "A follow-up rule matched"
    assert rendered(case, "he") == "התשובה תאמה כלל מעקב"


@pytest.mark.parametrize("broken", [[{"code": "nps"}], [{"code": "nps", "value": "x"}], ["NPS 3"]])
def test_malformed_reason_data_renders_without_an_error(broken):
    case = CaseFactory(reasons=broken)
    with translation.override("en"):
        assert isinstance(case.reason, str)


def test_the_case_list_shows_reasons_in_hebrew(staff_client, organisation, survey):
    # given a case opened by a detractor
    submit(survey, nps=2)
    # when staff read the case list in Hebrew
    page = staff_client.get(reverse("staff:case_list", args=[organisation.slug]) + "?lang=he")
    # then the reason is in Hebrew, not the English sentence
    html = page.content.decode()
    assert "ציון NPS" in html
    assert "NPS 2 ≤ 6" not in html


def test_the_case_page_shows_reasons_in_thai(staff_client, organisation, survey):
    submit(survey, nps=9, stars=1)
    case = Case.objects.get()
    page = staff_client.get(
        reverse("staff:case_detail", args=[organisation.slug, case.pk]) + "?lang=th"
    )
    assert "1 ดาว (เกณฑ์ไม่เกิน 2)" in page.content.decode()


def test_the_member_page_shows_reasons_in_japanese(staff_client, organisation, community, survey):
    member = MemberFactory(community=community)
    CaseFactory(
        response=ResponseFactory(survey=survey, member=member),
        reasons=[reason_make(code="nps", value=3, threshold=6)],
    )
    page = staff_client.get(
        reverse("staff:member_detail", args=[organisation.slug, member.pk]) + "?lang=ja"
    )
    assert "NPS 3（基準 6 以下）" in page.content.decode()


def test_the_staff_alert_email_reads_the_reason_in_each_recipients_language(survey):
    # given an agent who reads Hebrew and one who reads Japanese
    hebrew = StaffRoleFactory(
        organisation=survey.organisation, role=Role.AGENT, user=UserFactory(locale="he")
    ).user
    japanese = StaffRoleFactory(
        organisation=survey.organisation, role=Role.AGENT, user=UserFactory(locale="ja")
    ).user
    FollowUpRuleFactory(
        organisation=survey.organisation,
        condition=Condition.STARS_AT_MOST,
        threshold=2,
        alert_staff=True,
        email_respondent=False,
    )
    # when a low star is given
    followup_apply(response=submit(survey, nps=9, stars=1))
    # then each alert says why in its reader's language, in the text and the HTML part
    to_hebrew = OutboundEmail.objects.get(template="case_alert", to_email=hebrew.email)
    to_japanese = OutboundEmail.objects.get(template="case_alert", to_email=japanese.email)
    assert "כוכבים" in to_hebrew.body_text and "כוכבים" in to_hebrew.body_html
    assert "星 1（基準 2 以下）" in to_japanese.body_text
    assert "Stars" not in to_hebrew.body_text + to_japanese.body_text


# --- text from before reasons were data --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("NPS 0 ≤ 6", [{"code": "nps", "question": None, "value": 0, "threshold": 6}]),
        (
            "NPS 0 ≤ 6; stars 1 ≤ 2",
            [
                {"code": "nps", "question": None, "value": 0, "threshold": 6},
                {"code": "stars", "question": None, "value": 1, "threshold": 2},
            ],
        ),
        ("CSAT 2 ≤ 2.5", [{"code": "csat", "question": None, "value": 2, "threshold": 2.5}]),
        (
            "sentiment -0.80 below -0.30",
            [{"code": "sentiment", "question": None, "value": -0.8, "threshold": -0.3}],
        ),
        (
            "choice selected",
            [{"code": "choice", "question": None, "value": None, "threshold": None}],
        ),
    ],
)
def test_the_old_english_reasons_read_back_into_data(text, reasons):
    assert reasons_parse(text) == reasons


@pytest.mark.parametrize(
    "text", ["", "Escalated by phone", "NPS 0 ≤ 6; called the store", "NPS ≤ 6", "; ", "x" * 500]
)
def test_text_that_is_not_an_old_reason_is_not_guessed_at(text):
    assert reasons_parse(text) is None


def test_a_case_given_an_old_english_reason_reads_in_hebrew():
    # code (and tests) that still write the old English words get data
    case = CaseFactory(reason="NPS 2 ≤ 6")
    assert case.reasons == [{"code": "nps", "question": None, "value": 2, "threshold": 6}]
    assert "ציון NPS" in rendered(case, "he")


def test_a_case_given_other_text_keeps_it_as_written():
    case = CaseFactory(reason="Escalated by phone")
    case.refresh_from_db()
    assert case.reasons == [] and case.reason_text == "Escalated by phone"
    assert rendered(case, "he") == "Escalated by phone"


def _migration():
    return importlib.import_module("feedback.migrations.0003_case_reasons_as_data")


def test_the_data_migration_turns_old_english_reasons_into_data_and_keeps_the_rest():
    # given cases stored before reasons were data
    readable = CaseFactory()
    Case.objects.filter(pk=readable.pk).update(
        reasons=[], reason_text="NPS 0 ≤ 6; sentiment -0.80 below -0.30"
    )
    other = CaseFactory()
    Case.objects.filter(pk=other.pk).update(reasons=[], reason_text="Escalated by phone")
    # when the migration's data step runs
    _migration().forward(django_apps, None)
    # then the readable one is data, and the other keeps its words
    readable.refresh_from_db()
    other.refresh_from_db()
    assert readable.reason_text == ""
    assert readable.reasons == [
        {"code": "nps", "question": None, "value": 0, "threshold": 6},
        {"code": "sentiment", "question": None, "value": -0.8, "threshold": -0.3},
    ]
    assert other.reasons == [] and other.reason_text == "Escalated by phone"


def test_the_data_migration_backwards_writes_the_english_text_again():
    case = CaseFactory(reasons=[reason_make(code="nps", value=0, threshold=6)])
    _migration().backward(django_apps, None)
    case.refresh_from_db()
    assert case.reason_text == "NPS 0 ≤ 6"


@pytest.mark.django_db(transaction=True)
def test_the_migration_runs_forwards_and_backwards_on_a_real_schema():
    # given a case stored with the old column
    case = CaseFactory()
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("feedback", "0002_delete_outboundemail")])
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE feedback_case SET reason = %s WHERE id = %s", ["NPS 1 ≤ 6", case.pk]
            )
        # when the migration runs
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("feedback", "0003_case_reasons_as_data")])
    finally:
        call_command("migrate", verbosity=0)
    # then
    case.refresh_from_db()
    assert case.reasons == [{"code": "nps", "question": None, "value": 1, "threshold": 6}]
    assert case.reason_text == ""
