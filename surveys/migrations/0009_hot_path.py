"""A response's stored day is its organisation's day (issue 16).

`submitted_on` used to be the day in the server's TIME_ZONE; it is now the day in the
organisation's time zone, the one every date filter (dashboard, results, exports) uses.
This recomputes the stored day of the responses of every organisation whose zone differs
from the server's. Roll-ups folded before it keep the old days: upgrading runs
`manage.py rollups_rebuild` (README, Metrics).
"""

import zoneinfo

from django.conf import settings
from django.db import migrations

# Rows read and written at once on databases without AT TIME ZONE (SQLite).
BATCH = 2000


def _zone_name(name: str) -> str:
    """The zone the organisation's days are cut in: UTC for an unknown name, as the
    submit path does (surveys.services.writing)."""
    try:
        zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def _zones_to_fix(apps) -> dict[int, str]:
    """Organisation id → zone name, for the organisations whose days the server's zone cut
    wrongly."""
    Organisation = apps.get_model("communities", "Organisation")
    server = _zone_name(settings.TIME_ZONE)
    zones = {
        pk: _zone_name(name) for pk, name in Organisation.objects.values_list("pk", "time_zone")
    }
    return {pk: name for pk, name in zones.items() if name != server}


def submitted_on_recompute(apps, schema_editor) -> int:
    """Set every response's `submitted_on` to the day of `submitted_at` in its organisation's
    zone; returns how many rows changed."""
    zones = _zones_to_fix(apps)
    if not zones:
        return 0
    connection = schema_editor.connection
    Response = apps.get_model("surveys", "Response")
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Response._meta.db_table)
        with connection.cursor() as cursor:
            # The zone names were checked in Python, so an unknown one cannot fail the UPDATE.
            cursor.execute(
                f"UPDATE {table} AS r "
                "SET submitted_on = (r.submitted_at AT TIME ZONE z.zone)::date "
                "FROM unnest(%s::bigint[], %s::text[]) AS z(id, zone) "
                "WHERE r.organisation_id = z.id "
                "AND r.submitted_on <> (r.submitted_at AT TIME ZONE z.zone)::date",
                [list(zones), list(zones.values())],
            )
            return cursor.rowcount
    changed = 0
    for organisation_id, name in zones.items():
        zone = zoneinfo.ZoneInfo(name)
        last = 0
        while True:
            rows = list(
                Response.objects.filter(organisation_id=organisation_id, pk__gt=last)
                .order_by("pk")
                .only("pk", "submitted_at", "submitted_on")[:BATCH]
            )
            if not rows:
                break
            last = rows[-1].pk
            stale = []
            for row in rows:
                day = row.submitted_at.astimezone(zone).date()
                if row.submitted_on != day:
                    row.submitted_on = day
                    stale.append(row)
            Response.objects.bulk_update(stale, ["submitted_on"])
            changed += len(stale)
    return changed


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0008_recovery_surveys"),
    ]

    operations = [
        migrations.RunPython(submitted_on_recompute, migrations.RunPython.noop, elidable=True),
    ]
