"""Drive a stepped exchange simulator from the run loop: one segment of the walk per poll.

A sandbox run then sees the market exactly as the paper replay does (open, then each segment
of each candle), so a live run against the simulator can be held to the backtest's results.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp


class SandboxClock:
    def __init__(self, sandbox_url: str, segments_per_poll: int = 1) -> None:
        self.url = sandbox_url.rstrip("/") + "/_sim/advance"
        self.segments = segments_per_poll
        self._first = True
        self.hold_while: Callable[[], bool] = lambda: False
        """While this says True the clock holds (e.g. an order's fate is still being asked)."""

    async def step(self) -> bool:
        """Advance the simulator (not before the first poll, nor while held); False once its
        replay has ended."""
        if self._first or self.hold_while():
            self._first = False
            return True
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, json={"segments": self.segments}) as response,
        ):
            response.raise_for_status()
            body = await response.json()
        return int(body.get("walked", 0)) > 0
