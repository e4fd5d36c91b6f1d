"""A deterministic synthetic year of 1-minute candles, and its files for the load figures.

A seeded geometric Brownian motion with a little mean reversion, so a fixed grid keeps trading
all year (a real year of BTC moves far outside any one range). Each candle walks four
sub-minute steps: open is the previous close, high and low the extremes of the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tradebot.candles.model import Candles

YEAR_MINUTES = 525_600
START_TS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
SEED = 20_240_101
START_PRICE = 60_000.0
ANNUAL_VOL = 0.55
REVERSION = 2e-5  # per minute, towards the start price (keeps the year inside one wide grid)
STEPS_PER_CANDLE = 4


def _prices(log_prices: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(np.round(np.exp(log_prices), 2), dtype=np.float64)


def synthetic_year(rows: int = YEAR_MINUTES, seed: int = SEED) -> Candles:
    """The same candles for the same ``rows`` and ``seed`` on every machine."""
    rng = np.random.default_rng(seed)
    sigma = ANNUAL_VOL / np.sqrt(YEAR_MINUTES * STEPS_PER_CANDLE)
    shocks = rng.standard_normal((rows, STEPS_PER_CANDLE)) * sigma
    log_start = np.log(START_PRICE)
    log_price: npt.NDArray[np.float64] = np.empty(rows + 1)
    log_price[0] = log_start
    # Mean reversion needs the running level, so the closes come from a short sequential pass.
    steps = shocks.sum(axis=1)
    for i in range(rows):
        log_price[i + 1] = log_price[i] + steps[i] - REVERSION * (log_price[i] - log_start)
    opens = log_price[:-1]
    closes = log_price[1:]
    # Intra-candle path: the partial sums of the shocks, shifted to end exactly at the close.
    partial = np.cumsum(shocks, axis=1)
    partial += ((closes - opens) - partial[:, -1])[:, None] * (
        np.arange(1, STEPS_PER_CANDLE + 1) / STEPS_PER_CANDLE
    )
    path = opens[:, None] + partial
    high = np.maximum(np.maximum(opens, closes), path.max(axis=1))
    low = np.minimum(np.minimum(opens, closes), path.min(axis=1))
    ts = START_TS + np.arange(rows, dtype=np.int64) * 60_000
    return Candles(
        ts=ts,
        open=_prices(opens),
        high=_prices(high),
        low=_prices(low),
        close=_prices(closes),
        volume=np.round(rng.gamma(2.0, 5.0, rows), 4),
        timeframe_ms=60_000,
        source="synthetic-year",
    )


@dataclass(frozen=True, slots=True)
class YearFiles:
    candles: Candles
    parquet: Path
    csv_gz: Path
    csv: Path


def write_year(directory: Path, rows: int = YEAR_MINUTES) -> YearFiles:
    """The synthetic year as Parquet, CSV.gz and plain CSV under ``directory``."""
    from tradebot.candles.io import save_csv, save_parquet

    candles = synthetic_year(rows)
    directory.mkdir(parents=True, exist_ok=True)
    return YearFiles(
        candles=candles,
        parquet=save_parquet(candles, directory / "year.parquet"),
        csv_gz=save_csv(candles, directory / "year.csv.gz"),
        csv=save_csv(candles, directory / "year.csv"),
    )
