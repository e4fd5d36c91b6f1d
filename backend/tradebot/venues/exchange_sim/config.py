"""What a simulated exchange is made of: one market over replayed candles, accounts, limits.

Accounts are tenants: each API key is its own account with its own balances, permissions and
matching engine. Everything here is plain data; ``load_accounts`` reads the keys file that
``tradebot exchange-sim --keys`` takes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradebot.candles.model import Candles
from tradebot.errors import BadInputError

DEFAULT_PERMISSIONS: dict[str, bool] = {
    "ipRestrict": False,
    "enableReading": True,
    "enableSpotAndMarginTrading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": False,
    "enablePortfolioMarginTrading": False,
}


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """The one listed pair and its exchangeInfo filters (a zero limit disables that check)."""

    symbol: str = "BTC/USDT"
    tick_size: Decimal = Decimal("0.01")
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    step_size: Decimal = Decimal("0.00001")
    min_qty: Decimal = Decimal("0.00001")
    max_qty: Decimal = Decimal("9000")
    min_notional: Decimal = Decimal("5")
    maker_fee: float = 0.001
    taker_fee: float = 0.001
    bnb_price: float = 600.0
    """BNB's price in quote, for accounts that pay fees with BNB (the simulator lists one pair,
    so BNB is not traded here: its price is fixed)."""

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]

    @property
    def market_id(self) -> str:
        """Binance's symbol id: ``BTCUSDT``."""
        return self.base + self.quote


@dataclass(slots=True)
class AccountConfig:
    """One API key: its secret (never shown in a repr), balances and permissions."""

    api_key: str
    secret: str = field(repr=False)
    balances: dict[str, float] = field(default_factory=dict)
    permissions: dict[str, bool] = field(default_factory=dict)
    maker_fee: float | None = None
    taker_fee: float | None = None
    pay_fees_in_bnb: bool = False
    """Binance's ``spotBNBBurn``: commissions are paid in BNB (at a discount) while the account
    holds enough BNB, else in the asset the trade delivers, as on Binance."""


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """Per-IP request weight per window (429, then a 418 ban), per-IP new WebSocket
    connections per window (429 at the handshake), and per-account order rate."""

    weight_limit: int = 6000
    window_s: float = 60.0
    ban_after_429s: int = 5
    ban_s: float = 120.0
    orders_per_10s: int = 100
    connections_per_window: int = 300
    connection_window_s: float = 300.0

    def __post_init__(self) -> None:
        for name in _LIMITS:
            value = getattr(self, name)
            if not value > 0:
                raise BadInputError(f"the simulator's {name} must be > 0 (got {value})")


_LIMITS = (
    "weight_limit",
    "window_s",
    "ban_s",
    "orders_per_10s",
    "connections_per_window",
    "connection_window_s",
)


@dataclass(slots=True)
class SimConfig:
    """A whole simulated exchange. ``start_index`` candles are history when the replay starts;
    ``speed`` > 0 replays in real time that many times faster, 0 waits for ``/_sim/advance``."""

    candles: Candles
    accounts: list[AccountConfig]
    market: MarketConfig = field(default_factory=MarketConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    start_index: int = 0
    speed: float = 0.0
    fill_share: float = 0.0
    """Partial fills: the share of a walked segment's volume (a third of its candle's) that one
    account's resting orders crossed by it may take; an order bigger than that fills in parts
    (PARTIALLY_FILLED) over several segments. 0: a crossed order fills whole at once, exactly
    as the paper venue and the backtest fill it."""

    def __post_init__(self) -> None:
        if len(self.candles) == 0:
            raise BadInputError("the exchange simulator needs at least one candle")
        if not 0 <= self.start_index <= len(self.candles):
            raise BadInputError(
                f"start index {self.start_index} outside the {len(self.candles)} candles"
            )
        if self.speed < 0:
            raise BadInputError(f"speed must be >= 0 (got {self.speed})")
        if not 0 <= self.fill_share <= 1:
            raise BadInputError(f"fill share must be within [0, 1] (got {self.fill_share})")
        if "/" not in self.market.symbol:
            raise BadInputError(f"symbol must look like BASE/QUOTE (got {self.market.symbol!r})")
        keys = [a.api_key for a in self.accounts]
        if len(set(keys)) != len(keys):
            raise BadInputError("each account needs its own API key")


def account_from_json(entry: Any) -> AccountConfig:
    """An account from ``{"api_key", "secret", "balances", "permissions", "maker_fee",
    "taker_fee", "spotBNBBurn"}``."""
    if not isinstance(entry, dict):
        raise BadInputError("each account must be a JSON object")
    try:
        key, secret = str(entry["api_key"]), str(entry["secret"])
    except KeyError as exc:
        raise BadInputError(f"account without {exc.args[0]!r}") from None
    if not key or not secret:
        raise BadInputError("api_key and secret must not be empty")
    balances = entry.get("balances", {})
    permissions = entry.get("permissions", {})
    if not isinstance(balances, dict) or not isinstance(permissions, dict):
        raise BadInputError(f"{key}: balances and permissions must be JSON objects")
    unknown = set(permissions) - set(DEFAULT_PERMISSIONS)
    if unknown:
        raise BadInputError(f"{key}: unknown permissions {sorted(unknown)}")
    try:
        amounts = {str(asset): float(amount) for asset, amount in balances.items()}
    except (TypeError, ValueError):
        raise BadInputError(f"{key}: balances must be numbers") from None
    if any(amount < 0 for amount in amounts.values()):
        raise BadInputError(f"{key}: balances must be >= 0")
    fees = {name: entry.get(name) for name in ("maker_fee", "taker_fee")}
    if any(v is not None and not isinstance(v, int | float) for v in fees.values()):
        raise BadInputError(f"{key}: fees must be numbers")
    bnb_burn = entry.get("spotBNBBurn", False)
    if not isinstance(bnb_burn, bool):
        raise BadInputError(f"{key}: spotBNBBurn must be true or false")
    return AccountConfig(
        key,
        secret,
        amounts,
        {str(k): bool(v) for k, v in permissions.items()},
        maker_fee=fees["maker_fee"],
        taker_fee=fees["taker_fee"],
        pay_fees_in_bnb=bnb_burn,
    )


def load_accounts(path: Path) -> list[AccountConfig]:
    """Read a keys file: a list of accounts, or ``{"accounts": [...]}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such keys file") from None
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{path}: not a JSON keys file ({exc})") from None
    if isinstance(data, dict):
        data = data.get("accounts")
    if not isinstance(data, list) or not data:
        raise BadInputError(f"{path}: expected a non-empty list of accounts")
    try:
        return [account_from_json(entry) for entry in data]
    except BadInputError as exc:
        raise BadInputError(f"{path}: {exc}") from None
