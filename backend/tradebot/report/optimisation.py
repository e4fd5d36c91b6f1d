"""Terminal tables of the optimisation commands: the sweep's ranking and the walk-forward stages."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from tradebot.backtest.sweep import SweepResult
from tradebot.backtest.walkforward import WalkForwardReport
from tradebot.report.terminal import _money

_FIGURES = (
    ("total_pnl", "total P&L", "{:+,.2f}"),
    ("return_pct", "return %", "{:+.2f}"),
    ("grid_profit", "grid profit", "{:,.2f}"),
    ("round_trips", "round trips", "{}"),
    ("max_drawdown", "max DD", "{:.2%}"),
    ("sharpe", "Sharpe", "{:.2f}"),
    ("fees_paid", "fees", "{:,.2f}"),
    ("min_quote", "min quote", "{:,.2f}"),
)


def sweep_table(result: SweepResult, metric: str, top: int) -> Table:
    space = result.space
    table = Table(
        title=(f"Sweep: best {min(top, len(result.plans))} of {len(result.plans)} grids by "
               f"{metric} (investment {space.investment:,.2f})"),
        title_justify="left",
    )
    table.add_column("#", justify="right")
    for name in ("lower", "upper", "lines", "spacing"):
        table.add_column(name, justify="right")
    for name, header, _ in _FIGURES:
        table.add_column(f"[bold]{header}[/bold]" if name == metric else header, justify="right")
    for row in result.ranked_rows(metric, top):
        cells = [str(row["rank"]), f"{row['lower']:,.8g}", f"{row['upper']:,.8g}",
                 str(row["lines"]), row["spacing"]]
        cells += [fmt.format(row[name]) for name, _, fmt in _FIGURES]
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


def walkforward_table(report: WalkForwardReport) -> Table:
    table = Table(title=f"Walk-forward: {report.config}", title_justify="left")
    for header in ("stage", "grid", "in-sample (UTC)", "IS P&L", "IS max DD",
                   "out-of-sample (UTC)", "OOS P&L", "OOS return", "OOS max DD", "OOS trips"):
        table.add_column(header, justify="left" if "UTC" in header or header in ("stage", "grid")
                         else "right")
    for stage in report.stages:
        cfg = stage.plan.config
        grid = f"{cfg.lower:,.8g} – {cfg.upper:,.8g}, {cfg.lines} {cfg.spacing.value}"
        if stage.metric:
            grid += f" (best {stage.metric} of {len(stage.sweep.plans) if stage.sweep else 0})"
        ins, outs = stage.in_sample, stage.out_of_sample
        table.add_row(
            stage.name, grid, stage.in_window.label(), _money(ins.total_pnl),
            f"{ins.max_drawdown:.2%}", stage.out_window.label(), _money(outs.total_pnl),
            f"{outs.total_pnl / outs.investment:+.2%}", f"{outs.max_drawdown:.2%}",
            str(outs.round_trips),
        )
    return table


def print_walkforward(report: WalkForwardReport, console: Console | None = None) -> None:
    console = console or Console()
    console.print(walkforward_table(report))
    console.print(f"out-of-sample total P&L: {_money(report.out_of_sample_pnl)}")
