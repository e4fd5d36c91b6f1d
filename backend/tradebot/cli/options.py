"""Options several commands share: the grid, and where outputs go."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradebot.candles.model import Candles
    from tradebot.config import Settings
    from tradebot.engine.plan import GridPlan
    from tradebot.research.result import GridResult


def add_grid_options(parser: argparse.ArgumentParser) -> None:
    """Grid flags; each one left out falls back to its environment variable (GRID_*, TP...)."""
    grid = parser.add_argument_group("grid (defaults from GRID_* settings)")
    grid.add_argument("--lower", type=float, help="lowest line price (GRID_LOWER)")
    grid.add_argument("--upper", type=float, help="highest line price (GRID_UPPER)")
    grid.add_argument("--lines", type=int, help="number of lines, >= 2 (GRID_STEPS)")
    grid.add_argument("--spacing", choices=["arithmetic", "geometric"], help="GRID_SPACING")
    add_capital_and_market_options(grid)


def add_capital_and_market_options(group: argparse._ActionsContainer) -> None:
    """Capital, fees, take profit and the market's rounding: one value for the whole command
    (a sweep shares them across every combination)."""
    group.add_argument("--investment", type=float, help="capital in quote (GRID_INVESTMENT)")
    group.add_argument("--maker-fee", type=float, help="fraction, e.g. 0.001 (MAKER_FEE)")
    group.add_argument("--taker-fee", type=float, help="fraction, e.g. 0.001 (TAKER_FEE)")
    group.add_argument("--tp", type=float, help="take profit in %% of investment, 0 = off (TP)")
    group.add_argument(
        "--pair", help="market, e.g. BTC/USDT: its tick, lot and minimums (GRID_PAIR)"
    )
    group.add_argument(
        "--exact", action="store_true", help="no exchange rounding or minimums (the spec's oracle)"
    )


_FLAGS = {
    "lower": "GRID_LOWER",
    "upper": "GRID_UPPER",
    "lines": "GRID_STEPS",
    "spacing": "GRID_SPACING",
    "investment": "GRID_INVESTMENT",
    "maker_fee": "MAKER_FEE",
    "taker_fee": "TAKER_FEE",
    "tp": "TP",
    "pair": "GRID_PAIR",
}


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment settings with the command line's grid flags laid over them."""
    from tradebot.config import load_settings
    from tradebot.errors import ConfigError

    given = {
        variable: getattr(args, flag)
        for flag, variable in _FLAGS.items()
        if getattr(args, flag, None) is not None
    }
    try:
        return load_settings(**given)
    except ConfigError as exc:
        message = str(exc)
        for flag, variable in _FLAGS.items():
            if variable in given and message.startswith(variable):
                message = f"--{flag.replace('_', '-')}" + message[len(variable) :]
        raise ConfigError(message) from None


def plan_from(args: argparse.Namespace, settings: Settings) -> GridPlan:
    """The grid plan, rounded to the pair's exchange rules unless ``--exact``."""
    from tradebot.engine.plan import build_plan
    from tradebot.venues.catalog import offline_rules

    rules = None if args.exact else offline_rules(settings.GRID_PAIR)
    return build_plan(settings.grid_config(), rules)


def add_output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("outputs")
    out.add_argument("--json", type=Path, help="write the results (the spec's names as keys)")
    out.add_argument("--html", type=Path, help="write the self-contained HTML report")
    out.add_argument("--fills-csv", type=Path, help="write every fill as CSV")
    out.add_argument("--quiet", action="store_true", help="no terminal tables")


def require_writable(*paths: Path | None) -> None:
    """Refuse, before any work, an output path that could not be written at the end.

    A file in the way of its folder, a folder where the file should go, a folder we may not
    write to, or one path given for two outputs: one ``tradebot: error:`` line, not a traceback
    after a week's replay.
    """
    import os

    from tradebot.errors import BadInputError

    given = [Path(path) for path in paths if path is not None]
    seen: set[Path] = set()
    for path in given:
        resolved = path.resolve()
        if resolved in seen:
            raise BadInputError(f"{path} is given for two outputs")
        seen.add(resolved)
        if path.is_dir():
            raise BadInputError(f"cannot write {path}: it is a folder")
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise BadInputError(f"cannot write {path}: {folder} is a file, not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise BadInputError(f"cannot write {path}: no permission to write in {folder}")
        if path.exists() and not os.access(path, os.W_OK):
            raise BadInputError(f"cannot write {path}: the file is read-only")


def output_paths(args: argparse.Namespace) -> tuple[Path | None, ...]:
    """The paths of ``add_output_options``."""
    return (args.json, args.html, args.fills_csv)


def load_candle_file(path: Path | None) -> Candles:
    """Load and validate a candle file (the bundled demo week by default); gaps are listed."""
    import sys

    from tradebot.candles.io import bundled, load_candles
    from tradebot.candles.validate import require_valid

    candles = load_candles(path or bundled())
    report = require_valid(candles)
    if report.gaps:
        shown = ", ".join(f"{g.missing} after {g.after_ts}" for g in report.gaps[:5])
        more = f" and {len(report.gaps) - 5} more" if len(report.gaps) > 5 else ""
        print(
            f"tradebot: warning: {len(report.gaps)} gaps ({report.missing_candles} candles "
            f"missing, not filled): {shown}{more}",
            file=sys.stderr,
        )
    return candles


def write_outputs(
    args: argparse.Namespace, result: GridResult, candles: Candles, title: str
) -> None:
    """Every output is rendered before any is written, so an error leaves none behind."""
    outputs: list[tuple[Path, str]] = []
    if args.json:
        import json

        outputs.append((args.json, json.dumps(result.to_json(), indent=2) + "\n"))
    if args.fills_csv:
        from tradebot.report.fills_csv import fills_csv_text

        outputs.append((args.fills_csv, fills_csv_text(result.fills)))
    if args.html:
        from tradebot.report.html import render_html

        outputs.append((args.html, render_html(result, candles, title)))
    write_all(outputs)
    if not args.quiet:
        from tradebot.report.terminal import print_result

        print_result(result, title)
        for path, _ in outputs:
            print(f"wrote {path}")


def write_all(outputs: list[tuple[Path, str]]) -> None:
    """Write each rendered output; a failure (a full disk...) is one line, not a traceback."""
    from tradebot.errors import BadInputError
    from tradebot.kit.files import write_atomic

    for path, text in outputs:
        try:
            write_atomic(path, text)
        except OSError as exc:
            raise BadInputError(f"cannot write {path}: {exc.strerror or exc}") from None
