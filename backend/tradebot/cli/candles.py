"""``tradebot candles``: fetch candles from an exchange (cached), validate a file, convert one.

- ``fetch --exchange binance --pair BTC/USDT --timeframe 1m --since 2024-12-01 --until
  2024-12-08 [--out FILE] [--sandbox-url URL] [--no-cache]``
- ``validate FILE``: the validation report; exit 2 on a fatal problem (gaps are only listed)
- ``convert IN OUT``: any readable format to the one OUT's extension names
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradebot.candles.fetch import FetchResult
    from tradebot.candles.model import Candles
    from tradebot.candles.validate import ValidationReport

GAPS_SHOWN = 10


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = sub.add_parser("fetch", help="fetch candles through ccxt into the local cache")
    fetch.add_argument("--exchange", help="ccxt exchange id (default: DEFAULT_EXCHANGE)")
    fetch.add_argument("--pair", required=True, help="e.g. BTC/USDT")
    fetch.add_argument("--timeframe", default="1m", help="e.g. 1m, 5m, 1h (default 1m)")
    fetch.add_argument("--since", required=True, help="UTC date or time (2024-12-01, ISO) or ms")
    fetch.add_argument("--until", help="UTC date or time, exclusive (default: now)")
    fetch.add_argument("--out", type=Path, help="also write them: .csv, .csv.gz, .parquet, .json")
    fetch.add_argument("--sandbox-url", help="base URL of a local exchange simulator")
    fetch.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    fetch.add_argument(
        "--retries", type=int, default=5, help="attempts per request on network errors (5)"
    )
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    validate = sub.add_parser("validate", help="check a candle file and list its gaps")
    validate.add_argument("file", type=Path)
    convert = sub.add_parser("convert", help="rewrite a candle file in another format")
    convert.add_argument("source", type=Path, metavar="IN")
    convert.add_argument("target", type=Path, metavar="OUT")


def run(args: argparse.Namespace) -> int:
    return {"fetch": _fetch, "validate": _validate, "convert": _convert}[args.action](args)


def parse_time(text: str, flag: str) -> int:
    """Milliseconds UTC from a date, an ISO time (naive = UTC) or an integer of ms."""
    from tradebot.errors import BadInputError

    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInputError(f"{flag}: not a date or time: {text!r} (e.g. 2024-12-01)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _fetch(args: argparse.Namespace) -> int:
    import asyncio

    from tradebot.candles.convert import output_format, write_candles
    from tradebot.candles.fetch import fetch_candles
    from tradebot.config import load_settings
    from tradebot.errors import BadInputError
    from tradebot.venues.ccxt_market_data import CcxtOhlcvSource
    from tradebot.venues.retry import Backoff

    settings = load_settings()
    since = parse_time(args.since, "--since")
    until = (
        parse_time(args.until, "--until")
        if args.until
        else int(datetime.now(UTC).timestamp() * 1000)
    )
    if args.out:
        output_format(args.out)  # refuse an unknown format before any request
    cache_root = None if args.no_cache else settings.DATA_DIR / "cache" / "candles"
    if args.retries < 1:
        raise BadInputError("--retries must be at least 1")
    source = CcxtOhlcvSource.open(
        args.exchange or settings.DEFAULT_EXCHANGE,
        sandbox_url=args.sandbox_url,
        backoff=Backoff(attempts=args.retries),
    )

    async def fetch() -> FetchResult:
        try:
            with _progress(args.quiet) as progress:
                return await fetch_candles(
                    source,
                    args.pair,
                    args.timeframe,
                    since,
                    until,
                    cache_root=cache_root,
                    progress=progress,
                )
        finally:
            await source.close()

    result = asyncio.run(fetch())
    where = f"{result.pages} pages fetched" if result.pages else "all from the cache"
    print(
        f"{len(result.candles)} candles of {args.pair} {args.timeframe} from {source.name} "
        f"({where})"
    )
    _print_report(result.report, result.candles)
    if result.cache_path:
        print(f"cache: {result.cache_path}")
    if args.out:
        if len(result.candles) == 0:
            from tradebot.errors import CandleDataError

            raise CandleDataError(f"no candles in that range: {args.out} not written")
        print(f"wrote {write_candles(result.candles, args.out)}")
    return 0


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a rich bar on stderr from its first call (so an error before
    any page leaves the terminal clean); nothing when quiet."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("candles"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    bar = Progress(*columns, console=Console(stderr=True), transient=True)
    task = bar.add_task("fetch", total=None)

    def update(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()


def _print_report(report: ValidationReport, candles: Candles) -> None:
    from tradebot.candles.model import timeframe_name

    def when(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")

    print(f"rows: {report.rows}, timeframe: {timeframe_name(report.timeframe_ms)}")
    if report.rows:
        print(f"from {when(int(candles.ts[0]))} to {when(int(candles.ts[-1]))} UTC (open times)")
    print(
        f"unsorted: {len(report.unsorted_at)}, duplicates: {len(report.duplicates)}, "
        f"impossible OHLC: {len(report.impossible)}, off the time grid: {len(report.off_grid)}"
    )
    print(f"gaps: {len(report.gaps)} ({report.missing_candles} candles missing, not filled)")
    for gap in report.gaps[:GAPS_SHOWN]:
        print(f"  {gap.missing} missing after {when(gap.after_ts)}, before {when(gap.before_ts)}")
    if len(report.gaps) > GAPS_SHOWN:
        print(f"  ... and {len(report.gaps) - GAPS_SHOWN} more")


def _validate(args: argparse.Namespace) -> int:
    from tradebot.candles.io import load_candles
    from tradebot.candles.validate import validate
    from tradebot.errors import CandleDataError

    candles = load_candles(args.file)
    report = validate(candles)
    _print_report(report, candles)
    if report.fatal:
        raise CandleDataError(f"{args.file}: {report.fatal}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from tradebot.candles.convert import output_format, write_candles
    from tradebot.candles.io import load_candles
    from tradebot.candles.validate import require_valid

    output_format(args.target)
    candles = load_candles(args.source)
    report = require_valid(candles)
    print(
        f"wrote {write_candles(candles, args.target)} ({report.rows} rows, "
        f"{len(report.gaps)} gaps kept as they are)"
    )
    return 0
