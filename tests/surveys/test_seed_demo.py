from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from communities.outbox.models import OutboundEmail
from feedback.models import Case
from surveys.management.commands.seed_demo import (
    REMINDER_DUE_AFTER,
    REMINDER_EMAIL,
    STAFF_EMAIL,
    STAFF_PASSWORD,
)
from surveys.models import Response, SurveyInvitation
from surveys.services.invitations import reminders_send

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_covers_four_languages_and_detractors():
    call_command("seed_demo", responses=40, stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", responses=40, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Response.objects.count() == 40
    assert set(Response.objects.values_list("language", flat=True)) == {"en", "th", "he", "ja"}
    assert Case.objects.exists()


def test_seed_demo_leaves_a_reminder_falling_due_seconds_later_every_run(
    django_capture_on_commit_callbacks,
):
    # given the demo loaded (twice: `make demo` seeds on every start)
    call_command("seed_demo", responses=4, stdout=StringIO())
    call_command("seed_demo", responses=4, stdout=StringIO())
    seeded = timezone.now()
    invitation = SurveyInvitation.objects.get(email=REMINDER_EMAIL)
    assert invitation.survey.reminder_interval_days == 1
    # when the reminder sweep runs at once, then a little later
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send(now=seeded) == 0
        assert reminders_send(now=seeded + REMINDER_DUE_AFTER + timedelta(seconds=1)) == 1
    # then the reminder went out, within a minute of the seed
    assert timedelta(minutes=1) > REMINDER_DUE_AFTER
    [reminder] = [m for m in mail.outbox if m.to == [REMINDER_EMAIL]]
    assert reminder.subject.startswith("Reminder:")
    # and the next seed starts it afresh, so the next `make demo` shows one again
    call_command("seed_demo", responses=4, stdout=StringIO())
    again = SurveyInvitation.objects.get(email=REMINDER_EMAIL)
    assert again.reminder_count == 0 and again.pk != invitation.pk
    assert not OutboundEmail.objects.filter(to_email=REMINDER_EMAIL).exists()


def test_seed_demo_writes_the_addresses_and_login_to_the_summary_file(tmp_path, settings):
    # given the demo's email backend, writing files
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "emails")
    summary = tmp_path / "demo" / "welcome.txt"
    out = StringIO()
    # when the demo is seeded with a summary file
    call_command("seed_demo", responses=4, summary=summary, stdout=out)
    # then the file holds what the console showed: the addresses, the login, the emails
    text = summary.read_text(encoding="utf-8")
    assert f"{STAFF_EMAIL} / {STAFF_PASSWORD}" in text
    assert "/staff/" in text and "/s/" in text and "?lang=he" in text
    assert str(tmp_path / "emails") in text
    assert REMINDER_EMAIL in text
    assert text.strip() in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_demo_banner_prints_the_addresses_once_the_web_server_answers(
    live_server, settings, tmp_path, monkeypatch
):
    # given a running web server and the summary seed_demo wrote
    settings.SITE_URL = live_server.url
    summary = tmp_path / "welcome.txt"
    summary.write_text(f"  Staff login:           {STAFF_EMAIL} / {STAFF_PASSWORD}\n")
    waited = []
    monkeypatch.setattr("signal.pause", lambda: waited.append(True))
    out = StringIO()
    # when the banner process runs
    call_command("demo_banner", str(summary), timeout=20, stdout=out)
    # then it prints where Chorus runs and the login, and stays up (honcho stops it)
    text = out.getvalue()
    assert f"Chorus is running on {live_server.url}/" in text
    assert f"{STAFF_EMAIL} / {STAFF_PASSWORD}" in text
    assert waited == [True]
