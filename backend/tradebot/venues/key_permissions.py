"""``KeyPermissionCheck`` through ccxt: ask the exchange what an API key may do.

Binance answers ``GET /sapi/v1/account/apiRestrictions`` (ccxt's implicit
``sapi_get_account_apirestrictions``). The check fails closed: an exchange without a check
here, an error, a timeout, a key that cannot be sent (a line break in it) or an answer without
the permission fields is a refusal, never an assumed "trading only". Error text from the
exchange is shown with the key and secret masked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ccxt.base.errors import BaseError, NetworkError

from tradebot.kit.secrets import MASK, Secret
from tradebot.venues.ccxt_errors import retry_after_seconds
from tradebot.venues.ccxt_factory import make_exchange
from tradebot.venues.permissions import KeyPermissionError, KeyPermissions
from tradebot.venues.retry import Backoff, call_with_retries

_BINANCE_SOURCE = "binance GET /sapi/v1/account/apiRestrictions"
ASK_AGAIN = Backoff(attempts=3, base_s=0.2, cap_s=2.0)
"""A check the exchange did not answer is asked again twice, each after its Retry-After."""


async def _binance(exchange: Any) -> KeyPermissions:
    answer = await exchange.sapi_get_account_apirestrictions()
    flags = {}
    for name in ("enableWithdrawals", "enableSpotAndMarginTrading"):
        value = answer.get(name) if isinstance(answer, dict) else None
        if not isinstance(value, bool):
            raise KeyPermissionError(f"binance's key check answered without {name}: refused")
        flags[name] = value
    return KeyPermissions(
        can_trade=flags["enableSpotAndMarginTrading"],
        can_withdraw=flags["enableWithdrawals"],
        source=_BINANCE_SOURCE,
    )


CHECKS: dict[str, Callable[[Any], Awaitable[KeyPermissions]]] = {"binance": _binance}
"""Exchanges whose withdraw permission we can ask; any other exchange is refused for live."""


class CcxtKeyPermissionCheck:
    """Asks through a ccxt client (pointed at ``sandbox_url`` when given, e.g. the simulator)."""

    def __init__(
        self,
        sandbox_url: str | None = None,
        timeout_ms: int = 10_000,
        retries: Backoff = ASK_AGAIN,
    ) -> None:
        self.sandbox_url = sandbox_url
        self.timeout_ms = timeout_ms
        self.retries = retries

    async def check(
        self, exchange: str, api_key: Secret, secret: Secret, passphrase: Secret | None
    ) -> KeyPermissions:
        ask = CHECKS.get(exchange)
        if ask is None:
            raise KeyPermissionError(
                f"no withdraw-permission check for {exchange} yet, so its keys cannot be "
                "verified (refused for live; --skip-exchange-check stores them for paper only)"
            )
        client = make_exchange(
            exchange,
            api_key=api_key.reveal(),
            secret=secret.reveal(),
            sandbox_url=self.sandbox_url,
            timeout_ms=self.timeout_ms,
            rate_limit=False,
        )
        if passphrase is not None:
            client.password = passphrase.reveal()

        def refusal(exc: Exception) -> KeyPermissionError:
            # ValueError: aiohttp refuses a header with CR or LF (a key pasted with a line
            # break), before anything is sent; the same key would be refused again.
            detail = _masked(f"{type(exc).__name__}: {exc}", api_key, secret, passphrase)
            return KeyPermissionError(
                f"{exchange} did not confirm the key's permissions ({detail[:200]}): refused",
                retryable=isinstance(exc, NetworkError),
                retry_after=retry_after_seconds(client),
            )

        try:
            # An answer that did not come (a 429, a 5xx, a timeout) is asked again here, after
            # the Retry-After the exchange gave: refused at once, a run's whole start waited
            # its backoff (seconds) for a one-second penalty.
            return await call_with_retries(
                lambda: ask(client), refusal, self.retries, catch=(BaseError, ValueError)
            )
        except KeyPermissionError as refused:
            raise refused from None  # the exchange's own error may show the key unmasked
        finally:
            await client.close()


def _masked(text: str, *secrets: Secret | None) -> str:
    for secret in secrets:
        if secret is not None and secret.reveal():
            text = text.replace(secret.reveal(), MASK)
    return " ".join(text.split())
