"""What the notification routes answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class TelegramLinkCode(BaseModel):
    """A one-time code: the user sends ``command`` to the TradeBot bot in Telegram."""

    code: str
    command: str = Field(description="What to send to the bot: /start <code>.")
    expires_in_s: int


Hour = Annotated[int, Field(ge=0, le=23)]


class QuietHours(BaseModel):
    """UTC hours ``[from_hour, to_hour)`` (22 to 7 wraps midnight): alerts wait, guard trips
    never do."""

    from_hour: Hour
    to_hour: Hour


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_email: bool = True
    telegram_alerts: bool = False
    fill_alerts: bool = True
    """Telegram alerts for fills (batched per minute); guard trips and ended runs always."""
    alert_emails: bool = True
    """Emails when a guard trips or a run stops, from Starter (a smaller plan gets none, even
    when on); mails about the account (keys, trial, payment) are always sent."""
    quiet_hours: QuietHours | None = None


class PreferencesView(BaseModel):
    daily_email: bool
    telegram_alerts: bool
    fill_alerts: bool
    alert_emails: bool
    quiet_hours: QuietHours | None
    channels_in_plan: list[str] = Field(description="Channels the client's plan includes.")
