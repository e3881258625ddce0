"""Staff notifications through a real Celery worker and a real SMTP server: the digest,
a store's threshold alert and the weekly report arrive once, in each recipient's
language, with nothing from a group under k.

Like the other worker tests these run on the PostgreSQL + Redis leg: the worker is a
separate `celery worker` process reading the committed test data and the clock of now.
"""

import datetime as dt
from email.header import decode_header, make_header
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from communities.choices import Role
from insights.tasks import digests_task, reports_task, threshold_alerts_task
from tests.factories.communities import (
    LocationFactory,
    OrganisationFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.factories.insights_notifications import (
    NotificationPreferenceFactory,
    ReportScheduleFactory,
    ThresholdAlertFactory,
    answered,
)
from tests.factories.surveys import SurveyFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def zone_at_hour(hour: int) -> str:
    """A time zone where it is now `hour` o'clock (the worker reads the real clock)."""
    offset = (hour - timezone.now().astimezone(dt.UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def parts(message: Message) -> tuple[str, str]:
    text = html = ""
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if payload is None:
            continue
        if part.get_content_type() == "text/plain":
            text = payload.decode(part.get_content_charset() or "utf-8")
        elif part.get_content_type() == "text/html":
            html = payload.decode(part.get_content_charset() or "utf-8")
    return text, html


@pytest.fixture
def shop():
    """k = 5, yesterday in the organisation's day: 6 unhappy answers at Siam, 3 at Asok."""
    organisation = OrganisationFactory(min_group_size=5, time_zone=zone_at_hour(9))
    local_now = timezone.now().astimezone(ZoneInfo(organisation.time_zone))
    yesterday = (local_now - dt.timedelta(days=1)).replace(hour=12, minute=0)
    survey = SurveyFactory(organisation=organisation)
    siam = LocationFactory(organisation=organisation, name="Siam")
    asok = LocationFactory(organisation=organisation, name="Asok")
    at = yesterday.astimezone(dt.UTC).replace(tzinfo=dt.UTC)
    for location, count, text in (
        (siam, 6, "The queue at Siam was awful"),
        (asok, 3, "Rude staff at Asok"),
    ):
        for response in answered(
            survey=survey, location=location, count=count, nps=1, text=text, at=at
        ):
            # The organisation's yesterday, whatever the server's date is.
            type(response).objects.filter(pk=response.pk).update(submitted_on=yesterday.date())
    return organisation, siam, asok, local_now


def staff(organisation, role, *, locale, email):
    user = UserFactory(locale=locale, email=email)
    StaffRoleFactory(user=user, organisation=organisation, role=role)
    return user


def test_a_daily_digest_arrives_once_in_thai_without_the_small_store(
    celery_worker_process, smtp_sink, shop
):
    # given: a Thai analyst who asked for a daily digest; it is 9:00 in the organisation
    sink, _port = smtp_sink
    organisation, _siam, _asok, _now = shop
    analyst = staff(organisation, Role.ANALYST, locale="th", email="digest-th@example.com")
    NotificationPreferenceFactory(organisation=organisation, user=analyst, digest="daily")
    # when: the beat queues the digest task twice
    digests_task.delay()
    digests_task.delay()
    # then: one digest arrives, in Thai, with Siam's comments and nothing of Asok's 3
    [message] = sink.wait_for(analyst.email)
    text, html = parts(message)
    assert "การตอบกลับ" in text  # "Responses"
    assert 'lang="th"' in html
    assert "The queue at Siam was awful" in text
    assert "Asok" not in text + html
    assert f"/staff/{organisation.slug}/notifications/" in text
    assert len(sink.wait_for(analyst.email, count=2, timeout=3)) == 1


def test_a_threshold_alert_arrives_once_in_hebrew(celery_worker_process, smtp_sink):
    # given: 4 detractors at Siam in the last minutes, an alert for more than 3 an hour
    sink, _port = smtp_sink
    organisation = OrganisationFactory(min_group_size=5)
    siam = LocationFactory(organisation=organisation, name="Siam")
    survey = SurveyFactory(organisation=organisation)
    answered(survey=survey, location=siam, count=4, nps=0, text="", at=timezone.now())
    manager = staff(organisation, Role.ADMIN, locale="he", email="alert-he@example.com")
    ThresholdAlertFactory(location=siam, threshold=3, recipients=[manager])
    # when: the minute's check runs three times
    for _minute in range(3):
        threshold_alerts_task.delay()
    # then: one alert, right-to-left, saying "more than 3" (4 is under k = 5)
    [message] = sink.wait_for(manager.email)
    text, html = parts(message)
    assert 'dir="rtl"' in html
    # Decoded: a Hebrew subject travels as RFC 2047 words, which may split "Siam".
    assert "Siam" in str(make_header(decode_header(message["Subject"])))
    assert "3" in text and "4 negative" not in text
    assert len(sink.wait_for(manager.email, count=2, timeout=3)) == 1


def test_the_weekly_report_arrives_in_each_readers_language(celery_worker_process, smtp_sink, shop):
    # given: a report due now (today, this hour) for a Japanese owner and a Hebrew analyst
    sink, _port = smtp_sink
    organisation, _siam, _asok, local_now = shop
    owner = staff(organisation, Role.OWNER, locale="ja", email="report-ja@example.com")
    analyst = staff(organisation, Role.ANALYST, locale="he", email="report-he@example.com")
    ReportScheduleFactory(
        organisation=organisation,
        weekday=local_now.weekday(),
        hour=local_now.hour,
        recipients=[owner, analyst],
    )
    # when: the beat queues the report task twice
    reports_task.delay()
    reports_task.delay()
    # then: each gets one report in their language with the trend table; k respected
    [ja] = sink.wait_for(owner.email)
    [he] = sink.wait_for(analyst.email)
    ja_text, ja_html = parts(ja)
    he_text, he_html = parts(he)
    assert "回答数" in ja_html and 'lang="ja"' in ja_html
    assert "תשובות" in he_html and 'dir="rtl"' in he_html
    for text, html in ((ja_text, ja_html), (he_text, he_html)):
        assert "The queue at Siam was awful" in html
        assert "Asok" not in text + html
        assert "<table" in html
    assert len(sink.wait_for(owner.email, count=2, timeout=3)) == 1
