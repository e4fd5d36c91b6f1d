"""One rate limiter per exchange and egress IP, shared through Redis by every tenant, worker
and process behind that IP (issue #10, rule 3).

Binance counts request weight per IP (6000 per minute on spot) and orders per account (100
per 10 s, 200,000 per day): all our customers' bots leaving through one IP spend one budget,
and a 418 ban stops every one of them. So no process keeps its own count: each request first
calls ``RateLimiter.acquire`` and a Lua script decides atomically, inside Redis.

Design
------
- **Sliding window over buckets**, not GCRA. A token bucket of capacity L refilling L per
  minute lets 2L through within one minute, which a fixed-window counter like Binance's
  punishes; a sliding window admits a request only if the last ``span`` (request included)
  stays within the budget, so every interval of that length, hence every fixed window of the
  exchange, does too. Each window is a Redis hash of ~60 buckets (constant memory, even for
  the 200,000-orders-per-day window); the script sums the buckets that overlap the window,
  counting the oldest one whole (errs high, never low). Times are Redis' ``TIME``.
- **Keys.** ``ratelimit:{exchange}:{egress_ip}`` and its sub-keys ``:blocked`` (penalty),
  ``:weight`` (the IP's window), ``:tenants`` and ``:tenant:{id}`` (fair share),
  ``:queue``, ``:alive`` and ``:tickets`` (the fair queue). Orders are
  counted per account, as the exchange does, under ``ratelimit:{exchange}:account:{id}:orders:
  {seconds}``. One plain Redis (not Cluster): a script touches keys of both families.
- **Headroom.** The budget is ``headroom_pct`` (80 %) of the exchange's limit, for traffic we
  do not see (another program on the IP, a request in flight when the window turns).
- **Exchange headers.** ``observe`` reads ``X-MBX-USED-WEIGHT-1M`` / ``X-MBX-ORDER-COUNT-10S``
  / ``-1D`` (any case) and raises a window to what the exchange counted when that is more than
  ours; it never lowers it. The exchange counts in fixed windows from the epoch, so the weight
  added is dated at the start of the exchange's window and leaves ours when that one resets.
- **Penalties.** ``penalize(retry_after_s, status)`` after a 429 or 418 blocks every process
  on the key until Retry-After has passed (a shorter penalty never shortens a longer one); a
  418 (an IP ban) is logged at CRITICAL. ``acquire`` waits it out, or raises
  ``RateLimitBlocked`` when the wait would exceed the caller's ``max_wait``.
- **Fair share.** While another tenant is present (it spent weight within the window, or is
  waiting for the budget), no tenant holding weight may go beyond ``tenant_share_pct`` of the
  budget; alone, a tenant may use all of it. A tenant that finds the budget spent registers as
  waiting, which caps the noisy one at once, so the weight that leaves the window goes to the
  others. A tenant holding no weight is never refused by its share (one request of any size
  gets through). Requests without an account share the tenant ``-`` (public market data).
- **A fair queue.** A request the IP's budget cannot take now takes a ticket in the script
  (``:queue``, numbered by ``:tickets``): waiters are served by ``Priority`` (orders, cancels,
  fill and order queries, restart reads, routine polls), in arrival order within one, across
  every process. The waiters ahead of a request reserve their weight: weight that frees goes
  to them, not to whoever asks first after it frees, so a restarting run does not queue behind
  routine polls and no waiter is overtaken by later ones of its priority. A waiter renews its
  ticket each time it asks (at least every third of ``ticket_ttl_s``); a crashed waiter's
  ticket expires after ``ticket_ttl_s`` (``:alive``), one that gives up releases it.
- **Redis down: fail closed.** ``acquire`` raises ``RateLimiterUnavailable`` (retryable,
  nothing was sent) instead of letting requests through unthrottled, for orders and for every
  other request alike: a burst of unthrottled reads from many workers can get the IP banned,
  and a ban stops the orders too. The venue retries with backoff as for a network error.

The ccxt side (hooks, the endpoint weight table) is ``venues.rate_limit_ccxt``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis

from tradebot.config import Settings
from tradebot.observability.logs import get_logger
from tradebot.observability.metrics import RATE_LIMIT_WAIT_SECONDS
from tradebot.runtime.ports import TransientVenueError
from tradebot.venues import rate_limit_lua as lua

PUBLIC_TENANT = "-"
"""The tenant of requests made for no account (shared public market data)."""
_BUCKETS = 60
_GRACE_MS = 1_000  # a waiting tenant stays present this long past its computed wait
LONG_WAIT_S = 2.0
"""A request that waited this long for the budget is logged (with its priority)."""
_DEFAULT_PENALTY_S = {429: 60.0, 418: 120.0}  # when an answer carries no Retry-After
_REDIS_DOWN = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ReadOnlyError,
    OSError,
)


class Priority(IntEnum):
    """Who gets the IP's weight first when it runs short: the lowest value, then the earliest
    arrival. ``ROUTINE`` polls are also kept to ``RateLimits.routine_pct`` of the budget."""

    ORDER = 0
    """Placing an order."""
    CANCEL = 1
    QUERY = 2
    """Asking about fills and orders (``fetch_order``, ``fetch_my_trades``)."""
    RECONCILE = 3
    """Reads of a (re)starting run and of reconciliation; any request given no priority."""
    ROUTINE = 4
    """Polls repeated every few seconds (ticker, open orders): the first to wait."""


@dataclass(frozen=True, slots=True)
class RateWindow:
    """An exchange limit: ``limit`` per ``seconds``, reported in response header ``header``."""

    limit: int
    seconds: float
    header: str

    @property
    def span_ms(self) -> int:
        return max(1, round(self.seconds * 1000))

    @property
    def bucket_ms(self) -> int:
        return max(1, math.ceil(self.span_ms / _BUCKETS))


@dataclass(frozen=True, slots=True)
class RateLimits:
    """An exchange's limits and our policy over them (Binance spot's by default)."""

    weight: RateWindow = RateWindow(6000, 60.0, "X-MBX-USED-WEIGHT-1M")
    orders: tuple[RateWindow, ...] = (
        RateWindow(100, 10.0, "X-MBX-ORDER-COUNT-10S"),
        RateWindow(200_000, 86_400.0, "X-MBX-ORDER-COUNT-1D"),
    )
    connections: RateWindow = RateWindow(300, 300.0, "")
    """New WebSocket connections per IP (Binance: 300 every 5 minutes; no header says so).
    A thousand accounts' user streams (a socket each) connect in about 20 minutes after a cold
    start: their runs trade meanwhile on REST (the market's crossings, the periodic
    reconciliation), at a few weight a minute each."""
    headroom_pct: float = 80.0
    tenant_share_pct: float = 25.0
    routine_pct: float = 75.0
    """Routine polls (ticker, open orders) may fill this share of the budget only: the rest
    is kept for orders, cancels and the queries of fills, reconciliations and restarts, so
    that a crowd of polling runs cannot keep a restarting run (or an order) waiting."""

    ticket_ttl_s: float = 10.0
    """How long a waiter's place in the queue outlives its last call (a crashed waiter's)."""

    def __post_init__(self) -> None:
        shares = (self.headroom_pct, self.tenant_share_pct, self.routine_pct)
        if not all(0 < share <= 100 for share in shares):
            raise ValueError("headroom_pct, tenant_share_pct and routine_pct must be in (0, 100]")
        if self.ticket_ttl_s <= 0:
            raise ValueError("ticket_ttl_s must be > 0")
        if any(
            w.limit < 1 or w.seconds <= 0 for w in (self.weight, self.connections, *self.orders)
        ):
            raise ValueError("every window needs a limit >= 1 and a length > 0")

    def allowed(self, window: RateWindow) -> int:
        """What we let ourselves use of ``window``: its limit less the headroom (at least 1)."""
        return max(1, math.floor(window.limit * self.headroom_pct / 100))

    @property
    def budget(self) -> int:
        return self.allowed(self.weight)

    @property
    def connection_interval_ms(self) -> int:
        """The spacing of new connections once the burst is spent."""
        return max(1, math.ceil(self.connections.span_ms / self.allowed(self.connections)))

    @property
    def connection_burst(self) -> int:
        """Connections let through at once before they are spaced: half the headroom, so that
        any window holds at most the limit less the other half (Binance's: 30, then 270 in
        any 5 minutes)."""
        return max(1, (self.connections.limit - self.allowed(self.connections)) // 2)

    @property
    def routine_budget(self) -> int:
        return max(1, math.floor(self.budget * self.routine_pct / 100))

    @property
    def tenant_cap(self) -> int:
        return max(1, math.floor(self.budget * self.tenant_share_pct / 100))


def limits_from_settings(settings: Settings) -> RateLimits:
    """Binance's windows with the limits and policy of the ``RATE_LIMIT_*`` settings."""
    binance = RateLimits()
    ten_seconds, one_day = binance.orders
    return RateLimits(
        weight=replace(binance.weight, limit=settings.RATE_LIMIT_WEIGHT_PER_MIN),
        connections=replace(binance.connections, limit=settings.RATE_LIMIT_CONNECTIONS_PER_5MIN),
        orders=(
            replace(ten_seconds, limit=settings.RATE_LIMIT_ORDERS_PER_10S),
            replace(one_day, limit=settings.RATE_LIMIT_ORDERS_PER_DAY),
        ),
        headroom_pct=settings.RATE_LIMIT_HEADROOM_PCT,
        tenant_share_pct=settings.RATE_LIMIT_TENANT_SHARE_PCT,
        routine_pct=settings.RATE_LIMIT_ROUTINE_PCT,
    )


class RateLimitBlocked(TransientVenueError):
    """The request would wait longer than the caller allowed; nothing was sent."""

    order_state_unknown = False

    def __init__(self, retry_after: float, reason: str) -> None:
        super().__init__(f"rate limit: {reason}, retry in {retry_after:.2f} s")
        self.retry_after = retry_after
        self.reason = reason


class RateLimiterUnavailable(TransientVenueError):
    """Redis did not answer: the request was not sent (fail closed); retry later."""

    order_state_unknown = False
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """An admitted request: when Redis admitted it (its clock, ms) and how long we waited."""

    at_ms: int
    waited_s: float


@dataclass(frozen=True, slots=True)
class Usage:
    """What the shared windows hold now (for metrics, the admin view and tests)."""

    weight: int
    tenant_weight: int
    orders: dict[str, int] = field(default_factory=dict)
    """Orders of the account per window, by the window's header name."""
    blocked_s: float = 0.0
    waiting: int = 0
    """Tickets in the queue (waiters of every tenant), expired ones not counted."""


class RateLimiter:
    """The shared limiter of one exchange and egress IP. Cheap to create; every process
    (and, if convenient, every venue) may hold its own instance on the same key."""

    def __init__(
        self,
        redis: Redis,
        exchange: str,
        egress_ip: str = "default",
        limits: RateLimits | None = None,
        *,
        key_prefix: str = "",
    ) -> None:
        self.redis = redis
        self.exchange = exchange
        self.egress_ip = egress_ip
        self.limits = limits or RateLimits()
        self.key = f"{key_prefix}ratelimit:{exchange}:{egress_ip}"
        self._account_key = f"{key_prefix}ratelimit:{exchange}:account"
        self._acquire = redis.register_script(lua.ACQUIRE)
        self._observe = redis.register_script(lua.OBSERVE)
        self._penalize = redis.register_script(lua.PENALIZE)
        self._usage = redis.register_script(lua.USAGE)
        self._release = redis.register_script(lua.RELEASE)
        self._connect = redis.register_script(lua.CONNECT)

    @classmethod
    def from_settings(cls, settings: Settings, exchange: str) -> RateLimiter:
        """The limiter for ``exchange`` on ``EGRESS_IP``, on ``REDIS_URL``, with short
        timeouts so that an unreachable Redis fails a request in about a second."""
        redis = Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(redis, exchange, settings.EGRESS_IP, limits_from_settings(settings))

    async def close(self) -> None:
        await self.redis.aclose()

    # ---- keys -------------------------------------------------------------------------------
    def _tenant_key(self, tenant: str) -> str:
        return f"{self.key}:tenant:{tenant}"

    @property
    def _queue_keys(self) -> list[str]:
        return [f"{self.key}:queue", f"{self.key}:alive"]

    def _order_key(self, account: str, window: RateWindow) -> str:
        return f"{self._account_key}:{account}:orders:{window.seconds:g}"

    # ---- the API ----------------------------------------------------------------------------
    async def acquire(
        self,
        weight: int,
        *,
        account: str | None = None,
        is_order: bool = False,
        max_wait: float | None = None,
        routine: bool = False,
        priority: Priority | None = None,
    ) -> Grant:
        """Wait until a request of ``weight`` (and, for an order, one order of ``account``)
        fits the shared budget (the routine share of it for a ``ROUTINE`` poll) after every
        waiter ahead of it, then count it. ``priority`` defaults to ``ORDER`` for ``is_order``,
        ``ROUTINE`` for ``routine``, else ``RECONCILE``. Raises ``RateLimitBlocked`` instead of
        waiting past ``max_wait`` seconds, ``RateLimiterUnavailable`` when Redis does not
        answer."""
        limits = self.limits
        if not 1 <= weight <= limits.budget:
            raise ValueError(f"weight {weight} outside 1..{limits.budget} (the budget)")
        if is_order and account is None:
            raise ValueError("an order is counted against an account: give account=")
        rank = priority_of(priority, is_order=is_order, routine=routine)
        tenant = account or PUBLIC_TENANT
        windows = limits.orders if is_order and account is not None else ()
        keys = [f"{self.key}:blocked", f"{self.key}:weight", f"{self.key}:tenants"]
        keys += [self._tenant_key(tenant), *self._queue_keys, f"{self.key}:tickets"]
        keys += [self._order_key(tenant, w) for w in windows]
        budget = limits.routine_budget if rank is Priority.ROUTINE else limits.budget
        ttl_ms = max(1, round(limits.ticket_ttl_s * 1000))
        loop = asyncio.get_running_loop()
        started = loop.time()
        task = asyncio.current_task()
        ticket = ""
        why = ""
        try:
            while True:
                if task is not None and task.cancelling():
                    # A cancellation the Redis client swallowed (seen, rarely, with its read
                    # timeouts under Python 3.11): the waiter would otherwise ask for ever.
                    raise asyncio.CancelledError
                args: list[Any] = [weight, tenant, limits.weight.span_ms, limits.weight.bucket_ms]
                args += [budget, limits.tenant_cap, _GRACE_MS, int(rank), ticket, ttl_ms]
                for w in windows:
                    args += [w.span_ms, w.bucket_ms, limits.allowed(w)]
                granted, wait_ms, reason, now_ms, held = await self._run(self._acquire, keys, args)
                ticket = _text(held)
                if granted:
                    waited = loop.time() - started
                    RATE_LIMIT_WAIT_SECONDS.labels(self.exchange, rank.name.lower()).observe(waited)
                    if waited >= LONG_WAIT_S:  # a restart silent for a minute: this is why
                        get_logger(__name__).info(
                            "rate_limit_waited",
                            egress_ip=self.egress_ip,
                            priority=rank.name.lower(),
                            weight=weight,
                            waited_s=round(waited, 1),
                            why=why,
                        )
                    return Grant(int(now_ms), waited)
                wait, why = int(wait_ms) / 1000, _text(reason)  # the IP's budget, a share, ...
                if max_wait is not None and loop.time() - started + wait > max_wait:
                    raise RateLimitBlocked(wait, why)
                # Ask again in time to renew the ticket; the wait is an estimate when others
                # are queued ahead (they may leave, more urgent ones may come).
                await asyncio.sleep(min(wait, limits.ticket_ttl_s / 3))
        finally:
            if ticket:
                await self._give_up(ticket)

    async def connect(self, *, urgent: bool = False) -> float:
        """Wait for the IP's next slot for a new WebSocket connection (every process on the IP
        books from one schedule, first come first served); returns the seconds waited. An
        ``urgent`` one (a pair's price stream, which every run of a worker reads) is counted
        and goes at once, ahead of the queue. Raises ``RateLimiterUnavailable`` when Redis does
        not answer: no socket opens uncounted."""
        limits = self.limits
        args = [limits.connection_interval_ms, limits.connection_burst, int(urgent)]
        wait_ms = int(await self._run(self._connect, [f"{self.key}:connections"], args))
        if wait_ms > 0:
            await asyncio.sleep(wait_ms / 1000)
        return wait_ms / 1000

    async def _give_up(self, ticket: str) -> None:
        """Leave the queue (best effort: a ticket left behind expires)."""
        with contextlib.suppress(RateLimiterUnavailable):
            await self._run(self._release, self._queue_keys, [ticket])

    async def observe(self, headers: Mapping[str, str], *, account: str | None = None) -> int:
        """Raise our windows to what the exchange reports in a response's headers (any case):
        the IP's used weight, and ``account``'s order counts. Returns the weight added."""
        lower = {name.lower(): value for name, value in headers.items()}
        limits = self.limits
        targets = [(limits.weight, f"{self.key}:weight")]
        if account is not None:
            targets += [(w, self._order_key(account, w)) for w in limits.orders]
        keys: list[str] = []
        args: list[int] = []
        for window, key in targets:
            reported = _int(lower.get(window.header.lower()))
            if reported is not None:
                keys.append(key)
                args += [reported, window.span_ms, window.bucket_ms]
        if not keys:
            return 0
        added = dict(zip(keys, await self._run(self._observe, keys, args), strict=True))
        return int(added.get(f"{self.key}:weight", 0))

    async def penalize(self, retry_after_s: float | None, status: int) -> float:
        """Block every process on this key for ``retry_after_s`` (the answer's Retry-After;
        a default by status when missing). Returns the seconds the block still lasts."""
        seconds = _DEFAULT_PENALTY_S.get(status, 60.0) if retry_after_s is None else retry_after_s
        ms = max(1, math.ceil(seconds * 1000))
        left = int(await self._run(self._penalize, [f"{self.key}:blocked"], [ms, status])) / 1000
        event = {"exchange": self.exchange, "egress_ip": self.egress_ip, "status": status}
        log = get_logger(__name__)  # per call: rare, and follows the logging set up since
        if status == 418:
            log.critical("exchange_ip_banned", **event, retry_after_s=seconds, blocked_s=left)
        else:
            log.warning("exchange_rate_limited", **event, retry_after_s=seconds, blocked_s=left)
        return left

    async def report(
        self, status: int | None, headers: Mapping[str, str], *, account: str | None = None
    ) -> None:
        """Everything one response tells us: its usage headers, and a penalty on 429/418."""
        await self.observe(headers, account=account)
        if status in (429, 418):
            retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
            await self.penalize(_float(retry_after), status)

    async def usage(self, account: str | None = None) -> Usage:
        """What the shared windows hold now for the IP, ``account``'s share and its orders."""
        limits, tenant = self.limits, account or PUBLIC_TENANT
        windows = limits.orders if account is not None else ()
        keys = [f"{self.key}:blocked", f"{self.key}:alive", f"{self.key}:weight"]
        keys += [self._tenant_key(tenant), *(self._order_key(tenant, w) for w in windows)]
        spans = [limits.weight, limits.weight, *windows]
        args = [n for w in spans for n in (w.span_ms, w.bucket_ms)]
        blocked_ms, waiting, weight, tenant_weight, *orders = await self._run(
            self._usage, keys, args
        )
        counts = {w.header: int(n) for w, n in zip(windows, orders, strict=True)}
        return Usage(int(weight), int(tenant_weight), counts, int(blocked_ms) / 1000, int(waiting))

    async def _run(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except _REDIS_DOWN as exc:
            raise RateLimiterUnavailable(
                f"rate limiter for {self.exchange}/{self.egress_ip} unavailable (Redis: {exc}); "
                "request not sent"
            ) from exc


def priority_of(priority: Priority | None, *, is_order: bool, routine: bool) -> Priority:
    """The priority given, or the one the older flags (``is_order``, ``routine``) stand for."""
    if priority is None:
        if is_order:
            return Priority.ORDER
        return Priority.ROUTINE if routine else Priority.RECONCILE
    if routine and priority is not Priority.ROUTINE:
        raise ValueError(f"routine=True contradicts priority={priority.name}")
    return priority


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else max(0, int(value.strip()))
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return None if value is None else max(0.0, float(value.strip()))
    except ValueError:
        return None
