"""The daily email's P&L curve: the runs' snapshots summed, drawn as a PNG."""

from __future__ import annotations

import struct
import zlib

import pytest

from tradebot.notifications.chart import EVEN, HEIGHT, UP, WIDTH, pnl_png
from tradebot.notifications.daily_report import summed_pnl


def test_each_point_sums_every_runs_latest_pnl() -> None:
    snapshots = [("a", 1, 1_010.0), ("b", 2, 480.0), ("a", 3, 1_020.0), ("b", 3, 530.0)]
    assert summed_pnl(snapshots, {"a": 1_000.0, "b": 500.0}) == [
        (1, pytest.approx(10.0)),
        (2, pytest.approx(-10.0)),
        (3, pytest.approx(50.0)),  # both runs moved at 3: one point
    ]


def pixels(png: bytes) -> list[bytes]:
    """The rows of an 8-bit RGB PNG with filter 0 (as ``pnl_png`` writes them)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    at, data = 8, b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        if png[at + 4 : at + 8] == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(data)
    row = width * 3 + 1
    return [raw[y * row + 1 : (y + 1) * row] for y in range(height)]


def test_the_curve_is_drawn_above_break_even_in_green() -> None:
    rows = pixels(pnl_png([(0, -5.0), (10, 0.0), (20, 15.0)]))
    assert (len(rows), len(rows[0])) == (HEIGHT, WIDTH * 3)
    green = bytes(UP)
    top = next(y for y, row in enumerate(rows) if green in row)
    even = next(y for y, row in enumerate(rows) if bytes(EVEN) in row)
    assert top < even  # the day ended above break-even, drawn above its line
    assert green in rows[-9]  # the low at -5 sits at the bottom margin
    with pytest.raises(ValueError, match="two points"):
        pnl_png([(0, 1.0)])
