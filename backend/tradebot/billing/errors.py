"""Refusals because of the plan: over a limit (403) or in need of a paid plan (402)."""

from __future__ import annotations

from tradebot.errors import TradeBotError


class PlanLimitError(TradeBotError):
    """The plan does not allow this (one more bot, exchange, export...)."""


class PaymentRequiredError(PlanLimitError):
    """Only an active paid plan allows this (live trading, anything after the trial ended)."""


class WebhookSignatureError(TradeBotError):
    """A webhook whose ``Stripe-Signature`` does not match its raw body (or is too old)."""


class BillingUnavailableError(TradeBotError):
    """Stripe could not be reached or refused our request; nothing was changed here."""
