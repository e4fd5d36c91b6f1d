"""Write candles in the format an output path's extension names: .csv, .csv.gz, .parquet, .json.

Every writer replaces the file whole (a temporary file, then a rename): an error leaves no half
file behind.
"""

from __future__ import annotations

import json
from pathlib import Path

from tradebot.candles.io import COLUMNS, save_csv, save_parquet
from tradebot.candles.model import Candles
from tradebot.errors import BadInputError
from tradebot.kit.files import write_atomic

FORMATS = (".csv", ".csv.gz", ".parquet", ".json")


def output_format(path: Path) -> str:
    """The format of an output path, or one clear error naming the ones we write."""
    name = path.name.lower()
    for ext in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(ext):
            return ext
    if name.endswith(".pq"):
        return ".parquet"
    raise BadInputError(f"{path}: unknown candle format (use {', '.join(FORMATS)})")


def write_candles(candles: Candles, path: Path) -> Path:
    fmt = output_format(path)
    if fmt == ".parquet":
        return save_parquet(candles, path)
    if fmt == ".json":
        columns = [getattr(candles, "ts" if name == "timestamp" else name) for name in COLUMNS]
        rows = [
            dict(zip(COLUMNS, values, strict=True))
            for values in zip(*(c.tolist() for c in columns), strict=True)
        ]
        return write_atomic(path, json.dumps(rows, separators=(",", ":")) + "\n")
    return save_csv(candles, path)
