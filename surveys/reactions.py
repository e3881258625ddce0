"""What other apps do when a response is stored, registered by those apps.

surveys sits below feedback in the layering (feedback reads responses; surveys never
imports feedback), so `response_submit` cannot call the follow-up rules by name. Instead
feedback registers its reaction here when the app registry is ready (FeedbackConfig.ready),
and `response_submit` runs every registered reaction inside its transaction, in the order
they were registered. A reaction writes in the caller's transaction and defers anything
slow with `transaction.on_commit`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from surveys.models import Answer, Response


@dataclass(frozen=True)
class StoredResponse:
    """A response just written, with what `response_submit` already holds in memory."""

    response: Response
    answers: list[Answer]
    choice_ids: set[int]
    # When it was stored; for a pooled answer, the coarse time of its batch, which every
    # row derived from it (analysis, case) takes too.
    submitted_at: datetime
    # Released from the anonymous pool in a batch (a worker, not a request): analyse now
    # rather than in another task, so no per-response time is recorded.
    pooled: bool = False
    # The respondent ticked consent-to-contact on this very answer, recorded in the same
    # transaction: it is their latest word, so nobody needs to read it back.
    consent_just_given: bool = False


ResponseReaction = Callable[[StoredResponse], None]


@dataclass(frozen=True)
class Rider:
    """What a reaction writes for a response, said before the response is written, as part
    of the response's own statement (PostgreSQL's data-modifying CTEs, surveys.services.
    statements): `ctes` are "name AS (…)" definitions, each name starting with the prefix
    the reaction was given, that read the new response's id as `r.id` (so they write
    nothing when the response is not written), with `params` in their order. A rider with
    no CTEs writes nothing."""

    ctes: tuple[str, ...] = ()
    params: tuple[Any, ...] = ()


# Writes nothing for this response.
QUIET = Rider()
# Whether a reaction's writes for a response can be said before it is written (its response
# and answers not yet saved: no ids), and what they are: a Rider, or None when the reaction
# has to run after the response is written, in its transaction. Given the response and the
# prefix its CTE names start with.
ReactionRide = Callable[[StoredResponse, str], Rider | None]

# What a reaction works out about a response before it is written, outside its transaction
# (on SQLite that transaction holds the one writer's turn), handed back to the reaction as
# `prepared` when it runs; None when it cannot say beforehand.
ReactionPrepare = Callable[[StoredResponse], Any]

_reactions: list[ResponseReaction] = []
_ride: dict[ResponseReaction, ReactionRide] = {}
_prepare: dict[ResponseReaction, ReactionPrepare] = {}


def response_reaction_register(
    reaction: ResponseReaction,
    *,
    ride: ReactionRide | None = None,
    prepare: ReactionPrepare | None = None,
) -> ResponseReaction:
    """Run `reaction` for every stored response; registering twice is a no-op. `ride`, when
    given, says beforehand what the reaction would write for a response (see Rider);
    `prepare` works out beforehand what the reaction then takes as `prepared`."""
    if reaction not in _reactions:
        _reactions.append(reaction)
    if ride is not None:
        _ride[reaction] = ride
    if prepare is not None:
        _prepare[reaction] = prepare
    return reaction


def response_reactions() -> tuple[ResponseReaction, ...]:
    return tuple(_reactions)


def response_reactions_prepare(draft: StoredResponse) -> tuple[Any, ...]:
    """What each registered reaction works out before the response is written (its
    `prepare`), in their order: None for one without, or that cannot say."""
    return tuple(_prepare[r](draft) if r in _prepare else None for r in _reactions)


def response_reactions_run(stored: StoredResponse, prepared: Sequence[Any] = ()) -> None:
    """Run every reaction, each given what response_reactions_prepare worked out for it."""
    for index, reaction in enumerate(_reactions):
        ready = prepared[index] if index < len(prepared) else None
        if ready is None:
            reaction(stored)
        else:
            reaction(stored, prepared=ready)


def response_reactions_riders(draft: StoredResponse) -> list[Rider] | None:
    """What every registered reaction would write for this response, asked before it is
    written: the riders of those that write something, or None when one of them cannot say
    (a reaction registered without `ride` counts as one that cannot)."""
    riders = []
    for index, reaction in enumerate(_reactions):
        ride = _ride.get(reaction)
        rider = ride(draft, f"x{index}_") if ride is not None else None
        if rider is None:
            return None
        if rider.ctes:
            riders.append(rider)
    return riders
