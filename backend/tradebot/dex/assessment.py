"""From what the simulation saw to a verdict: sellable, taxes, gas, pool, flags. Pure.

Taxes are measured in the token, where a pool's curve cannot blur them:

- buy tax: the pair sends exactly the router's ``getAmountsOut`` quote; the part that does not
  reach us is the buy tax;
- transfer tax: the part of a wallet-to-wallet transfer that does not reach the recipient;
- sell tax: the router's quote for a sale assumes every token sent reaches the pair; the part
  that does not is the sell tax (the pair's balance is read before and after the sale). A
  token that sells its collected fees into the same pair during our sale ("swap back") adds
  its own tokens to the pair's balance and hides its tax that way, so the quote-side measure
  (the quote received against the router's quote) is taken too, and the higher of the two is
  the sell tax. For a plain taxing token the quote side reads a hair lower (the curve), so the
  token side stands.

The round trip (the quote back against the quote the sold tokens cost) adds the pool's fees
(0.3 % each way on Uniswap V2) and price impact to the taxes.

Gas is what each swap call used inside the simulation, without the transaction's 21,000 base
and calldata. The sale runs after the buy in the same call, with the pool's storage already
warm (EIP-2929), so a real sale costs up to a few tens of thousands more than reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError

from tradebot.dex.probes import TokenFacts
from tradebot.dex.simulator import Report, Step

DEFAULT_MAX_SELL_TAX_PCT: Final = Decimal(10)
NOTHING_BACK_PCT: Final = Decimal(90)
"""A sell tax from here on leaves so little that the token counts as not sellable."""
ERROR_STRING: Final = bytes.fromhex("08c379a0")
PANIC: Final = bytes.fromhex("4e487b71")


class Sellable(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Flag(StrEnum):
    OWNER_CAN_PAUSE = "owner_can_pause"
    OWNER_CAN_BLACKLIST = "owner_can_blacklist"
    PAUSED = "paused"
    MAX_TX_LIMIT_HIT = "max_tx_limit_hit"
    MAX_WALLET_LIMIT_HIT = "max_wallet_limit_hit"
    TRANSFER_BLOCKED = "transfer_blocked"
    HIGH_SELL_TAX = "high_sell_tax"


@dataclass(frozen=True)
class SellCheck:
    sellable: Sellable
    why: str
    router: str
    token: str
    quote: str
    pair: str
    amount_in: Decimal
    """Quote spent on the buy, in quote units (0.1 = 0.1 WETH)."""
    buy_tax_pct: Decimal | None
    sell_tax_pct: Decimal | None
    transfer_tax_pct: Decimal | None
    round_trip_loss_pct: Decimal | None
    buy_gas: int | None
    sell_gas: int | None
    buy_revert: str | None
    transfer_revert: str | None
    sell_revert: str | None
    reserve_quote: Decimal
    reserve_token: Decimal
    """In token units when the token tells its decimals, else in its base units."""
    liquidity_quote: Decimal
    """Both sides of the pool valued in the quote: twice the quote reserve."""
    flags: tuple[Flag, ...]
    max_sell_tax_pct: Decimal
    elapsed_ms: float


def revert_reason(data: bytes) -> str:
    """A revert's data in words: its ``Error(string)``, its panic code, or its selector."""
    if not data:
        return "reverted without a reason"
    if data[:4] == ERROR_STRING:
        try:
            (message,) = decode(["string"], data[4:])
        except (DecodingError, UnicodeDecodeError):
            return "reverted with a malformed reason"
        return str(message) or "reverted with an empty reason"
    if data[:4] == PANIC and len(data) >= 36:
        return f"panic 0x{int.from_bytes(data[4:36], 'big'):02x}"
    return f"reverted with custom error 0x{data[:4].hex()}"


def _pct(lost: int, of: int) -> Decimal | None:
    if of <= 0:
        return None
    return (Decimal(100) * lost / of).quantize(Decimal("0.0001"))


def _taxes(report: Report) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    buy, transfer, sell = report.buy, report.transfer, report.sell
    buy_tax = _pct(buy.quoted - buy.arrived, buy.quoted) if buy.ok else None
    transfer_tax = _pct(transfer.sent - transfer.arrived, transfer.sent) if transfer.ok else None
    sell_tax = None
    if sell.ok:
        token_side = _pct(sell.sent - sell.arrived, sell.sent)
        quote_side = _pct(sell.quoted - sell.received, sell.quoted)
        sell_tax = max(tax for tax in (token_side, quote_side) if tax is not None)
    return buy_tax, transfer_tax, sell_tax


def _flags(
    report: Report, facts: TokenFacts, sell_tax: Decimal | None, max_sell_tax: Decimal
) -> tuple[Flag, ...]:
    flags: list[Flag] = []
    if facts.pause_function and facts.owned:
        flags.append(Flag.OWNER_CAN_PAUSE)
    if facts.blacklist_function and facts.owned:
        flags.append(Flag.OWNER_CAN_BLACKLIST)
    if facts.paused:
        flags.append(Flag.PAUSED)
    bought = report.buy.quoted
    if facts.max_tx is not None and bought > facts.max_tx:
        flags.append(Flag.MAX_TX_LIMIT_HIT)
    if facts.max_wallet is not None and bought > facts.max_wallet:
        flags.append(Flag.MAX_WALLET_LIMIT_HIT)
    if report.transfer.tried and not report.transfer.ok:
        flags.append(Flag.TRANSFER_BLOCKED)
    if sell_tax is not None and sell_tax > max_sell_tax:
        flags.append(Flag.HIGH_SELL_TAX)
    return tuple(flags)


def _verdict(
    report: Report, sell_tax: Decimal | None, flags: tuple[Flag, ...]
) -> tuple[Sellable, str]:
    buy, sell = report.buy, report.sell
    if not buy.ok:
        hints = {
            Flag.PAUSED: "the token is paused",
            Flag.MAX_TX_LIMIT_HIT: "the buy is over the token's max-transaction limit",
            Flag.MAX_WALLET_LIMIT_HIT: "the buy is over the token's max-wallet limit",
        }
        why = [f"the buy reverted ({revert_reason(buy.revert_data)})"]
        why += [hint for flag, hint in hints.items() if flag in flags]
        return Sellable.UNKNOWN, "; ".join(why) + ": the sale could not be tried"
    if not sell.ok:
        return Sellable.NO, f"the sell reverted ({revert_reason(sell.revert_data)})"
    if sell.received == 0:
        return Sellable.NO, "the sell returned nothing"
    if sell_tax is not None and sell_tax >= NOTHING_BACK_PCT:
        return Sellable.NO, f"the sell tax of {sell_tax} % takes almost everything"
    return Sellable.YES, "bought and sold back in simulation"


def _reason_if_failed(step: Step) -> str | None:
    return revert_reason(step.revert_data) if step.tried and not step.ok else None


def assess(
    report: Report,
    facts: TokenFacts,
    *,
    amount_in: Decimal,
    quote_decimals: int,
    max_sell_tax_pct: Decimal,
    router: str,
    token: str,
    elapsed_ms: float,
) -> SellCheck:
    buy_tax, transfer_tax, sell_tax = _taxes(report)
    flags = _flags(report, facts, sell_tax, max_sell_tax_pct)
    sellable, why = _verdict(report, sell_tax, flags)
    quote_unit = Decimal(10) ** quote_decimals
    token_unit = Decimal(10) ** (facts.decimals or 0)
    loss = None
    buy, sell = report.buy, report.sell
    if sell.ok and buy.received > 0:
        # Only part of the buy was sold (the transfer test took the rest): the quote that part
        # cost is buy.sent * sell.sent / buy.received.
        spent = buy.sent * sell.sent
        loss = _pct(spent - sell.received * buy.received, spent)
    return SellCheck(
        sellable=sellable,
        why=why,
        router=router,
        token=token,
        quote=report.quote,
        pair=report.pair,
        amount_in=amount_in,
        buy_tax_pct=buy_tax,
        sell_tax_pct=sell_tax,
        transfer_tax_pct=transfer_tax,
        round_trip_loss_pct=loss,
        buy_gas=report.buy.gas_used if report.buy.tried else None,
        sell_gas=report.sell.gas_used if report.sell.ok else None,
        buy_revert=_reason_if_failed(report.buy),
        transfer_revert=_reason_if_failed(report.transfer),
        sell_revert=_reason_if_failed(report.sell),
        reserve_quote=report.reserve_quote / quote_unit,
        reserve_token=report.reserve_token / token_unit,
        liquidity_quote=2 * report.reserve_quote / quote_unit,
        flags=flags,
        max_sell_tax_pct=max_sell_tax_pct,
        elapsed_ms=elapsed_ms,
    )


def as_json(check: SellCheck) -> dict[str, Any]:
    """``check`` as JSON values: amounts and percentages as decimal strings (exact)."""
    fields = {name: getattr(check, name) for name in SellCheck.__dataclass_fields__}
    fields["flags"] = [flag.value for flag in check.flags]
    fields["elapsed_ms"] = round(check.elapsed_ms, 1)
    return {
        name: str(value) if isinstance(value, Decimal | StrEnum) else value
        for name, value in fields.items()
    }
