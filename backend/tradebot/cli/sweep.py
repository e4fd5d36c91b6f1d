"""``tradebot sweep``: every combination of grid ranges over one candle file, ranked by a metric."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tradebot.cli.options import add_capital_and_market_options
from tradebot.research.choices import PARAMETERS, RANKING, SPACINGS
from tradebot.research.ranges import RANGE_HELP

if TYPE_CHECKING:
    from tradebot.research.sweep import SweepResult, SweepSpace


def register(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "Ranges: each of --lower, --upper, --lines takes " + RANGE_HELP + "; --spacing takes "
        "arithmetic, geometric or both (comma-separated). A parameter left out keeps its "
        "GRID_* setting. Combinations with lower >= upper, or that the plan refuses (spacing "
        "too tight for the fees), are skipped and counted. "
        "Example: tradebot sweep --lower 90000:95000:1000 --upper 100000,105000 "
        "--lines 10:100:10 --spacing arithmetic,geometric --metric sharpe --top 5"
    )
    parser.add_argument(
        "--candles", type=Path, help="CSV, CSV.gz, JSON or Parquet (default: the bundled demo week)"
    )
    grid = parser.add_argument_group("ranges (defaults from GRID_* settings)")
    grid.add_argument("--lower", metavar="RANGE", help="lowest line prices, e.g. 90000:95000:1000")
    grid.add_argument("--upper", metavar="RANGE", help="highest line prices, e.g. 100000,105000")
    grid.add_argument("--lines", metavar="RANGE", help="line counts, e.g. 10:100:10")
    grid.add_argument(
        "--spacing", metavar="LIST", help="arithmetic, geometric or arithmetic,geometric"
    )
    shared = parser.add_argument_group("shared by every combination")
    add_capital_and_market_options(shared)
    rank = parser.add_argument_group("ranking and outputs")
    rank.add_argument(
        "--metric",
        choices=list(RANKING),
        default="total_pnl",
        metavar="METRIC",
        help=f"rank by one of {', '.join(RANKING)} (default total_pnl; max_drawdown and "
        "fees_paid rank lowest first)",
    )
    rank.add_argument("--top", type=int, default=10, help="rows in the terminal table (default 10)")
    rank.add_argument(
        "--heatmap-x", choices=PARAMETERS, default="lower", help="heatmap columns (default lower)"
    )
    rank.add_argument(
        "--heatmap-y", choices=PARAMETERS, default="upper", help="heatmap rows (default upper)"
    )
    rank.add_argument("--csv", type=Path, help="write every valid combination, ranked")
    rank.add_argument("--json", type=Path, help="write the ranked results and what was skipped")
    rank.add_argument("--html", type=Path, help="write the self-contained heatmap page")
    rank.add_argument("--quiet", action="store_true", help="no progress bar and no terminal table")


def space_from(args: argparse.Namespace) -> SweepSpace:
    """The combinations the flags ask for; flags left out fall back to the settings."""
    from tradebot.cli.options import settings_from
    from tradebot.engine.types import Spacing
    from tradebot.research import ranges
    from tradebot.research.sweep import SweepSpace
    from tradebot.venues.catalog import offline_rules

    scalar = argparse.Namespace(
        investment=args.investment,
        maker_fee=args.maker_fee,
        taker_fee=args.taker_fee,
        tp=args.tp,
        pair=args.pair,
    )
    settings = settings_from(scalar)
    spacings = (
        ranges.parse_choices("--spacing", args.spacing, SPACINGS)
        if args.spacing
        else [settings.GRID_SPACING.value]
    )
    return SweepSpace(
        lowers=tuple(
            ranges.parse_floats("--lower", args.lower) if args.lower else [settings.GRID_LOWER]
        ),
        uppers=tuple(
            ranges.parse_floats("--upper", args.upper) if args.upper else [settings.GRID_UPPER]
        ),
        lines=tuple(
            ranges.parse_ints("--lines", args.lines) if args.lines else [settings.GRID_STEPS]
        ),
        spacings=tuple(Spacing(s) for s in spacings),
        investment=settings.investment(),
        maker_fee=settings.MAKER_FEE,
        taker_fee=settings.TAKER_FEE,
        take_profit=settings.TP / 100.0,
        rules=None if args.exact else offline_rules(settings.GRID_PAIR),
    )


def _run_with_progress(space: SweepSpace, candles_path: Path | None, quiet: bool) -> SweepResult:
    from tradebot.cli.options import load_candle_file
    from tradebot.research.sweep import run_sweep

    candles = load_candle_file(candles_path)
    if quiet:
        return run_sweep(space, candles)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"sweeping {len(candles):,} candles", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_sweep(space, candles, progress=advance)


def run(args: argparse.Namespace) -> int:
    from tradebot.cli.options import require_writable, write_all
    from tradebot.errors import BadInputError
    from tradebot.research.sweep import heatmap

    require_writable(args.csv, args.json, args.html)
    if args.top < 1:
        raise BadInputError(f"--top must be at least 1 (got {args.top})")
    if args.html and args.heatmap_x == args.heatmap_y:
        raise BadInputError(f"--heatmap-x and --heatmap-y must differ (both are {args.heatmap_x})")
    space = space_from(args)
    result = _run_with_progress(space, args.candles, args.quiet)
    outputs: list[tuple[Path, str]] = []  # rendered first: an error leaves no file behind
    if args.csv:
        from tradebot.report.sweep_csv import sweep_csv_text

        outputs.append((args.csv, sweep_csv_text(result, args.metric)))
    if args.json:
        import json

        outputs.append((args.json, json.dumps(result.to_json(args.metric), indent=2) + "\n"))
    if args.html:
        from tradebot.report.heatmap import render_heatmap_html

        grid = heatmap(result, args.metric, args.heatmap_x, args.heatmap_y)
        outputs.append((args.html, render_heatmap_html(result, grid, "Grid sweep")))
    write_all(outputs)
    if not args.quiet:
        from tradebot.report.optimisation import print_sweep

        print_sweep(result, args.metric, args.top)
        for path, _ in outputs:
            print(f"wrote {path}")
    return 0
