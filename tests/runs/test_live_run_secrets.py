"""A whole live run through ccxt at DEBUG: the API key, its secret and the master key appear
nowhere in our logs, the libraries' logs (ccxt prints signed headers at DEBUG), or the outcome.

Naive implementation caught: ccxt left in verbose mode, or a log line that prints the request
headers or the decrypted credentials.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging

from tests.runs.live_fixtures import GRID, live_client, live_settings
from tests.venues.sim_fixtures import account, running_sim, sim_config
from tradebot.candles.io import bundled, load_candles
from tradebot.db import create_engine, session_factory
from tradebot.observability.logs import configure_logging, get_logger
from tradebot.runs.live import LiveOptions, run_on_live_data

KEY = "LIVEKEY-7d1e9c3b5a2f8e4d"
SECRET = "live-secret-6b4a2c8e0f1d3b5a"


async def test_a_live_run_at_debug_logs_no_secret(pg_url, master_key):
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    captured = io.StringIO()
    configure_logging("DEBUG")
    root = logging.getLogger()
    handler = root.handlers[0]
    handler.setStream(captured)  # type: ignore[attr-defined]
    try:
        candles = load_candles(bundled()).slice(2000, 2030)
        config = sim_config(candles, [account(KEY, SECRET, usdt=2_000.0, btc=0.0)])
        async with running_sim(config) as sim:
            client = await live_client(sessions, sim.url, master_key, key=KEY, secret=SECRET)
            settings = live_settings(client, master_key, **GRID)
            outcome = await run_on_live_data(
                settings,
                LiveOptions(sandbox_url=sim.url, sandbox_step=True),
                database_url=pg_url,
            )
    finally:
        root.setLevel(logging.WARNING)
        await engine.dispose()
    logs = captured.getvalue()
    assert outcome.status == "finished", outcome.reason
    assert "execution_metrics" in logs  # the run did log, at DEBUG, with ccxt's loggers on
    for secret in (KEY, SECRET, master_key, SECRET[:12], KEY[4:]):
        assert secret not in logs
        assert secret not in repr(outcome)


async def test_a_live_run_masks_its_key_in_log_lines_only_while_it_holds_the_key(
    pg_url, master_key
):
    engine = create_engine(pg_url)
    sessions = session_factory(engine)
    captured = io.StringIO()
    configure_logging("INFO")
    root = logging.getLogger()
    root.handlers[0].setStream(captured)  # type: ignore[attr-defined]
    log = get_logger("a library the exchange client calls")

    def stop_reason() -> str:
        log.info("while_running", text=f"signing with {KEY} and {SECRET}")
        return "stopped by the test"

    stop = asyncio.Event()
    stop.set()  # the run stops at its first look, with its venue connected
    try:
        config = sim_config(accounts=[account(KEY, SECRET, usdt=2_000.0, btc=0.0)])
        async with running_sim(config) as sim:
            client = await live_client(sessions, sim.url, master_key, key=KEY, secret=SECRET)
            settings = live_settings(client, master_key, **GRID)
            options = LiveOptions(sandbox_url=sim.url, stop=stop, stop_reason=stop_reason)
            outcome = await run_on_live_data(settings, options, database_url=pg_url)
        log.info("after_the_run", text=f"signing with {KEY}")
    finally:
        root.setLevel(logging.WARNING)
        await engine.dispose()
    lines = {json.loads(line)["event"]: line for line in captured.getvalue().splitlines()}
    assert outcome.reason == "stopped by the test"
    assert KEY not in lines["while_running"]
    assert SECRET not in lines["while_running"]
    assert "***" in lines["while_running"]
    assert KEY in lines["after_the_run"]  # released with the venue: other text is left alone
