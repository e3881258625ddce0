"""What a hostile or broken client sends to the pages respondents post to.

Each strategy draws a value a form field may meet: text of any script with control
characters and NUL bytes, text far past every limit, numbers in and out of range and as
text, ids of objects elsewhere (another survey's choices), lists where one value belongs.
The tests combine them into whole bodies with fields missing, repeated and added.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# A page fuzz runs a few hundred requests per test: enough to meet every kind of value
# below several times, and well under a minute per database on a shared CI machine.
# FUZZ_EXAMPLES=2000 runs a longer hunt locally.
FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

# Characters that have broken form handling somewhere: NUL (PostgreSQL refuses it in
# text), other C0 and C1 controls, bidi overrides, a BOM, combining marks, line and
# paragraph separators, astral-plane characters.
AWKWARD = "\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f\x85\x9f\u200b\u200e\u202e\u2028\u2029\ufeff\u0301"
AWKWARD += "\U0001f600\U00010348ก\u05d0日"

# Any Unicode text a browser can send (no lone surrogates: UTF-8 cannot carry them).
unicode_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40) | st.text(
    alphabet=st.sampled_from(AWKWARD), min_size=1, max_size=12
)
# Past every text limit on these pages (the longest is a long-text answer's 5,000).
huge_text = st.integers(min_value=5_001, max_value=40_000).flatmap(
    lambda n: st.sampled_from(["x", "ก", "\x00", "😀", " "]).map(lambda c: c * n)
)
numberish = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["", " ", "0", "-1", "11", "1e3", "NaN", "inf", "٣", "²", "1.5", "+5", "0x1"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
any_text = st.one_of(unicode_text, huge_text, numberish)


def field_value(valid: st.SearchStrategy) -> st.SearchStrategy:
    """A value for one field: often a valid one, else anything; sometimes several at once
    (a field repeated in the body)."""
    one = st.one_of(valid, valid, any_text)
    return st.one_of(one, st.lists(one, min_size=2, max_size=4))
