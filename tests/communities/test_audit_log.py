"""The audit log page (owners only), its filters, pages and CSV export; the log is
append-only and old entries expire after the organisation's retention. (What is recorded:
test_audit_recording.py.)
"""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.db import IntegrityError, transaction
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation

from communities.choices import Role
from communities.models import AuditEntry, AuditEntryIsFinal, Organisation
from communities.services.audit import audit_entries_expire
from communities.tasks import audit_entries_expire_task
from tests.communities.test_audit_recording import community_form
from tests.factories.communities import (
    AuditEntryFactory,
    OrganisationFactory,
    StaffRoleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def staff(name, organisation, *args):
    return reverse(f"staff:{name}", args=[organisation.slug, *args])


@pytest.fixture
def owner(organisation):
    return StaffRoleFactory(
        organisation=organisation, role=Role.OWNER, user=UserFactory(name="Olive Owner")
    ).user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


# --- the retention setting --------------------------------------------------------------------


def test_the_retention_is_a_setting_owners_change_within_bounds(owner_client, organisation):
    from tests.communities.test_org_settings import current

    for days in (29, 3651, "soon"):
        page = owner_client.post(
            staff("settings", organisation), current(organisation, audit_retention_days=days)
        )
        assert page.status_code == 400
    assert 'name="audit_retention_days"' in page.content.decode()

    owner_client.post(
        staff("settings", organisation), current(organisation, audit_retention_days=90)
    )

    organisation.refresh_from_db()
    assert organisation.audit_retention_days == 90
    assert AuditEntry.objects.get().changes == {"audit_retention_days": [730, 90]}


def aged(organisation, days, **kwargs):
    entry = AuditEntryFactory(organisation=organisation, **kwargs)
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(days=days))
    return entry


def test_retention_deletes_only_entries_older_than_their_organisations_setting(organisation):
    # given: this organisation keeps 30 days, another the default two years
    Organisation.objects.filter(pk=organisation.pk).update(audit_retention_days=30)
    other = OrganisationFactory()
    old, recent = aged(organisation, 31), aged(organisation, 29)
    others_old = aged(other, 400)

    # when
    deleted = audit_entries_expire_task.delay().get()

    # then
    assert deleted == 1
    assert set(AuditEntry.objects.all()) == {recent, others_old}
    assert audit_entries_expire() == 0  # twice is the same as once
    assert not AuditEntry.objects.filter(pk=old.pk).exists()


def test_the_retention_task_runs_daily(settings):
    schedule = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "communities.tasks.audit_entries_expire_task" in schedule


# --- append-only --------------------------------------------------------------------------------


def test_an_entry_cannot_be_changed_or_deleted_one_by_one(organisation):
    entry = AuditEntryFactory(organisation=organisation, target_label="before")

    entry.target_label = "after"
    with pytest.raises(AuditEntryIsFinal):
        entry.save()
    with pytest.raises(AuditEntryIsFinal):
        entry.delete()
    # a new object given the id of an existing row does not overwrite it either
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry(pk=entry.pk, organisation=organisation, action="x").save()

    assert AuditEntry.objects.get().target_label == "before"


def test_the_django_admin_shows_entries_read_only(rf):
    model_admin = admin.site._registry[AuditEntry]
    request = rf.get("/")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


# --- the page: who may read it -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.OWNER, 200), (Role.ADMIN, 403), (Role.ANALYST, 403), (Role.AGENT, 403)],
)
def test_only_owners_read_and_export_the_log(client, organisation, role, status):
    client.force_login(StaffRoleFactory(organisation=organisation, role=role).user)

    assert client.get(staff("audit_log", organisation)).status_code == status
    assert client.get(staff("audit_export", organisation)).status_code == status
    nav = client.get(staff("location_list", organisation)).content.decode()
    assert (f'href="{staff("audit_log", organisation)}"' in nav) == (role == Role.OWNER)
    assert AuditEntry.objects.filter(action="audit.export").count() == (status == 200)


def test_another_organisations_log_answers_404(owner_client, other_organisation):
    AuditEntryFactory(organisation=other_organisation)
    assert owner_client.get(staff("audit_log", other_organisation)).status_code == 404
    assert owner_client.get(staff("audit_export", other_organisation)).status_code == 404
    assert AuditEntry.objects.count() == 1


def test_the_settings_page_lists_only_changes_to_settings_and_stores(
    owner_client, owner, organisation
):
    AuditEntryFactory(organisation=organisation, actor=owner, changes={"min_group_size": [5, 6]})
    AuditEntryFactory(
        organisation=organisation,
        action="staff.role_change",
        target_type="staff_role",
        target_label="secret-colleague@example.com",
        changes={"role": ["agent", "admin"]},
    )

    html = owner_client.get(staff("settings", organisation)).content.decode()

    assert "Minimum report group size" in html and "secret-colleague" not in html


# --- the page: what it shows ----------------------------------------------------------------


def at(entry, when):
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=when)
    return entry


def test_each_row_says_when_in_the_organisations_zone_who_what_which_and_before_after(
    owner_client, owner, organisation
):
    # given: a role change at 10:00 UTC in an organisation that works in Bangkok (UTC+7)
    Organisation.objects.filter(pk=organisation.pk).update(time_zone="Asia/Bangkok")
    at(
        AuditEntryFactory(
            organisation=organisation,
            actor=owner,
            action="staff.role_change",
            target_type="staff_role",
            target_id="7",
            target_label="ann@example.com",
            changes={"role": ["analyst", "admin"]},
        ),
        datetime(2026, 3, 2, 10, tzinfo=UTC),
    )

    # when
    html = owner_client.get(staff("audit_log", organisation)).content.decode()

    # then
    assert '<time datetime="2026-03-02T17:00:00+07:00">' in html
    assert "<bdi>Olive Owner</bdi>" in html
    assert "<td>Staff role changed</td>" in html and "<td>staff.role_change" not in html
    assert "Staff role: <bdi>ann@example.com</bdi>" in html
    assert "<bdi>Analyst</bdi>" in html and "<bdi>Admin</bdi>" in html


def test_the_page_reads_in_hebrew_right_to_left(owner_client, owner, organisation):
    AuditEntryFactory(
        organisation=organisation,
        actor=None,
        action="member.erase",
        target_type="member",
        target_id="3",
        target_label="member #3",
        changes={"status": ["active", "erased"]},
    )

    html = owner_client.get(
        staff("audit_log", organisation), HTTP_ACCEPT_LANGUAGE="he"
    ).content.decode()

    with translation.override("he"):
        words = [translation.gettext(t) for t in ("Member erased", "The member", "Audit log")]
    assert 'dir="rtl"' in html and "←" in html
    for word in words:
        assert word in html and word not in ("Member erased", "The member", "Audit log")


def test_the_page_shows_only_this_organisations_entries(
    owner_client, organisation, other_organisation
):
    AuditEntryFactory(organisation=other_organisation, target_label="Secret Co")
    html = owner_client.get(staff("audit_log", organisation)).content.decode()
    assert "Secret Co" not in html and "No entries match." in html


# --- filters ------------------------------------------------------------------------------------


@pytest.fixture
def log(organisation, owner):
    """Three entries on three days (UTC): a settings change by the owner, a role change by an
    admin, a member's own download."""
    admin_user = StaffRoleFactory(organisation=organisation, role=Role.ADMIN).user
    return {
        "settings": at(
            AuditEntryFactory(organisation=organisation, actor=owner, target_label="S"),
            datetime(2026, 3, 1, 12, tzinfo=UTC),
        ),
        "role": at(
            AuditEntryFactory(
                organisation=organisation,
                actor=admin_user,
                action="staff.role_change",
                target_type="staff_role",
                target_label="R",
                changes={"role": ["agent", "admin"]},
            ),
            datetime(2026, 3, 2, 12, tzinfo=UTC),
        ),
        "export": at(
            AuditEntryFactory(
                organisation=organisation,
                actor=None,
                action="member.export",
                target_type="member",
                target_label="member #1",
                changes={},
            ),
            datetime(2026, 3, 3, 12, tzinfo=UTC),
        ),
        "admin": admin_user,
    }


def shown(client, organisation, **query):
    page = client.get(staff("audit_log", organisation), query)
    return page.status_code, [row["entry"] for row in page.context["rows"]]


def test_filters_by_action_who_object_type_and_dates(owner_client, owner, organisation, log):
    assert shown(owner_client, organisation, action="staff.role_change") == (200, [log["role"]])
    assert shown(owner_client, organisation, actor=owner.pk) == (200, [log["settings"]])
    assert shown(owner_client, organisation, target_type="member") == (200, [log["export"]])
    assert shown(owner_client, organisation, since="2026-03-02", until="2026-03-02") == (
        200,
        [log["role"]],
    )
    assert shown(owner_client, organisation, since="2026-03-02") == (
        200,
        [log["export"], log["role"]],
    )


def test_dates_are_days_in_the_organisations_time_zone(owner_client, organisation, log):
    # 2026-03-02 12:00 UTC is already 3 March in Auckland (UTC+13)
    Organisation.objects.filter(pk=organisation.pk).update(time_zone="Pacific/Auckland")
    assert shown(owner_client, organisation, since="2026-03-03", until="2026-03-03") == (
        200,
        [log["role"]],
    )


def test_the_who_filter_offers_staff_and_past_actors_by_name(owner_client, organisation, log):
    gone = UserFactory(email="gone@example.com", name="")
    AuditEntryFactory(organisation=organisation, actor=gone)

    page = owner_client.get(staff("audit_log", organisation))

    offered = {str(label) for _value, label in page.context["form"].fields["actor"].choices}
    assert "gone@example.com" in offered and "Olive Owner <" in " ".join(offered)


@pytest.mark.parametrize(
    "query",
    [
        {"since": "2026-13-45"},
        {"since": "yesterday"},
        {"until": "0001-01-01"},
        {"until": "9999-12-31"},
        {"since": "2026-03-03", "until": "2026-03-01"},
        {"action": "organisation.delete_everything"},
        {"target_type": "<script>"},
        {"actor": "abc"},
        {"actor": "99999999999999999999999"},
        {"actor": "-1"},
    ],
)
def test_malformed_filters_are_explained_and_never_a_server_error(
    owner_client, organisation, log, query
):
    for name in ("audit_log", "audit_export"):
        page = owner_client.get(staff(name, organisation), query)
        assert page.status_code == 400
        assert "Correct the filters marked below." in page.content.decode()
        assert page.context["rows"] == [] and page.context["form"].errors
    assert not AuditEntry.objects.filter(action="audit.export").exists()


def test_another_organisations_staff_member_is_not_a_who_to_filter_by(
    owner_client, organisation, other_organisation, log
):
    outsider = StaffRoleFactory(organisation=other_organisation, role=Role.OWNER).user
    AuditEntryFactory(organisation=other_organisation, actor=outsider)

    page = owner_client.get(staff("audit_log", organisation), {"actor": outsider.pk})

    assert page.status_code == 400 and "Choose someone from the list." in page.content.decode()


@pytest.mark.parametrize("cursor", ["abc", "-1", "99999999999999999999999", "1.5", "١"])
def test_a_malformed_page_cursor_shows_the_newest_entries(owner_client, organisation, log, cursor):
    for name in ("older", "newer"):
        status, rows = shown(owner_client, organisation, **{name: cursor})
        assert status == 200 and rows == [log["export"], log["role"], log["settings"]]


def test_another_organisations_entry_as_cursor_shows_the_newest_entries(
    owner_client, organisation, other_organisation, log
):
    theirs = AuditEntryFactory(organisation=other_organisation)
    status, rows = shown(owner_client, organisation, older=theirs.pk)
    assert status == 200 and rows[0] == log["export"]


# --- pages ------------------------------------------------------------------------------------


def test_pages_walk_the_whole_log_newest_first_without_gaps_or_repeats(
    owner_client, owner, organisation, django_assert_max_num_queries
):
    # given: 120 entries, many sharing a timestamp (the id breaks the tie)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    made = [AuditEntryFactory(organisation=organisation, actor=owner) for _ in range(120)]
    for n, entry in enumerate(made):
        at(entry, base + timedelta(minutes=n // 7))
    newest_first = list(AuditEntry.objects.order_by("-created_at", "-id"))

    # when: walking older, page by page
    seen, url, pages = [], staff("audit_log", organisation), []
    while url:
        with django_assert_max_num_queries(12):
            page = owner_client.get(url)
        pages.append(page)
        seen += [row["entry"] for row in page.context["rows"]]
        url = (
            page.context["older_url"]
            and staff("audit_log", organisation) + page.context["older_url"]
        )

    # then
    assert [len(p.context["rows"]) for p in pages] == [50, 50, 20]
    assert seen == newest_first
    # and walking back newer from the last page gives the middle page again
    back = owner_client.get(staff("audit_log", organisation) + pages[-1].context["newer_url"])
    assert [r["entry"] for r in back.context["rows"]] == newest_first[50:100]
    assert pages[0].context["newer_url"] == ""


def test_filters_stay_on_when_turning_pages(owner_client, owner, organisation):
    for _ in range(60):
        AuditEntryFactory(organisation=organisation, actor=owner, action="location.create")
    AuditEntryFactory(organisation=organisation, actor=owner)

    first = owner_client.get(staff("audit_log", organisation), {"action": "location.create"})
    second = owner_client.get(staff("audit_log", organisation) + first.context["older_url"])

    assert "action=location.create" in first.context["older_url"]
    assert len(second.context["rows"]) == 10
    assert {r["entry"].action for r in second.context["rows"]} == {"location.create"}


# --- the CSV export -----------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_export_streams_the_log_with_formulas_made_inert_and_records_itself(
    owner_client, owner, organisation
):
    # given: a community whose name is a spreadsheet formula
    owner_client.post(
        staff("community_create", organisation),
        community_form(name='=HYPERLINK("https://evil.example","Click")', slug="evil"),
    )

    # when
    response = owner_client.get(staff("audit_export", organisation))

    # then: a streamed CSV attachment
    assert isinstance(response, StreamingHttpResponse) and response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="audit-log-demo-coffee-'
    )
    header, *rows = read_csv(response)
    assert header[:5] == ["When", "Who", "Who (address)", "What", "Action code"]
    # the export is recorded before the file is written, so it is in it
    assert rows[0][3:5] == ["Audit log exported", "audit.export"]
    created = [r for r in rows if r[4] == "community.create"]
    assert created and all(r[2] == owner.email for r in created)
    assert {r[7] for r in created} == {'\'=HYPERLINK("https://evil.example","Click")'}
    name_row = next(r for r in created if r[8] == "Name")
    assert name_row[10] == '\'=HYPERLINK("https://evil.example","Click")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    export = AuditEntry.objects.get(action="audit.export")
    assert export.actor == owner and export.target_type == "audit_log"


def test_the_export_follows_the_filters_and_records_them(owner_client, organisation, log):
    response = owner_client.get(
        staff("audit_export", organisation), {"action": "staff.role_change", "since": "2026-03-01"}
    )

    _header, *rows = read_csv(response)
    assert [r[4] for r in rows] == ["staff.role_change"]
    assert rows[0][8:] == ["Role", "Agent", "Admin"]
    entry = AuditEntry.objects.get(action="audit.export")
    assert entry.target_label == "action=staff.role_change, since=2026-03-01"


def test_the_export_speaks_the_owners_language_and_the_organisations_time(
    owner_client, organisation, log
):
    Organisation.objects.filter(pk=organisation.pk).update(time_zone="Asia/Bangkok")
    response = owner_client.get(
        staff("audit_export", organisation), {"action": "member.export"}, HTTP_ACCEPT_LANGUAGE="th"
    )
    _header, *rows = read_csv(response)
    with translation.override("th"):
        label = translation.gettext("Personal data downloaded")
    assert (
        rows[0][0] == "2026-03-03T19:00:00+07:00"
        and rows[0][3] == label != "Personal data downloaded"
    )
