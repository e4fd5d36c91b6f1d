"""``tradebot plan``: the grid plan summary (what SUMMARY_ONLY=true prints and exports)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tradebot.cli.options import add_grid_options


def register(parser: argparse.ArgumentParser) -> None:
    add_grid_options(parser)
    parser.add_argument("--price", type=float, help="reference price for the start split")
    parser.add_argument("--json", type=Path, help="also write the summary here")


def run(args: argparse.Namespace) -> int:
    import json

    from tradebot.cli.options import plan_from, require_writable, settings_from, write_all
    from tradebot.report.terminal import print_plan

    settings = settings_from(args)
    targets = [args.json] if args.json else []
    if settings.SUMMARY_JSON_EXPORT and settings.SUMMARY_JSON_PATH not in targets:
        targets.append(settings.SUMMARY_JSON_PATH)
    require_writable(*targets)
    summary = plan_from(args, settings).summary(args.price)
    summary["pair"] = settings.GRID_PAIR
    print_plan(summary)
    for target in targets:
        write_all([(target, json.dumps(summary, indent=2) + "\n")])
        print(f"wrote {target}")
    return 0
