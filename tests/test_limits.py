"""Flood control: a sliding window per citizen."""

from __future__ import annotations

from bot.limits import FloodGuard


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_eleventh_message_in_a_minute_warns_once_then_drops() -> None:
    clock = Clock()
    guard = FloodGuard(limit=10, window=60, clock=clock)
    assert [guard.check(1) for _ in range(10)] == ["ok"] * 10
    assert guard.check(1) == "warn"
    assert guard.check(1) == "drop"
    assert guard.check(2) == "ok"  # another citizen is not affected
    clock.now = 61
    assert guard.check(1) == "ok"  # the window moved on


def test_idle_citizens_are_forgotten() -> None:
    clock = Clock()
    guard = FloodGuard(limit=1, window=1, clock=clock)
    for key in range(10_001):
        guard.check(key)
    clock.now = 5
    guard.check(99_999)
    assert len(guard._seen) == 1
