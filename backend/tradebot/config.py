"""The one settings class: every environment variable of the product, typed, with its default.

Names are the seed's, unprefixed (``PAPER_MODE``, ``BANKROLL_USD``...). ``load_settings`` turns a
bad value into one ``ConfigError`` line that names the variable.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tradebot.engine.types import GridConfig, Spacing
from tradebot.errors import ConfigError

Pct = Annotated[float, Field(ge=0, le=100)]
Ms = Annotated[int, Field(ge=0)]
Port = Annotated[int, Field(ge=1, le=65535)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        case_sensitive=True, extra="ignore", env_file=None, populate_by_name=True
    )

    # Mode and sizing
    PAPER_MODE: bool = True
    BANKROLL_USD: Annotated[float, Field(gt=0)] = 1000.0
    MAX_PER_TRADE_PCT: Annotated[float, Field(gt=0, le=100)] = 5.0
    PER_TRADE_USD: Annotated[float | None, Field(gt=0)] = None
    DEFAULT_EXCHANGE: str = "binance"
    MAKER_FEE: Annotated[float, Field(ge=0, lt=0.1)] = 0.001
    TAKER_FEE: Annotated[float, Field(ge=0, lt=0.1)] = 0.001

    # The grid
    GRID_PAIR: str = "BTC/USDT"
    GRID_LOWER: Annotated[float, Field(gt=0)] = 90_000.0
    GRID_UPPER: Annotated[float, Field(gt=0)] = 105_000.0
    GRID_STEPS: Annotated[int, Field(ge=2, le=10_000)] = 20
    GRID_SPACING: Spacing = Spacing.GEOMETRIC
    GRID_INVESTMENT: Annotated[float | None, Field(gt=0)] = None
    TP: Pct = 0.0
    REGIME_AUTO_ADJUST: bool = False
    """Re-centre the grid on the regime analysis' range when the market ranges outside it."""

    # Plan summary
    SUMMARY_JSON_PATH: Path = Field(
        default=Path("planned_summary.json"),
        validation_alias=AliasChoices("PLAN_JSON_PATH", "SUMMARY_JSON_PATH"),
    )
    SUMMARY_JSON_EXPORT: bool = False
    SUMMARY_ONLY: bool = False

    # Runs and tenancy
    PAPER_MODE_BASE_TS: Annotated[int | None, Field(ge=0)] = None
    RUN_ID: str | None = None
    RUN_OWNER: str = "local"
    CLIENT_ID: str = "default"
    CLIENT_MASTER_KEY: SecretStr | None = None

    # Order management
    ORDER_CONCURRENCY: Annotated[int, Field(ge=1, le=64)] = 4
    ORDER_RATE_INTERVAL_MS: Ms = 0
    """A run's own gap between two submissions. None by default: the shared limiter holds every
    account to the exchange's order windows across processes, and a gap here only delayed a
    run's later orders (the fifth of a book 400 ms after the first, news for it waiting)."""
    ORDER_POLL_INTERVAL_MS: Annotated[int, Field(ge=50)] = 2_000
    EXCHANGE_STREAMS: bool = True
    """Prices and fills from the exchange's WebSocket streams (REST polls only while a stream
    is down or cannot be trusted); off: everything by polling every ORDER_POLL_INTERVAL_MS."""
    STREAM_STALE_MS: Annotated[int, Field(ge=100)] = 5_000
    """A price stream silent this long counts as down: prices are polled meanwhile."""
    RECONCILE_INTERVAL_MS: Annotated[int, Field(ge=1_000)] = 300_000
    """With the user-data stream up, a full REST check of the open orders this often anyway."""
    ENTRY_ORDER: Literal["market", "limit"] = "market"
    """How the grid's base is bought (at start, after a restart): at market as the spec does,
    or as a maker limit at the price, cancelled and replaced per REPLACE_* when it lags."""
    REPLACE_TIMEOUT_MS: Ms = 60_000
    REPLACE_SLIPPAGE_PCT: Pct = 0.5
    REPLACE_MAX_RETRIES: Annotated[int, Field(ge=0, le=100)] = 3
    EXCHANGE_TIMEOUT_MS: Annotated[int, Field(ge=100)] = 10_000
    """How long one exchange request may take before its effect counts as unknown."""
    EXCHANGE_HEDGE_AFTER_MS: Annotated[int, Field(ge=0)] = 750
    """A query of orders or trades unanswered this long is sent again beside it, the first
    answer counting (0: never): a held request costs a restart this, not its timeout."""
    EXCHANGE_SANDBOX_URL: str | None = None
    """Base URL of an exchange simulator (``tradebot exchange-sim``) that the API's market data
    (the portal's candles) comes from instead of the real exchange: tests and ``make dev``."""
    NOT_FOUND_GRACE_MS: Ms = 30_000
    """How long an order the exchange does not know stays "unknown" before it counts as never
    placed (exchanges answer not-found for a fresh order for seconds)."""

    # Guards (the kill switch is always on)
    MAX_GLOBAL_DRAWDOWN_USD: Annotated[float, Field(gt=0)] = 500.0
    MAX_RUN_LOSS_USD: Annotated[float, Field(gt=0)] = 200.0
    MAX_API_ERRORS_PER_MIN: Annotated[int, Field(ge=1)] = 20
    STALE_TICKER_MS: Annotated[int, Field(ge=100)] = 30_000

    # Operations
    METRICS_PORT: Port = 9108
    KILL_SWITCH_PORT: Port = 9109
    DASHBOARD_PORT: Port = 8050
    LOG_INGEST_WEBHOOK: str | None = None
    WALKFORWARD_CONFIG: Path = Path("configs/walkforward.json")
    PG_URL: str | None = None
    DATA_DIR: Path = Path("var")

    # Exchange rate limits, shared through Redis by every process on one egress IP
    EGRESS_IP: str = "default"
    """Label of the public IP exchange traffic leaves from: one shared budget per label."""
    RATE_LIMIT_WEIGHT_PER_MIN: Annotated[int, Field(ge=1)] = 6000
    RATE_LIMIT_CONNECTIONS_PER_5MIN: Annotated[int, Field(ge=1)] = 300
    RATE_LIMIT_ORDERS_PER_10S: Annotated[int, Field(ge=1)] = 100
    RATE_LIMIT_ORDERS_PER_DAY: Annotated[int, Field(ge=1)] = 200_000
    RATE_LIMIT_HEADROOM_PCT: Annotated[float, Field(gt=0, le=100)] = 80.0
    RATE_LIMIT_TENANT_SHARE_PCT: Annotated[float, Field(gt=0, le=100)] = 25.0
    RATE_LIMIT_ROUTINE_PCT: Annotated[float, Field(gt=0, le=100)] = 75.0

    # The SaaS API (tradebot api / admin-server)
    API_PORT: Port = 8000
    ADMIN_PORT: Port = 8001
    AUTH0_ISSUER: str | None = None
    """Tokens' ``iss`` (``https://TENANT.auth0.com/``); JWKS: ``{issuer}.well-known/jwks.json``."""
    AUTH0_AUDIENCE: str | None = None
    AUTH0_ADMIN_PERMISSION: str = "admin:all"
    AUTH0_ROLES_CLAIM: str | None = None
    """A namespaced claim listing roles: ``admin`` in it also makes an operator."""
    ADMIN_API_TOKEN: SecretStr | None = None
    """The service-to-service operator bearer (unset: only operator JWTs reach admin routes)."""
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    REDIS_PREFIX: str = "tradebot"
    RUN_QUEUE_NAME: str = "arq:queue"
    """The arq queue run jobs go to (the workers' ``WorkerSettings.queue_name``)."""
    WORKER_NAME: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{0,100}$")] = ""
    """A worker's name, unique among the queue's live workers and kept across its restarts
    (the pod's name). A named worker that dies has its runs taken at once, instead of leaving
    them to wait for their leases: by a live named peer (within about two seconds), or by
    itself when it starts again. Empty: no name."""
    API_MAX_BODY_BYTES: Annotated[int, Field(ge=1024)] = 1_048_576
    API_RATE_LIMIT_PER_IP: Annotated[int, Field(ge=1)] = 300
    API_RATE_LIMIT_PER_CLIENT: Annotated[int, Field(ge=1)] = 600
    API_RATE_WINDOW_S: Annotated[int, Field(ge=1, le=3600)] = 60
    API_ACCESS_LOG: bool = False
    """A line per request from uvicorn (off: its cost is felt at hundreds of requests/s)."""
    API_TRUSTED_PROXIES: str = ""
    """Comma-separated addresses or networks of the reverse proxies whose ``X-Forwarded-For``
    and ``X-Forwarded-Proto`` name the client. Empty: forwarded headers are ignored, the client
    is the connection's peer (anyone else could name any address and escape the per-IP limit)."""
    DEX_CHECKS_PER_WINDOW: Annotated[int, Field(ge=1)] = 20
    """DEX sell checks a client may start per ``API_RATE_WINDOW_S``: each has the server call a
    node for the client."""
    DEX_PRIVATE_NODES: bool = False
    """Let ``POST /dex/check-sell`` call nodes on loopback or private addresses: for a server's
    own node or a sandbox, never on a shared server (a client could probe its network)."""
    PUBLIC_APP_URL: str = "http://localhost:3000"
    """Where Stripe sends the browser back after Checkout and the Customer Portal."""
    STRIPE_SECRET_KEY: SecretStr | None = None
    STRIPE_WEBHOOK_SECRET: SecretStr | None = None
    STRIPE_API_BASE: str | None = None
    """Another Stripe API base URL (a local stand-in in tests); unset: Stripe's own."""
    STRIPE_PRICE_STARTER: str | None = None
    STRIPE_PRICE_PRO: str | None = None
    STRIPE_PRICE_MANAGED: str | None = None

    # Email (the daily P&L summary), sent by the worker's notification jobs
    SMTP_HOST: str | None = None
    """The mail server; unset: no email is sent (the sends are not even queued)."""
    SMTP_PORT: Port = 587
    SMTP_SECURITY: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` (port 587), ``tls`` (implicit TLS, port 465), ``none`` (a local relay)."""
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: SecretStr | None = None
    SMTP_FROM: str = "TradeBot <reports@localhost>"
    SMTP_TIMEOUT_S: Annotated[float, Field(gt=0, le=120)] = 20.0
    """Connect and each SMTP command: a hanging server fails the attempt after this long."""

    # Telegram (alerts and commands of Pro clients), through the worker's jobs
    TELEGRAM_BOT_TOKEN: SecretStr | None = None
    """The bot's token from BotFather; unset: Telegram is off."""
    TELEGRAM_API_BASE: str = "https://api.telegram.org"
    """The Bot API server (a local Bot API server, or a stand-in in tests)."""
    TELEGRAM_POLL_S: Annotated[int, Field(ge=1, le=600)] = 55
    """How long one polling job answers commands before the next one takes over."""
    TELEGRAM_LINK_CODE_TTL_S: Annotated[int, Field(ge=60, le=86_400)] = 600

    @field_validator("PG_URL")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgres://", "postgresql", "sqlite")):
            raise ValueError("must be a postgresql:// (or sqlite://) URL")
        return value

    @field_validator("ADMIN_API_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _is_placeholder(value.get_secret_value()):
            raise ValueError("looks like a placeholder: set a real secret (or leave it unset)")
        return value

    @field_validator(
        "AUTH0_ISSUER",
        "STRIPE_API_BASE",
        "PUBLIC_APP_URL",
        "EXCHANGE_SANDBOX_URL",
        "TELEGRAM_API_BASE",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("API_TRUSTED_PROXIES")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (list the proxies themselves: "
                    "'*' would let any client name its own address)"
                ) from None
        return ",".join(entries)

    @field_validator("LOG_INGEST_WEBHOOK")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @cached_property
    def database_url(self) -> str:
        """PG_URL for the async driver, or the embedded SQLite file under DATA_DIR."""
        if not self.PG_URL:
            return f"sqlite+aiosqlite:///{self.DATA_DIR / 'tradebot.db'}"
        url = self.PG_URL
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url

    def per_trade_usd(self) -> float:
        """Quote per grid order: PER_TRADE_USD, else BANKROLL_USD x MAX_PER_TRADE_PCT."""
        if self.PER_TRADE_USD is not None:
            return self.PER_TRADE_USD
        return self.BANKROLL_USD * self.MAX_PER_TRADE_PCT / 100.0

    def investment(self) -> float:
        """Capital C of the grid: GRID_INVESTMENT, else one per-trade amount per cell."""
        if self.GRID_INVESTMENT is not None:
            return self.GRID_INVESTMENT
        capital = self.per_trade_usd() * (self.GRID_STEPS - 1)
        if capital > self.BANKROLL_USD + 1e-9:
            raise ConfigError(
                f"GRID_STEPS: {self.GRID_STEPS} lines x {self.per_trade_usd():g} per trade needs "
                f"{capital:g}, over BANKROLL_USD {self.BANKROLL_USD:g}"
            )
        return capital

    def grid_config(self) -> GridConfig:
        return GridConfig(
            lower=self.GRID_LOWER,
            upper=self.GRID_UPPER,
            lines=self.GRID_STEPS,
            investment=self.investment(),
            spacing=self.GRID_SPACING,
            maker_fee=self.MAKER_FEE,
            taker_fee=self.TAKER_FEE,
            take_profit=self.TP / 100.0,
        )


_SECRET_SETTINGS = frozenset(
    {
        "CLIENT_MASTER_KEY",
        "ADMIN_API_TOKEN",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "SMTP_PASSWORD",
        "TELEGRAM_BOT_TOKEN",
    }
)
_PLACEHOLDERS = (
    "changeme",
    "change-me",
    "change_me",
    "changethis",
    "placeholder",
    "secret",
    "password",
    "todo",
    "xxx",
    "example",
    "dummy",
)
_MIN_SECRET = 24


def _is_placeholder(value: str) -> bool:
    """A value copied from an example file rather than a generated secret."""
    text = value.strip().lower()
    core = text.split("_", 1)[1] if text.startswith(("sk_", "whsec_", "rk_")) else text
    core = core.split("_", 1)[1] if core.startswith(("test_", "live_")) else core
    return len(text) < _MIN_SECRET or any(word in core for word in _PLACEHOLDERS)


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; a bad value becomes one ConfigError line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        value = error.get("input")
        shown = "" if name in _SECRET_SETTINGS else f" (got {value!r})"
        raise ConfigError(f"{name}: {error['msg']}{shown}") from None
