"""Respondents read every page and email in English, Thai, Hebrew or Japanese."""

import gettext as gettext_module
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from communities.outbox.models import OutboundEmail
from tests.surveys.helpers import answers_for

pytestmark = pytest.mark.django_db

LOCALES = ["th", "he", "ja"]
CATALOGUE = str(Path(settings.BASE_DIR) / "locale" / "{}" / "LC_MESSAGES" / "django.{}")


def url(survey, language):
    return reverse("surveys:survey_respond", args=[survey.public_id]) + f"?lang={language}"


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return gettext(message)


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def po_entries(path: Path) -> list[dict]:
    """Every entry but the header of a .po file: context, msgid, msgstrs and fuzziness."""
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry and entry["msgid"]:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry or {"msgctxt": None, "msgid": "", "msgstr": [], "fuzzy": False}
        if line.startswith("#,"):
            entry["fuzzy"] = entry["fuzzy"] or "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+"(.*)"$', line):
            field, text = match.groups()
            if field.startswith("msgstr"):
                entry["msgstr"].append(text)
            elif field in ("msgctxt", "msgid"):
                entry[field] = text
        elif line.startswith('"') and field:
            if field.startswith("msgstr"):
                entry["msgstr"][-1] += line[1:-1]
            elif field in ("msgctxt", "msgid"):
                entry[field] += line[1:-1]
    return entries


@pytest.mark.parametrize("language", LOCALES)
def test_every_message_is_translated_and_compiled(language):
    po = Path(CATALOGUE.format(language, "po"))
    entries = po_entries(po)
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if e["fuzzy"]]
    assert untranslated == [] and fuzzy == []
    with open(CATALOGUE.format(language, "mo"), "rb") as mo:
        compiled = gettext_module.GNUTranslations(mo)

    def compiled_text(entry: dict) -> str:
        msgid = unescape(entry["msgid"])
        if entry["msgctxt"] is not None:
            return compiled.pgettext(unescape(entry["msgctxt"]), msgid)
        return compiled.gettext(msgid)

    stale = [
        e["msgid"]
        for e in entries
        if len(e["msgstr"]) == 1 and compiled_text(e) != unescape(e["msgstr"][0])
    ]
    assert stale == [], "run `make messages` to compile the catalogue"


@pytest.mark.parametrize("language", LOCALES)
def test_survey_page_speaks_the_links_language(client, survey, language):
    # when
    page = client.get(url(survey, language))
    # then
    html = page.content.decode()
    assert f'<html lang="{language}"' in html
    for message in ("Send my answers", "(required)", "Not at all likely"):
        translated = in_language(language, message)
        assert translated != message
        assert translated in html


def test_hebrew_page_is_right_to_left(client, survey):
    html = client.get(url(survey, "he")).content.decode()
    assert 'dir="rtl"' in html
    assert "bootstrap.rtl.min.css" in html


@pytest.mark.parametrize("language", LOCALES)
def test_validation_errors_are_in_the_respondents_language(client, survey, language):
    # given a submission that leaves the required NPS question out
    data = answers_for(survey)
    del data[next(k for k in data if k.startswith("q_"))]
    # when
    page = client.post(url(survey, language), data)
    # then
    html = page.content.decode()
    assert page.status_code == 400
    assert in_language(language, "Please answer this question.") in html
    assert "Please answer this question." not in html


@pytest.mark.parametrize("language", LOCALES)
def test_followup_email_is_written_in_the_language_of_the_answer(
    member_client, survey, language, django_capture_on_commit_callbacks
):
    # given a detractor who agreed to be contacted, answering in `language`
    data = answers_for(survey, nps=2)
    data["consent_to_contact"] = "on"
    # when
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(url(survey, language), data)
    # then
    email = OutboundEmail.objects.get()
    assert email.language == language
    english = "what went wrong?"
    assert english not in email.subject
    assert survey.organisation.name in email.subject
    assert english not in email.body_text
