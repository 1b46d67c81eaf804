"""The one retry policy: exponential from the first delay to the cap, jittered downwards, reset by a success."""
from __future__ import annotations

from polynb.backoff import Backoff


def test_delays_double_up_to_the_cap():
    backoff = Backoff(first=0.5, cap=4.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_jitter_shortens_a_delay_by_at_most_its_share():
    assert Backoff(first=1.0, jitter=0.25, rand=lambda: 1.0).next_delay() == 0.75
    assert Backoff(first=1.0, jitter=0.25, rand=lambda: 0.0).next_delay() == 1.0


def test_a_reset_starts_again_from_the_first_delay():
    backoff = Backoff(first=0.5, jitter=0.0)
    backoff.next_delay(), backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_a_thousand_failures_stay_at_the_cap():
    backoff = Backoff(first=0.5, cap=10.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(1000)][-1] == 10.0
