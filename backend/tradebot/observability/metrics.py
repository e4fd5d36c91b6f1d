"""Every Prometheus metric of TradeBot, and the run observer that records them.

Naming: ``tradebot_`` prefix, base units in the name (``_seconds``, ``_usd``), ``_total`` on
counters. Every series about runs has a ``client_id`` label. ``run_id`` is a label only of the
per-run gauges (P&L, grid profit, open orders, last tick), and those series exist only while this
process drives the run: ``ended`` removes them, so a process exports at most as many run ids
as it has runs at once (a worker's ``max_jobs``), whatever the fleet's history. Counters and
histograms, which never forget a label set, carry client ids and small closed sets (order
kind, side, guard, error class) only.

Worker processes and ``tradebot run`` serve these on ``METRICS_PORT`` (``start_metrics``);
the API exposes the same registry, with its HTTP metrics, at ``/metrics``.
"""

from __future__ import annotations

import contextlib

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server

from tradebot.observability.logs import get_logger
from tradebot.observability.run_events import RunObserver, observe_runs_with

log = get_logger(__name__)
ORDERS_SUBMITTED = Counter(
    "tradebot_orders_submitted_total", "Orders sent to a venue.", ["client_id", "kind"]
)
ORDERS_FILLED = Counter(
    "tradebot_orders_filled_total", "Orders completely filled.", ["client_id", "side"]
)
ORDERS_CANCELLED = Counter(
    "tradebot_orders_cancelled_total", "Orders a cancel was sent for.", ["client_id"]
)
ORDERS_REJECTED = Counter(
    "tradebot_orders_rejected_total", "Orders the venue refused.", ["client_id"]
)
SUBMIT_ACK_SECONDS = Histogram(
    "tradebot_order_submit_ack_seconds",
    "Time from sending an order to the venue's answer.",
    ["client_id"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SUBMIT_FILL_SECONDS = Histogram(
    "tradebot_order_submit_fill_seconds",
    "Time from sending an order to its last fill (orders sent by this process).",
    ["client_id"],
    buckets=(0.1, 1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0),
)
RUN_PNL = Gauge(
    "tradebot_run_pnl_usd",
    "Equity minus investment, marked at the last price (runs driven by this process).",
    ["client_id", "run_id", "pair"],
)
RUN_GRID_PROFIT = Gauge(
    "tradebot_run_grid_profit_usd",
    "Profit realised by the grid's completed round trips.",
    ["client_id", "run_id", "pair"],
)
RUN_OPEN_ORDERS = Gauge(
    "tradebot_run_open_orders", "Orders working on the venue.", ["client_id", "run_id", "pair"]
)
RUN_LAST_TICK = Gauge(
    "tradebot_run_last_tick_timestamp_seconds",
    "Wall-clock time the run last handled a price (a stale ticker shows as an old value).",
    ["client_id", "run_id", "pair"],
)
GUARD_TRIPS = Counter(
    "tradebot_guard_trips_total", "Guards tripped by runs.", ["client_id", "guard"]
)
EXCHANGE_ERRORS = Counter(
    "tradebot_exchange_errors_total", "Errors from venues, by error class.", ["client_id", "kind"]
)
LOOP_STALL_SECONDS = Histogram(
    "tradebot_event_loop_stall_seconds",
    "Times the process's event loop was held past 50 ms (every run on it waited as long).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMIT_WAIT_SECONDS = Histogram(
    "tradebot_rate_limit_wait_seconds",
    "Time a request waited for the shared exchange rate limit.",
    ["exchange", "purpose"],
    buckets=(0.0, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
RUNS = Gauge(
    "tradebot_runs", "Runs by client and state (from the database).", ["client_id", "state"]
)
RUN_QUEUE_DEPTH = Gauge(
    "tradebot_run_queue_depth",
    "Jobs in the workers' arq queue, waiting or being run (a run's job lasts as long as the "
    "run): the load the workers share, which the autoscaler divides among them.",
)
RUN_QUEUE_WAITING = Gauge(
    "tradebot_run_queue_waiting",
    "Jobs due in the workers' arq queue that no worker has taken: the backlog.",
)
LEASE_LOSSES = Counter(
    "tradebot_lease_losses_total", "Run leases a worker lost while driving the run.", ["client_id"]
)
LOG_ENTRIES_DROPPED = Counter(
    "tradebot_log_entries_dropped_total",
    "Log entries not delivered to LOG_INGEST_WEBHOOK (queue full or receiver failing).",
)
LOG_ENTRIES_SENT = Counter(
    "tradebot_log_entries_sent_total", "Log entries delivered to LOG_INGEST_WEBHOOK."
)
RUN_FIGURES = (RUN_PNL, RUN_GRID_PROFIT, RUN_OPEN_ORDERS, RUN_LAST_TICK)


class PrometheusRunObserver:
    """One run's events as the metrics above."""

    def __init__(self, client_id: str, run_id: str, pair: str) -> None:
        self._client = client_id
        self._run_labels = (client_id, run_id, pair)
        self._figures: tuple[Gauge, ...] | None = None
        """The run's own gauges, looked up once: a run reports its figures at every tick."""

    def order_submitted(self, kind: str) -> None:
        ORDERS_SUBMITTED.labels(self._client, kind).inc()

    def order_acknowledged(self, seconds: float) -> None:
        SUBMIT_ACK_SECONDS.labels(self._client).observe(seconds)

    def order_rejected(self) -> None:
        ORDERS_REJECTED.labels(self._client).inc()

    def orders_cancelled(self, count: int) -> None:
        ORDERS_CANCELLED.labels(self._client).inc(count)

    def order_filled(self, side: str, seconds_since_submit: float | None) -> None:
        ORDERS_FILLED.labels(self._client, side).inc()
        if seconds_since_submit is not None:
            SUBMIT_FILL_SECONDS.labels(self._client).observe(seconds_since_submit)

    def venue_error(self, kind: str) -> None:
        EXCHANGE_ERRORS.labels(self._client, kind).inc()

    def guard_tripped(self, guard: str) -> None:
        GUARD_TRIPS.labels(self._client, guard).inc()

    def figures(self, *, pnl: float, grid_profit: float, open_orders: int) -> None:
        if self._figures is None:
            self._figures = tuple(gauge.labels(*self._run_labels) for gauge in RUN_FIGURES)
        pnl_gauge, profit, orders, last = self._figures
        pnl_gauge.set(pnl)
        profit.set(grid_profit)
        orders.set(open_orders)
        last.set_to_current_time()

    def ended(self) -> None:
        self._figures = None
        for gauge in RUN_FIGURES:
            with contextlib.suppress(KeyError):  # it ended before its first figures
                gauge.remove(*self._run_labels)


def observe_runs_in_prometheus() -> None:
    """Runs started in this process from now on record the metrics above."""

    def factory(client_id: str, run_id: str, pair: str) -> RunObserver:
        return PrometheusRunObserver(client_id, run_id, pair)

    observe_runs_with(factory)


_served_ports: set[int] = set()
"""Ports this process already serves on (the in-process workers of a test share one)."""


def start_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - scraped from outside
    """Record this process's runs and serve the registry on ``http://host:port/metrics`` (a
    daemon thread), once per port.

    A port already taken (another process on this host) is logged, not fatal: a worker that
    cannot be scraped still trades.
    """
    observe_runs_in_prometheus()
    if port in _served_ports:
        return
    try:
        start_http_server(port, addr=host, registry=REGISTRY)
    except OSError as exc:
        log.warning("metrics_port_unavailable", port=port, error=str(exc))
        return
    _served_ports.add(port)
