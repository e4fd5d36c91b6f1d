"""Read and write candle files: CSV (plain or gzip), JSON and Parquet, through pyarrow's readers.

Every reader returns validated-shape columns; content problems (order, duplicates, OHLC) are the
validator's job. Any failure to read is one ``CandleDataError`` line that names the file.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tradebot.candles.model import Candles
from tradebot.candles.validate import infer_timeframe
from tradebot.errors import CandleDataError

COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
_TIME_ALIASES = ("timestamp", "time", "date", "open_time", "ts")
DEMO_WEEK = "binance_BTC-USDT_1m_2024-12-01_2024-12-08.csv.gz"


def bundled(name: str = DEMO_WEEK) -> Path:
    """A data file shipped inside the package (the demo week)."""
    return Path(str(resources.files("tradebot") / "data" / name))


def load_candles(path: str | Path, timeframe_ms: int | None = None) -> Candles:
    """Load a candle file by its extension: .csv, .csv.gz, .json, .parquet."""
    path = Path(path)
    if not path.is_file():
        raise CandleDataError(f"{path}: no such candle file")
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
            columns = _read_csv(path)
        elif name.endswith((".json", ".json.gz")):
            columns = _read_json(path)
        elif name.endswith((".parquet", ".pq")):
            columns = _read_parquet(path)
        else:
            raise CandleDataError(
                f"{path}: unknown candle format (use .csv, .csv.gz, .json or .parquet)"
            )
    except CandleDataError:
        raise
    except Exception as exc:  # pyarrow and json raise many types; the user needs one line
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CandleDataError(f"{path}: not a readable candle file ({first_line})") from exc
    return _to_candles(columns, str(path), timeframe_ms)


def _to_candles(columns: dict[str, np.ndarray], source: str, timeframe_ms: int | None) -> Candles:
    ts = np.ascontiguousarray(columns["timestamp"], dtype=np.int64)
    if ts.size and ts.max() < 100_000_000_000:  # seconds, not milliseconds
        ts = ts * 1000
    # Writeable copies where pyarrow lent read-only memory (Parquet): numba compiles a separate
    # walk for read-only arrays, so one flavour keeps one compiled, cached walk for every format.
    values = {
        key: np.require(columns[key], np.float64, ["C", "W"])
        for key in ("open", "high", "low", "close")
    }
    volume = columns.get("volume")
    return Candles(
        ts=ts,
        volume=(
            np.zeros(ts.shape[0]) if volume is None else np.ascontiguousarray(volume, np.float64)
        ),
        timeframe_ms=timeframe_ms or infer_timeframe(ts),
        source=source,
        **values,
    )


def _pick_columns(names: list[str]) -> dict[str, str]:
    lowered = {n.lower().strip(): n for n in names}
    time_col = next((lowered[a] for a in _TIME_ALIASES if a in lowered), None)
    if time_col is None:
        raise CandleDataError(f"no timestamp column (expected one of {', '.join(_TIME_ALIASES)})")
    picked = {"timestamp": time_col}
    for key in COLUMNS[1:]:
        if key in lowered:
            picked[key] = lowered[key]
        elif key != "volume":
            raise CandleDataError(f"missing column {key!r}")
    return picked


def _table_columns(table: Any) -> dict[str, np.ndarray]:
    import pyarrow as pa

    picked = _pick_columns(table.column_names)
    out: dict[str, np.ndarray] = {}
    for key, name in picked.items():
        col = table.column(name)
        if col.null_count:
            raise CandleDataError(f"column {name!r} has {col.null_count} empty values")
        if key == "timestamp" and not pa.types.is_integer(col.type):
            import pyarrow.compute as pc  # only here: its import costs more than a year's read

            if pa.types.is_timestamp(col.type):
                col = pc.cast(col, pa.timestamp("ms", tz=col.type.tz)).cast(pa.int64())
            elif pa.types.is_floating(col.type):
                col = pc.cast(col, pa.int64())
            else:
                col = pc.cast(pc.cast(col, pa.timestamp("ms", tz="UTC")), pa.int64())
        out[key] = col.to_numpy()
    return out


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path)
    return _table_columns(table)


def _read_parquet(path: Path) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    # ParquetFile, not read_table: read_table goes through pyarrow.dataset, a slow import.
    return _table_columns(pq.ParquetFile(path).read())


def _read_json(path: Path) -> dict[str, np.ndarray]:
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    if isinstance(data, dict):  # {"candles": [...]} or column arrays
        data = data.get("candles", data)
    if isinstance(data, list):
        if not data:
            raise CandleDataError("empty candle list")
        if isinstance(data[0], list):  # ccxt / exchange klines: [ts, o, h, l, c, v, ...]
            rows = np.asarray([row[:6] for row in data], dtype=np.float64)
            if rows.shape[1] < 5:
                raise CandleDataError("rows need at least [timestamp, open, high, low, close]")
            cols = {key: rows[:, i] for i, key in enumerate(COLUMNS[: rows.shape[1]])}
            cols["timestamp"] = rows[:, 0].astype(np.int64)
            return cols
        import pyarrow as pa

        return _table_columns(pa.Table.from_pylist(data))
    if isinstance(data, dict):
        import pyarrow as pa

        return _table_columns(pa.table(data))
    raise CandleDataError("JSON must be a list of candles")


def save_parquet(candles: Candles, path: str | Path) -> Path:
    """Write columns as Parquet (the fetch cache), atomically: a crash leaves no half file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "timestamp": candles.ts,
            "open": candles.open,
            "high": candles.high,
            "low": candles.low,
            "close": candles.close,
            "volume": candles.volume,
        }
    )
    tmp = path.with_suffix(path.suffix + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return path


def save_csv(candles: Candles, path: str | Path) -> Path:
    """Write the normalised gzip/plain CSV header used by the bundled data."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        dict(
            zip(
                COLUMNS,
                (
                    candles.ts,
                    candles.open,
                    candles.high,
                    candles.low,
                    candles.close,
                    candles.volume,
                ),
                strict=True,
            )
        )
    )
    tmp = path.with_name(path.name + ".tmp")
    if path.name.endswith(".gz"):
        with pa.CompressedOutputStream(str(tmp), "gzip") as out:
            pacsv.write_csv(table, out)
    else:
        pacsv.write_csv(table, tmp)
    tmp.replace(path)
    return path
