"""LOG_INGEST_WEBHOOK: every entry reaches a receiver, in batches, scrubbed; a receiver that
hangs costs the code that logs nothing, and what it cannot take is counted as dropped."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from prometheus_client import REGISTRY

from tests.observability.receivers import hanging_receiver, storing_receiver
from tradebot.cli.main import main
from tradebot.observability.log_shipping import WebhookLogHandler
from tradebot.observability.logs import bind_log_context, configure_logging, get_logger


def _dropped() -> float:
    return REGISTRY.get_sample_value("tradebot_log_entries_dropped_total") or 0.0


def _shippers() -> list[WebhookLogHandler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, WebhookLogHandler)]


@pytest.fixture(autouse=True)
def _shippers_closed() -> Iterator[None]:
    yield
    for shipper in _shippers():
        shipper.close()
    structlog.contextvars.clear_contextvars()


def _eventually(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_every_entry_reaches_the_webhook_with_its_run_context_and_scrubbed() -> None:
    with storing_receiver() as (url, received):
        configure_logging("INFO", ingest_url=url)
        bind_log_context(client_id="acme", run_id="r-1", pair="BTC/USDT")
        for n in range(30):
            get_logger("tradebot.test").info("tick_seen", n=n, api_secret="hunter2-secret")
        logging.getLogger("uvicorn.error").warning("a library line")

        _eventually(lambda: len(received.entries) >= 31)

    entries = received.entries
    assert [e["n"] for e in entries if e["event"] == "tick_seen"] == list(range(30))
    assert all(
        (e["client_id"], e["run_id"], e["pair"]) == ("acme", "r-1", "BTC/USDT") for e in entries
    )
    assert {e["api_secret"] for e in entries if "api_secret" in e} == {"***"}
    assert len(received.batches) < len(entries)  # batched, not one POST per entry


def test_a_hanging_receiver_never_blocks_logging_and_drops_are_counted_and_told(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with hanging_receiver() as url:
        configure_logging("INFO")
        shipper = WebhookLogHandler(url, capacity=50, timeout_s=0.3, flush_interval_s=0.05)
        shipper.setFormatter(logging.getLogger().handlers[0].formatter)
        logging.getLogger().addHandler(shipper)
        before = _dropped()

        started = time.monotonic()
        for n in range(2_000):
            get_logger("tradebot.test").info("tick_seen", n=n)
        elapsed = time.monotonic() - started

        assert elapsed < 2.0  # a POST waits 0.3 s: 2,000 lines waiting on it would take minutes
        assert _dropped() - before >= 2_000 - 50 - 500  # beyond the queue and one batch in flight
        _eventually(lambda: "log_entries_dropped" in capsys.readouterr().err, timeout=5)


def _paper_seconds(run_id: str) -> float:
    started = time.monotonic()
    assert (
        main(["--log-level", "INFO", "paper", "--days", "0.5", "--quiet", "--run-id", run_id]) == 0
    )
    return time.monotonic() - started


def test_a_paper_runs_lines_carry_its_context_and_it_keeps_its_pace_while_the_receiver_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    for name in ("GRID_LOWER", "GRID_UPPER", "GRID_STEPS", "GRID_INVESTMENT", "RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    with storing_receiver() as (url, received):
        monkeypatch.setenv("LOG_INGEST_WEBHOOK", url)
        _paper_seconds("warm-up")  # also the migrations and the candle file's first read
        for shipper in _shippers():
            shipper.close()  # sends what it holds
    run_lines = [e for e in received.entries if e.get("run_id") == "warm-up"]
    assert {e["event"] for e in run_lines} >= {"run_ticking"}
    assert {(e["client_id"], e["pair"]) for e in run_lines} == {("default", "BTC/USDT")}

    monkeypatch.delenv("LOG_INGEST_WEBHOOK")
    baseline = _paper_seconds("no-webhook")

    with hanging_receiver() as url:
        monkeypatch.setenv("LOG_INGEST_WEBHOOK", url)
        hung = _paper_seconds("webhook-hanging")
        assert _shippers(), "the CLI installed no webhook handler"

    # The run logs several lines; a webhook in the way would cost TIMEOUT_S (5 s) for each.
    assert hung < baseline * 2 + 2.0, (baseline, hung)  # slack for a busy machine, not 40 s
