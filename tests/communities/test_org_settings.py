"""Owners and admins edit the organisation's settings; every change is audited.

The settings page validates every field, keeps what was typed when something is wrong, and
lists the organisation's recent changes (who, when in its time zone, which field, before and
after) in the reader's language.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from communities.choices import Role
from communities.models import AuditEntry, Organisation
from communities.selectors import audit_entries
from communities.services.audit import audit_record
from communities.services.organisations import organisation_settings_update
from tests.factories.communities import AuditEntryFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def settings_url(organisation) -> str:
    return reverse("staff:settings", args=[organisation.slug])


def current(organisation, **overrides):
    """The form as the page fills it for this organisation, with some fields changed."""
    data = {
        "name": organisation.name,
        "default_language": organisation.default_language,
        "time_zone": organisation.time_zone,
        "min_group_size": organisation.min_group_size,
        "contact_limit_days": organisation.contact_limit_days,
        "anonymous_pool_max_days": organisation.anonymous_pool_max_days or "",
        "audit_retention_days": organisation.audit_retention_days,
        "sender_name": organisation.sender_name,
        "reply_to_email": organisation.reply_to_email,
        "brand_colour": organisation.brand_colour,
        "logo": organisation.logo,
    }
    # A ticked checkbox is sent as "on"; an unticked one is not sent at all.
    if organisation.contact_limit_followups:
        data["contact_limit_followups"] = "on"
    data.update(overrides)
    return data


@pytest.fixture
def owner(organisation):
    return StaffRoleFactory(
        organisation=organisation, role=Role.OWNER, user=UserFactory(name="Olive Owner")
    ).user


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


# --- who may use the page ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.OWNER, 200), (Role.ADMIN, 200), (Role.ANALYST, 403), (Role.AGENT, 403)],
)
def test_only_owners_and_admins_open_the_settings(client, organisation, role, status):
    # given
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)

    # when / then
    assert client.get(settings_url(organisation)).status_code == status
    posted = client.post(settings_url(organisation), current(organisation, name="Taken over"))
    assert posted.status_code == (302 if status == 200 else 403)
    organisation.refresh_from_db()
    assert (organisation.name == "Taken over") == (status == 200)


def test_an_analyst_saving_the_settings_changes_nothing_and_writes_no_entry(client, organisation):
    # given
    client.force_login(StaffRoleFactory(organisation=organisation, role=Role.ANALYST).user)

    # when
    page = client.post(settings_url(organisation), current(organisation, min_group_size=2))

    # then
    assert page.status_code == 403
    organisation.refresh_from_db()
    assert organisation.min_group_size == 5 and not AuditEntry.objects.exists()


def test_another_organisations_settings_answer_404(staff_client, organisation, other_organisation):
    # when
    shown = staff_client.get(settings_url(other_organisation))
    posted = staff_client.post(
        settings_url(other_organisation), current(other_organisation, name="Hijacked")
    )

    # then
    assert shown.status_code == posted.status_code == 404
    other_organisation.refresh_from_db()
    assert other_organisation.name == "Other Org"
    assert not AuditEntry.objects.exists()


def test_the_staff_navigation_links_settings_for_managers_only(client, organisation):
    for role, shown in ((Role.ADMIN, True), (Role.ANALYST, False)):
        client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)
        page = client.get(reverse("staff:location_list", args=[organisation.slug]))
        assert (f'href="{settings_url(organisation)}"' in page.content.decode()) is shown


# --- saving ----------------------------------------------------------------------------------


def test_an_owner_saves_every_setting_and_one_entry_records_each_change(
    owner_client, owner, organisation
):
    # given
    data = current(
        organisation,
        name="Demo Coffee Co.",
        default_language="th",
        time_zone="Asia/Bangkok",
        min_group_size=8,
        contact_limit_days=14,
        contact_limit_followups="on",
        anonymous_pool_max_days=10,
        sender_name="Demo Coffee",
        reply_to_email="Care@Demo-Coffee.example",
        brand_colour="#AA3300",
        logo="https://cdn.demo-coffee.example/logo.png",
    )

    # when
    page = owner_client.post(settings_url(organisation), data)

    # then
    assert page.status_code == 302 and page["Location"] == settings_url(organisation)
    organisation.refresh_from_db()
    assert organisation.name == "Demo Coffee Co."
    assert organisation.default_language == "th"
    assert organisation.time_zone == "Asia/Bangkok"
    assert (organisation.min_group_size, organisation.contact_limit_days) == (8, 14)
    assert organisation.contact_limit_followups is True
    assert organisation.anonymous_pool_max_days == 10
    assert organisation.sender_name == "Demo Coffee"
    assert organisation.reply_to_email == "care@demo-coffee.example"
    assert organisation.brand_colour == "#aa3300"
    assert organisation.logo == "https://cdn.demo-coffee.example/logo.png"
    [entry] = AuditEntry.objects.all()
    assert entry.organisation == organisation and entry.actor == owner
    assert entry.action == "organisation.settings"
    assert (entry.target_type, entry.target_id) == ("organisation", str(organisation.pk))
    assert entry.changes == {
        "name": ["Demo Coffee", "Demo Coffee Co."],
        "default_language": ["en", "th"],
        "time_zone": ["UTC", "Asia/Bangkok"],
        "min_group_size": [5, 8],
        "contact_limit_days": [30, 14],
        "contact_limit_followups": [False, True],
        "anonymous_pool_max_days": [None, 10],
        "sender_name": ["", "Demo Coffee"],
        "reply_to_email": ["", "care@demo-coffee.example"],
        "brand_colour": ["#0d6efd", "#aa3300"],
        "logo": ["", "https://cdn.demo-coffee.example/logo.png"],
    }


def test_only_the_fields_that_changed_are_recorded(owner_client, organisation):
    # when
    owner_client.post(settings_url(organisation), current(organisation, min_group_size=7))

    # then
    assert AuditEntry.objects.get().changes == {"min_group_size": [5, 7]}


def test_saving_unchanged_settings_writes_no_entry_and_says_so(owner_client, organisation):
    # when: the form is sent back as the page filled it (the colour in capitals, spaces
    # around the name: the same values once cleaned)
    page = owner_client.post(
        settings_url(organisation),
        current(organisation, name=f"  {organisation.name} ", brand_colour="#0D6EFD"),
        follow=True,
    )

    # then
    assert page.status_code == 200
    assert not AuditEntry.objects.exists()
    assert "Nothing to save: no setting changed." in page.content.decode()


def test_unticking_follow_ups_is_recorded_and_shown_as_yes_then_no(owner_client, organisation):
    # given: follow-up emails count towards the contact limit
    Organisation.objects.filter(pk=organisation.pk).update(contact_limit_followups=True)
    organisation.refresh_from_db()
    data = current(organisation)
    del data["contact_limit_followups"]

    # when: the box is unticked
    page = owner_client.post(settings_url(organisation), data, follow=True)

    # then
    organisation.refresh_from_db()
    assert organisation.contact_limit_followups is False
    assert AuditEntry.objects.get().changes == {"contact_limit_followups": [True, False]}
    html = page.content.decode()
    assert "<td><bdi>Yes</bdi></td>" in html and "<td><bdi>No</bdi></td>" in html


def test_emptying_the_anonymous_pool_wait_is_recorded_as_none(owner_client, organisation):
    # given
    Organisation.objects.filter(pk=organisation.pk).update(anonymous_pool_max_days=3)
    organisation.refresh_from_db()

    # when
    owner_client.post(settings_url(organisation), current(organisation, anonymous_pool_max_days=""))

    # then
    organisation.refresh_from_db()
    assert organisation.anonymous_pool_max_days is None
    assert AuditEntry.objects.get().changes == {"anonymous_pool_max_days": [3, None]}


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "required"),
        ("name", "x" * 201, "at most 200"),
        ("default_language", "xx", "valid choice"),
        ("time_zone", "Mars/Olympus_Mons", "valid choice"),
        ("time_zone", "localtime", "valid choice"),
        ("time_zone", "", "required"),
        ("min_group_size", "1", "greater than or equal to 2"),
        ("min_group_size", "0", "greater than or equal to 2"),
        ("min_group_size", "101", "less than or equal to 100"),
        ("min_group_size", "99999999999999999999999", "less than or equal to 100"),
        ("min_group_size", "five", "whole number"),
        ("min_group_size", "", "required"),
        ("contact_limit_days", "-1", "greater than or equal to 0"),
        ("contact_limit_days", "366", "less than or equal to 365"),
        ("anonymous_pool_max_days", "0", "greater than or equal to 1"),
        ("anonymous_pool_max_days", "1000", "less than or equal to 365"),
        ("sender_name", "x" * 101, "at most 100"),
        ("reply_to_email", "not-an-address", "valid email"),
        ("reply_to_email", "a" * 250 + "@example.com", "at most 254"),
        ("brand_colour", "red", "six hex digits"),
        ("brand_colour", "#12345g", "six hex digits"),
        ("brand_colour", "", "required"),
        ("logo", "http://cdn.example.com/logo.png", "https://"),
        ("logo", "javascript:alert(1)", "https://"),
        ("logo", "/static/img/logo.png", "https://"),
        ("logo", "https://cdn.example.com/" + "x" * 200, "at most 200"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(
    owner_client, organisation, field, value, message
):
    # when
    page = owner_client.post(settings_url(organisation), current(organisation, **{field: value}))

    # then
    assert page.status_code == 400
    assert message in " ".join(page.context["form"].errors[field])
    assert "Nothing was saved" in page.content.decode()
    assert not AuditEntry.objects.exists()
    assert Organisation.objects.get(pk=organisation.pk).updated_at == organisation.updated_at


def test_a_refused_form_keeps_everything_the_user_typed(owner_client, organisation):
    # when: one field is wrong and others were changed
    page = owner_client.post(
        settings_url(organisation),
        current(
            organisation,
            name="Demo Coffee Roasters",
            sender_name="The Roastery",
            time_zone="Asia/Jerusalem",
            min_group_size="1",
        ),
    )

    # then: nothing is saved, and the page shows each value as typed
    html = page.content.decode()
    assert page.status_code == 400
    assert 'value="Demo Coffee Roasters"' in html
    assert 'value="The Roastery"' in html
    assert 'value="1"' in html
    assert '<option value="Asia/Jerusalem" selected>' in html
    organisation.refresh_from_db()
    assert organisation.name == "Demo Coffee"


def test_a_post_missing_every_field_is_refused(owner_client, organisation):
    # when
    page = owner_client.post(settings_url(organisation), {})

    # then
    assert page.status_code == 400
    assert {"name", "time_zone", "min_group_size", "brand_colour"} <= set(
        page.context["form"].errors
    )
    assert not AuditEntry.objects.exists()


def test_the_service_checks_every_field_and_reports_them_together(organisation, owner):
    # when
    with pytest.raises(ValidationError) as refused:
        organisation_settings_update(
            organisation=organisation,
            actor=owner,
            name=" ",
            default_language="klingon",
            time_zone="Not/AZone",
            min_group_size=1,
            contact_limit_days="soon",
            contact_limit_followups="maybe",
            anonymous_pool_max_days=0,
            sender_name="x" * 101,
            reply_to_email="nobody",
            brand_colour="blue",
            logo="ftp://example.com/logo.png",
        )

    # then
    assert set(refused.value.message_dict) == {
        "name",
        "default_language",
        "time_zone",
        "min_group_size",
        "contact_limit_days",
        "contact_limit_followups",
        "anonymous_pool_max_days",
        "sender_name",
        "reply_to_email",
        "brand_colour",
        "logo",
    }
    assert not AuditEntry.objects.exists()


# --- the change log ---------------------------------------------------------------------------


def test_the_page_lists_recent_changes_with_who_when_and_before_and_after(
    owner_client, owner, organisation
):
    # given: a change at 10:00 UTC, in an organisation that works in Bangkok (UTC+7)
    Organisation.objects.filter(pk=organisation.pk).update(time_zone="Asia/Bangkok")
    entry = AuditEntryFactory(
        organisation=organisation, actor=owner, changes={"min_group_size": [5, 9]}
    )
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=datetime(2026, 3, 2, 10, tzinfo=UTC))

    # when
    html = owner_client.get(settings_url(organisation)).content.decode()

    # then
    bangkok = datetime(2026, 3, 2, 17, tzinfo=ZoneInfo("Asia/Bangkok"))
    assert '<time datetime="2026-03-02T17:00:00+07:00">' in html
    assert formats.date_format(bangkok, "SHORT_DATETIME_FORMAT") in html
    assert "Asia/Bangkok" in html
    assert "Olive Owner" in html
    assert "Settings changed" in html and "organisation.settings" not in html
    assert "Minimum report group size" in html
    assert "<td><bdi>5</bdi></td>" in html and "<td><bdi>9</bdi></td>" in html


def said(text: str, language: str) -> str:
    """What the page says for this English text in another language."""
    with translation.override(language):
        return translation.gettext(text)


def test_the_change_log_reads_in_the_staff_members_language(owner_client, owner, organisation):
    # given
    AuditEntryFactory(
        organisation=organisation, actor=owner, changes={"default_language": ["en", "he"]}
    )

    # when
    html = owner_client.get(settings_url(organisation), HTTP_ACCEPT_LANGUAGE="he").content.decode()

    # then: the action, the field and the languages are Hebrew words, not codes
    assert 'dir="rtl"' in html
    action = said("Settings changed", "he")
    assert action != "Settings changed" and f"<td>{action}</td>" in html
    assert "organisation.settings" not in html
    assert f"<td>{said('default language', 'he')}</td>" in html
    assert f"<td><bdi>{said('Hebrew', 'he')}</bdi></td>" in html
    assert f"<td><bdi>{said('English', 'he')}</bdi></td>" in html
    assert "<bdi>he</bdi>" not in html


def test_the_change_log_shows_only_this_organisations_entries(
    owner_client, organisation, other_organisation
):
    # given
    AuditEntryFactory(organisation=other_organisation, changes={"name": ["Old", "Secret Co"]})

    # when
    html = owner_client.get(settings_url(organisation)).content.decode()

    # then
    assert "Secret Co" not in html
    assert "No changes recorded yet." in html


def test_a_save_shows_up_in_the_change_log(owner_client, organisation):
    # when
    page = owner_client.post(
        settings_url(organisation), current(organisation, min_group_size=12), follow=True
    )

    # then
    html = page.content.decode()
    assert "Settings saved." in html
    assert "<td><bdi>5</bdi></td>" in html and "<td><bdi>12</bdi></td>" in html


def test_the_settings_page_reads_few_queries_however_long_the_log(
    owner_client, owner, organisation, django_assert_max_num_queries
):
    # given
    for n in range(30):
        AuditEntryFactory(organisation=organisation, actor=owner, changes={"name": [n, n + 1]})

    # when / then
    with django_assert_max_num_queries(8):
        owner_client.get(settings_url(organisation))


# --- the audit service -----------------------------------------------------------------------


def test_audit_record_drops_unchanged_fields_and_writes_nothing_when_none_changed(
    organisation, owner
):
    # when
    nothing = audit_record(
        organisation=organisation,
        actor=owner,
        action="organisation.settings",
        target=organisation,
        changes={"name": ["A", "A"]},
    )
    something = audit_record(
        organisation=organisation,
        actor=owner,
        action="organisation.settings",
        target=organisation,
        changes={"name": ["A", "A"], "min_group_size": [5, 6]},
    )

    # then
    assert nothing is None
    assert something.changes == {"min_group_size": [5, 6]}
    assert something.target_label == organisation.name
    assert audit_entries(organisation=organisation) == [something]


def test_audit_record_keeps_an_event_without_fields(organisation):
    # when: the system (no actor) records an event that names no fields
    entry = audit_record(
        organisation=organisation, actor=None, action="location.archive", target_label="x" * 300
    )

    # then
    assert entry.changes == {} and entry.actor is None
    assert len(entry.target_label) == 200
