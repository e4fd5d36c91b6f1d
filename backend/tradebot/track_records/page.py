"""The public track record as an HTML page (string.Template, every value escaped)."""

from __future__ import annotations

import html
from importlib.resources import files
from string import Template

from tradebot.track_records.schemas import PublicTrackRecord


def render_page(record: PublicTrackRecord) -> str:
    source = files("tradebot.track_records") / "templates" / "track_record.html"
    values = {
        "pair": record.pair,
        "exchange": record.exchange,
        "mode": record.mode,
        "return_pct": f"{record.return_pct:+.2f} %",
        "max_drawdown_pct": f"{record.max_drawdown_pct:.2f} %",
        "days_live": str(record.days_live),
        "fills": str(record.fills),
        "since": record.since.isoformat() if record.since else "-",
    }
    template = Template(source.read_text(encoding="utf-8"))
    return template.substitute({name: html.escape(value) for name, value in values.items()})
