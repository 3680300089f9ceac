"""The budget's two lanes: corrections first, resync reads within their share; and the server's
`inin-ratelimit-*` headers lowering the rate (injected clock: no waiting)."""

from __future__ import annotations

from controller.genesys.budget import RateBudget, in_resync_lane, resync_lane
from tests.support.clock import FakeClock


def test_resync_reads_take_at_most_their_share_of_a_minute() -> None:
    clock = FakeClock()
    budget = RateBudget(300, clock=clock, sleep=clock.sleep, read_share=0.25)
    start, reads = clock.now, 0
    while clock.now - start < 600:
        budget.acquire(resync=True)
        reads += 1
    per_minute = reads / 10
    assert 0.23 * 300 <= per_minute <= 0.25 * 300 + 1, per_minute


def test_a_waiting_correction_goes_before_resync_reads() -> None:
    clock = FakeClock()
    refused: list[float] = []

    def sleep(seconds: float) -> None:  # while the write waits, a resync read asks for a token
        clock.now += seconds
        refused.append(budget.try_acquire(resync=True))

    budget = RateBudget(60, clock=clock, sleep=sleep, read_share=1.0)
    while budget.try_acquire() == 0:  # the burst is spent: the next request must wait
        pass
    budget.acquire(resync=False)  # the write gets the token the refill brought
    assert refused and all(wait > 0 for wait in refused)
    # Once no correction waits, the read gets the next token.
    clock.now += 2.0
    assert budget.try_acquire(resync=True) == 0


def test_the_lane_follows_the_context() -> None:
    assert not in_resync_lane()
    with resync_lane():
        assert in_resync_lane()
    assert not in_resync_lane()


def test_ratelimit_headers_lower_the_rate_and_a_spent_window_pauses() -> None:
    clock = FakeClock()
    budget = RateBudget(300, clock=clock)
    budget.observe_headers(
        {"inin-ratelimit-allowed": "120", "inin-ratelimit-count": "3", "inin-ratelimit-reset": "40"}
    )
    assert budget.rate_per_minute == 120
    budget.observe_headers({"inin-ratelimit-allowed": "600", "inin-ratelimit-count": "3"})
    assert budget.rate_per_minute == 300  # never above the configured rate
    budget.observe_headers(
        {"inin-ratelimit-allowed": "300", "inin-ratelimit-count": "300", "inin-ratelimit-reset": "12"}
    )
    assert budget.snapshot().paused_for == 12
    budget.observe_headers({"inin-ratelimit-count": "3"})  # no allowance: nothing to learn
    assert budget.rate_per_minute == 300
