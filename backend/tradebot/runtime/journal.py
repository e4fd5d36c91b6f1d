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

Behind the run (``behind``, live runs): what is safe to lose needs no wait at all. The
exchange's acknowledgements of the orders just sent, and a tick's fills that called for no
order, are written by a task of their own while the run goes on to its next decision (a lost
acknowledgement leaves its order SUBMITTING, which a restart asks the venue about). One lock
keeps every write in the order it was made: an acknowledgement is never written over the fill
that came after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from tradebot.engine.orders import OrderStatus
from tradebot.observability.logs import get_logger
from tradebot.runtime.store import FillRecord, OrderUpdate, RunStore, StoredOrder

log = get_logger(__name__)


class Journal:
    """The run's ``OrderJournal``, and its state's writes, over ``store``."""

    def __init__(
        self,
        store: RunStore,
        state: Callable[[], tuple[list[float], int]],
        *,
        behind: bool = False,
    ) -> None:
        self._store = store
        self._state = state
        """The engine state and the run's clock, as they are now."""
        self._behind = behind
        self._fills: list[FillRecord] = []
        self._updates: list[OrderUpdate] = []
        self._lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return bool(self._fills or self._updates)

    def hold(self, fills: Sequence[FillRecord], updates: Sequence[OrderUpdate]) -> None:
        """Fills (and order updates) booked in memory, written with the state by the next write."""
        self._fills.extend(fills)
        self._updates.extend(updates)

    async def flush(self, orders: Sequence[StoredOrder] = ()) -> None:
        """Write what is held, the state and ``orders``, in one transaction."""
        async with self._lock:
            await self._flush(orders)

    async def _flush(self, orders: Sequence[StoredOrder] = ()) -> None:
        fills, updates = self._fills, self._updates
        self._fills, self._updates = [], []
        state, clock_ts = self._state()
        try:
            await self._store.record_fills(fills, updates, state, clock_ts, orders)
        except BaseException:
            # Held again: the next write carries them (a fill already stored is skipped).
            self._fills[:0], self._updates[:0] = fills, updates
            raise

    async def settle(self) -> None:
        """The end of a tick: what is held is written, behind the run or now."""
        if not self.held:
            return
        if not self._behind:
            await self.flush()
        elif self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_behind())

    async def _write_behind(self) -> None:
        try:
            while self.held:  # what was held while it wrote goes next
                await self.flush()
        except Exception as exc:  # the run's next write meets the same error, and says so
            log.warning("journal_write_behind_failed", error=str(exc)[:300])

    async def written(self) -> None:
        """Wait for the write behind the run, if one is on its way (before the run ends)."""
        if self._writer is not None:
            await asyncio.wait([self._writer])

    async def save_state(self) -> None:
        async with self._lock:
            if self.held:
                await self._flush()
            else:
                await self._store.save_state(*self._state())

    # ---- OrderJournal -------------------------------------------------------------------
    async def orders(self, statuses: frozenset[OrderStatus] | None = None) -> list[StoredOrder]:
        return await self._store.orders(statuses)

    async def next_seqs(self) -> dict[int, int]:
        return await self._store.next_seqs()

    async def add_orders(self, orders: list[StoredOrder]) -> None:
        async with self._lock:
            if self.held:
                await self._flush(orders)
            else:
                await self._store.add_orders(orders)

    async def update_orders(self, updates: list[OrderUpdate]) -> None:
        async with self._lock:
            if self.held:
                self.hold((), updates)
                await self._flush()
            elif updates:
                await self._store.update_orders(updates)

    async def acknowledged(self, updates: list[OrderUpdate]) -> None:
        """The venue's answers to orders just sent: behind the run, held and written soon."""
        if self._behind:
            self.hold((), updates)
            await self.settle()
        else:
            await self.update_orders(updates)
