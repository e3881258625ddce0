"""Keep the roll-ups equal to the responses when a folded response or answer changes.

Where responses change after they are written (found by reading every write to them):
- member erasure (surveys.member_part) clears the member, invitation and consent and
  marks the response anonymous: nothing the roll-ups hold (they carry no identity);
- a survey is deleted only as a draft without responses, and an answered question is
  hidden, never deleted (surveys.services.builder); when a survey or an organisation
  goes anyway (the admin), its roll-up rows go with it by the same CASCADE;
- a store or a channel deleted sets the responses' foreign key to NULL; the roll-up rows'
  keys have the same SET_NULL, so they move with them;
- the analysis redrive (feedback.services.followup) may score a text answer late, and the
  admin may edit or delete a response or an answer: these go through Model.save() /
  delete(), and the receivers below mark the survey-day dirty, in the same transaction.
  Readers then read that survey-day live until the next fold recomputes it, so figures
  are exact at all times.

These receivers are plumbing in the sense of the house style (a cache kept valid), not a
story: the submit path writes with plain INSERTs and sends no signal, so it gains no
statement. A change made with QuerySet.update() sends no signal; whoever writes one that
moves a metric calls `rollups_mark_dirty` (or runs `manage.py rollups_rebuild`).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models.signals import post_delete, pre_save
from django.dispatch import receiver

from insights.models import RollupState
from surveys.models import Answer, Response

# Changing only these fields moves no figure the roll-ups hold.
IDENTITY_FIELDS = frozenset(
    {"member", "invitation", "consent_to_contact", "is_anonymous", "analysed_at"}
)


def _is_folded(response_id: int | None) -> bool:
    if response_id is None:
        return False
    state = RollupState.objects.filter(pk=1).first()
    if state is None or response_id > state.watermark:
        return False
    return response_id not in state.pending_ids


@transaction.atomic
def rollups_mark_dirty(*, organisation_id: int, survey_id: int, day: dt.date) -> None:
    """Have readers read this survey-day live until the next fold recomputes it (in the
    caller's transaction, so the mark and the change commit together)."""
    state = RollupState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        return  # nothing folded yet: every response is read live
    mark = [organisation_id, survey_id, day.isoformat()]
    if mark not in state.dirty:
        state.dirty = [*state.dirty, mark]
        state.save(update_fields=["dirty"])


def _mark(response_id: int) -> None:
    row = Response.objects.filter(pk=response_id).values(
        "organisation_id", "survey_id", "submitted_on"
    )
    for found in row:
        rollups_mark_dirty(
            organisation_id=found["organisation_id"],
            survey_id=found["survey_id"],
            day=found["submitted_on"],
        )


@receiver(pre_save, sender=Response, dispatch_uid="rollups_response_pre_save")
def _response_changing(sender, instance: Response, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        return
    if update_fields is not None and set(update_fields) <= IDENTITY_FIELDS:
        return  # before any query: the analysis marks every response so
    if not _is_folded(instance.pk):
        return
    _mark(instance.pk)  # the survey-day it leaves
    rollups_mark_dirty(
        organisation_id=instance.organisation_id,
        survey_id=instance.survey_id,
        day=instance.submitted_on,
    )  # and the one it lands in


@receiver(post_delete, sender=Response, dispatch_uid="rollups_response_deleted")
def _response_deleted(sender, instance: Response, **kwargs):
    if _is_folded(instance.pk):
        rollups_mark_dirty(
            organisation_id=instance.organisation_id,
            survey_id=instance.survey_id,
            day=instance.submitted_on,
        )


@receiver(pre_save, sender=Answer, dispatch_uid="rollups_answer_pre_save")
def _answer_changing(sender, instance: Answer, raw=False, **kwargs):
    if not raw and _is_folded(instance.response_id):
        _mark(instance.response_id)


@receiver(post_delete, sender=Answer, dispatch_uid="rollups_answer_deleted")
def _answer_deleted(sender, instance: Answer, **kwargs):
    if _is_folded(instance.response_id):
        _mark(instance.response_id)
