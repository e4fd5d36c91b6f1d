"""How ccxt exchanges are built (``ccxt_factory.make_exchange``): pointed at the simulator
with nothing left aimed at the real exchange, quiet about keys, strict about JSON."""

from __future__ import annotations

import asyncio
import logging
import ssl

import ccxt.async_support
import ccxt.pro
import pytest

from tests.venues.sim_fixtures import KEY, SECRET, ccxt_client, running_sim
from tradebot.venues.ccxt_factory import UnknownExchangeError, make_exchange, shared_http


def _urls(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    else:
        yield value


def test_a_sandbox_exchange_has_every_api_url_on_the_sandbox():
    exchange = make_exchange("binance", sandbox_url="http://127.0.0.1:9/")
    urls = list(_urls(exchange.urls["api"]))
    assert len(urls) > 10
    assert all(u.startswith("http://127.0.0.1:9/") for u in urls)
    assert exchange.urls["api"]["public"] == "http://127.0.0.1:9/api/v3"
    assert exchange.urls["api"]["sapi"] == "http://127.0.0.1:9/sapi/v1"


def test_a_streaming_sandbox_exchange_is_ccxt_pro_with_its_websockets_on_the_sandbox():
    exchange = make_exchange("binance", sandbox_url="http://127.0.0.1:9/", streams=True)
    assert isinstance(exchange, ccxt.pro.binance)
    urls = list(_urls(exchange.urls["api"]))
    assert all(u.startswith(("http://127.0.0.1:9/", "ws://127.0.0.1:9/")) for u in urls)
    assert exchange.urls["api"]["ws"]["spot"] == "ws://127.0.0.1:9/ws"
    assert exchange.urls["api"]["ws"]["ws-api"]["spot"] == "ws://127.0.0.1:9/ws-api/v3"
    assert exchange.urls["api"]["public"] == "http://127.0.0.1:9/api/v3"
    exchange.verbose = True
    assert exchange.verbose is False
    secure = make_exchange("binance", sandbox_url="https://sandbox.test", streams=True)
    assert secure.urls["api"]["ws"]["spot"] == "wss://sandbox.test/ws"


def test_without_streams_the_exchange_is_the_plain_async_class():
    exchange = make_exchange("binance")
    assert isinstance(exchange, ccxt.async_support.binance)
    assert not isinstance(exchange, ccxt.pro.binance)


async def test_every_client_shares_one_tls_context_and_still_trades() -> None:
    # Naive: ccxt's own context per client, its CA file read again each time.
    first, second = make_exchange("binance"), make_exchange("binance", streams=True)
    assert first.ssl_context is second.ssl_context
    assert first.ssl_context.verify_mode is ssl.CERT_REQUIRED
    async with running_sim() as sim:
        client = make_exchange("binance", api_key=KEY, secret=SECRET, sandbox_url=sim.url)
        try:
            assert "USDT" in await client.fetch_balance()
        finally:
            await client.close()
    await first.close()
    await second.close()


def test_an_unknown_exchange_id_is_one_clear_error():
    with pytest.raises(UnknownExchangeError, match="unknown exchange 'binanse'"):
        make_exchange("binanse")


def test_verbose_stays_off_whatever_is_asked():
    exchange = make_exchange("binance", options={"verbose": True})
    exchange.verbose = True
    assert exchange.verbose is False


async def test_debug_logging_does_not_reveal_the_api_key(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    async with running_sim() as sim, ccxt_client(sim.url) as exchange:
        exchange.verbose = True
        await exchange.fetch_balance()
    assert KEY not in caplog.text
    captured = capsys.readouterr()
    assert KEY not in captured.out + captured.err


async def test_clients_borrow_one_connection_pool_and_a_closed_one_leaves_it_open() -> None:
    # Naive: every client opens its own pool: a worker's thousand runs kept a thousand pools
    # (and their housekeeping timers) to one host.
    async with running_sim() as sim:
        http = shared_http()
        first, second = (
            make_exchange(
                "binance", api_key=KEY, secret=SECRET, sandbox_url=sim.url, streams=True, http=http
            )
            for _ in range(2)
        )
        try:
            assert "USDT" in await first.fetch_balance()
            ticker = await asyncio.wait_for(second.watch_ticker("BTC/USDT"), 3)  # a WebSocket too
            assert ticker["last"] > 0
            assert first.session is http
            assert second.session is http
            await first.close()
            assert not http.closed  # a borrower's close leaves the pool to its owner
            assert "USDT" in await second.fetch_balance()
        finally:
            await second.close()
            await http.close()
