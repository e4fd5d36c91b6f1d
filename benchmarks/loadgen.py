"""A light HTTP/1.1 load generator, run in its own process: ``python -m benchmarks.loadgen``.

The server under test shares a 2-core machine with PostgreSQL, Redis and this generator, so
the generator must cost little: raw asyncio protocols on keep-alive connections, one
pre-encoded request, responses framed by ``Content-Length`` and nothing else parsed.

Two modes, both printing one JSON summary on stdout:

- ``open``: requests are *due* at a fixed rate whatever the server does; latency runs from the
  due time to the last byte of the response, so a server that falls behind is charged for the
  queue it causes (no coordinated omission). A warm-up precedes the measured window.
- ``closed``: ``--connections`` loops, each sending its next request when the last one is
  answered, for the maximum throughput.

The bearer token comes from the ``LOADGEN_TOKEN`` environment variable (not the command line).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
ERROR = 0
"""The status recorded for a request whose connection failed."""
ABANDONED = -1
"""The status recorded for a request still waiting for a connection at the deadline."""
LABELS = {ERROR: "failed", ABANDONED: "abandoned"}


class Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        found = _LENGTH.search(self.buffer, 0, end + 2)
        if found is None:
            self._fail(ConnectionError("response without Content-Length"))
            return
        total = end + 4 + int(found.group(1))
        if len(self.buffer) >= total:
            status = int(self.buffer[9:12])
            del self.buffer[:total]
            waiter, self.waiter = self.waiter, None
            waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(exc or ConnectionError("connection closed"))

    def _fail(self, exc: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.waiter = None

    async def send(self, request: bytes) -> int:
        """The response status of ``request`` sent on this connection."""
        if self.transport is None:
            raise ConnectionError("not connected")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


@dataclass
class Target:
    host: str
    port: int
    request: bytes

    @classmethod
    def of(cls, url: str, token: str) -> Target:
        parts = urlsplit(url)
        path = parts.path or "/"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: application/json\r\n\r\n"
        ).encode()
        return cls(parts.hostname or "127.0.0.1", parts.port or 80, request)

    async def connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(Connection, self.host, self.port)
        return protocol

    async def call(self, connection: Connection) -> tuple[int, Connection]:
        """Status and the connection to use next (a fresh one if this one failed)."""
        try:
            return await connection.send(self.request), connection
        except (ConnectionError, OSError):
            if connection.transport is not None:
                connection.transport.close()
            return ERROR, await self.connect()


@dataclass
class Samples:
    """Latency samples of the measured requests, and when every answer (warm-up too) came."""

    latencies_s: list[float] = field(default_factory=list)
    lags_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    answers_s: list[float] = field(default_factory=list)
    first_s: float = float("inf")
    last_s: float = 0.0

    def answered(self, done: float, status: int) -> None:
        """Any request's answer (a warm-up one is not sampled but is work the server did)."""
        if status not in (ERROR, ABANDONED):
            self.answers_s.append(done)

    def add(self, due: float, sent: float, done: float, status: int) -> None:
        self.answered(done, status)
        self.latencies_s.append(done - due)
        self.lags_s.append(sent - due)
        self.statuses[status] += 1
        self.first_s = min(self.first_s, due)
        self.last_s = max(self.last_s, done)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted ``values``."""
    if not values:
        return float("nan")
    rank = max(1, round(fraction * len(values) + 0.5))
    return values[min(rank, len(values)) - 1]


def summary(samples: Samples, expect: int, cpu_s: float) -> dict[str, Any]:
    latencies = sorted(samples.latencies_s)
    lags = sorted(samples.lags_s)
    span = samples.last_s - samples.first_s if latencies else 0.0
    # Throughput: every answer that came while the measured requests were under way, a
    # warm-up backlog's included (an overloaded server is still busy with it).
    in_window = sum(1 for t in samples.answers_s if samples.first_s <= t <= samples.last_s)
    return {
        "requests": len(latencies),
        "seconds": span,
        "rate": in_window / span if span > 0 else 0.0,
        "answered_with_warmup": len(samples.answers_s),
        "statuses": {LABELS.get(k, str(k)): v for k, v in sorted(samples.statuses.items())},
        "unexpected": sum(v for k, v in samples.statuses.items() if k != expect),
        "ms": {
            name: 1000 * percentile(latencies, q)
            for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
        },
        "lag_ms": {"p99": 1000 * percentile(lags, 0.99), "max": 1000 * percentile(lags, 1.0)},
        "generator_cpu_s": cpu_s,
    }


async def open_loop(
    target: Target, rate: float, seconds: float, warmup_s: float, conns: int, grace_s: float
) -> Samples:
    """``rate`` requests/s for ``warmup_s`` + ``seconds``; samples of the measured part only.

    A request that has not found a free connection ``grace_s`` after the last one was due is
    abandoned (status ``ABANDONED``, its latency the wait so far): an overloaded server makes
    the run end instead of draining a backlog for minutes.
    """
    loop = asyncio.get_running_loop()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(conns):
        pool.put_nowait(await target.connect())
    samples = Samples()
    warm = int(rate * warmup_s)
    total = warm + int(rate * seconds)
    start = loop.time() + 0.05
    deadline = start + (total - 1) / rate + grace_s

    async def one(index: int, due: float) -> None:
        try:
            connection = await asyncio.wait_for(pool.get(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            if index >= warm:
                samples.add(due, loop.time(), loop.time(), ABANDONED)
            return
        sent = loop.time()
        status, connection = await target.call(connection)
        done = loop.time()
        pool.put_nowait(connection)
        if index >= warm:
            samples.add(due, sent, done, status)
        else:
            samples.answered(done, status)

    tasks = set()
    for index in range(total):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(index, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    return samples


async def closed_loop(target: Target, seconds: float, warmup_s: float, conns: int) -> Samples:
    """``conns`` connections each sending back to back; samples after the warm-up only."""
    loop = asyncio.get_running_loop()
    samples = Samples()
    measure_from = loop.time() + warmup_s
    until = measure_from + seconds

    async def worker() -> None:
        connection = await target.connect()
        while (sent := loop.time()) < until:
            status, connection = await target.call(connection)
            if sent >= measure_from:
                samples.add(sent, sent, loop.time(), status)
            else:
                samples.answered(loop.time(), status)
        if connection.transport is not None:
            connection.transport.close()

    await asyncio.gather(*(worker() for _ in range(conns)))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen")
    parser.add_argument("url")
    parser.add_argument("--mode", choices=["open", "closed"], default="open")
    parser.add_argument("--rate", type=float, default=500.0, help="open loop: requests/s")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--grace", type=float, default=10.0, help="open loop: see open_loop")
    parser.add_argument("--expect", type=int, default=200, help="the status that is a success")
    args = parser.parse_args(argv)
    target = Target.of(args.url, os.environ.get("LOADGEN_TOKEN", ""))
    if args.mode == "open":
        work = open_loop(target, args.rate, args.seconds, args.warmup, args.connections, args.grace)
    else:
        work = closed_loop(target, args.seconds, args.warmup, args.connections)
    cpu = time.process_time()
    samples = asyncio.run(work)
    json.dump(summary(samples, args.expect, time.process_time() - cpu), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
