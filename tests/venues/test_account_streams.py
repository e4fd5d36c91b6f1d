"""One user-data stream per exchange account, shared by every run of it (``AccountStreams``).

Real ccxt.pro clients against the simulator's WebSocket API; the simulator is stepped, so every
fill is caused by the test. What the exchange sees is read off the simulator's own sockets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import unique_id
from tests.runs.live_fixtures import GRID, WINDOW, live_client, live_settings
from tests.venues.sim_fixtures import (
    KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET,
    account,
    control,
    demo_week,
    running_sim,
    sim_config,
    until,
)
from tradebot.config import Settings, load_settings
from tradebot.engine.types import Side
from tradebot.runs.live import LiveOptions, run_on_live_data
from tradebot.runtime.ports import OrderRequest, TradeReport
from tradebot.venues.account_streams import AccountStreams
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.ccxt_venue import CcxtVenue
from tradebot.venues.connection import ExchangeAccess, ExchangeConnection, connect
from tradebot.venues.exchange_sim import LimitsConfig, MarketConfig
from tradebot.venues.exchange_sim.stream_faults import Channel
from tradebot.venues.rate_limit import RateLimiter
from tradebot.venues.user_stream import UserStream

FILL_PATHS = ("GET /api/v3/openOrders", "GET /api/v3/order", "GET /api/v3/myTrades")
WAIT_S = 10.0
"""Bound of every wait for a condition (a loaded machine is slow, never this slow)."""


def stream_settings() -> Settings:
    return load_settings(
        EXCHANGE_STREAMS=True,
        STREAM_STALE_MS=400,
        ORDER_POLL_INTERVAL_MS=100,
        EGRESS_IP=unique_id("ip"),
    )


def subscriptions(sim: Any, api_key: str = KEY) -> int:
    """User-data subscriptions the simulator holds for ``api_key``."""
    return sum(key == api_key for c in sim.sim.streams.connections for key in c.users.values())


def user_sockets(sim: Any) -> int:
    return sum(c.channel is Channel.USER for c in sim.sim.streams.connections)


def stream_of(conn: ExchangeConnection) -> UserStream:
    assert conn.venue.stream is not None
    return conn.venue.stream


@asynccontextmanager
async def runs(
    settings: Settings,
    url: str,
    accounts: AccountStreams | None,
    count: int,
    key: str = KEY,
    secret: str = SECRET,
) -> AsyncIterator[list[ExchangeConnection]]:
    """``count`` live runs' connections on BTC/USDT of one account (closed afterwards)."""
    access = ExchangeAccess(
        "binance", "BTC/USDT", account="client-a", api_key=key, secret=secret, sandbox_url=url
    )
    async with AsyncExitStack() as stack:
        conns = [connect(settings, access, accounts=accounts) for _ in range(count)]
        for conn in conns:
            stack.push_async_callback(conn.close)
        yield conns


async def step(url: str) -> None:
    await control(url, "POST", "/_sim/advance", {"segments": 1})


async def reconciled(venue: CcxtVenue) -> None:
    """Read fills as a run does until the venue's stream is trusted (its own reconciliation
    ran once the stream surely listened)."""
    stream = venue.stream
    assert stream is not None
    deadline = time.monotonic() + WAIT_S
    await venue.new_trades()
    while stream.gap:
        assert time.monotonic() < deadline, "the stream's gap did not close"
        await asyncio.sleep(0.05)
        await venue.new_trades()


async def resting_buy(venue: CcxtVenue) -> str:
    """A small buy just under the price (the next dip fills it): its client order id."""
    await venue.market_rules()
    __, price = await venue.ticker()
    coid = unique_id("buy")
    await venue.submit(OrderRequest(coid, Side.BUY, 0.001, round(price - 5.0, 2)))
    return coid


async def fills_until_all(
    url: str, venues: list[CcxtVenue], coids: list[str], *, segments: int = 120
) -> list[list[TradeReport]]:
    """Step the market, each venue reading its fills as a run does, until every ``coids[i]``
    has filled at ``venues[i]``; then a while longer (a duplicate or a REST copy would come
    now). Every trade each venue reported."""
    trades: list[list[TradeReport]] = [[] for _ in venues]
    for _ in range(segments):
        await asyncio.sleep(0.02)
        await step(url)
        for mine, venue in zip(trades, venues, strict=True):
            mine += await venue.new_trades()
        seen = [{t.client_order_id for t in mine} for mine in trades]
        if all(coid in s for coid, s in zip(coids, seen, strict=True)):
            for _ in range(5):
                await asyncio.sleep(0.1)
                for mine, venue in zip(trades, venues, strict=True):
                    mine += await venue.new_trades()
            return trades
    raise AssertionError(f"{coids} did not all fill in {segments} segments")


async def test_five_runs_of_one_account_share_one_user_data_subscription() -> None:
    # Naive: each run opens the account's stream itself: five sockets, five subscriptions.
    settings = stream_settings()
    async with running_sim(sim_config()) as sim:
        async with runs(settings, sim.url, None, 5) as alone:
            for conn in alone:
                stream_of(conn).start()
            await until(lambda: subscriptions(sim) == 5, WAIT_S)
            assert user_sockets(sim) == 5
        await until(lambda: user_sockets(sim) == 0, WAIT_S)

        accounts = AccountStreams()
        try:
            async with runs(settings, sim.url, accounts, 5) as shared:
                for conn in shared:
                    stream_of(conn).start()
                await until(lambda: subscriptions(sim) == 1, WAIT_S)
                await asyncio.gather(*(reconciled(conn.venue) for conn in shared))
                assert (subscriptions(sim), user_sockets(sim), accounts.open_streams) == (1, 1, 1)
        finally:
            await accounts.close()


async def test_runs_of_one_account_each_get_their_own_fills_once_by_the_shared_stream() -> None:
    settings = stream_settings()
    accounts = AccountStreams()
    async with running_sim(sim_config()) as sim, runs(settings, sim.url, accounts, 2) as conns:
        # Another pair's run of the account, on a client of its own (it leaves first).
        other_client = make_exchange(
            "binance", api_key=KEY, secret=SECRET, sandbox_url=sim.url, streams=True
        )
        other_pair = accounts.join(
            "binance", "ETH/USDT", exchange=other_client, api_key=KEY, secret=SECRET,
            sandbox_url=sim.url,
        )  # fmt: skip
        other_pair.start()
        venues = [conn.venue for conn in conns]
        await step(sim.url)
        coids = [await resting_buy(venue) for venue in venues]
        await asyncio.gather(*(reconciled(venue) for venue in venues))
        asked = sum(sim.sim.requests[p] for p in FILL_PATHS)

        trades = await fills_until_all(sim.url, venues, coids)

        assert [[t.client_order_id for t in mine] for mine in trades] == [[c] for c in coids]
        assert sum(sim.sim.requests[p] for p in FILL_PATHS) == asked  # all by the stream
        assert other_pair.take() == ([], [])  # another pair's run gets none of these
        assert (subscriptions(sim), accounts.open_streams) == (1, 1)
        await other_pair.close()
        await other_client.close()
    await accounts.close()


async def test_two_accounts_have_a_stream_each() -> None:
    settings = stream_settings()
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)])
    accounts = AccountStreams()
    async with (
        running_sim(config) as sim,
        runs(settings, sim.url, accounts, 2) as first,
        runs(settings, sim.url, accounts, 2, OTHER_KEY, OTHER_SECRET) as second,
    ):
        for conn in first + second:
            stream_of(conn).start()
        await until(lambda: subscriptions(sim) == subscriptions(sim, OTHER_KEY) == 1, WAIT_S)
        assert (user_sockets(sim), accounts.open_streams) == (2, 2)
    await accounts.close()


async def test_accounts_sockets_open_at_the_ip_s_turns_and_runs_trust_them_only_after() -> None:
    """Binance counts new connections per IP (300 in 5 minutes): each account's socket waits
    for the IP's turn (here one at once, then one every 2 s; the exchange refuses a second
    within 1.5 s), and its runs count the stream as listening from its socket's turn, not from
    when they asked for it."""
    settings = stream_settings().model_copy(
        update={"RATE_LIMIT_CONNECTIONS_PER_5MIN": 150, "RATE_LIMIT_HEADROOM_PCT": 100.0}
    )
    limits = LimitsConfig(connections_per_window=1, connection_window_s=1.5)
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)], limits=limits)
    accounts = AccountStreams()
    keys = (KEY, OTHER_KEY)
    subscribed_at: dict[str, float] = {}
    trusted_at: dict[str, float] = {}

    async def watch_subscriptions(sim: Any) -> None:
        while len(subscribed_at) < len(keys):
            for key in keys:
                if key not in subscribed_at and subscriptions(sim, key):
                    subscribed_at[key] = time.monotonic()
            await asyncio.sleep(0.01)

    async def trusted(key: str, venue: CcxtVenue) -> None:
        await reconciled(venue)
        trusted_at[key] = time.monotonic()

    async with (
        running_sim(config) as sim,
        runs(settings, sim.url, accounts, 1) as (mine,),
        runs(settings, sim.url, accounts, 1, OTHER_KEY, OTHER_SECRET) as (theirs,),
    ):
        watcher = asyncio.create_task(watch_subscriptions(sim))
        await asyncio.gather(trusted(KEY, mine.venue), trusted(OTHER_KEY, theirs.venue))
        await asyncio.wait_for(watcher, WAIT_S)
        assert sim.sim.limiter.refused_connections == 0
    await accounts.close()

    first, second = sorted(subscribed_at.values())
    assert second - first >= 1.8  # the second socket waited for its turn
    for key in keys:  # no run trusted its stream before its socket had subscribed
        assert trusted_at[key] >= subscribed_at[key] + 0.5


async def test_a_run_whose_socket_awaits_its_turn_polls_as_seldom_as_a_trusted_one() -> None:
    """After a cold start of a thousand accounts, a socket may wait twenty minutes for its turn:
    its run must not poll for fills at every tick meanwhile (the IP's whole budget would go to
    those polls); the market's crossings and the periodic check find its fills, as for a
    stalled stream."""
    settings = stream_settings().model_copy(  # one socket at once, then one a minute
        update={"RATE_LIMIT_CONNECTIONS_PER_5MIN": 5, "RATE_LIMIT_HEADROOM_PCT": 100.0}
    )
    config = sim_config(accounts=[account(), account(OTHER_KEY, OTHER_SECRET)])
    accounts = AccountStreams()
    async with (
        running_sim(config) as sim,
        runs(settings, sim.url, accounts, 1) as (first,),
        runs(settings, sim.url, accounts, 1, OTHER_KEY, OTHER_SECRET) as (second,),
    ):
        await reconciled(first.venue)  # its socket took the IP's turn
        waiting = stream_of(second)
        await step(sim.url)
        await resting_buy(second.venue)  # an order whose fills it must look for
        await second.venue.new_trades()  # starts its stream, and checks its book once
        await until(lambda: waiting.turn_pending, WAIT_S)
        asked = sum(sim.sim.requests[p] for p in FILL_PATHS)
        for _ in range(20):  # two seconds of ticks; its poll interval is 100 ms
            await asyncio.sleep(0.1)
            await second.venue.new_trades()
        assert sum(sim.sim.requests[p] for p in FILL_PATHS) == asked
        assert waiting.gap
        assert waiting.turn_pending
    await accounts.close()


async def test_a_run_joining_a_live_stream_is_in_a_gap_until_its_own_reconciliation() -> None:
    settings = stream_settings()
    accounts = AccountStreams()
    async with running_sim(sim_config()) as sim, runs(settings, sim.url, accounts, 1) as (first,):
        await reconciled(first.venue)
        joining = time.monotonic()
        async with runs(settings, sim.url, accounts, 1) as (late,):
            stream_of(late).start()
            assert stream_of(late).gap
            assert not stream_of(first).gap
            # a reconciliation that started before the late run surely listened is no proof
            stream_of(late).reconciled(joining + stream_of(late).settle_s / 2)
            assert stream_of(late).gap
            await reconciled(late.venue)
            assert subscriptions(sim) == 1
    await accounts.close()


async def test_a_stream_fault_is_a_gap_of_every_run_each_closes_by_rest_without_loss() -> None:
    settings = stream_settings()
    accounts = AccountStreams()
    async with running_sim(sim_config()) as sim, runs(settings, sim.url, accounts, 2) as conns:
        venues = [conn.venue for conn in conns]
        streams = [stream_of(conn) for conn in conns]
        await step(sim.url)
        coids = [await resting_buy(venue) for venue in venues]
        await asyncio.gather(*(reconciled(venue) for venue in venues))

        await control(sim.url, "POST", "/_sim/streams/disconnect", {"channel": "user"})
        await until(lambda: all(s.gap and s.errors >= 1 for s in streams), WAIT_S)
        trades = await fills_until_all(sim.url, venues, coids)

        assert [[t.client_order_id for t in mine] for mine in trades] == [[c] for c in coids]
        await asyncio.gather(*(reconciled(venue) for venue in venues))
        await until(lambda: subscriptions(sim) == 1, WAIT_S)  # one again, not one per run
    await accounts.close()


async def test_the_last_run_to_leave_closes_the_stream_and_the_next_opens_a_new_one() -> None:
    settings = stream_settings()
    accounts = AccountStreams()
    access = ExchangeAccess("binance", "BTC/USDT", api_key=KEY, secret=SECRET)
    async with running_sim(sim_config()) as sim:
        access = replace(access, sandbox_url=sim.url)
        before = asyncio.all_tasks()
        first, second = (connect(settings, access, accounts=accounts) for _ in range(2))
        for conn in (first, second):
            stream_of(conn).start()
        await until(lambda: subscriptions(sim) == 1, WAIT_S)
        await reconciled(second.venue)
        # The stream was read on the first run's connection, which closes: it moves to the
        # second's, a gap for the second run until its own reconciliation.
        await first.close()
        assert stream_of(second).gap
        await reconciled(second.venue)
        await until(lambda: subscriptions(sim) == 1, WAIT_S)
        assert accounts.open_streams == 1
        await second.close()
        assert accounts.open_streams == 0
        await until(lambda: user_sockets(sim) == 0, WAIT_S)
        await until(lambda: not asyncio.all_tasks() - before, WAIT_S)  # no reader left behind

        async with runs(settings, sim.url, accounts, 1) as (again,):
            await reconciled(again.venue)
            assert (subscriptions(sim), accounts.open_streams) == (1, 1)
        assert accounts.open_streams == 0
    await accounts.close()


async def test_closing_the_registry_stops_every_stream_and_the_runs_close_their_sockets() -> None:
    # A worker's shutdown: no reader is left behind, and each run's close closes its client.
    settings = stream_settings()
    accounts = AccountStreams()
    async with running_sim(sim_config()) as sim:
        before = asyncio.all_tasks()
        async with runs(settings, sim.url, accounts, 2) as conns:
            for conn in conns:
                stream_of(conn).start()
            await until(lambda: subscriptions(sim) == 1, WAIT_S)
            await asyncio.gather(*(reconciled(conn.venue) for conn in conns))
            await accounts.close()
            assert accounts.open_streams == 0
            assert all(stream_of(conn).gap for conn in conns)  # they fall back to REST
        await until(lambda: user_sockets(sim) == 0, WAIT_S)
        await until(lambda: not asyncio.all_tasks() - before, WAIT_S)  # no reader left behind


async def test_a_live_run_given_the_process_s_account_streams_listens_through_them(
    pg_url: str, pg_sessions: async_sessionmaker[AsyncSession], master_key: str
) -> None:
    # How a worker hands its registry to its runs (``LiveOptions.accounts``).
    config = sim_config(
        demo_week().slice(*WINDOW),
        [account(usdt=2_000.0, btc=0.0)],
        market=MarketConfig(maker_fee=0.0005, taker_fee=0.001),
    )
    accounts = AccountStreams()
    async with running_sim(config) as sim:
        client = await live_client(pg_sessions, sim.url, master_key)
        settings = live_settings(client, master_key, EGRESS_IP=unique_id("ip"), **GRID)
        stop = asyncio.Event()
        options = LiveOptions(sandbox_url=sim.url, stop=stop, accounts=accounts)
        run = asyncio.create_task(run_on_live_data(settings, options, database_url=pg_url))
        try:
            await until(lambda: run.done() or subscriptions(sim) == 1, 30)
            assert not run.done()
            assert accounts.open_streams == 1
        finally:
            stop.set()
            outcome = await asyncio.wait_for(run, 30)
        assert outcome.status == "stopped", outcome.reason
        assert accounts.open_streams == 0  # the run's end closed its account's stream
        await until(lambda: user_sockets(sim) == 0, WAIT_S)
    await accounts.close()


async def test_a_socket_s_subscription_is_counted_as_the_exchange_counts_it() -> None:
    # Naive: the WS-API subscription (weight 2 on Binance) goes out uncounted: a thousand
    # accounts' sockets spend weight the limiter does not know of.
    settings = stream_settings()
    limiter = RateLimiter.from_settings(settings, "binance")
    accounts = AccountStreams()
    async with running_sim(sim_config()) as sim, runs(settings, sim.url, accounts, 1) as (run,):
        stream_of(run).start()
        await until(lambda: subscriptions(sim) == 1, WAIT_S)
        charged = (await control(sim.url, "GET", "/_sim/state"))["limits"]["charged"]
        assert charged >= 2  # the subscription's (and the markets', unless another loaded them)
        assert (await limiter.usage()).weight == charged
    await accounts.close()
    await limiter.close()
