"""The exchange's markets, loaded once per process and shared by every connection to it.

``exchangeInfo`` weighs 20 on Binance and every ccxt instance loads it before its first order:
a worker (re)starting a thousand live runs, each on a connection of its own (its own keys),
would spend 20,000 weight of the IP's 6,000 a minute on one and the same answer, and its runs
would wait minutes for their first tick. Here the first connection loads it; the others wait
for that and take a copy of the result (ccxt's own ``set_markets_from_exchange``), for
``TTL_S``. What is kept is market data only, never an exchange instance (which holds keys).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

TTL_S = 600.0
_HELPERS = "marketHelperProps"


@dataclass(slots=True)
class MarketData:
    """What ``set_markets_from_exchange`` reads of a loaded exchange."""

    id: str
    markets: dict[str, Any]
    markets_by_id: dict[str, Any]
    symbols: list[str]
    ids: list[str]
    currencies: dict[str, Any]
    currencies_by_id: dict[str, Any]
    baseCurrencies: dict[str, Any]  # noqa: N815 (ccxt's attribute names)
    quoteCurrencies: dict[str, Any]  # noqa: N815
    codes: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    loaded_at: float = 0.0

    @classmethod
    def of(cls, exchange: Any, now: float) -> MarketData:
        helpers = list(exchange.options.get(_HELPERS) or [])
        options = {_HELPERS: helpers, **{h: exchange.options.get(h) for h in helpers}}
        return cls(
            exchange.id, exchange.markets, exchange.markets_by_id, exchange.symbols,
            exchange.ids, exchange.currencies, exchange.currencies_by_id,
            exchange.baseCurrencies, exchange.quoteCurrencies, exchange.codes, options, now,
        )  # fmt: skip


class MarketsCache:
    def __init__(self, ttl_s: float = TTL_S, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self._clock = clock
        self._data: dict[str, MarketData] = {}
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]]
        self._locks = weakref.WeakKeyDictionary()
        self.loads = 0
        """Markets loaded from the exchange (the others were copies)."""

    async def load(self, exchange: Any, key: str, load: Callable[[], Awaitable[Any]]) -> None:
        """Give ``exchange`` the markets of ``key`` (its exchange and base URL): a fresh copy
        if one is here, else ``load()`` them once while every other caller waits."""
        locks = self._locks.setdefault(asyncio.get_running_loop(), {})
        async with locks.setdefault(key, asyncio.Lock()):
            data = self._data.get(key)
            if data is not None and self._clock() - data.loaded_at < self.ttl_s:
                exchange.set_markets_from_exchange(data)
                return
            await load()
            self.loads += 1
            self._data[key] = MarketData.of(exchange, self._clock())


def markets_key(exchange_id: str, sandbox_url: str | None) -> str:
    """Where ``MARKETS`` keeps the markets of this exchange at this URL."""
    return f"{exchange_id} {sandbox_url or 'exchange'}"


MARKETS = MarketsCache()
"""The process's markets."""
