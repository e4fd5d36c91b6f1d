"""``tradebot backtest``: the fast compiled walk over one candle file."""

from __future__ import annotations

import argparse
from pathlib import Path

from tradebot.cli.options import add_grid_options, add_output_options


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--candles", type=Path, help="CSV, CSV.gz, JSON or Parquet (default: the bundled demo week)"
    )
    add_grid_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    from tradebot.cli.options import (
        load_candle_file,
        output_paths,
        plan_from,
        require_writable,
        settings_from,
        write_outputs,
    )
    from tradebot.research.backtest import run_backtest

    require_writable(*output_paths(args))
    plan = plan_from(args, settings_from(args))
    candles = load_candle_file(args.candles)
    result = run_backtest(plan, candles)
    write_outputs(args, result, candles, title=f"Backtest: {Path(candles.source).name}")
    return 0
