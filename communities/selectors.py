from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone

from communities.choices import ConsentPurpose, MemberStatus, Role
from communities.models import (
    AuditEntry,
    Community,
    ConsentRecord,
    LifecycleSnapshot,
    Location,
    Member,
    Organisation,
    Segment,
    StaffInvitation,
    StaffRole,
    User,
)
from config.sql import PreparedQuery


def staff_organisations(*, user: User) -> QuerySet[Organisation]:
    """Organisations the user holds a staff role in."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(staff_roles__user=user).order_by("name")


def staff_role(*, user: User, organisation_slug: str) -> StaffRole | None:
    """The user's role in the organisation with this slug, or None for an outsider."""
    if not user.is_authenticated:
        return None
    return (
        StaffRole.objects.select_related("organisation")
        .filter(user=user, organisation__slug=organisation_slug)
        .first()
    )


# --- members and segments ------------------------------------------------------------------
#
# The one definition of what a member filter means. A filter (cleaned by
# services.segment_filter_clean) looks like
#   {"status": ["active", "new"],
#    "attributes": {"city": {"in": ["Bangkok"]}, "age": {"gte": 18, "lte": 30},
#                   "birthday": {"gte": "2000-01-01"}, "nickname": {"contains": "jo"}},
#    "active_within_days": 90, "inactive_for_days": 30, "joined_within_days": 30,
#    "search": "text"}
# and every part narrows the set (AND). Attribute values are stored as JSON numbers and
# ISO date strings, so the JSON comparisons below order them correctly on SQLite and
# PostgreSQL alike.

ATTRIBUTE_OPERATORS = frozenset({"in", "contains", "gte", "lte"})


def member_filter_q(filter: Mapping[str, Any], *, now=None) -> Q:
    """The filter as one Q over Member; a shape it does not know is a ValueError.

    Refusing rather than ignoring matters: a condition dropped silently would widen a
    segment, and later issues send surveys to segments.
    """
    now = now or timezone.now()
    known = {
        "status",
        "attributes",
        "active_within_days",
        "inactive_for_days",
        "joined_within_days",
        "search",
    }
    unknown = set(filter) - known
    if unknown:
        raise ValueError(f"unknown filter keys: {sorted(unknown)}")
    q = Q()
    if filter.get("status"):
        q &= Q(status__in=list(filter["status"]))
    for key, condition in (filter.get("attributes") or {}).items():
        if not isinstance(condition, Mapping) or not condition:
            raise ValueError(f"attribute {key!r}: expected a condition")
        for operator, value in condition.items():
            if operator not in ATTRIBUTE_OPERATORS:
                raise ValueError(f"attribute {key!r}: unknown operator {operator!r}")
            lookup = "icontains" if operator == "contains" else operator
            q &= Q(**{f"attributes__{key}__{lookup}": value})
    if filter.get("active_within_days"):
        q &= Q(last_active_at__gte=now - timedelta(days=int(filter["active_within_days"])))
    if filter.get("inactive_for_days"):
        cutoff = now - timedelta(days=int(filter["inactive_for_days"]))
        # Never active counts as inactive only once the member has been around that long.
        q &= Q(last_active_at__lt=cutoff) | Q(
            Q(joined_at__lt=cutoff) | Q(joined_at__isnull=True, created_at__lt=cutoff),
            last_active_at__isnull=True,
        )
    if filter.get("joined_within_days"):
        q &= Q(joined_at__gte=now - timedelta(days=int(filter["joined_within_days"])))
    search = (filter.get("search") or "").strip()
    if search:
        q &= Q(name__icontains=search) | Q(email__icontains=search)
    return q


def community_members(*, community: Community) -> QuerySet[Member]:
    """Every member of the community a staff page may list: erased members are gone."""
    return (
        Member.objects.for_organisation(community.organisation_id)
        .filter(community=community, erased_at__isnull=True)
        .exclude(status=MemberStatus.ERASED)
    )


def members_matching(*, community: Community, filter: Mapping[str, Any]) -> QuerySet[Member]:
    """The community's members a filter selects, as one SQL query (erased never match)."""
    return community_members(community=community).filter(member_filter_q(filter))


def segment_counts(*, community: Community, segments: Iterable[Segment]) -> dict[int, int]:
    """Live member count per segment, in one aggregate query however many segments."""
    now = timezone.now()
    aggregates = {}
    for segment in segments:
        try:
            aggregates[f"s{segment.pk}"] = Count(
                "pk", filter=member_filter_q(segment.filter, now=now)
            )
        except ValueError:
            continue
    if not aggregates:
        return {}
    counts = community_members(community=community).aggregate(**aggregates)
    return {int(name[1:]): value for name, value in counts.items()}


def member_status_counts(*, community: Community) -> dict[str, int]:
    """How many members the community has in each status (erased left out)."""
    rows = (
        community_members(community=community).order_by().values("status").annotate(n=Count("pk"))
    )
    return {row["status"]: row["n"] for row in rows}


# --- the member side -----------------------------------------------------------------------


# Every member page finds its community, the member and their accepted terms first; the
# ORM spent longer compiling these lookups than the database answering them, so they are
# compiled once per process (config.sql.PreparedQuery), the same queries as before.
_community = PreparedQuery(
    lambda organisation_slug, slug: Community.objects.select_related("organisation").filter(
        organisation__slug=organisation_slug, slug=slug
    )[:1],
    ("str", "str"),
)
_member_of = PreparedQuery(
    lambda community_id, user_id: Member.objects.select_related("community", "organisation").filter(
        community_id=community_id, user_id=user_id
    )[:1],
    ("int", "int"),
)
_terms_accepted = PreparedQuery(
    lambda member_id: (
        ConsentRecord.objects.filter(
            member_id=member_id, purpose=ConsentPurpose.COMMUNITY_TERMS, granted=True
        )
        .order_by("-policy_version")
        .only("policy_version")[:1]
    ),
    ("int",),
)


def community_by_slugs(*, organisation_slug: str, slug: str) -> Community | None:
    """The community at /c/<organisation_slug>/<slug>/, with its organisation, or None."""
    return _community.first(organisation_slug, slug)


def member_of(*, community: Community, user: User) -> Member | None:
    """The signed-in user's membership of this community (any status), or None."""
    if not user.is_authenticated:
        return None
    return _member_of.first(community.pk, user.pk)


def member_consents(*, member: Member) -> dict[str, ConsentRecord | None]:
    """Each purpose's latest record (the current state), None where never asked."""
    latest: dict[str, ConsentRecord | None] = dict.fromkeys(ConsentPurpose.values)
    for record in ConsentRecord.objects.filter(member=member).order_by("recorded_at", "pk"):
        latest[record.purpose] = record
    return latest


def member_consent_given(*, member: Member, purpose: str) -> bool | None:
    """Whether the member's latest decision on `purpose` is a grant; None if never asked."""
    record = (
        ConsentRecord.objects.filter(member=member, purpose=purpose)
        .order_by("-recorded_at", "-pk")
        .first()
    )
    return None if record is None else record.granted


def member_needs_terms(*, member: Member) -> bool:
    """True when the community published a policy version newer than the one the member
    last accepted (or they never accepted one): their next visit asks them again."""
    record = _terms_accepted.first(member.pk)
    accepted = record.policy_version if record is not None else 0
    return (accepted or 0) < member.community.policy_version


# --- organisations, staff and communities (staff side) ------------------------------------


def staff_roles_of(*, user: User) -> list[StaffRole]:
    """Every staff role the user holds, with its organisation, by organisation name.

    One query serves both the scoping mixin (which role here?) and the navbar's
    organisation switcher.
    """
    if not user.is_authenticated:
        return []
    return list(
        StaffRole.objects.select_related("organisation")
        .filter(user=user)
        .order_by("organisation__name", "organisation__pk")
    )


def team_members(*, organisation: Organisation) -> QuerySet[StaffRole]:
    """The organisation's staff with their accounts, owners first."""
    order = Case(
        *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role.values)),
        default=Value(len(Role.values)),
    )
    return (
        StaffRole.objects.for_organisation(organisation)
        .select_related("user")
        .annotate(rank=order)
        .order_by("rank", "user__email")
    )


def staff_invitations_open(*, organisation: Organisation) -> QuerySet[StaffInvitation]:
    """Invitations to the organisation's staff that are neither accepted nor revoked."""
    return (
        StaffInvitation.objects.for_organisation(organisation)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def community_list(*, organisation: Organisation) -> QuerySet[Community]:
    """The organisation's communities with their member count (erased left out)."""
    return (
        Community.objects.for_organisation(organisation)
        .annotate(
            member_count=Count(
                "members",
                filter=~Q(members__status=MemberStatus.ERASED),
            )
        )
        .order_by("name")
    )


def community_lifecycle_trend(*, community: Community, days: int = 30) -> list[LifecycleSnapshot]:
    """The community's daily lifecycle snapshots over the last `days` days, oldest first."""
    since = timezone.localdate() - timedelta(days=days - 1)
    return list(
        LifecycleSnapshot.objects.for_organisation(community.organisation_id)
        .filter(community=community, day__gte=since)
        .order_by("day")
    )


def member_status_counts_by_community(
    *, organisation: Organisation, communities: Iterable[Community]
) -> dict[int, dict[str, int]]:
    """Members per status for each community (erased left out), in one grouped query."""
    ids = [community.pk for community in communities]
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    if not ids:
        return counts
    rows = (
        Member.objects.for_organisation(organisation)
        .filter(community_id__in=ids, erased_at__isnull=True)
        .exclude(status=MemberStatus.ERASED)
        .order_by()
        .values("community_id", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        counts[row["community_id"]][row["status"]] = row["n"]
    return counts


# --- the audit log and stores ----------------------------------------------------------------


def audit_entries(
    *,
    organisation: Organisation,
    target_type: str | Iterable[str] | None = None,
    target_id: str | None = None,
    limit: int = 25,
) -> list[AuditEntry]:
    """The organisation's latest audit entries (of one target, or of these target types,
    when named), newest first."""
    entries = AuditEntry.objects.filter(organisation=organisation).select_related("actor")
    if isinstance(target_type, str):
        entries = entries.filter(target_type=target_type)
    elif target_type is not None:
        entries = entries.filter(target_type__in=list(target_type))
    if target_id is not None:
        entries = entries.filter(target_id=str(target_id))
    return list(entries.order_by("-created_at", "-id")[:limit])


def audit_log(
    *,
    organisation: Organisation,
    action: str = "",
    actor: User | None = None,
    target_type: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The organisation's audit entries matching the filters given, newest first
    (created_at, then id: the order the log's keyset pages walk)."""
    entries = AuditEntry.objects.filter(organisation=organisation)
    if action:
        entries = entries.filter(action=action)
    if actor is not None:
        entries = entries.filter(actor=actor)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries.select_related("actor").order_by("-created_at", "-id")


def audit_actors(*, organisation: Organisation) -> QuerySet[User]:
    """Whoever may appear as the "who" of the organisation's log: its staff, and anyone who
    has an entry there (a colleague since removed)."""
    logged = AuditEntry.objects.filter(organisation=organisation, actor__isnull=False)
    return (
        User.objects.filter(
            Q(staff_roles__organisation=organisation) | Q(pk__in=logged.values("actor_id"))
        )
        .distinct()
        .order_by("name", "email")
    )


def location_list(*, organisation: Organisation) -> QuerySet[Location]:
    """The organisation's stores with their managers: open ones first, then archived, by name."""
    return (
        Location.objects.for_organisation(organisation)
        .select_related("manager")
        .order_by(F("archived_at").asc(nulls_first=True), "name", "pk")
    )


def staff_users(*, organisation: Organisation) -> QuerySet[User]:
    """The accounts on the organisation's staff (any role), by name and address."""
    return User.objects.filter(staff_roles__organisation=organisation).order_by("name", "email")
