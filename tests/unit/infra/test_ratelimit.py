"""Token buckets: a burst up to the limit passes, then the wait is told."""

from __future__ import annotations

from infra.ratelimit import Rate, TokenBuckets, phone_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_up_to_the_limit_passes_then_the_wait_is_told() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(3, 60), clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == 20  # one token every 20 s
    assert buckets.take("b") == 0  # another key has its own bucket
    clock.now += 20
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0


def test_a_refused_request_does_not_extend_the_wait() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(1, 10), clock=clock)
    buckets.take("a")
    for _ in range(5):
        assert buckets.take("a") == 10
    clock.now += 10
    assert buckets.take("a") == 0


def test_memory_is_bounded_under_rotating_keys() -> None:
    buckets = TokenBuckets(Rate(1, 60), max_keys=100, clock=Clock())
    for n in range(1000):
        buckets.take(f"10.0.{n // 256}.{n % 256}")
    assert len(buckets._buckets) == 100


def test_a_phone_number_is_the_same_however_it_is_written() -> None:
    written = ["20 30 40 50", "+45 20 30 40 50", "0045-20304050", "4520304050"]
    assert {phone_key(p) for p in written} == {"20304050"}
