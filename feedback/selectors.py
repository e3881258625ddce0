"""Reads for the staff case pages: the inbox with its filters and sorts, the staff a case
may be given to, and one case with everything its page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.db import models
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from communities.models import Organisation, StaffRole, User
from communities.permissions import WORK_CASES_ROLES
from feedback.choices import CASE_DONE_STATUSES, CasePriority
from feedback.models import Case, CaseEvent, RootCause, Team
from feedback.reasons import CODES, reason_make, reason_render
from surveys.models import Answer

# The inbox's pseudo-status: every case still being worked (neither resolved nor closed).
NOT_RESOLVED = "active"
OWNER_ME, OWNER_NONE = "me", "unassigned"
SORT_NEWEST, SORT_OLDEST, SORT_PRIORITY, SORT_DUE = "newest", "oldest", "priority", "due"

_PRIORITY_RANK = models.Case(
    When(priority=CasePriority.HIGH, then=Value(0)),
    When(priority=CasePriority.NORMAL, then=Value(1)),
    default=Value(2),
    output_field=models.IntegerField(),
)
# Every sort ends on the id, so a page boundary never splits cases that tie.
_ORDERINGS = {
    SORT_NEWEST: ("-created_at", "-id"),
    SORT_OLDEST: ("created_at", "id"),
    SORT_PRIORITY: ("priority_rank", "-created_at", "-id"),
    SORT_DUE: (F("due_at").asc(nulls_last=True), "id"),
}


INBOX_COLUMNS = (
    "organisation_id",
    "status",
    "priority",
    "reasons",
    "reason_text",
    "due_at",
    "first_response_due_at",
    "first_response_at",
    "created_at",
    "response__survey__title",
    "response__location__name",
    "assignee__name",
    "assignee__email",
    "team__name",
)


@dataclass(frozen=True, kw_only=True)
class CaseFilters:
    """What the inbox is narrowed to; every field left empty narrows nothing."""

    status: str = ""
    priority: str = ""
    # OWNER_ME, OWNER_NONE, or a user id.
    owner: str | int = ""
    team: int | None = None
    survey: int | None = None
    location: int | None = None
    overdue: bool = False
    created_from: date | None = None
    created_to: date | None = None
    search: str = ""
    sort: str = SORT_NEWEST


def _day_start(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _search_q(text: str) -> Q:
    """A case's id (with or without "#"), or words of why it was opened: the reasons are
    data, so the words are matched against each reason's name in the reader's language
    (and its code), and the text kept from before reasons were data is searched too."""
    text = text.strip()
    found = Q(reason_text__icontains=text)
    digits = text.removeprefix("#")
    if digits.isdigit() and len(digits) <= 18:
        found |= Q(pk=int(digits))
    needle = text.casefold()
    for code in sorted(CODES):
        label = reason_render(reason_make(code=code)).casefold()
        if needle in code or needle in label:
            # Stored JSON reads `"code": "nps"` on both SQLite and PostgreSQL (jsonb::text).
            found |= Q(reasons_text__contains=f'"code": "{code}"')
    return found


def case_inbox(
    *,
    organisation: Organisation,
    user: User,
    filters: CaseFilters,
    time_zone: tzinfo,
    now: datetime | None = None,
) -> QuerySet[Case]:
    """The organisation's cases narrowed by `filters` (dates are days in `time_zone`, "me"
    is `user`), sorted as asked, with what a row of the inbox shows joined in: the survey,
    store and owner, and the response's lowest sentiment (`sentiment`)."""
    now = now or timezone.now()
    lowest = (
        Answer.objects.filter(response=OuterRef("response_id"), sentiment__isnull=False)
        .order_by("sentiment")
        .values("sentiment")[:1]
    )
    cases = (
        Case.objects.for_organisation(organisation)
        .select_related("response__survey", "response__location", "assignee", "team")
        # Only the columns a row shows: a page of 50 reads no answers, texts or notes.
        .only(*INBOX_COLUMNS)
        .annotate(sentiment=Subquery(lowest))
    )
    if filters.status == NOT_RESOLVED:
        cases = cases.exclude(status__in=CASE_DONE_STATUSES)
    elif filters.status:
        cases = cases.filter(status=filters.status)
    if filters.priority:
        cases = cases.filter(priority=filters.priority)
    if filters.owner == OWNER_ME:
        cases = cases.filter(assignee=user)
    elif filters.owner == OWNER_NONE:
        cases = cases.filter(assignee__isnull=True)
    elif filters.owner:
        cases = cases.filter(assignee_id=int(filters.owner))
    if filters.team:
        cases = cases.filter(team_id=filters.team)
    if filters.survey:
        cases = cases.filter(response__survey_id=filters.survey)
    if filters.location:
        cases = cases.filter(response__location_id=filters.location)
    if filters.overdue:
        cases = cases.filter(case_overdue_q(now=now))
    if filters.created_from:
        cases = cases.filter(created_at__gte=_day_start(filters.created_from, time_zone))
    if filters.created_to:
        end = _day_start(filters.created_to + timedelta(days=1), time_zone)
        cases = cases.filter(created_at__lt=end)
    if filters.search.strip():
        cases = cases.annotate(reasons_text=Cast("reasons", models.TextField())).filter(
            _search_q(filters.search)
        )
    ordering = _ORDERINGS.get(filters.sort, _ORDERINGS[SORT_NEWEST])
    if filters.sort == SORT_PRIORITY:
        cases = cases.annotate(priority_rank=_PRIORITY_RANK)
    return cases.order_by(*ordering)


def case_overdue_q(*, now: datetime) -> Q:
    """A case past an SLA target: still being worked, and past its resolution due time or
    still without a first response past that one's due time."""
    return ~Q(status__in=CASE_DONE_STATUSES) & (
        Q(due_at__lt=now) | Q(first_response_at__isnull=True, first_response_due_at__lt=now)
    )


def case_teams(*, organisation: Organisation) -> QuerySet[Team]:
    """The organisation's teams, by name, with their lead."""
    return Team.objects.for_organisation(organisation).select_related("lead").order_by("name", "id")


def root_causes(*, organisation: Organisation, active_only: bool = True) -> QuerySet[RootCause]:
    """The organisation's root causes by name (only those offered when resolving, unless
    `active_only` is False)."""
    causes = RootCause.objects.for_organisation(organisation).order_by("name", "id")
    return causes.filter(active=True) if active_only else causes


def case_staff(*, organisation: Organisation) -> list[User]:
    """The active staff of the organisation who work cases (owners, admins, agents): whom a
    case may be given to, and whom a note may mention. One query."""
    roles = (
        StaffRole.objects.for_organisation(organisation)
        .filter(role__in=WORK_CASES_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )
    return [role.user for role in roles]


def case_page(*, organisation: Organisation) -> QuerySet[Case]:
    """The cases with everything a case's page shows: the response (survey, channel, store,
    member, invitation), its answers in question order, and the timeline, in a fixed
    number of queries."""
    answers = (
        Answer.objects.select_related("question")
        .prefetch_related("choices")
        .order_by("question__position", "id")
    )
    return (
        Case.objects.for_organisation(organisation)
        .select_related(
            "assignee",
            "team__lead",
            "root_cause",
            "response__survey",
            "response__channel",
            "response__location",
            "response__member",
            "response__invitation",
        )
        .prefetch_related(
            Prefetch("response__answers", queryset=answers),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        )
    )
