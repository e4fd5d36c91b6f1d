"""The port through which a key's permissions are asked of its exchange, and the rule applied.

A key that can withdraw is refused: a leaked trading key must not be able to move funds out.
The check fails closed: no answer, an error, or an exchange without a check is a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tradebot.errors import TradeBotError
from tradebot.kit.secrets import Secret


class KeyPermissionError(TradeBotError):
    """The key was refused: it can withdraw, cannot trade, or its permissions are unknown.

    ``retryable`` when the exchange did not answer (network, 429, 5xx): the refusal stands
    until it does, and asking again later may confirm the key (after ``retry_after`` seconds,
    when the exchange said)."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class KeyPermissions:
    """What the exchange says one API key may do."""

    can_trade: bool
    can_withdraw: bool
    source: str
    """Where the answer came from (the endpoint asked)."""
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def snapshot(self) -> dict[str, Any]:
        return {
            "checked": True,
            "can_trade": self.can_trade,
            "can_withdraw": self.can_withdraw,
            "source": self.source,
            "checked_at": self.checked_at.isoformat(),
        }


UNCHECKED: dict[str, Any] = {"checked": False, "reason": "stored with --skip-exchange-check"}


class KeyPermissionCheck(Protocol):
    """Asks the exchange what a key may do; raises ``KeyPermissionError`` when it cannot tell."""

    async def check(
        self, exchange: str, api_key: Secret, secret: Secret, passphrase: Secret | None
    ) -> KeyPermissions: ...


def require_trading_only(exchange: str, permissions: KeyPermissions) -> None:
    """Refuse a key that can withdraw or cannot trade."""
    if permissions.can_withdraw:
        raise KeyPermissionError(
            f"the {exchange} key has withdrawals enabled: create a key with withdrawals "
            "disabled (trading only)"
        )
    if not permissions.can_trade:
        raise KeyPermissionError(f"the {exchange} key cannot trade (spot trading permission off)")
