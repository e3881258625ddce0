"""What other apps do when a response is stored, registered by those apps.

surveys sits below feedback in the layering (feedback reads responses; surveys never
imports feedback), so `response_submit` cannot call the follow-up rules by name. Instead
feedback registers its reaction here when the app registry is ready (FeedbackConfig.ready),
and `response_submit` runs every registered reaction inside its transaction, in the order
they were registered. A reaction writes in the caller's transaction and defers anything
slow with `transaction.on_commit`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

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
# Whether a reaction would write nothing for a response, asked before the response is
# written (its response and answers not yet saved: no ids).
ReactionQuiet = Callable[[StoredResponse], bool]

_reactions: list[ResponseReaction] = []
_quiet: dict[ResponseReaction, ReactionQuiet] = {}


def response_reaction_register(
    reaction: ResponseReaction, *, quiet: ReactionQuiet | None = None
) -> ResponseReaction:
    """Run `reaction` for every stored response; registering twice is a no-op. `quiet`, when
    given, says beforehand that the reaction would write nothing for a response."""
    if reaction not in _reactions:
        _reactions.append(reaction)
    if quiet is not None:
        _quiet[reaction] = quiet
    return reaction


def response_reactions() -> tuple[ResponseReaction, ...]:
    return tuple(_reactions)


def response_reactions_run(stored: StoredResponse) -> None:
    for reaction in _reactions:
        reaction(stored)


def response_reactions_quiet(draft: StoredResponse) -> bool:
    """Whether no registered reaction would write anything for this response, asked before
    it is written: then the response's own statement is all the work (a reaction that
    cannot say so beforehand counts as one that writes)."""
    return all(reaction in _quiet and _quiet[reaction](draft) for reaction in _reactions)
