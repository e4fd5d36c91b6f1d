"""The API's DEX check for a client: its plan allows it, its own rate limit, public nodes only.

The check runs on a node the client names, so the server would send requests wherever it is
told: only hosts that resolve to public addresses are accepted (never loopback, the private
ranges or link-local, where our own services and a cloud's metadata endpoint live).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradebot.billing.entitlements import AccountFacts, require_usable
from tradebot.billing.errors import PaymentRequiredError, PlanLimitError
from tradebot.billing.repository import EntitlementRepository
from tradebot.clients.plans import PLANS, PlanSpec
from tradebot.dex.assessment import SellCheck
from tradebot.dex.check import check_sell
from tradebot.dex.errors import DexInputError
from tradebot.dex.schemas import DexAccess, SellCheckRequest
from tradebot.kit.clock import utcnow
from tradebot.kit.ratelimit import RequestLimiter
from tradebot.kit.scope import ClientScope
from tradebot.kit.service import ClientService

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S: Final = 10.0

NodeCheck = Callable[[str], Awaitable[None]]
"""Refuses an RPC URL the server must not call (``DexInputError``)."""


def plans_with_dex_checks() -> str:
    """The plans that include DEX checks, as the refusal names them: "Pro and above"."""
    including = [spec for spec in PLANS.values() if spec.dex_checks]
    if not including:
        return "no plan"

    def price(spec: PlanSpec) -> float:
        return float("inf") if spec.price_usd_month is None else spec.price_usd_month

    cheapest = min(including, key=price)
    above = all(spec.dex_checks for spec in PLANS.values() if price(spec) >= price(cheapest))
    return f"{cheapest.name.value.title()}{' and above' if above else ''}"


def require_dex_checks(facts: AccountFacts, now: datetime) -> None:
    require_usable(facts, now)
    if not facts.spec.dex_checks:
        raise PaymentRequiredError(
            f"DEX sell checks are not in the {facts.spec.name.value} plan "
            f"({plans_with_dex_checks()})"
        )


async def public_nodes_only(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (ValueError, OSError):
        raise DexInputError(f"rpc_url: cannot resolve the host of {url!r}") from None
    for *_, address in found:
        if not ipaddress.ip_address(address[0]).is_global:
            raise DexInputError(f"rpc_url: {host} is not a public address: use a public node")


class DexService(ClientService):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scope: ClientScope,
        actor: str,
        limiter: RequestLimiter,
        checks_per_window: int,
    ) -> None:
        super().__init__(sessions, scope, actor)
        self.limiter = limiter
        self.checks_per_window = checks_per_window

    async def access(self, window_s: int) -> DexAccess:
        """Whether this client may run checks now, and why not (what the portal shows)."""
        async with self.tx() as session:
            facts = await EntitlementRepository(session, self.scope).facts()
        reason = None
        try:
            require_dex_checks(facts, utcnow())
        except (PaymentRequiredError, PlanLimitError) as exc:
            reason = str(exc)
        return DexAccess(
            available=reason is None,
            plan=facts.spec.name.value,
            reason=reason,
            included_in=plans_with_dex_checks(),
            checks_per_window=self.checks_per_window,
            window_s=window_s,
        )

    async def check_sell(self, body: SellCheckRequest, node_check: NodeCheck) -> SellCheck:
        async with self.tx() as session:
            facts = await EntitlementRepository(session, self.scope).facts()
        require_dex_checks(facts, utcnow())
        await self._count()
        await node_check(body.rpc_url)
        return await check_sell(
            body.rpc_url,
            body.router,
            body.token,
            body.amount,
            quote=body.quote,
            max_sell_tax_pct=body.max_sell_tax_pct,
            timeout_s=CHECK_TIMEOUT_S,
        )

    async def _count(self) -> None:
        key = f"dex:{self.scope.client_id}"
        try:
            await self.limiter.hit(key, self.checks_per_window, "DEX checks of this client")
        except (RedisError, OSError) as exc:
            # As the API's own per-client limit does: Redis down lets requests through.
            log.warning("rate limiter unavailable, DEX check let through: %s", exc)
