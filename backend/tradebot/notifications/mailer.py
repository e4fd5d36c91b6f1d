"""Email through a mail server (``SMTP_*``), with aiosmtplib: one connection per message."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from tradebot.config import Settings
from tradebot.errors import ConfigError

SEND_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)
"""What a failed attempt raises: refused, unreachable, dropped or silent (``SMTP_TIMEOUT_S``)."""


class Mailer:
    def __init__(self, settings: Settings) -> None:
        if not settings.SMTP_HOST:
            raise ConfigError("SMTP_HOST is not set: email is off")
        self.settings = settings

    @property
    def sender(self) -> str:
        return self.settings.SMTP_FROM

    async def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; one of ``SEND_ERRORS`` when it does not take it."""
        settings = self.settings
        password = settings.SMTP_PASSWORD
        await aiosmtplib.send(
            message,
            hostname=settings.SMTP_HOST,
            port=settings.SMTP_PORT,
            username=settings.SMTP_USERNAME,
            password=password.get_secret_value() if password is not None else None,
            use_tls=settings.SMTP_SECURITY == "tls",
            start_tls=settings.SMTP_SECURITY == "starttls",
            timeout=settings.SMTP_TIMEOUT_S,
        )
