"""Counting attempts in fixed windows (apps/core/throttle.py)."""

from django.core.cache import cache

from apps.core.throttle import count_hit, hits


def test_hits_are_counted_in_one_window_per_key():
    cache.delete_many(["t:a", "t:b"])
    assert [count_hit("t:a", 60) for _ in range(3)] == [1, 2, 3]
    assert count_hit("t:b", 60) == 1
    assert (hits("t:a"), hits("t:b"), hits("t:never")) == (3, 1, 0)


def test_a_window_that_expired_starts_again_at_one():
    cache.set("t:c", 7, 60)
    cache.delete("t:c")  # what expiry does between two hits
    assert count_hit("t:c", 60) == 1
