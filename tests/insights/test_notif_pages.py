"""The notifications pages: everyone edits their own preferences; owners and admins set
the store alerts and the weekly report; bad input is refused with a message and nothing
written."""

import pytest
from django.test import Client
from django.urls import reverse

from communities.choices import Role
from insights.models import NotificationPreference, ReportSchedule, ThresholdAlert
from tests.factories.communities import LocationFactory, StaffRoleFactory, UserFactory
from tests.factories.insights_notifications import ThresholdAlertFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff(organisation, role):
    user = UserFactory()
    StaffRoleFactory(user=user, organisation=organisation, role=role)
    return user


def url(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


# --- one's own preferences -----------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.ANALYST, Role.AGENT])
def test_every_role_saves_its_own_preferences_and_only_its_own(organisation, role):
    me, colleague = staff(organisation, role), staff(organisation, Role.AGENT)
    client = signed_in(me)
    page = client.get(url("notification_preferences", organisation))
    assert page.status_code == 200
    response = client.post(
        url("notification_preferences", organisation),
        {"case_assigned": "on", "digest": "weekly", "scheduled_report": "on"},
    )
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(organisation=organisation, user=me)
    assert (pref.case_assigned, pref.case_overdue, pref.digest) == (True, False, "weekly")
    assert not NotificationPreference.objects.filter(user=colleague).exists()


def test_saving_twice_keeps_one_row(organisation, staff_client, staff_user):
    for digest in ("daily", "none"):
        staff_client.post(url("notification_preferences", organisation), {"digest": digest})
    assert NotificationPreference.objects.get(user=staff_user).digest == "none"


@pytest.mark.parametrize("digest", ["hourly", "", "d" * 5000])
def test_an_unknown_or_missing_digest_is_refused(organisation, staff_client, staff_user, digest):
    response = staff_client.post(url("notification_preferences", organisation), {"digest": digest})
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    assert not NotificationPreference.objects.exists()


# --- threshold alerts ----------------------------------------------------------------------


@pytest.fixture
def store(organisation):
    return LocationFactory(organisation=organisation, name="Siam")


def alert_body(store, *recipients, **changes):
    body = {
        "location": store.pk,
        "threshold": "5",
        "window_minutes": "60",
        "recipients": [user.pk for user in recipients],
        "active": "on",
    }
    body.update(changes)
    return body


def test_an_admin_adds_changes_and_removes_a_store_alert(
    organisation, staff_client, staff_user, store
):
    agent = staff(organisation, Role.AGENT)
    response = staff_client.post(
        url("notification_alert_list", organisation), alert_body(store, staff_user, agent)
    )
    assert response.status_code == 302
    alert = ThresholdAlert.objects.get(organisation=organisation)
    assert (alert.location, alert.threshold, alert.window_minutes) == (store, 5, 60)
    assert set(alert.recipients.all()) == {staff_user, agent}
    page = staff_client.get(url("notification_alert_list", organisation)).content.decode()
    assert "more than 5 in 60 minutes" in page
    staff_client.post(
        url("notification_alert_edit", organisation, alert.pk),
        alert_body(store, agent, threshold="9", window_minutes="15"),
    )
    alert.refresh_from_db()
    assert (alert.threshold, alert.window_minutes) == (9, 15)
    assert list(alert.recipients.all()) == [agent]
    staff_client.post(url("notification_alert_delete", organisation, alert.pk))
    assert not ThresholdAlert.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"threshold": "0"}, "threshold"),
        ({"threshold": "-3"}, "threshold"),
        ({"threshold": "1001"}, "threshold"),
        ({"threshold": "ten"}, "threshold"),
        ({"threshold": "9" * 5000}, "threshold"),
        ({"threshold": ""}, "threshold"),
        ({"window_minutes": "7"}, "window_minutes"),
        ({"location": ""}, "location"),
        ({"location": "999999"}, "location"),
        ({"recipients": []}, "recipients"),
        ({"recipients": ["abc"]}, "recipients"),
    ],
)
def test_bad_alert_input_is_refused_and_nothing_written(
    organisation, staff_client, staff_user, store, changes, field
):
    response = staff_client.post(
        url("notification_alert_list", organisation), alert_body(store, staff_user, **changes)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ThresholdAlert.objects.exists()


def test_a_second_alert_for_the_same_store_is_refused(
    organisation, staff_client, staff_user, store
):
    ThresholdAlertFactory(location=store, recipients=[staff_user])
    response = staff_client.post(
        url("notification_alert_list", organisation), alert_body(store, staff_user)
    )
    assert response.status_code == 400
    assert "already has an alert" in str(response.context["form"].errors["location"])
    assert ThresholdAlert.objects.count() == 1


def test_another_organisations_store_or_staff_cannot_be_chosen(
    organisation, other_organisation, staff_client, staff_user, store
):
    theirs = LocationFactory(organisation=other_organisation)
    outsider = staff(other_organisation, Role.OWNER)
    for body in (
        alert_body(theirs, staff_user),
        alert_body(store, outsider),
        alert_body(store, staff_user, outsider),
    ):
        response = staff_client.post(url("notification_alert_list", organisation), body)
        assert response.status_code == 400
    assert not ThresholdAlert.objects.exists()


def test_another_organisations_alert_is_not_found(organisation, other_organisation, staff_client):
    theirs = ThresholdAlertFactory(location=LocationFactory(organisation=other_organisation))
    assert (
        staff_client.get(url("notification_alert_edit", organisation, theirs.pk)).status_code == 404
    )
    assert (
        staff_client.post(url("notification_alert_delete", organisation, theirs.pk)).status_code
        == 404
    )
    assert ThresholdAlert.objects.filter(pk=theirs.pk).exists()


# --- the weekly report ---------------------------------------------------------------------


def report_body(*recipients, **changes):
    body = {"active": "on", "weekday": "4", "hour": "9", "recipients": [u.pk for u in recipients]}
    body.update(changes)
    return body


def test_an_admin_schedules_the_weekly_report(organisation, staff_client, staff_user):
    analyst = staff(organisation, Role.ANALYST)
    for _twice in range(2):
        response = staff_client.post(url("notification_report", organisation), report_body(analyst))
        assert response.status_code == 302
    schedule = ReportSchedule.objects.get(organisation=organisation)
    assert (schedule.active, schedule.weekday, schedule.hour) == (True, 4, 9)
    assert list(schedule.recipients.all()) == [analyst]
    page = staff_client.get(url("notification_report", organisation))
    assert page.context["form"].initial["recipients"] == [analyst]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"hour": "24"}, "hour"),
        ({"hour": "-1"}, "hour"),
        ({"hour": ""}, "hour"),
        ({"weekday": "7"}, "weekday"),
        ({"weekday": "x" * 3000}, "weekday"),
        ({"recipients": []}, "recipients"),
    ],
)
def test_bad_report_input_is_refused(organisation, staff_client, changes, field):
    analyst = staff(organisation, Role.ANALYST)
    response = staff_client.post(
        url("notification_report", organisation), report_body(analyst, **changes)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ReportSchedule.objects.exists()


def test_the_report_goes_only_to_readers_of_this_organisation(
    organisation, other_organisation, staff_client
):
    agent = staff(organisation, Role.AGENT)  # works cases, does not read results
    outsider = staff(other_organisation, Role.ANALYST)
    for recipient in (agent, outsider):
        response = staff_client.post(
            url("notification_report", organisation), report_body(recipient)
        )
        assert response.status_code == 400
    assert not ReportSchedule.objects.exists()


def test_the_report_may_be_switched_off_with_nobody_chosen(organisation, staff_client):
    response = staff_client.post(
        url("notification_report", organisation), report_body(weekday="0", hour="8", active="")
    )
    assert response.status_code == 302
    assert ReportSchedule.objects.get(organisation=organisation).active is False


def test_the_alert_list_reads_a_fixed_number_of_queries(
    organisation, staff_client, staff_user, django_assert_max_num_queries
):
    for _n in range(5):
        ThresholdAlertFactory(
            location=LocationFactory(organisation=organisation),
            recipients=[staff_user, staff(organisation, Role.AGENT)],
        )
    with django_assert_max_num_queries(16):
        response = staff_client.get(url("notification_alert_list", organisation))
    assert response.content.decode().count("more than 3 in 60 minutes") == 5
