"""Every log entry, also POSTed to ``LOG_INGEST_WEBHOOK`` in batches, never in the way.

``WebhookLogHandler`` formats an entry as the stderr handler does (JSON, secrets scrubbed) and
only puts it on a bounded queue: the code that logs (a run loop on its tick) never waits for
the network. One daemon thread takes what is queued, up to ``batch_size`` entries at a time,
and POSTs them as one JSON array. A full queue, or a batch the receiver refuses, times out on
or cannot be reached for, is dropped: counted in ``tradebot_log_entries_dropped_total`` and
told in a ``log_entries_dropped`` line at most every ``DROP_REPORT_INTERVAL_S``. Batches are
not retried: a receiver that is down would otherwise keep the queue full of old entries.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Final

import httpx

from tradebot.observability.logs import get_logger
from tradebot.observability.metrics import LOG_ENTRIES_DROPPED, LOG_ENTRIES_SENT

DROP_REPORT_INTERVAL_S: Final = 10.0
QUEUE_CAPACITY: Final = 10_000
"""Entries waiting at most: about ten seconds of a busy worker's INFO lines."""
BATCH_SIZE: Final = 500
FLUSH_INTERVAL_S: Final = 1.0
"""How long the first entry of a batch may wait for company."""
TIMEOUT_S: Final = 5.0
CLOSE_WAIT_S: Final = 2.0
"""At exit, how long what is still queued may take to go out."""

HTTP_CLIENT_LOGGERS: Final = ("httpx", "httpcore")

log = get_logger(__name__)


class _NotFromThread(logging.Filter):
    def __init__(self, thread: threading.Thread) -> None:
        super().__init__()
        self._thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self._thread.ident


class WebhookLogHandler(logging.Handler):
    """POSTs formatted entries to ``url`` from a background thread (see the module)."""

    def __init__(
        self,
        url: str,
        *,
        capacity: int = QUEUE_CAPACITY,
        batch_size: int = BATCH_SIZE,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        super().__init__()
        self.url = url
        self._entries: queue.Queue[str] = queue.Queue(maxsize=capacity)
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._timeout_s = timeout_s
        self._closing = threading.Event()
        self._drops_lock = threading.Lock()
        self._unreported_drops = 0
        self._last_drop_report = 0.0
        self._thread = threading.Thread(target=self._deliver, name="log-webhook", daemon=True)
        # The HTTP client logs each of its own requests: from this thread, those lines would
        # be shipped by the next request, which logs one more, for ever.
        self._quiet_own_requests = _NotFromThread(self._thread)
        for name in HTTP_CLIENT_LOGGERS:
            logging.getLogger(name).addFilter(self._quiet_own_requests)
        self._thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = self.format(record)
        except Exception:
            self.handleError(record)
            return
        try:
            self._entries.put_nowait(entry)
        except queue.Full:
            self._dropped(1)

    def close(self) -> None:
        """Send what is queued (for at most ``CLOSE_WAIT_S``), then stop the thread."""
        self._closing.set()
        self._thread.join(CLOSE_WAIT_S)
        for name in HTTP_CLIENT_LOGGERS:
            logging.getLogger(name).removeFilter(self._quiet_own_requests)
        super().close()

    # ---- the delivery thread ------------------------------------------------------------
    def _deliver(self) -> None:
        with httpx.Client(timeout=self._timeout_s, follow_redirects=False) as http:
            while not (self._closing.is_set() and self._entries.empty()):
                batch = self._next_batch()
                if batch:
                    self._post(http, batch)
                self._report_drops()

    def _next_batch(self) -> list[str]:
        try:
            batch = [self._entries.get(timeout=self._flush_interval_s)]
        except queue.Empty:
            return []
        while len(batch) < self._batch_size:
            try:
                batch.append(self._entries.get_nowait())
            except queue.Empty:
                break
        return batch

    def _post(self, http: httpx.Client, batch: list[str]) -> None:
        body = "[" + ",".join(batch) + "]"  # each entry is already one JSON object
        try:
            response = http.post(
                self.url, content=body, headers={"content-type": "application/json"}
            )
        except httpx.HTTPError:
            self._dropped(len(batch))
            return
        if response.is_success:
            LOG_ENTRIES_SENT.inc(len(batch))
        else:
            self._dropped(len(batch))

    def _dropped(self, count: int) -> None:
        LOG_ENTRIES_DROPPED.inc(count)
        with self._drops_lock:
            self._unreported_drops += count

    def _report_drops(self) -> None:
        now = time.monotonic()
        with self._drops_lock:
            count = self._unreported_drops
            if not count or now - self._last_drop_report < DROP_REPORT_INTERVAL_S:
                return
            self._unreported_drops = 0
            self._last_drop_report = now
        # Not the URL: it may carry the receiver's token.
        log.warning("log_entries_dropped", count=count)
