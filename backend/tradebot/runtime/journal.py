"""A run's writes, with its fills' held until the next write: a run decides on a fill first.

A fill is booked in memory and the run decides on it at once; its rows (the fill, the order it
completes, the engine state after it) go to the database with the next write, in the same
transaction: the orders the fill calls for, written ahead of their requests, or the tick's end.
So a fill costs one transaction before its orders leave instead of two, and none before the
decision.

Held writes are safe to lose: a crash before they are written leaves the database as it was
before the fill, with the filled order still active, and the restart's reconciliation asks the
venue about it and books its trades again (a paper account is rebuilt from the same rows). What
must never be written is state without its fills (a restart would apply them twice): every
write of the state carries whatever is held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tradebot.engine.orders import OrderStatus
from tradebot.runtime.store import FillRecord, OrderUpdate, RunStore, StoredOrder


class Journal:
    """The run's ``OrderStore``, and its state's writes, over ``store``."""

    def __init__(self, store: RunStore, state: Callable[[], tuple[list[float], int]]) -> None:
        self._store = store
        self._state = state
        """The engine state and the run's clock, as they are now."""
        self._fills: list[FillRecord] = []
        self._updates: list[OrderUpdate] = []

    @property
    def held(self) -> bool:
        return bool(self._fills or self._updates)

    def hold(self, fills: Sequence[FillRecord], updates: Sequence[OrderUpdate]) -> None:
        """Fills (and order updates) booked in memory, written with the state by the next write."""
        self._fills.extend(fills)
        self._updates.extend(updates)

    async def flush(self, orders: Sequence[StoredOrder] = ()) -> None:
        """Write what is held, the state and ``orders``, in one transaction."""
        fills, updates = self._fills, self._updates
        self._fills, self._updates = [], []
        state, clock_ts = self._state()
        await self._store.record_fills(fills, updates, state, clock_ts, orders)

    async def save_state(self) -> None:
        if self.held:
            await self.flush()
        else:
            await self._store.save_state(*self._state())

    # ---- OrderStore ---------------------------------------------------------------------
    async def orders(self, statuses: frozenset[OrderStatus] | None = None) -> list[StoredOrder]:
        return await self._store.orders(statuses)

    async def next_seqs(self) -> dict[int, int]:
        return await self._store.next_seqs()

    async def add_orders(self, orders: list[StoredOrder]) -> None:
        if self.held:
            await self.flush(orders)
        else:
            await self._store.add_orders(orders)

    async def update_orders(self, updates: list[OrderUpdate]) -> None:
        if self.held:
            self.hold((), updates)
            await self.flush()
        elif updates:
            await self._store.update_orders(updates)
