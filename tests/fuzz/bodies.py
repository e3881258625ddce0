"""Whole request bodies for the respondent pages, built from a survey's own questions so a
good share of them get past the first check and reach the service behind it."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from hypothesis import strategies as st

from surveys.choices import CHOICE_TYPES
from surveys.models import Question, Survey
from tests.fuzz.strategies import any_text, field_value, huge_text, numberish, unicode_text

LANGUAGES = ["en", "th", "he", "ja"]
# Field names a page does not have: look-alikes of its own and plain junk.
extra_names = st.one_of(
    st.sampled_from(["q_", "q_0", "q_-1", "q_99999999999999999999", "csrfmiddlewaretoken"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
)
checkbox = st.sampled_from(["on", "1", "true", "", "off", "no", "\x00"]) | unicode_text


def _uuid() -> st.SearchStrategy[str]:
    return st.builds(lambda: uuid.uuid4().hex)


def answer_value(question: Question, foreign_choice_ids: list[int], *, clean: bool):
    """What a post may carry for one question: an answer it accepts (`clean`), or also
    out of range, another survey's choice, any text, several values."""
    if question.type in CHOICE_TYPES:
        own = [choice.pk for choice in question.choices.all()]
        ids = st.sampled_from(own if clean else own + foreign_choice_ids).map(str)
        valid = st.lists(ids, min_size=1, max_size=3) if question.type == "multi_choice" else ids
    elif question.bounds is not None:
        low, high = question.bounds
        valid = st.integers(min_value=low, max_value=high).map(str)
        if not clean:
            valid = st.integers(min_value=low - 2, max_value=high + 2).map(str) | numberish
    else:
        valid = unicode_text.filter(lambda text: "\x00" not in text) if clean else unicode_text
        if not clean:
            valid = valid | huge_text
    return valid if clean else field_value(valid)


@st.composite
def survey_form_bodies(draw, survey: Survey, foreign_choice_ids: list[int]) -> dict:
    """A survey page's POST. Half are answers a respondent could give (so the fuzz reaches
    the service, points and "already answered"); the rest answer badly or not at all,
    repeat fields, add fields the page does not have, break the answer key."""
    clean = draw(st.booleans())
    body: dict = {}
    if clean or draw(st.integers(0, 4)):
        body["idempotency_key"] = draw(
            _uuid() if clean else st.one_of(_uuid(), field_value(any_text))
        )
    for question in survey.questions.prefetch_related("choices"):
        name = f"q_{question.pk}"
        if (clean and question.required) or draw(st.integers(0, 3)):
            body[name] = draw(answer_value(question, foreign_choice_ids, clean=clean))
        if question.has_other and draw(st.booleans()):
            body[f"{name}_other"] = draw(
                unicode_text if clean else field_value(unicode_text | huge_text)
            )
    for name in ("consent_to_contact", "answer_anonymously"):
        if draw(st.booleans()):
            body[name] = draw(st.just("on") if clean else field_value(checkbox))
    if clean:
        return body
    if draw(st.integers(0, 3)) == 0:
        body["next"] = draw(st.sampled_from(["/", "//evil.example/", "https://evil.example/"]))
    body.update(draw(st.dictionaries(extra_names, field_value(any_text), max_size=3)))
    return body


def json_values(max_leaves: int = 8) -> st.SearchStrategy:
    """Any JSON value, NaN and Infinity included (Python's json writes and reads them)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**30), max_value=10**30)
        | st.floats(allow_nan=True, allow_infinity=True)
        | unicode_text
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(unicode_text, inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def _kiosk_answer(question: Question, foreign_choice_ids: list[int], *, clean: bool):
    own = [c.pk for c in question.choices.all()]
    if question.type in CHOICE_TYPES:
        ids = st.sampled_from(own if clean else own + foreign_choice_ids)
        valid = st.lists(ids, min_size=1, max_size=3) if question.type == "multi_choice" else ids
    elif question.bounds is not None:
        low, high = question.bounds
        valid = st.integers(
            min_value=low - (0 if clean else 2), max_value=high + (0 if clean else 2)
        )
    else:
        valid = unicode_text.filter(lambda text: "\x00" not in text)
        if not clean:
            valid = unicode_text | huge_text
    return valid if clean else st.one_of(valid, valid, json_values(4))


@st.composite
def kiosk_bodies(draw, survey: Survey, foreign_choice_ids: list[int]) -> tuple[bytes, str]:
    """A kiosk's JSON post as (bytes, content type): half of them answers a customer could
    give, the rest not JSON, not an object, answers wrong or of the wrong type, fields
    missing or added."""
    clean = draw(st.booleans())
    shape = 9 if clean else draw(st.integers(0, 9))
    if shape == 0:
        raw = draw(st.binary(max_size=64) | unicode_text.map(str.encode))
        return raw, draw(st.sampled_from(["application/json", "text/plain"]))
    if shape == 1:
        return json.dumps(draw(json_values())).encode(), "application/json"
    answers: dict = {}
    for question in survey.questions.prefetch_related("choices"):
        if (clean and question.required) or draw(st.integers(0, 3)):
            answers[f"q_{question.pk}"] = draw(
                _kiosk_answer(question, foreign_choice_ids, clean=clean)
            )
    if clean:
        body = {"idempotency_key": draw(_uuid()), "language": draw(st.sampled_from(LANGUAGES))}
        return json.dumps({**body, "answers": answers}).encode(), "application/json"
    answers.update(draw(st.dictionaries(extra_names, json_values(4), max_size=2)))
    body: dict = {
        "idempotency_key": draw(st.one_of(_uuid(), _uuid(), json_values(2))),
        "language": draw(st.one_of(st.sampled_from(LANGUAGES), json_values(2))),
        "answers": answers if draw(st.integers(0, 5)) else draw(json_values(4)),
    }
    for key in list(body):
        if draw(st.integers(0, 6)) == 0:
            del body[key]
    body.update(draw(st.dictionaries(extra_names, json_values(2), max_size=2)))
    return json.dumps(body).encode(), "application/json"


@st.composite
def join_bodies(draw) -> dict:
    """The join form's POST (name, email, language, consent, attributes and its referral
    code): half of them a person joining, the rest with fields wrong, repeated or left out."""
    email = st.builds(lambda: f"fuzz-{uuid.uuid4().hex[:12]}@example.com")
    if draw(st.booleans()):
        return {
            "name": draw(unicode_text.filter(lambda text: "\x00" not in text)),
            "email": draw(email),
            "language": draw(st.sampled_from(LANGUAGES)),
            "consent": "on",
            "attr_city": "bangkok",
            "attr_birthday": draw(st.sampled_from(["", "1990-02-28"])),
            "attr_shoe": draw(st.sampled_from(["", "42", "4.5"])),
        }
    fields = {
        "name": unicode_text | huge_text,
        "email": email | st.sampled_from(["", "a@", "@b.c", "a@b", "a@b.c\x00", " x@y.co "]),
        "language": st.sampled_from(LANGUAGES),
        "consent": checkbox,
        "marketing": checkbox,
        "ref": st.text(max_size=20),
        "attr_city": st.sampled_from(["bangkok", "paris", ""]),
        "attr_birthday": st.sampled_from(["1990-02-28", "1990-02-30", "0000-01-01", "9999-12-31"]),
        "attr_shoe": st.sampled_from(["42", "-1", "1e999", "NaN", "4.5"]) | numberish,
    }
    body: dict = {}
    for name, valid in fields.items():
        if draw(st.integers(0, 4)):
            body[name] = draw(field_value(valid))
    body.update(draw(st.dictionaries(extra_names, field_value(any_text), max_size=3)))
    return body


def form_post(client, url: str, body: dict, *, urlencoded: bool):
    """POST a form body as a browser would: url-encoded, or multipart (the test client's
    default); a list is a field sent several times."""
    if urlencoded:
        return client.post(
            url, urlencode(body, doseq=True), content_type="application/x-www-form-urlencoded"
        )
    return client.post(url, body)
