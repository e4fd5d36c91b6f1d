"""A client's notification preferences: which channels, fill alerts, quiet hours.

Channels are gated by plan: the daily email from Starter, Telegram from Pro (the plan's
``alerts``). A choice the plan does not include is refused when set, and ignored when the plan
later shrinks (the senders check the plan too). Quiet hours delay alerts, never guard trips.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.billing.errors import PlanLimitError
from tradebot.clients.repository import AuditRepository, ClientRepository
from tradebot.kit.clock import utcnow
from tradebot.kit.repository import ScopedRepository
from tradebot.kit.scope import ClientScope
from tradebot.kit.service import ClientService
from tradebot.models.notifications import NotificationPreferences
from tradebot.notifications.channels import email_included, telegram_included
from tradebot.notifications.schemas import PreferencesUpdate, PreferencesView, QuietHours


class PreferenceRepository(ScopedRepository[NotificationPreferences]):
    model = NotificationPreferences
    noun = "notification preferences"

    async def current(self) -> NotificationPreferences:
        """The client's row, or the defaults (not stored)."""
        found = await self.find(self.scope.client_id)
        return found or NotificationPreferences(client_id=self.scope.client_id)


def quiet_now(preferences: NotificationPreferences, moment: datetime) -> bool:
    start, end = preferences.quiet_from_hour, preferences.quiet_to_hour
    if start is None or end is None or start == end:
        return False
    hour = moment.hour
    return start <= hour < end if start < end else hour >= start or hour < end


def quiet_end(preferences: NotificationPreferences, moment: datetime) -> datetime:
    """When the quiet hours that hold at ``moment`` end (``moment`` if none hold)."""
    if not quiet_now(preferences, moment):
        return moment
    end = moment.replace(hour=preferences.quiet_to_hour or 0, minute=0, second=0, microsecond=0)
    return end if end > moment else end + timedelta(days=1)


async def preferences_of(session: AsyncSession, scope: ClientScope) -> NotificationPreferences:
    return await PreferenceRepository(session, scope).current()


def _view(row: NotificationPreferences, plan: str) -> PreferencesView:
    channels = [name for name, on in (("email", email_included(plan)),
                                      ("telegram", telegram_included(plan))) if on]  # fmt: skip
    quiet = (
        QuietHours(from_hour=row.quiet_from_hour, to_hour=row.quiet_to_hour)
        if row.quiet_from_hour is not None and row.quiet_to_hour is not None
        else None
    )
    return PreferencesView(
        daily_email=row.daily_email and email_included(plan),
        telegram_alerts=row.telegram_alerts and telegram_included(plan),
        fill_alerts=row.fill_alerts,
        alert_emails=row.alert_emails and email_included(plan),
        quiet_hours=quiet,
        channels_in_plan=channels,
    )


class PreferenceService(ClientService):
    async def get(self) -> PreferencesView:
        async with self.tx() as session:
            plan = (await ClientRepository(session, self.scope).own()).plan
            return _view(await preferences_of(session, self.scope), plan)

    async def update(self, body: PreferencesUpdate) -> PreferencesView:
        async with self.tx() as session:
            plan = (await ClientRepository(session, self.scope).own()).plan
            if body.daily_email and not email_included(plan):
                raise PlanLimitError("the daily email is part of the Starter plan and above")
            if body.telegram_alerts and not telegram_included(plan):
                raise PlanLimitError("Telegram alerts are part of the Pro plan and above")
            repository = PreferenceRepository(session, self.scope)
            row = await repository.find(self.scope.client_id)
            if row is None:
                row = await repository.add(NotificationPreferences(client_id=self.scope.client_id))
            row.daily_email, row.telegram_alerts = body.daily_email, body.telegram_alerts
            row.fill_alerts, row.alert_emails = body.fill_alerts, body.alert_emails
            row.quiet_from_hour = body.quiet_hours.from_hour if body.quiet_hours else None
            row.quiet_to_hour = body.quiet_hours.to_hour if body.quiet_hours else None
            row.updated_at = utcnow()
            await AuditRepository(session, self.scope).record(
                self.actor, "notification_preferences_updated", target="notifications",
                details=body.model_dump(mode="json"),
            )  # fmt: skip
            return _view(row, plan)
