"""``tradebot walkforward``: staged in-sample / out-of-sample runs from a JSON config."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Each stage names an in_sample and an out_of_sample window ({start, end}, {start, days}, "
        "{end, days} or {days}), overrides grid settings (GRID_STEPS, TP, GRID_LOWER, ...) and "
        "may sweep ranges in-sample to choose the grid it then trades out-of-sample. "
        "See configs/walkforward.json for an example."
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="the stages (default: WALKFORWARD_CONFIG, configs/walkforward.json)",
    )
    parser.add_argument(
        "--candles",
        type=Path,
        help="candle file; overrides the config's (default: the bundled demo week)",
    )
    parser.add_argument(
        "--json", type=Path, help="write every stage's in- and out-of-sample results"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress and no terminal table")


def run(args: argparse.Namespace) -> int:
    import json

    from tradebot.cli.options import load_candle_file, require_writable, write_all
    from tradebot.research.walkforward import run_walkforward
    from tradebot.research.walkforward_config import load_config

    require_writable(args.json)
    path = args.config
    if path is None:
        from tradebot.config import load_settings

        path = load_settings().WALKFORWARD_CONFIG
    config = load_config(path)
    candles = load_candle_file(args.candles or config.candles)
    if args.quiet:
        report = run_walkforward(config, candles)
    else:
        from rich.console import Console

        with Console(stderr=True).status("walk-forward") as status:

            def on_stage(done: int, total: int, name: str) -> None:
                if done < total:
                    status.update(f"walk-forward: stage {done + 1} of {total} ({name})")

            report = run_walkforward(config, candles, on_stage=on_stage)
    if args.json:
        write_all([(args.json, json.dumps(report.to_json(), indent=2) + "\n")])
    if not args.quiet:
        from tradebot.report.optimisation import print_walkforward

        print_walkforward(report)
        if args.json:
            print(f"wrote {args.json}")
    return 0
