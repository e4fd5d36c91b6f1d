"""The terminal summary: the spec's results, the comparison with buy & hold, and daily P&L."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from tradebot.research.result import GridResult


def _money(value: float) -> str:
    colour = "green" if value > 0 else "red" if value < 0 else "white"
    return f"[{colour}]{value:+,.2f}[/{colour}]"


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %a")


def summary_table(result: GridResult, title: str) -> Table:
    plan = result.plan
    cfg = plan.config
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        (
            "period (UTC)",
            f"{_day(result.start_ts)} → {_day(result.end_ts - 1)} ({result.days:.2f} d)",
        ),
        ("grid", f"{cfg.lower:,.2f} – {cfg.upper:,.2f}, {plan.lines} lines, {cfg.spacing.value}"),
        ("investment", f"{result.investment:,.2f}"),
        ("round trips", f"{result.round_trips}"),
        ("grid profit", _money(result.grid_profit)),
        ("fees paid", f"{result.fees_paid:,.4f}"),
        ("final base / quote", f"{result.final_base:.8f} / {result.final_quote:,.2f}"),
        ("equity", f"{result.equity:,.2f}"),
        ("total P&L", f"{_money(result.total_pnl)} ({result.total_pnl / result.investment:+.2%})"),
        (
            "buy & hold P&L",
            f"{_money(result.buy_and_hold_pnl)} "
            f"({result.buy_and_hold_pnl / result.investment:+.2%})",
        ),
        ("max drawdown", f"{result.max_drawdown:.2%}"),
        ("APR of grid profit", f"{result.apr_grid_profit:.2%}"),
        ("Sharpe (daily, annualised)", f"{result.sharpe:.2f}"),
        ("time in range", f"{result.time_in_range:.1%}"),
        ("lowest quote balance", f"{result.min_quote:,.2f}"),
    ]
    if result.min_quote < 0:
        rows.append(
            ("[red]warning[/red]", "[red]quote went negative: the grid is underfunded[/red]")
        )
    if result.stopped_by_take_profit:
        rows.append(("stopped", "take profit reached"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def daily_table(result: GridResult) -> Table:
    table = Table(title="Daily P&L", title_justify="left")
    table.add_column("day (UTC)")
    table.add_column("P&L", justify="right")
    table.add_column("equity", justify="right")
    for day in result.daily:
        table.add_row(_day(day.day_ms), _money(day.pnl), f"{day.equity:,.2f}")
    return table


def print_result(result: GridResult, title: str, console: Console | None = None) -> None:
    console = console or Console()
    console.print(summary_table(result, title))
    console.print(daily_table(result))


def print_plan(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="Grid plan", show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    prices = summary["line_prices"]
    sizes = summary["order_sizes"]
    table.add_row(
        "range", f"{summary['lower']:,.2f} – {summary['upper']:,.2f} ({summary['spacing']})"
    )
    table.add_row("lines", str(summary["lines"]))
    table.add_row("line prices", f"{prices[0]:,.2f}, {prices[1]:,.2f} … {prices[-1]:,.2f}")
    table.add_row("order sizes (base)", f"{min(sizes):.8g} – {max(sizes):.8g}")
    table.add_row("quote per order", f"{summary['order_quote_per_cell']:,.2f}")
    table.add_row("capital needed", f"{summary['capital_needed']:,.2f}")
    table.add_row(
        "profit per grid after fees",
        f"{summary['profit_per_grid_pct_min']:.3f}% – {summary['profit_per_grid_pct_max']:.3f}% "
        f"({summary['profit_per_grid_quote_min']:.4f} – "
        f"{summary['profit_per_grid_quote_max']:.4f} quote)",
    )
    if "reference_price" in summary:
        table.add_row(
            "at price",
            f"{summary['reference_price']:,.2f}: {summary['start_buy_orders']} buys, "
            f"{summary['start_sell_orders']} sells, buy {summary['start_base_to_buy']:.8g} base",
        )
    console.print(table)
