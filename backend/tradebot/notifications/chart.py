"""The daily email's P&L chart: a small PNG drawn here, with no imaging library.

Mail clients show an image attached to the message (``cid:``) but not SVG or scripts, so the
curve is rasterised: a line of the client's P&L over the day, and a dashed grey line at
break-even. The PNG is written by hand (``zlib`` and ``struct``): a few dozen lines instead of a
plotting dependency on the worker.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from itertools import pairwise

WIDTH, HEIGHT, MARGIN = 560, 140, 8
Colour = tuple[int, int, int]
BACKGROUND: Colour = (255, 255, 255)
EVEN: Colour = (190, 195, 204)
UP: Colour = (22, 163, 74)
DOWN: Colour = (220, 38, 38)


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(BACKGROUND) * (width * height))

    def dot(self, x: int, y: int, colour: Colour) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            at = (y * self.width + x) * 3
            self.pixels[at : at + 3] = bytes(colour)

    def line(self, x0: int, y0: int, x1: int, y1: int, colour: Colour, thick: int = 1) -> None:
        """Bresenham's line, ``thick`` pixels high."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            for t in range(thick):
                self.dot(x0, y0 + t, colour)
            if x0 == x1 and y0 == y1:
                return
            twice = 2 * err
            if twice >= dy:
                err, x0 = err + dy, x0 + sx
            if twice <= dx:
                err, y0 = err + dx, y0 + sy

    def png(self) -> bytes:
        row = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * row : (y + 1) * row]) for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + b"".join(
            _chunk(kind, data)
            for kind, data in ((b"IHDR", header), (b"IDAT", zlib.compress(raw, 9)), (b"IEND", b""))
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pnl_png(points: Sequence[tuple[int, float]]) -> bytes:
    """``points`` (time, P&L), oldest first, at least two: the curve, green when it ends at or
    above break-even, red below, and break-even as a dashed grey line."""
    even = 0.0
    if len(points) < 2:
        raise ValueError("an equity chart needs at least two points")
    times = [t for t, _ in points]
    values = [v for _, v in points]
    low, high = min(*values, even), max(*values, even)
    span_t = max(times[-1] - times[0], 1)
    span_v = max(high - low, abs(high) * 1e-6, 1e-9)
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def x(t: int) -> int:
        return MARGIN + round((t - times[0]) / span_t * (inner_w - 1))

    def y(v: float) -> int:
        return MARGIN + round((high - v) / span_v * (inner_h - 1))

    canvas = Canvas(WIDTH, HEIGHT)
    level = y(even)
    for left in range(MARGIN, WIDTH - MARGIN, 8):  # dashed
        canvas.line(left, level, min(left + 4, WIDTH - MARGIN - 1), level, EVEN)
    colour = UP if values[-1] >= even else DOWN
    for (t0, v0), (t1, v1) in pairwise(points):
        canvas.line(x(t0), y(v0), x(t1), y(v1), colour, thick=2)
    return canvas.png()
