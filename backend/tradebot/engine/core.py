"""The compiled heart of the grid: state, fills and the candle walk, in one copy.

The whole book is determined by ``state[EMPTY]``, the index of the one empty line: every line
below it holds a buy, every line above it a sell (``grid-semantics.md``). A falling segment to x
fills the buys at lines e-1, e-2, ... while their price is >= x; a rising segment to y fills the
sells at e+1, e+2, ... while their price is <= y. So a candle costs O(fills), not O(lines).

The fast backtest and the sweep run ``walk`` over arrays; the live and paper strategy call the
very same ``apply_*`` functions once per fill. Every function is numba-compiled and cached on
disk; they are plain numeric code, so they also run uncompiled under ``.py_func`` in tests.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Slots of the float64 state vector (numba treats module-level ints as constants).
EMPTY = 0
QUOTE = 1
BASE = 2
GRID_PROFIT = 3
FEES = 4
ROUND_TRIPS = 5
BUY_FILLS = 6
MIN_QUOTE = 7
PEAK = 8
MAX_DRAWDOWN = 9
STOPPED = 10
INVESTMENT = 11
EQUITY = 12
"""Equity at the last mark (the last candle close in a walk)."""
STATE_SIZE = 13

# Columns of a recorded fill: candle index, segment of the walk (0..2, 3 = after the close),
# line index (-1 for a market order) and side (+1 buy, -1 sell).
FILL_CANDLE = 0
FILL_SEGMENT = 1
FILL_LINE = 2
FILL_SIDE = 3
FILL_COLUMNS = 4

# Columns of one sweep result row.
R_TOTAL_PNL = 0
R_GRID_PROFIT = 1
R_ROUND_TRIPS = 2
R_FEES = 3
R_MAX_DRAWDOWN = 4
R_EQUITY = 5
R_MIN_QUOTE = 6
R_SHARPE = 7
R_COLUMNS = 8

SWEEP_BLOCK = 16_384
"""Candles per block of the sweep's walk (4 columns x 128 KiB: well inside a core's L2)."""


@njit(cache=True)
def nearest_line(prices: np.ndarray, price: float) -> int:
    """Index of the line nearest to ``price``; a tie goes to the lower index."""
    n = prices.shape[0]
    above = int(np.searchsorted(prices, price))
    if above <= 0:
        return 0
    if above >= n:
        return int(n - 1)
    if price - prices[above - 1] <= prices[above] - price:
        return above - 1
    return above


@njit(cache=True)
def start_base(qtys: np.ndarray, empty: int) -> float:
    """B0: the base that the sells above the empty line need (sells at j > e hold q_(j-1))."""
    total = 0.0
    for i in range(empty, qtys.shape[0] - 1):
        total += qtys[i]
    return total


@njit(cache=True)
def init_state(state: np.ndarray, investment: float, empty: int) -> None:
    """A fresh grid before its start buy: all capital in quote, ``empty`` the empty line."""
    state[:] = 0.0
    state[EMPTY] = empty
    state[QUOTE] = investment
    state[MIN_QUOTE] = investment
    state[PEAK] = investment
    state[INVESTMENT] = investment
    state[EQUITY] = investment


@njit(cache=True)
def _track_quote(state: np.ndarray) -> None:
    if state[QUOTE] < state[MIN_QUOTE]:
        state[MIN_QUOTE] = state[QUOTE]


@njit(cache=True)
def apply_market_buy(state: np.ndarray, price: float, qty: float, fee: float) -> None:
    """The start's taker buy of B0 (fee in quote); it moves no line."""
    state[QUOTE] -= price * qty + fee
    state[BASE] += qty
    state[FEES] += fee
    _track_quote(state)


@njit(cache=True)
def apply_market_sell(state: np.ndarray, price: float, qty: float, fee: float) -> None:
    """A taker sell that closes the position (take profit or a stop); it moves no line."""
    state[QUOTE] += price * qty - fee
    state[BASE] -= qty
    state[FEES] += fee


@njit(cache=True)
def apply_buy_fill(state: np.ndarray, line: int, price: float, qty: float, fee: float) -> None:
    """The buy resting at ``line`` filled: that line becomes the empty one."""
    state[QUOTE] -= price * qty + fee
    state[BASE] += qty
    state[FEES] += fee
    state[BUY_FILLS] += 1
    state[EMPTY] = line
    _track_quote(state)


@njit(cache=True)
def apply_sell_fill(
    state: np.ndarray, line: int, price: float, qty: float, fee: float, cost_below: float
) -> None:
    """The sell resting at ``line`` filled; its grid profit is counted against the line below."""
    proceeds = price * qty - fee
    state[QUOTE] += proceeds
    state[BASE] -= qty
    state[FEES] += fee
    state[ROUND_TRIPS] += 1
    state[GRID_PROFIT] += proceeds - cost_below
    state[EMPTY] = line


@njit(cache=True)
def cost_below(prices: np.ndarray, line: int, qty: float, maker_fee: float) -> float:
    """What the spec charges a sell at ``line`` for its buy: the line below, maker fee included."""
    return float(qty * prices[line - 1] * (1.0 + maker_fee))


@njit(cache=True)
def mark_equity(state: np.ndarray, price: float) -> float:
    """Equity at ``price``; updates the running peak and the largest relative drawdown."""
    equity = float(state[QUOTE] + state[BASE] * price)
    state[EQUITY] = equity
    if equity > state[PEAK]:
        state[PEAK] = equity
    drawdown = (state[PEAK] - equity) / state[PEAK]
    if drawdown > state[MAX_DRAWDOWN]:
        state[MAX_DRAWDOWN] = drawdown
    return equity


@njit(cache=True)
def _record(fills: np.ndarray, nf: int, candle: int, segment: int, line: int, side: int) -> int:
    if nf < fills.shape[0]:
        fills[nf, FILL_CANDLE] = candle
        fills[nf, FILL_SEGMENT] = segment
        fills[nf, FILL_LINE] = line
        fills[nf, FILL_SIDE] = side
    return nf + 1


# ``fall_to`` and ``rise_to`` mirror each other and stay two functions (the duplicate finder
# pairs them). They differ in more than a sign: a fall fills the line below the empty one with
# that line's qty, a rise fills the line above with the qty of the line below it and books the
# round trip's cost; and they walk the lines in opposite directions. One compiled function with
# a direction argument would branch on it at every fill of the hottest loop of a backtest and
# hide which quantity each side trades, where the spec states the two walks separately.
@njit(cache=True)
def fall_to(
    state: np.ndarray,
    prices: np.ndarray,
    qtys: np.ndarray,
    maker_fee: float,
    x: float,
    fills: np.ndarray,
    nf: int,
    candle: int,
    segment: int,
) -> int:
    """A falling segment ending at ``x``: buys at or above x fill, highest first."""
    e = int(state[EMPTY])
    while e > 0 and prices[e - 1] >= x:
        e -= 1
        price = prices[e]
        qty = qtys[e]
        apply_buy_fill(state, e, price, qty, price * qty * maker_fee)
        nf = _record(fills, nf, candle, segment, e, 1)
    return nf


@njit(cache=True)
def rise_to(
    state: np.ndarray,
    prices: np.ndarray,
    qtys: np.ndarray,
    maker_fee: float,
    y: float,
    fills: np.ndarray,
    nf: int,
    candle: int,
    segment: int,
) -> int:
    """A rising segment ending at ``y``: sells at or below y fill, lowest first."""
    e = int(state[EMPTY])
    top = prices.shape[0] - 1
    while e < top and prices[e + 1] <= y:
        e += 1
        price = prices[e]
        qty = qtys[e - 1]
        cost = cost_below(prices, e, qty, maker_fee)
        apply_sell_fill(state, e, price, qty, price * qty * maker_fee, cost)
        nf = _record(fills, nf, candle, segment, e, -1)
    return nf


@njit(cache=True)
def walk_candle(
    state: np.ndarray,
    prices: np.ndarray,
    qtys: np.ndarray,
    maker_fee: float,
    o: float,
    h: float,
    lo: float,
    c: float,
    fills: np.ndarray,
    nf: int,
    candle: int,
) -> int:
    """The spec's three segments: O-L-H-C when close >= open, else O-H-L-C."""
    if c >= o:
        nf = fall_to(state, prices, qtys, maker_fee, lo, fills, nf, candle, 0)
        nf = rise_to(state, prices, qtys, maker_fee, h, fills, nf, candle, 1)
        nf = fall_to(state, prices, qtys, maker_fee, c, fills, nf, candle, 2)
    else:
        nf = rise_to(state, prices, qtys, maker_fee, h, fills, nf, candle, 0)
        nf = fall_to(state, prices, qtys, maker_fee, lo, fills, nf, candle, 1)
        nf = rise_to(state, prices, qtys, maker_fee, c, fills, nf, candle, 2)
    return nf


@njit(cache=True)
def start_grid(
    state: np.ndarray,
    prices: np.ndarray,
    qtys: np.ndarray,
    investment: float,
    p0: float,
    taker_fee: float,
) -> float:
    """Start at the first open ``p0`` as the spec says; returns B0, the base bought at market."""
    empty = nearest_line(prices, p0)
    init_state(state, investment, empty)
    b0 = start_base(qtys, empty)
    if b0 > 0.0:
        apply_market_buy(state, p0, b0, b0 * p0 * taker_fee)
    return b0


@njit(cache=True)
def _triggers(state: np.ndarray, prices: np.ndarray) -> tuple[float, float]:
    """The highest resting buy and the lowest resting sell (infinite when there is none)."""
    e = int(state[EMPTY])
    buy = prices[e - 1] if e > 0 else -np.inf
    sell = prices[e + 1] if e < prices.shape[0] - 1 else np.inf
    return buy, sell


@njit(cache=True)
def walk(
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    prices: np.ndarray,
    qtys: np.ndarray,
    maker_fee: float,
    taker_fee: float,
    take_profit: float,
    state: np.ndarray,
    fills: np.ndarray,
    equity_at: np.ndarray,
    equity_out: np.ndarray,
) -> int:
    """Walk every candle through a started grid; returns the number of fills (recorded or not).

    ``fills`` receives up to its length in rows (pass a 0-row array to record none). Equity at
    the close of candle ``equity_at[k]`` is written to ``equity_out[k]`` (indices ascending).

    Most candles touch neither the highest buy nor the lowest sell, so the loop keeps balances,
    peak and drawdown in registers and only enters ``walk_candle`` when a fill is possible; the
    equity marking below is ``mark_equity``'s, unrolled for that fast path.
    """
    nf = 0
    k = 0
    marks = equity_at.shape[0]
    equity = state[EQUITY]
    buy_trigger, sell_trigger = _triggers(state, prices)
    quote = state[QUOTE]
    base = state[BASE]
    peak = state[PEAK]
    max_dd = state[MAX_DRAWDOWN]
    floor = peak * (1.0 - max_dd)  # equity below this is a new largest drawdown
    for i in range(opens.shape[0]):
        c = closes[i]
        lo = lows[i]
        h = highs[i]
        if min(lo, c) <= buy_trigger or max(h, c) >= sell_trigger:
            nf = walk_candle(state, prices, qtys, maker_fee, opens[i], h, lo, c, fills, nf, i)
            buy_trigger, sell_trigger = _triggers(state, prices)
            quote = state[QUOTE]
            base = state[BASE]
        equity = quote + base * c
        if equity > peak:
            peak = equity
            floor = peak * (1.0 - max_dd)
        elif equity < floor:
            max_dd = (peak - equity) / peak
            floor = equity
        stop = take_profit > 0.0 and equity >= state[INVESTMENT] * (1.0 + take_profit)
        if stop:
            qty = state[BASE]
            apply_market_sell(state, c, qty, qty * c * taker_fee)
            nf = _record(fills, nf, i, 3, -1, -1)
            state[STOPPED] = 1.0
            equity = state[QUOTE]
        if k < marks and equity_at[k] == i:
            equity_out[k] = equity
            k += 1
        if stop:
            while k < marks:  # a stopped grid holds its equity flat to the end
                equity_out[k] = equity
                k += 1
            break
    state[PEAK] = peak
    state[MAX_DRAWDOWN] = max_dd
    state[EQUITY] = equity
    return nf


@njit(cache=True)
def _sharpe(daily_equity: np.ndarray, first: float) -> float:
    days = daily_equity.shape[0]
    if days < 2:
        return 0.0
    prev = first
    total = 0.0
    total_sq = 0.0
    for d in range(days):
        r = daily_equity[d] / prev - 1.0
        prev = daily_equity[d]
        total += r
        total_sq += r * r
    mean = total / days
    var = total_sq / days - mean * mean
    if var <= 1e-18:
        return 0.0
    return float(mean / math.sqrt(var * days / (days - 1)) * math.sqrt(365.0))


@njit(cache=True, parallel=True)
def sweep(
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    closes: np.ndarray,
    day_ends: np.ndarray,
    line_offsets: np.ndarray,
    all_prices: np.ndarray,
    all_qtys: np.ndarray,
    investments: np.ndarray,
    maker_fee: float,
    taker_fee: float,
    take_profit: float,
    threads: int,
) -> np.ndarray:
    """Run many grids over one candle series in parallel; one result row per grid.

    Grid g uses ``all_prices[line_offsets[g]:line_offsets[g+1]]`` (and the same slice of
    ``all_qtys``). ``day_ends`` holds the candle index closing each day, for the Sharpe ratio.

    Each of ``threads`` shares of the grids runs on its own thread and walks all its grids
    through one block of ``SWEEP_BLOCK`` candles before the next, so a block is fetched into
    the core's cache once per thread rather than once per grid. ``walk`` resumes a grid
    exactly where it stopped: everything it carries between candles lives in ``state``.
    """
    combos = investments.shape[0]
    n = opens.shape[0]
    days = day_ends.shape[0]
    out = np.empty((combos, R_COLUMNS))
    no_fills = np.empty((0, FILL_COLUMNS), dtype=np.int64)
    shares = max(1, min(combos, threads))
    for t in prange(shares):
        # Grids t, t + shares, t + 2 * shares...: neighbours in a sweep differ in cost (more
        # lines, more fills), so dealing them out round-robin keeps the threads even.
        mine = np.arange(t, combos, shares)
        states = np.empty((mine.shape[0], STATE_SIZE))
        daily = np.empty((mine.shape[0], days))
        for j in range(mine.shape[0]):
            g = mine[j]
            lines = slice(line_offsets[g], line_offsets[g + 1])
            start_grid(
                states[j],
                all_prices[lines],
                all_qtys[lines],
                investments[g],
                opens[0],
                taker_fee,
            )
        k0 = 0
        for a in range(0, n, SWEEP_BLOCK):
            b = min(a + SWEEP_BLOCK, n)
            k1 = k0
            while k1 < days and day_ends[k1] < b:
                k1 += 1
            marks = day_ends[k0:k1] - a
            for j in range(mine.shape[0]):
                g = mine[j]
                state = states[j]
                if state[STOPPED] == 0.0:
                    lines = slice(line_offsets[g], line_offsets[g + 1])
                    walk(
                        opens[a:b],
                        highs[a:b],
                        lows[a:b],
                        closes[a:b],
                        all_prices[lines],
                        all_qtys[lines],
                        maker_fee,
                        taker_fee,
                        take_profit,
                        state,
                        no_fills,
                        marks,
                        daily[j, k0:k1],
                    )
                else:  # stopped by take profit: its equity stays flat to the end
                    daily[j, k0:k1] = state[EQUITY]
            k0 = k1
        for j in range(mine.shape[0]):
            g = mine[j]
            state = states[j]
            equity = state[QUOTE] + state[BASE] * closes[n - 1]
            out[g, R_TOTAL_PNL] = equity - investments[g]
            out[g, R_GRID_PROFIT] = state[GRID_PROFIT]
            out[g, R_ROUND_TRIPS] = state[ROUND_TRIPS]
            out[g, R_FEES] = state[FEES]
            out[g, R_MAX_DRAWDOWN] = state[MAX_DRAWDOWN]
            out[g, R_EQUITY] = equity
            out[g, R_MIN_QUOTE] = state[MIN_QUOTE]
            out[g, R_SHARPE] = _sharpe(daily[j], investments[g])
    return out
