"""Templates staff start a survey from: every text in English, Thai, Hebrew and Japanese.

One module per template, each holding its TEMPLATE. In a template, show_if refers to an
earlier question of the same template by its index in "questions"; "value" is a number
for scored and yes/no questions (yes=1, no=0), or a list of choice indexes for choice
questions (op "in").
"""

from __future__ import annotations

from typing import Any

from surveys.library import csat, nps, post_purchase, post_support, product_feedback, store_visit

# In the order staff are offered them.
LIBRARY: dict[str, dict[str, Any]] = {
    "nps": nps.TEMPLATE,
    "csat": csat.TEMPLATE,
    "post_purchase": post_purchase.TEMPLATE,
    "post_support": post_support.TEMPLATE,
    "store_visit": store_visit.TEMPLATE,
    "product_feedback": product_feedback.TEMPLATE,
}
