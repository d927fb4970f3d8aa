"""What operations need from the settings, read once and handed to every service call."""

from __future__ import annotations

from dataclasses import dataclass

from slotwise.services.notifications import Messaging
from slotwise.settings import Settings


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The secret key manage links are derived from, and how messages are addressed."""

    secret_key: str
    messaging: Messaging

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceConfig:
        return cls(secret_key=settings.secret_key, messaging=Messaging.from_settings(settings))

    def manage_url(self, token: str) -> str:
        return self.messaging.manage_url(token)
