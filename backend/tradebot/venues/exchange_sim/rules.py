"""The pair's exchangeInfo entry and the filters every new order must pass, as Binance applies
them: PRICE_FILTER (tick and range), LOT_SIZE (step and range), NOTIONAL (minimum value)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradebot.venues.exchange_sim.config import MarketConfig
from tradebot.venues.exchange_sim.errors import filter_failure

ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET"]


def _s(value: Decimal) -> str:
    return f"{value:.8f}"


def symbol_info(market: MarketConfig) -> dict[str, Any]:
    """The symbol's entry in GET /api/v3/exchangeInfo."""
    return {
        "symbol": market.market_id,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ORDER_TYPES,
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": _s(market.min_price),
                "maxPrice": _s(market.max_price),
                "tickSize": _s(market.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": _s(market.min_qty),
                "maxQty": _s(market.max_qty),
                "stepSize": _s(market.step_size),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": _s(market.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def _on_step(value: Decimal, origin: Decimal, step: Decimal) -> bool:
    return step == 0 or (value - origin) % step == 0


def check_order(market: MarketConfig, price: Decimal | None, qty: Decimal, last: float) -> None:
    """Raise Binance's filter failure for the first filter the order breaks. ``price`` is None
    for a market order, whose notional is valued at the last price."""
    if price is not None and (
        price < market.min_price
        or (market.max_price and price > market.max_price)
        or not _on_step(price, market.min_price, market.tick_size)
    ):
        raise filter_failure("PRICE_FILTER")
    if (
        qty < market.min_qty
        or (market.max_qty and qty > market.max_qty)
        or not _on_step(qty, market.min_qty, market.step_size)
    ):
        raise filter_failure("LOT_SIZE")
    value = (price if price is not None else Decimal(repr(last))) * qty
    if value < market.min_notional:
        raise filter_failure("NOTIONAL")
