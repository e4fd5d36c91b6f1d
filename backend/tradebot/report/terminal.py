"""The terminal summary: the spec's results, the comparison with buy & hold, and daily P&L.

The summary's labels and formatting are ``report.figures``', shared with the HTML report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from tradebot.report.figures import Tone, day, money, signed, summary_figures
from tradebot.research.result import GridResult

_COLOURS = {Tone.GAIN: "green", Tone.LOSS: "red"}


def _coloured(text: str, tone: Tone) -> str:
    colour = _COLOURS.get(tone)
    return f"[{colour}]{text}[/{colour}]" if colour else text


def _money(value: float) -> str:
    return _coloured(money(value), signed(value))


def summary_table(result: GridResult, title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for figure in summary_figures(result):
        label = figure.label if figure.label != "warning" else _coloured("warning", figure.tone)
        table.add_row(label, _coloured(figure.value, figure.tone))
    return table


def daily_table(result: GridResult) -> Table:
    table = Table(title="Daily P&L", title_justify="left")
    table.add_column("day (UTC)")
    table.add_column("P&L", justify="right")
    table.add_column("equity", justify="right")
    for row in result.daily:
        table.add_row(day(row.day_ms), _money(row.pnl), f"{row.equity:,.2f}")
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
