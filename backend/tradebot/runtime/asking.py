"""When a run asks the venue again about an order in doubt.

An order whose fate the run does not know (its submit or cancel unanswered, the venue not
showing it yet) used to be asked about at every tick. With prices streamed, a tick is every
price event: an order the exchange took seconds to show cost a query (and, once part-filled,
a trade read) several times a second, and a few such orders spent the IP's budget that
restarting runs were waiting for. Now an order is asked at once, then after ``first_ms``,
doubling up to ``cap_ms`` while it stays in doubt.
"""

from __future__ import annotations

from tradebot.runtime.store import StoredOrder


class AskSchedule:
    def __init__(self, first_ms: int = 250, cap_ms: int = 2_000) -> None:
        self.first_ms = first_ms
        self.cap_ms = cap_ms
        self._next: dict[str, tuple[int, int]] = {}
        """Client order id -> (when it may be asked again, the delay that led there)."""

    def due(self, in_doubt: list[StoredOrder], now_ms: int) -> list[StoredOrder]:
        """The orders of ``in_doubt`` to ask about now (each then waits its next delay);
        orders no longer in doubt are forgotten, so a new doubt starts at once again."""
        doubted = {o.client_order_id for o in in_doubt}
        for coid in [c for c in self._next if c not in doubted]:
            del self._next[coid]
        due = []
        for order in in_doubt:
            at, delay = self._next.get(order.client_order_id, (0, 0))
            if at > now_ms:
                continue
            delay = min(self.cap_ms, delay * 2) if delay else self.first_ms
            self._next[order.client_order_id] = (now_ms + delay, delay)
            due.append(order)
        return due
