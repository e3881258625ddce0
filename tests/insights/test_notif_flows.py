"""Staff notifications, run in-process: what each beat function emails, to whom, in which
language, once — and that no comment or figure of a group under k appears."""

import datetime as dt

import pytest

from communities.choices import Role
from communities.outbox.models import OutboundEmail
from feedback.choices import CaseEventKind
from insights.notify.alerts import threshold_alerts_check
from insights.notify.cases import case_notifications_send
from insights.notify.digests import digests_send, reports_send
from tests.factories.communities import (
    EmailSuppressionFactory,
    LocationFactory,
    OrganisationFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.feedback import CaseEventFactory, CaseFactory
from tests.factories.insights_notifications import (
    NotificationPreferenceFactory,
    ReportScheduleFactory,
    ThresholdAlertFactory,
    answered,
)
from tests.factories.surveys import SurveyFactory

pytestmark = pytest.mark.django_db

# A Monday morning, UTC; "yesterday" is Sunday 6 December.
MONDAY = dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.UTC)
SUNDAY_NOON = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def staff(organisation, role, *, locale="", email=None):
    user = UserFactory(locale=locale, **({"email": email} if email else {}))
    StaffRoleFactory(user=user, organisation=organisation, role=role)
    return user


def emails_to(user, template):
    return list(OutboundEmail.objects.filter(to_email=user.email, template=template))


@pytest.fixture
def shop():
    """Demo Coffee, k = 5: Siam with 6 unhappy answers, Asok with only 3."""
    organisation = OrganisationFactory(min_group_size=5, time_zone="UTC")
    survey = SurveyFactory(organisation=organisation)
    siam = LocationFactory(organisation=organisation, name="Siam")
    asok = LocationFactory(organisation=organisation, name="Asok")
    answered(
        survey=survey,
        location=siam,
        count=6,
        nps=1,
        text="The queue at Siam was awful",
        at=SUNDAY_NOON,
    )
    answered(
        survey=survey, location=asok, count=3, nps=0, text="Rude staff at Asok", at=SUNDAY_NOON
    )
    return organisation, siam, asok


# --- cases ---------------------------------------------------------------------------------


def test_an_agent_is_emailed_once_when_someone_else_assigns_them_a_case():
    # given: an admin assigns a case to an agent
    organisation = OrganisationFactory()
    agent = staff(organisation, Role.AGENT)
    admin = staff(organisation, Role.ADMIN)
    case = CaseFactory(response__survey__organisation=organisation, assignee=agent)
    CaseEventFactory(
        case=case, kind=CaseEventKind.ASSIGNED, actor=admin, data={"assignee": agent.pk}
    )
    # when: the beat runs twice
    case_notifications_send()
    case_notifications_send()
    # then: one email, with a link to the case and to the preferences page
    [email] = emails_to(agent, "insights_case_assigned")
    assert f"#{case.pk}" in email.subject
    assert f"/staff/{organisation.slug}/cases/{case.pk}/" in email.body_text
    assert f"/staff/{organisation.slug}/notifications/" in email.body_text
    assert email.headers["List-Unsubscribe"].endswith(f"/staff/{organisation.slug}/notifications/>")


def test_taking_a_case_oneself_or_opting_out_sends_nothing():
    organisation = OrganisationFactory()
    agent = staff(organisation, Role.AGENT)
    other = staff(organisation, Role.AGENT)
    NotificationPreferenceFactory(organisation=organisation, user=other, case_assigned=False)
    mine = CaseFactory(response__survey__organisation=organisation, assignee=agent)
    CaseEventFactory(
        case=mine, kind=CaseEventKind.ASSIGNED, actor=agent, data={"assignee": agent.pk}
    )
    theirs = CaseFactory(response__survey__organisation=organisation, assignee=other)
    CaseEventFactory(
        case=theirs, kind=CaseEventKind.ASSIGNED, actor=agent, data={"assignee": other.pk}
    )
    assert case_notifications_send() == 0
    assert not OutboundEmail.objects.exists()


def test_a_case_opened_already_assigned_is_emailed_in_the_assignees_language():
    organisation = OrganisationFactory()
    agent = staff(organisation, Role.AGENT, locale="th")
    CaseFactory(response__survey__organisation=organisation, assignee=agent)
    case_notifications_send()
    [email] = emails_to(agent, "insights_case_assigned")
    assert email.language == "th"
    assert "เปิดเคส" in email.body_html  # "Open the case"
    assert 'lang="th"' in email.body_html


def test_a_former_staff_member_gets_nothing_about_the_organisation():
    organisation = OrganisationFactory()
    gone = UserFactory()
    CaseFactory(response__survey__organisation=organisation, assignee=gone)
    assert case_notifications_send() == 0


def test_an_overdue_case_is_emailed_once_per_due_time_and_not_once_resolved():
    organisation = OrganisationFactory()
    agent = staff(organisation, Role.AGENT)
    now = dt.datetime.now(dt.UTC)
    late = CaseFactory(
        response__survey__organisation=organisation,
        assignee=agent,
        due_at=now - dt.timedelta(minutes=5),
    )
    CaseFactory(
        response__survey__organisation=organisation,
        assignee=agent,
        due_at=now - dt.timedelta(minutes=5),
        status="resolved",
        resolved_at=now,
    )
    CaseFactory(
        response__survey__organisation=organisation,
        assignee=agent,
        due_at=now + dt.timedelta(hours=1),
    )
    case_notifications_send(now=now)
    case_notifications_send(now=now + dt.timedelta(minutes=1))
    [email] = emails_to(agent, "insights_case_overdue")
    assert email.context == {"case_id": late.pk}


# --- threshold alerts ----------------------------------------------------------------------


def test_more_than_n_detractors_in_the_window_alerts_once_per_window(shop):
    organisation, siam, _asok = shop
    manager = staff(organisation, Role.ADMIN, locale="he")
    agent = staff(organisation, Role.AGENT)
    ThresholdAlertFactory(location=siam, threshold=3, recipients=[manager, agent])
    now = SUNDAY_NOON + dt.timedelta(minutes=20)
    # when: checked each minute for a while
    for minute in range(10):
        threshold_alerts_check(now=now + dt.timedelta(minutes=minute))
    # then: each recipient got one alert, in their language, with the count (6 ≥ k)
    [alert] = emails_to(manager, "insights_threshold_alert")
    assert alert.language == "he" and 'dir="rtl"' in alert.body_html
    assert "Siam" in alert.subject
    [english] = emails_to(agent, "insights_threshold_alert")
    assert "6 negative answers at Siam in the last 60 minutes" in english.body_text


def test_a_store_at_or_under_its_threshold_or_outside_the_window_is_quiet(shop):
    organisation, siam, asok = shop
    manager = staff(organisation, Role.ADMIN)
    ThresholdAlertFactory(location=asok, threshold=3, recipients=[manager])  # 3 is not > 3
    ThresholdAlertFactory(location=siam, threshold=3, recipients=[manager], active=False)
    assert threshold_alerts_check(now=SUNDAY_NOON + dt.timedelta(minutes=5)) == 0
    ThresholdAlertFactory(
        location=LocationFactory(organisation=organisation), threshold=1, recipients=[manager]
    )
    assert threshold_alerts_check(now=SUNDAY_NOON + dt.timedelta(hours=2)) == 0


def test_an_alert_under_k_says_more_than_n_without_the_count(shop):
    organisation, _siam, asok = shop
    manager = staff(organisation, Role.ADMIN)
    ThresholdAlertFactory(location=asok, threshold=2, recipients=[manager])
    threshold_alerts_check(now=SUNDAY_NOON + dt.timedelta(minutes=5))
    [alert] = emails_to(manager, "insights_threshold_alert")
    assert "More than 2 negative answers at Asok" in alert.body_text
    assert "3 negative" not in alert.body_text


def test_anonymous_answers_count_from_the_top_of_their_hour():
    # given: kiosk answers (anonymous: their time is kept to the hour) at 10:00 for 10:40
    organisation = OrganisationFactory()
    store = LocationFactory(organisation=organisation)
    survey = SurveyFactory(organisation=organisation)
    hour = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)
    answered(survey=survey, location=store, count=4, nps=2, text="", at=hour, anonymous=True)
    manager = staff(organisation, Role.OWNER)
    ThresholdAlertFactory(location=store, threshold=3, window_minutes=30, recipients=[manager])
    # when: checked at 10:50, whose 30-minute window starts at 10:20
    assert threshold_alerts_check(now=hour + dt.timedelta(minutes=50)) == 1


def test_a_suppressed_staff_address_is_not_written(shop):
    organisation, siam, _asok = shop
    manager = staff(organisation, Role.ADMIN)
    EmailSuppressionFactory(organisation=organisation, email=manager.email)
    ThresholdAlertFactory(location=siam, threshold=3, recipients=[manager])
    assert threshold_alerts_check(now=SUNDAY_NOON + dt.timedelta(minutes=1)) == 0


# --- digests and the weekly report ---------------------------------------------------------


def test_a_daily_digest_shows_figures_and_comments_only_from_groups_of_k(shop):
    organisation, _siam, _asok = shop
    analyst = staff(organisation, Role.ANALYST, locale="th")
    NotificationPreferenceFactory(organisation=organisation, user=analyst, digest="daily")
    digests_send(now=MONDAY)
    digests_send(now=MONDAY + dt.timedelta(minutes=15))
    [email] = emails_to(analyst, "insights_digest")
    assert email.language == "th" and "การตอบกลับ" in email.body_text  # "Responses"
    assert "The queue at Siam was awful" in email.body_text
    assert "Rude staff at Asok" not in email.body_text + email.body_html
    assert "Asok" not in email.body_text + email.body_html
    assert "new case" not in email.body_text  # an analyst does not work cases


def test_an_agents_digest_lists_new_cases_but_no_results(shop):
    organisation, siam, _asok = shop
    agent = staff(organisation, Role.AGENT)
    NotificationPreferenceFactory(organisation=organisation, user=agent, digest="daily")
    case = CaseFactory(response__survey__organisation=organisation)
    case.created_at = SUNDAY_NOON
    case.save()
    digests_send(now=MONDAY)
    [email] = emails_to(agent, "insights_digest")
    assert "1 new case" in email.body_text and f"#{case.pk}" in email.body_text
    assert "Siam" not in email.body_text


def test_digests_wait_for_the_morning_and_weekly_ones_for_monday(shop):
    organisation, _siam, _asok = shop
    daily = staff(organisation, Role.OWNER)
    weekly = staff(organisation, Role.OWNER)
    NotificationPreferenceFactory(organisation=organisation, user=daily, digest="daily")
    NotificationPreferenceFactory(organisation=organisation, user=weekly, digest="weekly")
    assert digests_send(now=MONDAY.replace(hour=5)) == 0
    tuesday = MONDAY + dt.timedelta(days=1)
    digests_send(now=tuesday)
    assert emails_to(daily, "insights_digest") and not emails_to(weekly, "insights_digest")
    digests_send(now=MONDAY)
    [week] = emails_to(weekly, "insights_digest")
    assert "Weekly digest" in week.subject


def test_the_weekly_report_reaches_chosen_readers_in_their_language_once(shop):
    organisation, _siam, _asok = shop
    hebrew = staff(organisation, Role.ANALYST, locale="he")
    japanese = staff(organisation, Role.OWNER, locale="ja")
    opted_out = staff(organisation, Role.ADMIN)
    NotificationPreferenceFactory(organisation=organisation, user=opted_out, scheduled_report=False)
    agent = staff(organisation, Role.AGENT)  # added before losing the right to read results
    ReportScheduleFactory(
        organisation=organisation,
        weekday=0,
        hour=8,
        recipients=[hebrew, japanese, opted_out, agent],
    )
    assert reports_send(now=MONDAY.replace(hour=7)) == 0
    reports_send(now=MONDAY)
    reports_send(now=MONDAY + dt.timedelta(hours=1))
    [he] = emails_to(hebrew, "insights_report")
    [ja] = emails_to(japanese, "insights_report")
    assert not emails_to(opted_out, "insights_report") and not emails_to(agent, "insights_report")
    assert 'dir="rtl"' in he.body_html and "תשובות" in he.body_html  # "Responses"
    assert "回答数" in ja.body_html
    for email in (he, ja):
        assert "The queue at Siam was awful" in email.body_html
        assert "Asok" not in email.body_html + email.body_text
        assert "2026-11-30" in email.body_html  # the week's row of the trend table


def test_a_report_over_fewer_than_k_responses_shows_no_figures():
    organisation = OrganisationFactory(min_group_size=10, time_zone="UTC")
    survey = SurveyFactory(organisation=organisation)
    store = LocationFactory(organisation=organisation, name="Siam")
    answered(survey=survey, location=store, count=6, nps=1, text="Cold coffee", at=SUNDAY_NOON)
    reader = staff(organisation, Role.ANALYST)
    ReportScheduleFactory(organisation=organisation, weekday=0, hour=8, recipients=[reader])
    reports_send(now=MONDAY)
    [email] = emails_to(reader, "insights_report")
    assert "Too few answers in this period to show any figures." in email.body_text
    assert "Cold coffee" not in email.body_text


def test_an_organisation_with_a_broken_time_zone_does_not_stop_the_others(shop):
    organisation, _siam, _asok = shop
    broken = OrganisationFactory(time_zone="Not/AZone")
    for org in (broken, organisation):
        reader = staff(org, Role.OWNER)
        NotificationPreferenceFactory(organisation=org, user=reader, digest="daily")
    assert digests_send(now=MONDAY) == 2
