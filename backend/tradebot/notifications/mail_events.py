"""What the transactional mails are about, found in the rows each event already writes.

The outbox of these mails is the event's own row, written where it happens, in the transaction
that made it happen: a tripped guard (``bot_guard_state``: a run's guard, the client's kill
switch, or a key refused for withdrawals), a run that ended stopped or failed (``bot_runs``),
a failed payment (the ``stripe_events`` row of ``invoice.payment_failed``), and a trial close
to its end (``clients``). Nothing is added to the trading path or to the webhook: the worker's
minute cron reads the events of the last ``LOOKBACK`` here, on the operator connection (every
client at once), and leaves out those already recorded as a send.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from tradebot.clients.plans import TRIAL_LENGTH, PlanName
from tradebot.engine.risk import Guard
from tradebot.models.billing import StripeEvent
from tradebot.models.clients import Client
from tradebot.models.notifications import NotificationSend
from tradebot.models.runs import BotGuardState, BotRun, RunStatus

LOOKBACK: Final = timedelta(days=1)
"""Events older than this get no mail: a worker down longer than a day does not send a flood
of stale news when it comes back."""
TRIAL_NOTICE: Final = timedelta(days=3)
"""The trial-ending mail goes out this long before the trial ends."""
PAYMENT_FAILED_EVENT: Final = "invoice.payment_failed"
STOPPED: Final = (RunStatus.STOPPED.value, RunStatus.FAILED.value)
"""Run endings that get a "run stopped" mail. A tripped run's news is its guard's mail; a
replay that finished did what was asked."""


class Mail(StrEnum):
    KEYS_REFUSED = "keys_refused"
    GUARD_TRIPPED = "guard_tripped"
    RUN_STOPPED = "run_stopped"
    TRIAL_ENDING = "trial_ending"
    PAYMENT_FAILED = "payment_failed"


ACCOUNT_MAILS: Final = frozenset({Mail.KEYS_REFUSED, Mail.TRIAL_ENDING, Mail.PAYMENT_FAILED})
"""About the account itself: sent whatever the plan and the preferences (a trial client must
hear that its trial ends, anyone that a key can withdraw)."""
URGENT: Final = frozenset({Mail.KEYS_REFUSED, Mail.GUARD_TRIPPED, Mail.PAYMENT_FAILED})
"""Never held for quiet hours."""


@dataclass(frozen=True)
class MailEvent:
    client_id: str
    kind: Mail
    key: str
    """What the mail is about, by the id of its row (``guard-12``, ``run-paper-…``, the
    Stripe event id, ``trial-2026-12-06``): one mail per event, read again when sent."""


def guard_key(guard_id: int) -> str:
    return f"guard-{guard_id}"


def run_key(run_id: str) -> str:
    return f"run-{run_id}"


def trial_key(ends: datetime) -> str:
    return f"trial-{ends.date().isoformat()}"


async def _guards(session: AsyncSession, since: datetime) -> list[MailEvent]:
    query = select(BotGuardState).where(col(BotGuardState.tripped_at) >= since)
    return [
        MailEvent(
            row.client_id,
            Mail.KEYS_REFUSED if row.guard == Guard.KEY_PERMISSIONS.value else Mail.GUARD_TRIPPED,
            guard_key(row.id or 0),
        )
        for row in (await session.execute(query.order_by(col(BotGuardState.id)))).scalars()
    ]


async def _runs(session: AsyncSession, since: datetime) -> list[MailEvent]:
    query = select(col(BotRun.client_id), col(BotRun.id)).where(
        col(BotRun.status).in_(STOPPED), col(BotRun.updated_at) >= since
    )
    rows = await session.execute(query.order_by(col(BotRun.updated_at)))
    return [MailEvent(client, Mail.RUN_STOPPED, run_key(run)) for client, run in rows]


async def _payments(session: AsyncSession, since: datetime) -> list[MailEvent]:
    query = select(col(StripeEvent.client_id), col(StripeEvent.id)).where(
        col(StripeEvent.type) == PAYMENT_FAILED_EVENT,
        col(StripeEvent.outcome) == "applied",
        col(StripeEvent.client_id).is_not(None),
        col(StripeEvent.received_at) >= since,
    )
    rows = await session.execute(query.order_by(col(StripeEvent.received_at)))
    return [MailEvent(client, Mail.PAYMENT_FAILED, event[:64]) for client, event in rows if client]


async def _trials(session: AsyncSession, now: datetime) -> list[MailEvent]:
    # Created so that the trial ends within the notice, and has not ended yet.
    query = select(col(Client.id), col(Client.created_at)).where(
        col(Client.plan) == PlanName.TRIAL.value,
        col(Client.status) == "active",
        col(Client.created_at) > now - TRIAL_LENGTH,
        col(Client.created_at) <= now - TRIAL_LENGTH + TRIAL_NOTICE,
    )
    rows = await session.execute(query)
    return [MailEvent(client, Mail.TRIAL_ENDING, trial_key(created + TRIAL_LENGTH))
            for client, created in rows]  # fmt: skip


async def _recorded(session: AsyncSession, since: datetime) -> set[tuple[str, str, str]]:
    # A trial's event lasts its whole notice: its send may be that much older than ``since``.
    query = select(
        col(NotificationSend.client_id), col(NotificationSend.kind), col(NotificationSend.key)
    ).where(
        col(NotificationSend.kind).in_([mail.value for mail in Mail]),
        col(NotificationSend.created_at) >= since - TRIAL_NOTICE,
    )
    return {(client, kind, key) for client, kind, key in await session.execute(query)}


async def mail_events(session: AsyncSession, now: datetime) -> list[MailEvent]:
    """Events of every client since ``now - LOOKBACK`` that have no send recorded yet, in the
    order they happened within each kind (operator connection: no tenant set)."""
    since = now - LOOKBACK
    found = [
        *await _guards(session, since),
        *await _runs(session, since),
        *await _payments(session, since),
        *await _trials(session, now),
    ]
    recorded = await _recorded(session, since)
    return [e for e in found if (e.client_id, e.kind.value, e.key) not in recorded]
