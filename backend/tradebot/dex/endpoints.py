"""``POST /dex/check-sell``: simulate buying and selling a token on a DEX (the plans with
``dex_checks``); ``GET /dex/access``: whether this client may, and why not."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from tradebot.auth.dependencies import CurrentClient
from tradebot.dex.assessment import SellCheck
from tradebot.dex.schemas import DexAccess, SellCheckRequest
from tradebot.dex.service import DexService, NodeCheck, public_nodes_only
from tradebot.kit.web import ContextDep

router = APIRouter(prefix="/dex", tags=["dex"])


async def _service(context: ContextDep, user: CurrentClient) -> DexService:
    limit = context.settings.DEX_CHECKS_PER_WINDOW
    return DexService(context.sessions, user.scope(), user.actor, context.limiter, limit)


async def _any_node(url: str) -> None:
    del url


async def node_check(context: ContextDep) -> NodeCheck:
    """Which nodes the server may call for a client: public ones, unless DEX_PRIVATE_NODES."""
    return _any_node if context.settings.DEX_PRIVATE_NODES else public_nodes_only


Dex = Annotated[DexService, Depends(_service)]
NodeCheckDep = Annotated[NodeCheck, Depends(node_check)]


@router.get("/access")
async def dex_access(service: Dex, context: ContextDep) -> DexAccess:
    """Whether this client's plan includes DEX sell checks now (else why not), and how many it
    may run per window."""
    return await service.access(context.settings.API_RATE_WINDOW_S)


@router.post("/check-sell")
async def check_sell(body: SellCheckRequest, service: Dex, nodes: NodeCheckDep) -> SellCheck:
    """Buy ``amount`` of the quote's worth of ``token`` and sell it back, in one simulated
    ``eth_call`` on ``rpc_url`` (nothing is signed or sent): sellable or not, taxes, gas, the
    pool and what the token's code allows its owner."""
    return await service.check_sell(body, nodes)
