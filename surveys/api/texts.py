"""A survey's texts through the API: one object per text, a member per language Chorus speaks
({"en": "…", "th": "…"}), as the models keep them; typed, so the schema names each language.

A text in a language the survey does not use is dropped when it is saved, as on the staff
pages; a language Chorus does not speak is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from communities.api.serializers import StrictCharField, StrictInput
from surveys.services.builder import (
    CHOICE_LABEL_MAX_LENGTH,
    QUESTION_TEXT_MAX_LENGTH,
    SCALE_LABEL_MAX_LENGTH,
    THANK_YOU_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class _Texts(StrictInput):
    """Only the languages Chorus speaks (the schema: additionalProperties false)."""

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in LANGUAGE_CODES)
            if unknown:
                message = _("Not a language Chorus speaks (%(codes)s).") % {
                    "codes": ", ".join(LANGUAGE_CODES)
                }
                raise serializers.ValidationError({key: [message] for key in unknown})
        return super().to_internal_value(data)


def _texts_serializer(name: str, max_length: int, doc: str) -> type[serializers.Serializer]:
    fields = {
        code: StrictCharField(
            required=False,
            allow_blank=True,
            max_length=max_length,
            help_text=str(language),
        )
        for code, language in settings.LANGUAGES
    }
    return type(name, (_Texts,), {"__doc__": doc, "__module__": __name__, **fields})


TitleTexts = _texts_serializer("TitleTexts", TITLE_MAX_LENGTH, "A survey's title per language.")
ThankYouTexts = _texts_serializer(
    "ThankYouTexts", THANK_YOU_MAX_LENGTH, "The text shown after answering, per language."
)
QuestionTexts = _texts_serializer(
    "QuestionTexts", QUESTION_TEXT_MAX_LENGTH, "A question's wording per language."
)
ChoiceLabels = _texts_serializer(
    "ChoiceLabels", CHOICE_LABEL_MAX_LENGTH, "An answer to choose, per language."
)
ScaleLabels = _texts_serializer(
    "ScaleLabels", SCALE_LABEL_MAX_LENGTH, "A scale end's label (e.g. 'Not likely'), per language."
)


def texts_merged(current: Mapping[str, str] | None, given: Mapping[str, str]) -> dict[str, str]:
    """A PATCH of a text: languages left out keep their text; an empty one removes it."""
    return {**(current or {}), **given}
