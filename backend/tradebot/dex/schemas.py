"""Request and response bodies of ``POST /dex/check-sell``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tradebot.dex.assessment import DEFAULT_MAX_SELL_TAX_PCT

Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x" + "ab" * 20])]
Pct = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]


class SellCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rpc_url: Annotated[
        str,
        Field(
            pattern=r"^https?://[!-~]+$",
            max_length=2048,
            description="JSON-RPC URL of a public node of the chain (supports eth_call overrides)",
        ),
    ]
    router: Address
    token: Address
    quote: Address | None = Field(default=None, description="default: the router's WETH")
    amount: Annotated[
        Decimal,
        Field(gt=0, le=10**12, allow_inf_nan=False, description="quote to buy with, in units"),
    ]
    max_sell_tax_pct: Pct = DEFAULT_MAX_SELL_TAX_PCT


class DexAccess(BaseModel):
    """Whether the client's plan lets it run DEX sell checks now, and its rate limit."""

    available: bool
    plan: str
    reason: str | None
    """Why not (the 402's detail a check would get), when not available."""
    included_in: str
    """The plans that include the checks ("Pro and above")."""
    checks_per_window: int
    window_s: int
