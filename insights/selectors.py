"""The organisation dashboard's figures: headline, trend and breakdowns over one filtered
set of responses, every figure from surveys.metrics and every cell through
surveys.disclosure.

A fixed number of queries whatever the data: one statement for every breakdown of the
period (by survey, language, store × channel, which also gives the channel totals and,
summed, the headline, and the monthly trend; insights.rollups.read `grouped_sets`), one
aggregate for the previous period, one per-day grouping for a trend by day or week (weeks
are summed from days, whose components add up), one for invitations, one for the
surveys' titles, and the filter's choices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from communities.choices import MemberStatus
from communities.models import Member, Organisation, Segment
from communities.selectors import members_matching
from insights.rollups.read import Source, rollup_source, rollup_state
from rewards.models import Tier
from surveys.choices import ChannelKind
from surveys.disclosure import (
    Cell,
    StoreRow,
    enough,
    is_small,
    line_cells,
    store_table,
    suppress_line,
)
from surveys.metrics import Figures, components_add, figures_from, metric_aggregates
from surveys.metrics import response_rate as rate_of
from surveys.models import Response, Survey, SurveyInvitation

INTERVALS = ("day", "week", "month")


@dataclass(frozen=True)
class DashboardFilters:
    start: dt.date
    end: dt.date  # inclusive
    interval: str = ""  # "" picks one by the range's length
    survey: int | None = None
    channel: str | None = None
    location: int | None = None
    language: str | None = None
    # Who answered (insights.selectors, "Breakdowns by who answered"): read live.
    segment: int | None = None
    status: str | None = None
    tier: int | None = None
    members: bool = False  # show the breakdowns by segment, lifecycle status and tier

    @property
    def by_member(self) -> bool:
        return self.segment is not None or bool(self.status) or self.tier is not None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> DashboardFilters:
        """The period of the same length just before, with the same filters."""
        end = self.start - dt.timedelta(days=1)
        return replace(self, start=end - dt.timedelta(days=self.days - 1), end=end)

    @property
    def bucket(self) -> str:
        if self.interval in INTERVALS:
            return self.interval
        if self.days <= 31:
            return "day"
        return "week" if self.days <= 183 else "month"


def interval_start(day: dt.date, interval: str) -> dt.date:
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


@dataclass
class Headline:
    responses: int
    nps: float | None
    csat: float | None
    csat_mean: float | None
    stars: float | None
    stars_distribution: list[tuple[int, int | None]]
    response_rate: float | None
    invitations_sent: int | None


@dataclass
class Change:
    """A headline figure beside the previous period's (None where either is withheld)."""

    name: str
    label: str
    now: float | None
    before: float | None

    @property
    def delta(self) -> float | None:
        if self.now is None or self.before is None:
            return None
        return round(self.now - self.before, 1)


@dataclass
class Dashboard:
    filters: DashboardFilters
    k: int
    withheld: bool  # fewer than k responses: no figures at all
    headline: Headline | None = None
    changes: list[Change] = field(default_factory=list)
    trend: list[Cell] = field(default_factory=list)
    by_survey: list[Cell] = field(default_factory=list)
    by_channel: list[Cell] = field(default_factory=list)
    by_language: list[Cell] = field(default_factory=list)
    channels: list[tuple[str, str]] = field(default_factory=list)
    by_store: list[StoreRow] = field(default_factory=list)
    by_segment: list[Cell] = field(default_factory=list)
    by_status: list[Cell] = field(default_factory=list)
    by_tier: list[Cell] = field(default_factory=list)


def responses_filtered(*, organisation: Organisation, filters: DashboardFilters) -> QuerySet:
    """The organisation's responses the filters select (the public link counted as a link
    channel: answers with no channel came through it)."""
    return members_apply(
        filters_apply(Response.objects.for_organisation(organisation), filters=filters),
        organisation=organisation,
        filters=filters,
    )


def filters_apply(rows: QuerySet, *, filters: DashboardFilters) -> QuerySet:
    """The filters on responses."""
    return others_apply(
        rows.filter(submitted_on__gte=filters.start, submitted_on__lte=filters.end),
        filters=filters,
    )


def others_apply(responses: QuerySet, *, filters: DashboardFilters) -> QuerySet:
    """The filters but the dates, on responses or on roll-up rows (named alike)."""
    if filters.survey is not None:
        responses = responses.filter(survey_id=filters.survey)
    if filters.channel == ChannelKind.LINK:
        responses = responses.filter(Q(channel__isnull=True) | Q(channel__kind=ChannelKind.LINK))
    elif filters.channel:
        responses = responses.filter(channel__kind=filters.channel)
    if filters.location is not None:
        responses = responses.filter(location_id=filters.location)
    if filters.language:
        responses = responses.filter(language=filters.language)
    return responses


def _invitations(*, organisation: Organisation, filters: DashboardFilters) -> dict[str, int]:
    """Invitations sent in this period and the previous one, and how many were answered."""
    previous = filters.previous
    # Bounds in the current time zone (what `sent_at__date` compares in), as instants, so
    # the (survey, sent_at) index can serve: a cast of every row's sent_at could not.
    invitations = SurveyInvitation.objects.for_organisation(organisation).filter(
        sent_at__gte=_midnight(previous.start),
        sent_at__lt=_midnight(filters.end + dt.timedelta(days=1)),
    )
    if filters.survey is not None:
        invitations = invitations.filter(survey_id=filters.survey)
    if filters.channel:
        invitations = invitations.filter(channel__kind=filters.channel)
    if filters.location is not None:
        invitations = invitations.filter(channel__location_id=filters.location)
    if filters.language:
        invitations = invitations.filter(language=filters.language)
    now = Q(sent_at__gte=_midnight(filters.start))
    before = Q(sent_at__lt=_midnight(filters.start))
    answered = Q(responded_at__isnull=False)
    return invitations.aggregate(
        sent=Count("pk", filter=now),
        answered=Count("pk", filter=now & answered),
        sent_before=Count("pk", filter=before),
        answered_before=Count("pk", filter=before & answered),
    )


def _midnight(day: dt.date) -> dt.datetime:
    """The instant the day begins in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _rate(*, sent: int, answered: int, k: int) -> float | None:
    # Both who answered and who did not must be groups of k or none.
    if not enough(sent, k=k) or is_small(answered, k=k) or is_small(sent - answered, k=k):
        return None
    return rate_of(sent=sent, answered=answered)


def _headline(*, figures: Figures, sent: int, answered: int, k: int) -> Headline:
    distribution = figures.stars_distribution
    stars_shown = enough(figures.stars_answers, k=k)
    hidden = suppress_line(distribution, k=k) if stars_shown else set(distribution)
    return Headline(
        responses=figures.responses,
        nps=figures.nps if enough(figures.nps_answers, k=k) else None,
        csat=figures.csat if enough(figures.csat_answers, k=k) else None,
        csat_mean=figures.csat_mean if enough(figures.csat_answers, k=k) else None,
        stars=figures.stars if stars_shown else None,
        stars_distribution=[
            (value, None if value in hidden else n) for value, n in distribution.items()
        ],
        response_rate=_rate(sent=sent, answered=answered, k=k),
        invitations_sent=sent if enough(sent, k=k) else None,
    )


STORE_KEYS = ("location_id", "location__name", "channel__kind")


def dashboard(*, organisation: Organisation, filters: DashboardFilters) -> Dashboard:
    """The dashboard's figures for the filters, with every small group withheld."""
    k = organisation.min_group_size
    state = rollup_state()
    source = _source(organisation=organisation, filters=filters, state=state)
    interval = filters.bucket
    # Every breakdown of the period in one statement (insights.rollups.read). Month rows
    # are keyed by the month's first day: right for a monthly trend only, so a trend by day
    # or week reads the day rows in a query of its own.
    sets = {"survey": ("survey_id",), "language": ("language",), "store": STORE_KEYS}
    if interval == "month":
        sets["trend"] = ("submitted_on",)
    grouped = source.grouped_sets(sets)
    # Each response lies in exactly one survey: the surveys' sum is the whole period.
    now = figures_from(components_add(grouped["survey"]))
    if not enough(now.responses, k=k):
        return Dashboard(filters=filters, k=k, withheld=True)
    before = figures_from(
        _source(organisation=organisation, filters=filters.previous, state=state).aggregate()
    )
    invitations = _invitations(organisation=organisation, filters=filters)
    headline = _headline(
        figures=now, sent=invitations["sent"], answered=invitations["answered"], k=k
    )
    board = Dashboard(filters=filters, k=k, withheld=False, headline=headline)
    if enough(before.responses, k=k):
        earlier = _headline(
            figures=before,
            sent=invitations["sent_before"],
            answered=invitations["answered_before"],
            k=k,
        )
    else:
        earlier = None
    for name, label in (
        ("responses", _("Responses")),
        ("nps", _("NPS")),
        ("csat", _("CSAT (percent satisfied)")),
        ("stars", _("Average stars")),
        ("response_rate", _("Response rate (%)")),
    ):
        board.changes.append(
            Change(
                name=name,
                label=label,
                now=getattr(headline, name),
                before=getattr(earlier, name) if earlier else None,
            )
        )

    # The trend: every interval of the range, empty ones too, so the axis has no holes.
    if "trend" in grouped:
        days = grouped["trend"]
    else:
        days = _source(
            organisation=organisation, filters=filters, state=state, months=False
        ).grouped("submitted_on")
    buckets: dict[dt.date, list] = {}
    day = filters.start
    while day <= filters.end:
        buckets.setdefault(interval_start(day, interval), [])
        day += dt.timedelta(days=1)
    for row in days:
        buckets[interval_start(row["submitted_on"], interval)].append(row)
    board.trend = line_cells(
        {start: components_add(rows) for start, rows in buckets.items()},
        {start: start.isoformat() for start in buckets},
        k=k,
    )

    surveys = grouped["survey"]
    titles = {
        survey.pk: survey.title_text
        for survey in Survey.objects.for_organisation(organisation).filter(
            pk__in=[row["survey_id"] for row in surveys]
        )
    }
    board.by_survey = sorted(
        line_cells({row["survey_id"]: row for row in surveys}, titles, k=k), key=lambda c: c.label
    )
    languages = {
        row["language"]: row for row in sorted(grouped["language"], key=lambda r: r["language"])
    }
    board.by_language = line_cells(languages, {code: code for code in languages}, k=k)
    table = store_table(grouped=grouped["store"], no_store=_("No store"), k=k)
    board.channels, board.by_channel, board.by_store = table.channels, table.by_channel, table.rows
    if filters.members:
        _by_member(board=board, organisation=organisation, filters=filters, k=k)
    return board


def _source(
    *, organisation: Organisation, filters: DashboardFilters, state, months: bool = True
) -> Source:
    if filters.by_member:
        # The roll-ups know no member: a filter on who answered is read live.
        return Source(
            rolled=(), tail=responses_filtered(organisation=organisation, filters=filters)
        )
    return rollup_source(
        organisation=organisation,
        start=filters.start,
        end=filters.end,
        narrow=lambda rows: others_apply(rows, filters=filters),
        state=state,
        months=months,
    )


# --- Breakdowns by who answered ---------------------------------------------------------
#
# Segments, lifecycle status and tier describe members, and change without any response
# changing (a segment is a live filter over members; the lifecycle task moves members
# between statuses; tiers are recomputed from points), so they are not roll-up
# dimensions. They are read live: the responses the other filters select, joined to their
# member (and the member's standing for the tier) over the responses' member foreign key
# index, one grouped query for status, one for tier, and one aggregate per segment (at
# most SEGMENTS_SHOWN). They are computed only when asked for (`members=1` in the URL) so
# the everyday dashboard stays on the roll-ups. An anonymous response is never linked to
# a member, so it belongs to no segment, no status and no tier: it is counted only in the
# "not linked to a member" row of the status and tier tables. Every table goes through
# the same disclosure rules, with k the organisation's minimum group size.

SEGMENTS_SHOWN = 20


def members_apply(
    responses: QuerySet, *, organisation: Organisation, filters: DashboardFilters
) -> QuerySet:
    """The filters on who answered: a segment's members, a lifecycle status, a tier."""
    if filters.segment is not None:
        responses = responses.filter(
            member__in=_segment_members(organisation=organisation, segment_id=filters.segment)
        )
    if filters.status:
        responses = responses.filter(member__status=filters.status)
    if filters.tier is not None:
        responses = responses.filter(member__standing__tier_id=filters.tier)
    return responses


def _segment_members(*, organisation: Organisation, segment_id: int) -> QuerySet:
    segment = (
        Segment.objects.for_organisation(organisation)
        .select_related("community")
        .filter(pk=segment_id)
        .first()
    )
    if segment is None:
        return Member.objects.none().values("pk")
    try:
        return members_matching(community=segment.community, filter=segment.filter).values("pk")
    except ValueError:  # a filter shape the segment editor would refuse: matches no one
        return Member.objects.none().values("pk")


def _by_member(
    *, board: Dashboard, organisation: Organisation, filters: DashboardFilters, k: int
) -> None:
    responses = responses_filtered(organisation=organisation, filters=filters)
    aggregates = metric_aggregates()
    nobody = _("Not linked to a member (anonymous)")

    statuses = {
        row["member__status"] or "": row
        for row in responses.values("member__status").annotate(**aggregates).order_by()
    }
    status_labels = {"": nobody, **{value: str(label) for value, label in MemberStatus.choices}}
    board.by_status = sorted(
        line_cells(statuses, {key: status_labels.get(key, key) for key in statuses}, k=k),
        key=lambda cell: (cell.key == "", cell.label),
    )

    tiers = {
        row["member__standing__tier_id"]: row
        for row in responses.values("member__standing__tier_id").annotate(**aggregates).order_by()
    }
    language = get_language() or "en"
    tier_labels = {
        tier.pk: tier.name_in(language)
        for tier in Tier.objects.for_organisation(organisation).filter(pk__in=list(tiers))
    }
    tier_labels[None] = _("No tier, or not a member")
    board.by_tier = sorted(
        line_cells(tiers, {key: tier_labels.get(key, str(key)) for key in tiers}, k=k),
        key=lambda cell: (cell.key is None, cell.label),
    )

    segments = list(
        Segment.objects.for_organisation(organisation).order_by("name")[:SEGMENTS_SHOWN]
    )
    rows = {
        segment.pk: responses.filter(
            member__in=_segment_members(organisation=organisation, segment_id=segment.pk)
        ).aggregate(**aggregates)
        for segment in segments
    }
    rows = {key: row for key, row in rows.items() if row["responses"]}
    board.by_segment = line_cells(rows, {s.pk: s.name for s in segments}, k=k)
