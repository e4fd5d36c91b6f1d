"""``tradebot run``: start (or resume) the run of CLIENT_ID on live market data.

PAPER_MODE=true simulates fills on live prices (no keys); PAPER_MODE=false trades for real
with the client's encrypted keys, after the exchange confirms the key cannot withdraw.
SUMMARY_ONLY=true only migrates the database and prints (and exports) the plan.
SIGTERM or Ctrl-C stops the loop after the current tick and leaves every order resting: a
restart reconciles and adopts them.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradebot.config import Settings


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-id", help="RUN_ID: the run to start or resume")
    parser.add_argument("--sandbox-url", help="a local exchange simulator instead of the exchange")
    parser.add_argument(
        "--sandbox-step",
        action="store_true",
        help="step a paused simulator one segment per poll (deterministic sandbox runs)",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from tradebot.config import load_settings

    settings = load_settings()
    if args.run_id:
        settings = settings.model_copy(update={"RUN_ID": args.run_id})
    if settings.SUMMARY_ONLY:
        return _summary_only(settings)

    from tradebot.engine.warm import warm_engine
    from tradebot.errors import TradeBotError
    from tradebot.kit.heap import settle_heap
    from tradebot.kit.loop import run as run_loop
    from tradebot.observability.metrics import start_metrics
    from tradebot.runs.live import LiveOptions, run_patiently
    from tradebot.runtime.ports import VenueError

    start_metrics(settings.METRICS_PORT)
    warm_engine()  # its kernels compiled before its first decision, not during one
    settle_heap()

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        options = LiveOptions(
            sandbox_url=args.sandbox_url, sandbox_step=args.sandbox_step, stop=stop
        )
        outcome = await run_patiently(settings, options)
        print(f"run {outcome.run_id}: {outcome.status} ({outcome.reason})")
        return 0 if outcome.status in ("finished", "stopped") else 1

    try:
        return run_loop(main())
    except VenueError as exc:  # the run could not start: nothing was placed
        raise TradeBotError(f"run {settings.RUN_ID} did not start: {exc}") from exc


def _summary_only(settings: Settings) -> int:
    from tradebot.engine.plan import build_plan
    from tradebot.kit.files import write_json
    from tradebot.migrations import upgrade
    from tradebot.report.terminal import print_plan
    from tradebot.venues.catalog import offline_rules

    upgrade(settings.database_url)
    plan = build_plan(settings.grid_config(), offline_rules(settings.GRID_PAIR))
    summary = {"pair": settings.GRID_PAIR, **plan.summary()}
    print_plan(summary)
    if settings.SUMMARY_JSON_EXPORT:
        write_json(settings.SUMMARY_JSON_PATH, summary)
        print(f"wrote {settings.SUMMARY_JSON_PATH}")
    return 0
