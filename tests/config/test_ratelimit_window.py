"""The rate-limit counter says where a window stands: count, remaining and reset."""

from unittest import mock

import pytest

from config import ratelimit
from config.ratelimit import rate_hit, rate_limited


@pytest.fixture
def clock():
    now = [1_000_000.0]
    with mock.patch.object(ratelimit.time, "time", lambda: now[0]):
        yield now


def test_a_window_counts_hits_and_says_when_it_starts_again(clock):
    first = rate_hit(scope="t", key="k", limit=2, window=60)
    clock[0] += 20.5
    second = rate_hit(scope="t", key="k", limit=2, window=60)
    third = rate_hit(scope="t", key="k", limit=2, window=60)

    assert (first.count, first.remaining, first.reset, first.exceeded) == (1, 1, 60, False)
    assert (second.count, second.remaining, second.reset) == (2, 0, 40)
    assert third.exceeded and third.remaining == 0 and third.limit == 2 and third.window == 60


def test_keys_and_scopes_count_apart(clock):
    rate_hit(scope="t", key="a", limit=1)
    assert rate_hit(scope="t", key="b", limit=1).count == 1
    assert rate_hit(scope="u", key="a", limit=1).count == 1
    assert rate_limited(scope="t", key="a", limit=1) is True
