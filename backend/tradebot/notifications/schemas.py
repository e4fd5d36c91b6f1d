"""What the notification routes answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TelegramLinkCode(BaseModel):
    """A one-time code: the user sends ``command`` to the TradeBot bot in Telegram."""

    code: str
    command: str = Field(description="What to send to the bot: /start <code>.")
    expires_in_s: int
