"""The metric vocabulary lives in surveys (below feedback), so the sentiment threshold it
calls negative is written there; it must stay the one feedback's default rule opens a case
at."""

from feedback.choices import Condition
from feedback.services.followup import DEFAULT_RULES
from surveys.metrics import SENTIMENT_NEGATIVE_BELOW


def test_negative_sentiment_is_where_the_default_follow_up_rule_opens_a_case():
    # given
    (rule,) = [r for r in DEFAULT_RULES if r.condition == Condition.SENTIMENT_BELOW]

    # then
    assert rule.threshold == SENTIMENT_NEGATIVE_BELOW
