"""ExpiringCache: entries expire on their own clock and the oldest unused go past the bound."""

from __future__ import annotations

import pytest

from tradebot.kit.cache import ExpiringCache


class Clock:
    """A clock the test moves by hand (the cache takes any ``() -> float``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entry_is_served_until_its_ttl_then_forgotten() -> None:
    clock = Clock()
    cache: ExpiringCache[str, int] = ExpiringCache(10, clock)
    cache.put("a", 1, 5.0)
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0


def test_least_recently_used_entry_goes_when_the_bound_is_reached() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(2, Clock())
    cache.put("a", 1, 60)
    cache.put("b", 2, 60)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3, 60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_nothing_is_kept_for_a_ttl_that_is_not_positive() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(2, Clock())
    cache.put("a", 1, 0.0)
    cache.put("b", 2, -3.0)
    assert len(cache) == 0


def test_a_cache_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ExpiringCache(0)
