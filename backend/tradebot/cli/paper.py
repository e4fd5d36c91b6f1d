"""``tradebot paper``: replay real candles through the live run loop in paper mode."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tradebot.cli.options import add_grid_options, add_output_options

if TYPE_CHECKING:
    from tradebot.config import Settings


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--candles",
        type=Path,
        help="CSV, CSV.gz, JSON or Parquet (default: the bundled BTC/USDT 1m week)",
    )
    parser.add_argument(
        "--days", type=float, default=7.0, help="replay only the first N days (default 7)"
    )
    parser.add_argument("--run-id", help="RUN_ID: reuse to resume an unfinished replay")
    add_grid_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tradebot.cli.options import (
        load_candle_file,
        output_paths,
        plan_from,
        require_writable,
        settings_from,
        write_outputs,
    )
    from tradebot.errors import BadInputError
    from tradebot.runs.paper_replay import run_paper_replay

    require_writable(*output_paths(args))
    if args.days <= 0:
        raise BadInputError(f"--days must be > 0 (got {args.days:g})")
    settings = settings_from(args)
    if args.run_id:
        settings = settings.model_copy(update={"RUN_ID": args.run_id})
    # The client's limits laid over the settings as for its live run: the paper gate must
    # trade the grid the live run would (the same investment and per-trade size).
    settings = asyncio.run(_client_settings(settings))
    plan = plan_from(args, settings)
    candles = load_candle_file(args.candles).first_days(args.days)
    replay = asyncio.run(run_paper_replay(plan, candles, settings))
    title = f"Paper replay {replay.run_id}: {settings.GRID_PAIR}, {Path(candles.source).name}"
    write_outputs(args, replay.result, replay.candles, title=title)
    if not args.quiet:
        print(f"run {replay.run_id}: {replay.outcome.status} ({replay.outcome.reason})")
    return 0 if replay.outcome.status == "finished" else 1


async def _client_settings(settings: Settings) -> Settings:
    from sqlalchemy.engine import make_url

    from tradebot.errors import NotFoundError
    from tradebot.kit.scope import ClientScope, client_transaction
    from tradebot.runs.configuration import ClientConfigService
    from tradebot.runs.launcher import database

    if not settings.PG_URL and not Path(make_url(settings.database_url).database or "").exists():
        # No database yet: no client has limits (the seeded default client has none), and
        # nothing is created before the grid is checked (bad input leaves nothing behind).
        return settings
    scope = ClientScope.of(settings.CLIENT_ID)
    async with database(settings.database_url) as sessions:
        try:
            async with client_transaction(sessions, scope) as session:
                return await ClientConfigService(session, scope, settings).paper_settings()
        except NotFoundError:
            raise NotFoundError(f"CLIENT_ID: unknown client {settings.CLIENT_ID!r}") from None
