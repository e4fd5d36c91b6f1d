"""The simulator's open WebSockets, what each listens to, and the way events reach them.

Publishing never awaits (the simulator applies a market step or an order whole): an event is
put on each listening socket's queue, through the stream faults, and that socket's own writer
task sends it. A socket's events therefore leave in the order the exchange made them, unless a
fault says otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tradebot.venues.exchange_sim.stream_faults import Channel, StreamFaults


@dataclass(eq=False, slots=True)
class Connection:
    ws: web.WebSocketResponse
    channel: Channel
    streams: set[str] = field(default_factory=set)
    """Market streams subscribed (``btcusdt@trade``...)."""
    users: dict[int, str] = field(default_factory=dict)
    """User-data subscriptions on a WebSocket API connection: subscription id -> API key."""
    transport: asyncio.Transport | None = None
    """The TCP connection under the socket (an abrupt disconnect drops it)."""
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)

    def send(self, text: str) -> None:
        if not self.ws.closed:
            self.queue.put_nowait(text)

    async def pump(self) -> None:
        """Send queued frames until the socket closes."""
        while not self.ws.closed:
            text = await self.queue.get()
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return  # closed under us: the reader ends the connection


@dataclass(slots=True)
class StreamHub:
    faults: StreamFaults
    connections: set[Connection] = field(default_factory=set)
    sent: Counter[str] = field(default_factory=Counter)
    """Events published, by channel (before faults)."""
    refused_until: dict[Channel, float] = field(default_factory=dict)
    """Monotonic time until which new sockets of a channel are refused (the stream is down)."""
    _by_key: dict[str, dict[int, Connection]] = field(default_factory=dict)
    """API key -> its user-data subscriptions (id -> socket): an account's events go to these
    only, without a look at every other socket."""
    _next_subscription: int = 0
    _next_execution: int = 0
    _closing: set[asyncio.Task[bool]] = field(default_factory=set)

    def open(self, request: web.Request, ws: web.WebSocketResponse, channel: Channel) -> Connection:
        connection = Connection(ws, channel, transport=request.transport)
        self.connections.add(connection)
        return connection

    def close(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self.unsubscribe_user(connection, None)

    def subscribe_user(self, connection: Connection, api_key: str) -> int:
        subscription = self._next_subscription
        self._next_subscription += 1
        connection.users[subscription] = api_key
        self._by_key.setdefault(api_key, {})[subscription] = connection
        return subscription

    def unsubscribe_user(self, connection: Connection, subscription: int | None) -> bool:
        """Drop one user-data subscription of the socket (None: all); False if it had none."""
        chosen = list(connection.users) if subscription is None else [subscription]
        found = False
        for sub in chosen:
            key = connection.users.pop(sub, None)
            if key is not None:
                found = True
                listeners = self._by_key.get(key, {})
                listeners.pop(sub, None)
                if not listeners:
                    self._by_key.pop(key, None)
        return found

    def next_execution_id(self) -> int:
        """Binance's execution ids (an executionReport's ``I``): exchange-wide, only growing."""
        self._next_execution += 1
        return self._next_execution

    # ---- publishing -------------------------------------------------------------------------
    def listening(self, stream: str) -> bool:
        return any(stream in c.streams for c in self.connections)

    def listening_user(self, api_key: str) -> bool:
        return api_key in self._by_key

    def publish_market(self, stream: str, event: dict[str, Any]) -> None:
        text = json.dumps(event)
        self.sent[Channel.MARKET.value] += 1
        for connection in list(self.connections):
            if stream in connection.streams:
                self.faults.deliver(connection.send, Channel.MARKET, stream, text)

    def publish_user(self, api_key: str, event: dict[str, Any]) -> None:
        """To every user-data subscription of ``api_key`` (and no other account's)."""
        self.sent[Channel.USER.value] += 1
        for subscription, connection in list(self._by_key.get(api_key, {}).items()):
            text = json.dumps({"subscriptionId": subscription, "event": event})
            self.faults.deliver(connection.send, Channel.USER, api_key, text)

    # ---- faults -----------------------------------------------------------------------------
    def refusing(self, channel: Channel) -> bool:
        return time.monotonic() < self.refused_until.get(channel, 0.0)

    def disconnect(
        self,
        channel: Channel | None,
        api_key: str | None,
        *,
        abrupt: bool,
        refuse_s: float = 0.0,
    ) -> int:
        """Close the matching sockets: with a close frame (1001, going away) or, ``abrupt``, by
        dropping the TCP connection. They get no event from now on; for ``refuse_s`` seconds
        new sockets of the channel (both, without one) are refused. Returns how many closed."""
        if refuse_s > 0:
            until = time.monotonic() + refuse_s
            for refused in [channel] if channel is not None else list(Channel):
                self.refused_until[refused] = until
        chosen = [
            c
            for c in self.connections
            if (channel is None or c.channel is channel)
            and (api_key is None or api_key in c.users.values())
        ]
        for connection in chosen:
            self.close(connection)
            if abrupt and connection.transport is not None:
                connection.transport.abort()
            else:
                task = asyncio.create_task(connection.ws.close(code=1001, message=b"going away"))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        self.faults.disconnects += len(chosen)
        return len(chosen)

    def state(self) -> dict[str, Any]:
        return {
            "connections": [
                {
                    "channel": c.channel.value,
                    "streams": sorted(c.streams),
                    "user_subscriptions": {str(k): v for k, v in c.users.items()},
                }
                for c in self.connections
            ],
            "published": dict(self.sent),
        }
