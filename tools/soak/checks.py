"""The soak's checks: the exchange's accounts (the truth about orders and trades) held against
what each tenant recorded, read on the operator's connection.

A trade is identified by (trade id, client order id): trade ids are per account on the
exchange, so two tenants may each have a trade 7, but never with the same client order id
(each run mints ids with a tag of its own). The database reads retry across a restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tools.soak.harness import (
    SYMBOL,
    account_detail,
    doubled_lines,
    duplicate_orders,
    filled_in_parts,
    open_orders,
    sim_call,
)
from tools.soak.tenants import Tenant
from tradebot.engine import core
from tradebot.engine.orders import ACTIVE
from tradebot.migrations import sync_url

T = TypeVar("T")
Trade = tuple[str, str]
"""(trade id as recorded, client order id)"""
UNRESOLVED = ("submitting", "unknown", "cancelling")
FAILED = ("failed", "tripped")


def exchange_trades(exchange: dict[str, Any]) -> set[Trade]:
    coid = {o["order_id"]: o["client_order_id"] for o in exchange["orders_detail"]}
    return {(f"{SYMBOL}:{t['id']}", coid[t["orderId"]]) for t in exchange["trades_detail"]}


@dataclass(slots=True)
class Findings:
    orders_submitted: int = 0
    filled_in_parts: int = 0
    """Orders the exchange filled in more than one trade."""
    duplicate_orders: int = 0
    unrecorded: dict[str, int] = field(default_factory=dict)
    """Exchange trades its run has not recorded, by run id."""
    phantom_fills: int = 0
    unknown_orders: int = 0
    cross_tenant: list[str] = field(default_factory=list)
    runs_ended: list[str] = field(default_factory=list)
    ended: set[str] = field(default_factory=set)
    """Runs that failed or tripped."""
    details: list[str] = field(default_factory=list)
    """One line per lost or phantom fill and per order left unknown (for the soak's log)."""
    drift: dict[str, tuple[float, float]] = field(default_factory=dict)
    """By run: its books' quote and base less the account's (free and locked) at the end.
    A run whose balances run ahead of the account's places orders the exchange refuses."""


class Ledger:
    def __init__(self, database_url: str, sim_url: str, tenants: list[Tenant]) -> None:
        self.db = create_engine(sync_url(database_url), pool_pre_ping=True)
        self.sim_url = sim_url
        self.tenants = tenants
        self.doubled: set[tuple[str, float, frozenset[str]]] = set()
        """Every (account, price, order ids) seen with two open orders on one line."""
        self.peak_weight = 0
        """The most request weight seen used in one of the exchange's minute windows."""

    def close(self) -> None:
        self.db.dispose()

    def _retrying(self, read: Callable[[], T], timeout_s: float = 90.0) -> T:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return read()
            except DBAPIError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)  # the server is restarting: connect again

    def _rows(self, sql: str, **params: str | list[str]) -> list[Any]:
        def read() -> list[Any]:
            with self.db.connect() as conn:
                return list(conn.execute(text(sql), params).all())

        return self._retrying(read)

    # ---- while the soak runs --------------------------------------------------------------
    def sample(self) -> None:
        """Note any line that holds two open orders right now, and the weight used."""
        used = sim_call(self.sim_url, "/_sim/state")["limits"]["used_weight"]
        self.peak_weight = max(self.peak_weight, *map(int, used.values()), 0)
        for tenant in self.tenants:
            exchange = account_detail(self.sim_url, tenant.key)
            for price in doubled_lines(exchange):
                ids = frozenset(
                    o["client_order_id"]
                    for o in open_orders(exchange)
                    if round(float(o["price"]), 8) == price
                )
                self.doubled.add((tenant.key, price, ids))

    def trading(self) -> bool:
        """Whether every tenant has orders resting on the exchange."""
        return all(open_orders(account_detail(self.sim_url, t.key)) for t in self.tenants)

    def settled(self) -> bool:
        """Every exchange trade is recorded by its tenant and no order's fate is open."""
        recorded = self._recorded()
        unresolved = {r[0] for r in self._rows(_ORDERS) if r[4] in UNRESOLVED}
        for tenant in self.tenants:
            trades = exchange_trades(account_detail(self.sim_url, tenant.key))
            if trades - recorded.get(tenant.run_id, set()) or tenant.run_id in unresolved:
                return False
        return True

    def _recorded(self) -> dict[str, set[Trade]]:
        recorded: dict[str, set[Trade]] = {}
        for _client, run_id, trade_id, coid, *_ in self._rows(_FILLS):
            recorded.setdefault(run_id, set()).add((trade_id, coid))
        return recorded

    # ---- at the end ---------------------------------------------------------------------
    def dump(self, folder: Path) -> None:
        """Each tenant's account on the exchange and its run's rows, as JSON, for the log."""
        for tenant in self.tenants:
            run = {"run": tenant.run_id}
            rows = {
                name: [
                    list(map(str, row)) for row in self._rows(f"{sql} where run_id = :run", **run)
                ]
                for name, sql in (("orders", _ORDERS), ("fills", _FILLS))
            }
            exchange = account_detail(self.sim_url, tenant.key)
            states = self._rows(f"{_STATES} where id = :run", **run)
            dump = {"exchange": exchange, **rows, "state": [list(s) for _, s in states]}
            (folder / f"tenant-{tenant.index}.json").write_text(json.dumps(dump, indent=1))

    def findings(self) -> Findings:
        found = Findings()
        by_run = {t.run_id: t for t in self.tenants}
        exchanges = {t.key: account_detail(self.sim_url, t.key) for t in self.tenants}
        trades = {t.run_id: exchange_trades(exchanges[t.key]) for t in self.tenants}
        self._exchange_side(found, exchanges)
        recorded: dict[str, set[Trade]] = {}
        for client, run_id, trade_id, coid, *_ in self._rows(_FILLS):
            owner, fill = by_run.get(run_id), (trade_id, coid)
            recorded.setdefault(run_id, set()).add(fill)
            if owner is None or owner.client != client:
                found.cross_tenant.append(f"fill {fill} of run {run_id} under client {client}")
            elif fill not in trades[run_id]:
                elsewhere = [r for r, ts in trades.items() if fill in ts]
                if elsewhere:
                    found.cross_tenant.append(f"fill {fill} of {elsewhere} recorded by {run_id}")
                else:
                    found.phantom_fills += 1
                    found.details.append(f"phantom fill {fill} of {run_id}")
        for run_id, made in trades.items():
            lost = sorted(made - recorded.get(run_id, set()))
            found.unrecorded[run_id] = len(lost)
            found.details += [f"unrecorded fill {trade} of {run_id}" for trade in lost]
        for run_id, client, coid, _line, status, *_ in self._rows(_ORDERS):
            owner = by_run.get(run_id)
            if owner is None or owner.client != client or not coid.startswith(owner.tag):
                found.cross_tenant.append(f"order {coid} of run {run_id} under client {client}")
            if status in ("submitting", "unknown"):
                found.unknown_orders += 1
                found.details.append(f"order {coid} of {run_id} left {status}")
        unbooked = self._unbooked()
        for run_id, state in self._rows(_STATES):
            tenant = by_run.get(run_id)
            if tenant is not None and state:
                books = _booked(state, unbooked.get(run_id, []))
                quote, base = found.drift[run_id] = _drift(books, exchanges[tenant.key])
                if abs(quote) > 0.01 or abs(base) > 1e-8:
                    found.details.append(
                        f"books of {run_id} less its account: {quote:+.4f} USDT, {base:+.8f} BTC"
                    )
        for run_id, status, reason in self._rows(_RUNS):
            if status in FAILED:
                found.runs_ended.append(f"{run_id} {status}: {reason}")
                found.ended.add(run_id)
        # A tripped run whose job is taken again ends "stopped" (blocked by its trip): the
        # guard's row still says it tripped.
        for run_id, guard, reason in self._rows(_TRIPS):
            if run_id not in found.ended:
                found.runs_ended.append(f"{run_id} tripped {guard}: {reason}")
                found.ended.add(run_id)
        return found

    def _unbooked(self) -> dict[str, list[Any]]:
        """By run: the trades of its orders still working, which its books take in only when
        the order completes (or is cancelled)."""
        found: dict[str, list[Any]] = {}
        for row in self._rows(_UNBOOKED, working=sorted(status.value for status in ACTIVE)):
            found.setdefault(row[0], []).append(row)
        return found

    def _exchange_side(self, found: Findings, exchanges: dict[str, dict[str, Any]]) -> None:
        for tenant in self.tenants:
            exchange = exchanges[tenant.key]
            found.orders_submitted += len(exchange["orders_detail"])
            found.filled_in_parts += filled_in_parts(exchange)
            found.duplicate_orders += duplicate_orders(exchange)
            self.doubled |= {(tenant.key, price, frozenset()) for price in doubled_lines(exchange)}
            for order in exchange["orders_detail"]:
                if not str(order["client_order_id"]).startswith(tenant.tag):
                    found.cross_tenant.append(
                        f"order {order['client_order_id']} placed on {tenant.client}'s account"
                    )
        found.duplicate_orders += len({(key, price) for key, price, _ in self.doubled})


_FILLS = "select client_id, run_id, trade_id, client_order_id, ts, side, line, price from bot_fills"
_ORDERS = (
    "select run_id, client_id, client_order_id, line, status, side, price, created_ts, reason "
    "from bot_orders"
)
_RUNS = "select id, status, stop_reason from bot_runs"
_STATES = "select id, state from bot_runs"
_UNBOOKED = (
    "select f.run_id, f.side, f.price, f.qty, f.fee, f.fee_currency from bot_fills f "
    "join bot_orders o on o.run_id = f.run_id and o.client_order_id = f.client_order_id "
    "where o.status = any(:working)"
)
"""The trades of the orders still working (``engine.orders.ACTIVE``, bound as ``working``)."""
_TRIPS = "select run_id, guard, reason from bot_guard_state where active and run_id is not null"


def _booked(state: list[float], unbooked: list[Any]) -> tuple[float, float]:
    """The run's quote and base with the trades of its working orders taken in."""
    quote, base = state[core.QUOTE], state[core.BASE]
    for _run, side, price, qty, fee, fee_currency in unbooked:
        sign = 1.0 if side == "buy" else -1.0
        quote -= sign * price * qty
        base += sign * qty
        if fee_currency == "BTC":
            base -= fee / price  # fees are stored valued in quote
        elif fee_currency in ("USDT", ""):
            quote -= fee
    return quote, base


def _drift(books: tuple[float, float], exchange: dict[str, Any]) -> tuple[float, float]:
    """The run's quote and base less the account's USDT and BTC (free and locked)."""
    balances = exchange["balances"]

    def total(asset: str) -> float:
        held = balances.get(asset, {})
        return float(held.get("free", 0.0)) + float(held.get("locked", 0.0))

    return books[0] - total("USDT"), books[1] - total("BTC")
