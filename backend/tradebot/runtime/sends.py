"""A live run's send stage: its new orders written ahead, sent and answered while the run goes
on to decide on its next news.

Behind a burst of a thousand runs' fills, one run's write-ahead transaction and order requests
wait hundreds of milliseconds for their turns of the worker's loop; a run that waited for them
before looking at its next tick decided on that tick as late. Here a decision's orders are
handed over already active (SUBMITTING), so the next diff of the book leaves their lines alone,
and the run goes on. Sends go one after another, each awaiting the one before it: every order
is still written before its request leaves, and the journal's lock keeps every write in order.
A send's failure (a rejection, the database) stops every later send and is the run's at its
next tick; the run is woken for it, as for an order whose request may or may not have reached
the venue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tradebot.engine.orders import OrderStatus
from tradebot.observability.logs import get_logger
from tradebot.runtime.order_manager import OrderManager
from tradebot.runtime.ports import Done
from tradebot.runtime.store import StoredOrder

log = get_logger(__name__)


class Sends:
    def __init__(self, orders: OrderManager, wake: Callable[[], None] | None) -> None:
        self._orders = orders
        self._wake = wake
        """Hands the run a tick now, if it sleeps on a shared feed."""
        self._last: asyncio.Task[None] | None = None
        """The last send (which awaits those before it)."""
        self.on_the_way: set[str] = set()
        """Orders whose send has not been answered yet: not in doubt, on their way."""

    def send(self, orders: list[StoredOrder]) -> None:
        """Write ``orders`` (prepared, active already) ahead and send them, after the sends
        before them; the caller goes on."""
        if not orders:
            return
        self.on_the_way.update(o.client_order_id for o in orders)
        self._last = asyncio.create_task(self._send_after(self._last, orders))

    async def _send_after(
        self, previous: asyncio.Task[None] | None, orders: list[StoredOrder]
    ) -> None:
        try:
            if previous is not None:
                try:
                    await previous
                except BaseException:  # its failure is this one's: nothing more leaves
                    self._orders.unsent(orders)
                    raise
            await self._orders.send(orders)
        except BaseException:
            self._wake_run()  # its error is the run's, at its next tick
            raise
        finally:
            self.on_the_way.difference_update(o.client_order_id for o in orders)
        if any(o.status is OrderStatus.UNKNOWN for o in orders):
            self._wake_run()  # a request that may have reached the venue: to be asked about

    def _wake_run(self) -> None:
        if self._wake is not None:
            self._wake()

    def then(self, done: Done) -> None:
        """Tell ``done`` once every send so far is answered (now, if none is on its way)."""
        last = self._last
        if last is not None and not last.done():
            last.add_done_callback(lambda _task: done())
        else:
            done()

    def raise_failed(self) -> None:
        """The sends' error, once they have met one, is the run's (a rejection trips it)."""
        last = self._last
        if last is not None and last.done():
            self._last = None
            last.result()

    async def answered(self) -> None:
        """Wait until every order on its way is answered (their error is the run's): what
        comes next asks the venue about the book, cancels, or writes the run's end."""
        last = self._last
        if last is not None:
            await asyncio.wait([last])
            self.raise_failed()

    async def quiesce(self) -> None:
        """The run is ending: its orders on their way are answered first (an error they meet
        now is logged; the run's own outcome stands)."""
        last, self._last = self._last, None
        if last is None:
            return
        await asyncio.wait([last])
        if not last.cancelled() and last.exception() is not None:
            log.warning("send_failed", run_id=self._orders.run_id, error=str(last.exception()))
