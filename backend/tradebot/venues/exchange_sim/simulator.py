"""The exchange without its HTTP face: the replayed market, the accounts, limits and faults.

All state lives in one event loop (the web app's); nothing here awaits, so a market step or an
order is applied whole before any other request is looked at.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from tradebot.errors import BadInputError, NotFoundError
from tradebot.venues.exchange_sim.account import SimAccount
from tradebot.venues.exchange_sim.config import DEFAULT_PERMISSIONS, AccountConfig, SimConfig
from tradebot.venues.exchange_sim.faults import FaultBook
from tradebot.venues.exchange_sim.limits import IpLimiter
from tradebot.venues.exchange_sim.market import MarketReplay, Position
from tradebot.venues.exchange_sim.market_streams import publish_step
from tradebot.venues.exchange_sim.stream_hub import StreamHub
from tradebot.venues.exchange_sim.user_stream import report
from tradebot.venues.exchange_sim.wire import order_status, trade_json
from tradebot.venues.matching import SimTrade


class ExchangeSimulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.market = MarketReplay(config.candles, config.start_index)
        self.accounts: dict[str, SimAccount] = {}
        for account in config.accounts:
            self.add_account(account)
        self.limiter = IpLimiter(config.limits)
        self.faults = FaultBook()
        self.streams = StreamHub(self.faults.streams)
        self.speed = config.speed
        self.requests: Counter[str] = Counter()
        self.requests_by_key: Counter[str] = Counter()
        self._frozen: Position | None = None

    # ---- accounts ---------------------------------------------------------------------------
    def add_account(self, config: AccountConfig) -> SimAccount:
        if config.api_key in self.accounts:
            raise BadInputError(f"account {config.api_key} already exists")
        account = SimAccount.create(config, self.config.market)
        account.engine.jump(self.market.price)
        self.accounts[config.api_key] = account
        return account

    def account(self, api_key: str) -> SimAccount:
        try:
            return self.accounts[api_key]
        except KeyError:
            raise NotFoundError(f"no account with API key {api_key!r}") from None

    def set_permissions(self, api_key: str, changes: dict[str, Any]) -> dict[str, bool]:
        account = self.account(api_key)
        unknown = set(changes) - set(DEFAULT_PERMISSIONS)
        if unknown:
            raise BadInputError(f"unknown permissions {sorted(unknown)}")
        account.permissions.update({k: bool(v) for k, v in changes.items()})
        return dict(account.permissions)

    # ---- market -----------------------------------------------------------------------------
    def advance(self, segments: int) -> int:
        """Walk up to ``segments`` segments, matching every account; returns how many walked."""
        walked = 0
        for _ in range(segments):
            before = self.market.position
            step = self.market.step()
            if step is None:
                break
            walked += 1
            publish_step(self, before, step)
            seg = step.segment
            share, lot = self.config.fill_share, float(self.config.market.step_size)
            volume = share * float(self.market.candles.volume[before.index]) / 3
            for account in self.accounts.values():
                engine = account.engine
                trades = (
                    engine.move_bounded(seg.direction, seg.price, seg.ts, volume, lot)
                    if share > 0
                    else engine.move(seg.direction, seg.price, seg.ts)
                )
                if step.next_open is not None:
                    account.engine.jump(step.next_open)
                self.report_trades(account, trades)
        return walked

    def report_trades(self, account: SimAccount, trades: list[SimTrade]) -> None:
        """The user-data events of fills that happened without a request (a walked segment)."""
        by_order: dict[int, list[SimTrade]] = {}
        for trade in trades:
            by_order.setdefault(trade.order_id, []).append(trade)
        for order_id, fills in by_order.items():
            report(self, account, account.engine.orders[order_id], None, fills)

    def advance_candles(self, candles: int) -> int:
        """Walk to the end of the current candle and on, ``candles`` candle closes in all."""
        walked = 0
        for _ in range(candles):
            walked += self.advance(3 - self.market.position.walked)
        return walked

    def advance_to_end(self) -> int:
        return self.advance(3 * (len(self.market.candles) + 1))

    def set_stale(self, stale: bool) -> None:
        """Freeze (or release) what the public endpoints show; matching goes on regardless."""
        self.faults.stale = stale
        self._frozen = self.market.position if stale else None

    @property
    def view(self) -> Position:
        """The position the public market data shows (frozen while stale)."""
        return self._frozen or self.market.position

    @staticmethod
    def server_time_ms() -> int:
        """Wall-clock time: what signed requests' timestamps are checked against."""
        return int(time.time() * 1000)

    # ---- bookkeeping ------------------------------------------------------------------------
    def count_request(self, method: str, path: str, api_key: str | None) -> None:
        self.requests[f"{method} {path}"] += 1
        if api_key:
            self.requests_by_key[api_key] += 1

    def state(self) -> dict[str, Any]:
        pos = self.market.position
        return {
            "market": {
                "symbol": self.config.market.symbol,
                "candle": pos.index,
                "segments_walked": pos.walked,
                "candles": len(self.market.candles),
                "done": self.market.done,
                "price": self.market.price,
                "time": self.market.now_ms,
                "speed": self.speed,
                "fill_share": self.config.fill_share,
            },
            "accounts": {key: account.state() for key, account in self.accounts.items()},
            "faults": self.faults.state(),
            "streams": self.streams.state(),
            "limits": self.limiter.state(),
            "requests": dict(self.requests),
            "requests_by_key": dict(self.requests_by_key),
        }

    def account_detail(self, api_key: str) -> dict[str, Any]:
        """An account's state with every order and trade (the control endpoint's view)."""
        account = self.account(api_key)
        symbol = self.config.market.market_id
        orders = [
            {
                "order_id": o.order_id,
                "client_order_id": o.client_order_id,
                "side": o.side.value,
                "type": account.meta[o.order_id].type,
                "price": account.meta[o.order_id].limit_price,
                "qty": o.qty,
                "status": order_status(o),
                "filled_qty": o.filled_qty,
                "created_ts": o.created_ts,
                "updated_ts": o.updated_ts,
            }
            for o in account.engine.orders.values()
        ]
        trades = [trade_json(symbol, t, account.fee_assets) for t in account.engine.trades]
        return {**account.state(), "orders_detail": orders, "trades_detail": trades}
