"""The sweep's self-contained HTML page: a plotly heatmap of one metric over two parameters,
and the ranked table of the best combinations beside it."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from tradebot.research.sweep import Heatmap, SweepResult, metric

TABLE_ROWS = 50


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _hover(result: SweepResult, grid: Heatmap) -> list[list[str]]:
    text: list[list[str]] = []
    for row in grid.best:
        line = []
        for index in row:
            if index is None:
                line.append("no valid grid")
                continue
            config = result.plans[index].config
            line.append(
                f"{config.lower:g} – {config.upper:g}, {config.lines} lines, {config.spacing.value}"
            )
        text.append(line)
    return text


def _figure(result: SweepResult, grid: Heatmap) -> str:
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Heatmap(
            x=[_label(v) for v in grid.x_values],
            y=[_label(v) for v in grid.y_values],
            z=grid.z,
            text=_hover(result, grid),
            hovertemplate=(
                f"{grid.x} %{{x}}<br>{grid.y} %{{y}}<br>{grid.metric} %{{z:.6g}}"
                "<br>best: %{text}<extra></extra>"
            ),
            colorscale="RdYlGn" if metric(grid.metric).higher_is_better else "RdYlGn_r",
            colorbar={"title": {"text": grid.metric}},
        )
    )
    fig.update_xaxes(title_text=grid.x, type="category")
    fig.update_yaxes(title_text=grid.y, type="category")
    fig.update_layout(
        title=f"Best {grid.metric} for each {grid.x} and {grid.y} (over the other parameters)",
        height=620,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
    )
    return str(fig.to_html(full_html=False, include_plotlyjs=True, div_id="heatmap"))


def _table(result: SweepResult, metric: str) -> str:
    rows = result.ranked_rows(metric, TABLE_ROWS)
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_label(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    return f"<table id='ranked'><tr>{head}</tr>{body}</table>"


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def render_heatmap_html(result: SweepResult, grid: Heatmap, title: str) -> str:
    """The page: what was swept, the heatmap and the top of the ranking."""
    space = result.space
    facts = (
        f"{space.size} combinations, {len(result.plans)} run, {result.skipped.total} skipped "
        f"({html.escape(result.skipped.describe())}); {result.candles} candles "
        f"{_day(result.start_ts)} → {_day(result.end_ts)} UTC; investment {space.investment:g}, "
        f"maker fee {space.maker_fee:g}, taker fee {space.taker_fee:g}"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; margin: 12px 0; font-size: 13px; }}
th, td {{ padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{facts}</p>
{_figure(result, grid)}
<h2>Best {min(TABLE_ROWS, len(result.plans))} by {html.escape(grid.metric)}</h2>
{_table(result, grid.metric)}
</body></html>
"""
