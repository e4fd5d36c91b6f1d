"""The fair limiter of issue #21 (item 4) on a real Redis: how long a restarting run's reads
wait for the egress IP's budget while 1,000 live runs' routine polls saturate it.

Binance's own limits (6,000 weight a minute, 80 % headroom, routine polls kept to 75 % of it):
1,000 pollers ask for a ticker (weight 2) and their open orders (6) every 2 s, 240,000 weight a
minute against a budget of 4,800, so after the first second every poll waits (for a minute:
the weight they spent leaves the window only then). Meanwhile a run restarts every second and
reads what a restart reads (markets 20, open orders 6, its trades 20) at
``Priority.RECONCILE``: 920 weight in all, within the quarter of the budget that polls may not
take (1,200 a minute). No limiter can find weight that is not there: a thousand runs restarting
at once need ten minutes of the whole budget (the streams' part of issue #21). Figures: the
limiter wait of a whole restart (its three reads), p50 and p99, target p99 ≤ 5 s, and the polls
waiting meanwhile. Everything runs in one process on its own Redis keys (deleted after).
Run alone with ``python -m benchmarks.bench_limiter``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time

from redis.asyncio import Redis

from benchmarks.measure import Figure
from tradebot.venues.rate_limit import Priority, RateLimiter, RateLimits
from tradebot.venues.rate_limit_ccxt import BinanceWeight as W

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
POLLERS = 1_000
POLL_INTERVAL_S = 2.0
WARMUP_S = 3.0
RESTARTS = 20
RESTART_EVERY_S = 1.0
RESTART_READS = (W.EXCHANGE_INFO, W.OPEN_ORDERS, W.MY_TRADES)
P99_TARGET_S = 5.0


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _poll(limiter: RateLimiter, account: str) -> None:
    """One live run's routine polling, for ever."""
    while True:
        started = time.monotonic()
        for weight in (W.TICKER, W.OPEN_ORDERS):
            await limiter.acquire(weight, account=account, routine=True)
        await asyncio.sleep(max(0.0, started + POLL_INTERVAL_S - time.monotonic()))


async def _restart(limiter: RateLimiter, account: str) -> float:
    """One restarting run's reads; returns how long they waited for the limiter in all."""
    waited = 0.0
    for weight in RESTART_READS:
        grant = await limiter.acquire(weight, account=account, priority=Priority.RECONCILE)
        waited += grant.waited_s
    return waited


async def _measure() -> tuple[list[float], int]:
    prefix = f"bench-limiter-{secrets.token_hex(4)}:"
    redis = Redis.from_url(REDIS_URL)
    # Every tenant shares the IP; none is capped by its share (1,000 tenants, one poll each).
    limiter = RateLimiter(redis, "binance", "bench", RateLimits(tenant_share_pct=100.0),
                          key_prefix=prefix)  # fmt: skip
    pollers = [asyncio.create_task(_poll(limiter, f"run-{i}")) for i in range(POLLERS)]
    try:
        await asyncio.sleep(WARMUP_S)
        queued = (await limiter.usage()).waiting
        restarts = []
        for i in range(RESTARTS):
            restarts.append(asyncio.create_task(_restart(limiter, f"restarted-{i}")))
            await asyncio.sleep(RESTART_EVERY_S)
        restart_waits = list(await asyncio.gather(*restarts))
    finally:
        for task in pollers:
            task.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    return restart_waits, queued


def figures() -> list[Figure]:
    restart_waits, queued = asyncio.run(_measure())
    note = f"{RESTARTS} restarts, 1 a second; {queued:,} polls waiting when they began"
    return [
        Figure(
            "restart reads' limiter wait while 1,000 routine pollers saturate the IP, p99",
            _quantile(restart_waits, 0.99),
            "s",
            P99_TARGET_S,
            note=note,
        ),
        Figure(
            "restart reads' limiter wait, same load, p50",
            _quantile(restart_waits, 0.5),
            "s",
        ),
    ]


if __name__ == "__main__":
    for row in figures():
        print(f"{row.name}: {row.shown(row.value)} {row.target_text} {row.status} {row.note}")
