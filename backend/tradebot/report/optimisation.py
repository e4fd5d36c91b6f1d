"""Terminal tables of the optimisation commands: the sweep's ranking and the walk-forward stages."""

from __future__ import annotations

from datetime import UTC, datetime

from rich import box
from rich.console import Console
from rich.table import Table

from tradebot.engine.types import GridConfig
from tradebot.report.terminal import _money
from tradebot.research.sweep import SweepResult
from tradebot.research.walkforward import WalkForwardReport, Window

# Always shown; the ranking metric joins them when it is another one.
_SHOWN = ("total_pnl", "return_pct", "max_drawdown", "sharpe", "round_trips")
_FORMATS = {
    "total_pnl": ("P&L", "{:+,.2f}"),
    "return_pct": ("return %", "{:+.2f}"),
    "grid_profit": ("grid profit", "{:,.2f}"),
    "max_drawdown": ("max DD", "{:.2%}"),
    "sharpe": ("Sharpe", "{:.2f}"),
    "round_trips": ("trips", "{}"),
    "fees_paid": ("fees", "{:,.2f}"),
    "equity": ("equity", "{:,.2f}"),
    "min_quote": ("min quote", "{:,.2f}"),
}


def _grid(config: GridConfig) -> str:
    return f"{config.lower:,.8g}–{config.upper:,.8g} ×{config.lines} {config.spacing.value[:5]}"


def sweep_table(result: SweepResult, metric: str, top: int) -> Table:
    shown = _SHOWN if metric in _SHOWN else (metric, *_SHOWN)
    table = Table(
        title=(
            f"Sweep: best {min(top, len(result.plans))} of {len(result.plans)} grids by "
            f"{metric} (investment {result.space.investment:,.2f})"
        ),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("#", justify="right")
    table.add_column("grid (lower–upper ×lines)")
    for name in shown:
        header = _FORMATS[name][0]
        table.add_column(f"[u]{header}[/u]" if name == metric else header, justify="right")
    for rank, index in enumerate(result.ranking(metric)[:top].tolist(), start=1):
        row = result.row(index)
        cells = [str(rank), _grid(result.plans[index].config)]
        cells += [_FORMATS[name][1].format(row[name]) for name in shown]
        table.add_row(*cells)
    return table


def print_sweep(result: SweepResult, metric: str, top: int, console: Console | None = None) -> None:
    console = console or Console()
    console.print(sweep_table(result, metric, top))
    skipped = result.skipped
    console.print(
        f"{result.space.size} combinations: {len(result.plans)} run, {skipped.total} skipped"
        + (f" ({skipped.describe()})" if skipped.total else "")
    )


def _window(window: Window) -> str:
    start = datetime.fromtimestamp(window.start_ms / 1000, tz=UTC)
    when = f"{start:%Y-%m-%d}" if start.hour == start.minute == 0 else f"{start:%Y-%m-%d %H:%M}"
    return f"{when} +{window.days:.3g}d"


def walkforward_tables(report: WalkForwardReport) -> tuple[Table, Table]:
    """The grid each stage traded (and how it was chosen), then its results by window."""
    grids = Table(
        title=f"Walk-forward: {report.config}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    grids.add_column("#", justify="right")
    grids.add_column("stage")
    grids.add_column("grid (lower–upper ×lines)")
    grids.add_column("chosen by")
    results = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    results.add_column("#", justify="right")
    results.add_column("in-sample", no_wrap=True)
    results.add_column("P&L", justify="right", no_wrap=True)
    results.add_column("out-of-sample", no_wrap=True)
    results.add_column("P&L", justify="right", no_wrap=True)
    results.add_column("return", justify="right", no_wrap=True)
    results.add_column("max DD", justify="right", no_wrap=True)
    results.add_column("trips", justify="right", no_wrap=True)
    for number, stage in enumerate(report.stages, start=1):
        chosen = "settings"
        if stage.metric and stage.sweep:
            chosen = f"best {stage.metric} of {len(stage.sweep.plans)}"
        grids.add_row(str(number), stage.name, _grid(stage.plan.config), chosen)
        ins, outs = stage.in_sample, stage.out_of_sample
        results.add_row(
            str(number),
            _window(stage.in_window),
            _money(ins.total_pnl),
            _window(stage.out_window),
            _money(outs.total_pnl),
            f"{outs.total_pnl / outs.investment:+.2%}",
            f"{outs.max_drawdown:.2%}",
            str(outs.round_trips),
        )
    return grids, results


def print_walkforward(report: WalkForwardReport, console: Console | None = None) -> None:
    console = console or Console()
    for table in walkforward_tables(report):
        console.print(table)
    console.print(f"out-of-sample total P&L: {_money(report.out_of_sample_pnl)}")
