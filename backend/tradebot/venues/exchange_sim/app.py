"""The simulator as an aiohttp app, and two ways to run it: ``serve`` inside a running event loop
(tests), ``SimThread`` in a background thread with its own loop (synchronous callers, the CLI's
tests). Both bind a loopback port (0 = a free one) and give the base URL to point ccxt at."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from tradebot.venues.exchange_sim.config import SimConfig
from tradebot.venues.exchange_sim.control import CONTROL, control_handler
from tradebot.venues.exchange_sim.dispatch import Endpoint, dispatch
from tradebot.venues.exchange_sim.routes_private import PRIVATE
from tradebot.venues.exchange_sim.routes_public import PUBLIC
from tradebot.venues.exchange_sim.simulator import ExchangeSimulator
from tradebot.venues.exchange_sim.stream_routes import STREAM_ROUTES

T = TypeVar("T")
SIM_KEY = web.AppKey("sim", ExchangeSimulator)


def _handler(
    sim: ExchangeSimulator, endpoint: Endpoint
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await dispatch(sim, endpoint, request)

    return handle


async def _replay_in_real_time(sim: ExchangeSimulator) -> None:
    """Walk one segment every (timeframe / 3 / speed) seconds while the speed is above zero."""
    while True:
        if sim.speed <= 0 or sim.market.done:
            await asyncio.sleep(0.05)
            continue
        await asyncio.sleep(sim.market.timeframe_ms / 1000 / 3 / sim.speed)
        if sim.speed > 0:
            sim.advance(1)


def create_app(sim: ExchangeSimulator) -> web.Application:
    app = web.Application()
    app[SIM_KEY] = sim
    for endpoint in (*PUBLIC, *PRIVATE):
        app.router.add_route(endpoint.method, endpoint.path, _handler(sim, endpoint))
    for method, path, route in CONTROL:
        app.router.add_route(method, path, control_handler(sim, route))
    for path, socket in STREAM_ROUTES:
        app.router.add_get(path, socket(sim))

    async def clock(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_replay_in_real_time(sim))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(clock)
    return app


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    sim: ExchangeSimulator
    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL: what ``make_exchange(..., sandbox_url=url)`` takes (the WebSocket streams
        are on the same port, ``ws://host:port``)."""
        return f"http://{self.host}:{self.port}"


@contextlib.asynccontextmanager
async def serve(
    sim: ExchangeSimulator | SimConfig, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningSimulator]:
    """Run the simulator in the current event loop for the ``async with`` block."""
    simulator = sim if isinstance(sim, ExchangeSimulator) else ExchangeSimulator(sim)
    # handler_cancellation: a request whose client gave up (a held "timeout") ends with it.
    runner = web.AppRunner(
        create_app(simulator), handler_cancellation=True, shutdown_timeout=0.5, access_log=None
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        yield RunningSimulator(simulator, host, bound)
    finally:
        await runner.cleanup()


class SimThread:
    """The simulator on a background thread: ``with SimThread(config) as thread: thread.url``.

    Touch the simulator only through ``call`` (it runs on the simulator's loop) or over HTTP.
    """

    def __init__(
        self, sim: ExchangeSimulator | SimConfig, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._target = sim
        self._address = (host, port)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._running: RunningSimulator | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="exchange-sim", daemon=True)

    def __enter__(self) -> SimThread:
        self._thread.start()
        self._ready.wait()
        if self._error is not None or self._running is None:
            raise RuntimeError(f"the exchange simulator did not start: {self._error}")
        return self

    @property
    def url(self) -> str:
        assert self._running is not None, "not started"
        return self._running.url

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def call(self, fn: Callable[[ExchangeSimulator], T]) -> T:
        """Run ``fn(sim)`` on the simulator's loop and return its result."""
        assert self._loop is not None
        assert self._running is not None
        sim = self._running.sim

        async def run() -> T:
            return fn(sim)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with serve(self._target, *self._address) as running:
                self._running = running
                self._ready.set()
                await self._stop.wait()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the thread that waits in __enter__
            self._error = exc
        finally:
            self._ready.set()
