"""The HTML report's summary is the terminal's: the same labels, units and digits.

Naive implementation caught: the HTML printed the result's field names and raw fractions
(``max_drawdown 0.0429362``, ``apr_grid_profit 0.900872``, ``time_in_range 1``) where the
terminal printed ``max drawdown 4.29%``, ``APR of grid profit 90.09%``, ``time in range 100.0%``.
"""

from __future__ import annotations

import html
import re

from rich.text import Text

from tradebot.candles.io import bundled, load_candles
from tradebot.config import load_settings
from tradebot.engine.plan import build_plan
from tradebot.report.html import render_html
from tradebot.report.terminal import summary_table
from tradebot.research.backtest import run_backtest
from tradebot.venues.catalog import offline_rules


def _terminal_rows(table) -> list[tuple[str, str]]:
    labels, values = (column._cells for column in table.columns)
    pairs = zip(labels, values, strict=True)
    return [(Text.from_markup(k).plain, Text.from_markup(v).plain) for k, v in pairs]


def _html_rows(page: str) -> list[tuple[str, str]]:
    summary = re.search(r'<table id="summary">(.*?)</table>', page, re.DOTALL)
    assert summary is not None
    rows = re.findall(r"<tr><th>(.*?)</th><td[^>]*>(.*?)</td></tr>", summary.group(1))
    return [(html.unescape(label), html.unescape(value)) for label, value in rows]


def test_the_html_summary_has_the_terminal_labels_units_and_digits() -> None:
    settings = load_settings(GRID_LOWER=94_000, GRID_UPPER=100_000, GRID_STEPS=12)
    candles = load_candles(bundled()).first_days(2)
    result = run_backtest(build_plan(settings.grid_config(), offline_rules("BTC/USDT")), candles)
    page = render_html(result, candles, "Backtest")
    rows = _html_rows(page)
    assert rows == _terminal_rows(summary_table(result, "Backtest"))
    shown = dict(rows)
    assert shown["max drawdown"] == f"{result.max_drawdown:.2%}"
    assert shown["APR of grid profit"] == f"{result.apr_grid_profit:.2%}"
    assert shown["time in range"] == f"{result.time_in_range:.1%}"
    for raw in ("max_drawdown", "apr_grid_profit", "time_in_range"):
        assert raw not in page.split('<table id="summary">')[1].split("</table>")[0]
