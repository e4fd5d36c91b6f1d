"""The gate a DEX venue must pass before it buys a token: a fresh sell check, judged strictly.

Only ``sellable == yes`` passes: ``unknown`` (the buy itself failed, so nothing was learned)
is refused like ``no``. A sell or buy tax above the limit is refused, and so is a token whose
buy would hit a max-transaction or max-wallet limit.
"""

from __future__ import annotations

from decimal import Decimal

from tradebot.dex.assessment import DEFAULT_MAX_SELL_TAX_PCT, Flag, Sellable, SellCheck
from tradebot.dex.check import check_sell
from tradebot.dex.errors import TokenNotSellableError

REFUSED_FLAGS = frozenset({Flag.PAUSED, Flag.MAX_TX_LIMIT_HIT, Flag.MAX_WALLET_LIMIT_HIT})


def require_sellable(check: SellCheck, max_tax_pct: Decimal = DEFAULT_MAX_SELL_TAX_PCT) -> None:
    """``TokenNotSellableError`` unless ``check`` says the token can be sold within the limit."""
    name = f"token {check.token}"
    if check.sellable is not Sellable.YES:
        raise TokenNotSellableError(f"{name} refused: sellable {check.sellable}: {check.why}")
    for what, tax in (("buy", check.buy_tax_pct), ("sell", check.sell_tax_pct)):
        if tax is not None and tax > max_tax_pct:
            raise TokenNotSellableError(
                f"{name} refused: {what} tax {tax} % is over the {max_tax_pct} % limit"
            )
    refused = [flag.value for flag in check.flags if flag in REFUSED_FLAGS]
    if refused:
        raise TokenNotSellableError(f"{name} refused: {', '.join(refused)}")


async def guard_buy(
    rpc_url: str,
    router: str,
    token: str,
    amount_in_quote: Decimal,
    *,
    quote: str | None = None,
    max_tax_pct: Decimal = DEFAULT_MAX_SELL_TAX_PCT,
) -> SellCheck:
    """Check ``token`` for the buy about to be made (same router, quote and amount); return
    the check when it passes, raise ``TokenNotSellableError`` when it does not."""
    check = await check_sell(
        rpc_url, router, token, amount_in_quote, quote=quote, max_sell_tax_pct=max_tax_pct
    )
    require_sellable(check, max_tax_pct)
    return check
