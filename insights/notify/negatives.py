"""What counts as negative, for threshold alerts, digests and the weekly report, and the
top negative comments per store with the minimum group size k respected."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from communities.models import Location, Organisation
from surveys.choices import QuestionType
from surveys.disclosure import enough
from surveys.models import Answer, Response

# The same lines the default follow-up rule draws: a detractor, one or two stars, one or
# two on the CSAT faces.
NEGATIVE_ANSWER = Q(question_type=QuestionType.NPS, number__lte=6) | Q(
    question_type__in=[QuestionType.STAR, QuestionType.CSAT], number__lte=2
)
TEXT_TYPES = (QuestionType.TEXT, QuestionType.SHORT_TEXT)
COMMENT_MAX_CHARS = 300


def negative_responses_at(*, location: Location, since: dt.datetime) -> int:
    """Responses at the store since `since` with at least one negative score.

    An anonymous response's time is kept only to the hour (so it cannot be joined to who
    took part), so for those the window starts at the top of its first hour: an alert may
    count up to an hour's more anonymous answers, never fewer.
    """
    hour = since.replace(minute=0, second=0, microsecond=0)
    negative = Answer.objects.filter(NEGATIVE_ANSWER, response=OuterRef("pk"))
    return (
        Response.objects.for_organisation(location.organisation_id)
        .filter(location=location)
        .filter(
            Q(is_anonymous=False, submitted_at__gte=since)
            | Q(is_anonymous=True, submitted_at__gte=hour)
        )
        .filter(Exists(negative))
        .count()
    )


@dataclass
class StoreComments:
    label: str  # the store's name; empty for answers with no store (the email names it)
    comments: list[str] = field(default_factory=list)


def _responses(*, organisation: Organisation, start: dt.date, end: dt.date) -> QuerySet:
    return Response.objects.for_organisation(organisation).filter(
        submitted_on__gte=start, submitted_on__lte=end
    )


def negative_comments(
    *,
    organisation: Organisation,
    start: dt.date,
    end: dt.date,
    per_store: int = 3,
    stores: int = 10,
) -> list[StoreComments]:
    """The most negative text answers of the period, up to `per_store` for each store (and
    one group for answers with no store), most negative first.

    k is respected: a store with fewer than k responses in the period shows nothing at
    all, and no count is shown for any store (the comments are the whole message), so
    nothing here can be subtracted from a total elsewhere.
    """
    k = organisation.min_group_size
    responses = _responses(organisation=organisation, start=start, end=end)
    sizes = responses.values("location_id").annotate(n=Count("pk")).order_by()
    big = [row["location_id"] for row in sizes if enough(row["n"], k=k)]
    if not big:
        return []
    negative = Answer.objects.for_organisation(organisation).filter(
        NEGATIVE_ANSWER, response__in=responses
    )
    in_store = Q(response__location_id__in=[pk for pk in big if pk is not None])
    if None in big:
        in_store |= Q(response__location__isnull=True)
    rows = (
        Answer.objects.for_organisation(organisation)
        .filter(question_type__in=TEXT_TYPES, response__in=responses)
        .filter(in_store)
        .exclude(text="")
        .filter(Q(sentiment__lt=0) | Q(response_id__in=negative.values("response_id")))
        .order_by(F("sentiment").asc(nulls_last=True), "-response__submitted_at", "-pk")
        .values_list("text", "response__location_id", "response__location__name")
    )
    found: dict[int | None, StoreComments] = {}
    # Enough rows for every store's share, in one query; the rare store whose comments
    # all rank below this many others' shows fewer.
    for text, location_id, name in rows[: per_store * stores * 4]:
        group = found.get(location_id)
        if group is None:
            if len(found) >= stores:
                continue
            group = found[location_id] = StoreComments(label=name or "")
        if len(group.comments) < per_store:
            text = " ".join(text.split())
            if len(text) > COMMENT_MAX_CHARS:
                text = text[: COMMENT_MAX_CHARS - 1] + "…"
            group.comments.append(text)
    return sorted(found.values(), key=lambda group: (not group.label, group.label.casefold()))
