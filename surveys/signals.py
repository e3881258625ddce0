"""Plumbing: a change to a question or a choice bumps its survey's revision, which is part
of the key under which every process keeps the compiled survey (surveys.compiled)."""

from __future__ import annotations

from django.db.models import F

from surveys.compiled import compiled_forget
from surveys.models import Choice, Question, Survey


def survey_revision_bump(*, survey_id: int) -> None:
    """Every process's key for the survey moves; this one also drops what it kept, for
    survey objects loaded before the change."""
    Survey.objects.filter(pk=survey_id).update(revision=F("revision") + 1)
    compiled_forget()


def _question_changed(sender, instance: Question, **kwargs) -> None:
    survey_revision_bump(survey_id=instance.survey_id)


def _choice_changed(sender, instance: Choice, **kwargs) -> None:
    Survey.objects.filter(questions=instance.question_id).update(revision=F("revision") + 1)
    compiled_forget()


def signals_connect() -> None:
    from django.db.models.signals import post_delete, post_save

    for signal in (post_save, post_delete):
        signal.connect(_question_changed, sender=Question, dispatch_uid=f"q-{signal!r}")
        signal.connect(_choice_changed, sender=Choice, dispatch_uid=f"c-{signal!r}")
