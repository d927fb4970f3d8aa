"""Settings, read once from ``SLOTWISE_*`` environment variables.

Every setting has a default that gives a working zero-config start (SQLite file
under ``./var``, server on 127.0.0.1:8000, messages kept in a development
outbox). ``load_settings()`` is cached, so the environment is read once per
process; the app factory and the commands receive the object and pass it on.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

PREFIX = "SLOTWISE_"
DEFAULT_DATA_DIR = Path("var")


class SettingsError(ValueError):
    """A ``SLOTWISE_*`` variable has a value we cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    base_url: str
    secret_key: str
    smtp_url: str | None = None
    mail_from: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_base: str | None = None
    dev_outbox: bool = False
    # Requests per minute one client may make to rate-limited routes; 0 turns it off.
    rate_limit_per_minute: int = 60
    # False when BASE_URL came from the default: `serve --port` may then adjust it.
    base_url_configured: bool = True
    # Proxies whose X-Forwarded-For names the client (addresses or networks);
    # from anyone else the header is ignored, so it cannot buy a fresh quota.
    trusted_proxies: tuple[str, ...] = ()
    # Availability reads (the JSON API and the booking page's calendar) per
    # minute per client: higher than writes, a customer clicks through days.
    read_rate_limit_per_minute: int = 300
    # Where rate-limit counters live when several processes must share them;
    # None: each process counts in its own memory.
    redis_url: str | None = None
    # Live holds one client may have on one site at a time; 0: no cap.
    holds_per_client: int = 2
    # Outbound calls (calendar sources; webhooks) may reach private and loopback
    # addresses: SLOTWISE_WEBHOOK_ALLOW_PRIVATE=1, for self-hosters' own servers.
    allow_private_targets: bool = False
    # How often the worker syncs each connected calendar.
    calendar_sync_minutes: int = 5

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        """The file behind ``sqlite:///relative/or/absolute/path``."""
        if self.is_postgres:
            raise SettingsError("the database is PostgreSQL, not SQLite")
        return Path(self.database_url.removeprefix("sqlite:///"))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name, "").strip()
            return value or None

        data_dir = Path(get("DATA_DIR") or DEFAULT_DATA_DIR)
        database_url = get("DATABASE_URL") or f"sqlite:///{data_dir / 'slotwise.sqlite'}"
        if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
            raise SettingsError(
                f"{PREFIX}DATABASE_URL must start with sqlite:/// or postgresql://, got {database_url!r}"
            )
        base_url = (get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
        if urlsplit(base_url).scheme not in {"http", "https"}:
            raise SettingsError(f"{PREFIX}BASE_URL must be an http(s) URL, got {base_url!r}")
        def whole(name: str, default: str, what: str) -> int:
            value = get(name) or default
            if not value.isdigit():
                raise SettingsError(f"{PREFIX}{name} must be a whole number of {what}, got {value!r}")
            return int(value)

        rate_limit = whole("RATE_LIMIT", "60", "requests per minute")
        read_rate_limit = whole("READ_RATE_LIMIT", "300", "requests per minute")
        holds_per_client = whole("HOLDS_PER_CLIENT", "2", "holds")
        calendar_sync_minutes = whole("CALENDAR_SYNC_MINUTES", "5", "minutes")
        if calendar_sync_minutes < 1:
            raise SettingsError(f"{PREFIX}CALENDAR_SYNC_MINUTES must be at least 1")
        redis_url = get("REDIS_URL")
        if redis_url is not None and urlsplit(redis_url).scheme not in {"redis", "rediss", "unix"}:
            raise SettingsError(f"{PREFIX}REDIS_URL must be a redis://, rediss:// or unix:// URL, got {redis_url!r}")
        trusted = []
        for item in (get("TRUSTED_PROXIES") or "").split(","):
            if item.strip():
                try:
                    trusted.append(str(ipaddress.ip_network(item.strip(), strict=False)))
                except ValueError:
                    raise SettingsError(
                        f"{PREFIX}TRUSTED_PROXIES must list IP addresses or networks, got {item.strip()!r}"
                    ) from None
        return cls(
            trusted_proxies=tuple(trusted),
            database_url=database_url,
            base_url=base_url,
            secret_key=get("SECRET_KEY") or _development_secret(data_dir),
            smtp_url=get("SMTP_URL"),
            mail_from=get("MAIL_FROM"),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_from=get("TWILIO_FROM"),
            twilio_api_base=get("TWILIO_API_BASE"),
            dev_outbox=(get("DEV_OUTBOX") or "").lower() in {"1", "true", "yes", "on"},
            base_url_configured=get("BASE_URL") is not None,
            rate_limit_per_minute=rate_limit,
            read_rate_limit_per_minute=read_rate_limit,
            redis_url=redis_url,
            holds_per_client=holds_per_client,
            allow_private_targets=(get("WEBHOOK_ALLOW_PRIVATE") or "").lower() in {"1", "true", "yes", "on"},
            calendar_sync_minutes=calendar_sync_minutes,
        )

    def serving_at(self, host: str, port: int) -> Settings:
        """These settings for a server on ``host:port``: links follow it unless BASE_URL was set."""
        if self.base_url_configured:
            return self
        shown_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
        return replace(self, base_url=f"http://{shown_host}:{port}")


def _development_secret(data_dir: Path) -> str:
    """A secret kept in the data folder, so a zero-config start survives restarts.

    Production sets ``SLOTWISE_SECRET_KEY``; without it we still never run on a
    guessable key: one is generated once and stored readable by the owner only.
    """
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    return Settings.from_env()
