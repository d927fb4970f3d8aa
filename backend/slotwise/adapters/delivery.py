"""What the outbox worker hands to a provider, and how a provider says it failed.

Senders are small: ``async send(message) -> provider_id``. A transient failure
(connection refused, SMTP 4xx, Twilio 20429 or 5xx) is retried with back-off;
a permanent one (SMTP 5xx, an invalid number) fails the message at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class DeliveryError(Exception):
    """A provider did not accept a message. ``code`` is the provider's own, if any."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: the provider was unreachable, busy or rate-limiting."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the recipient or the message itself was refused."""


class RecipientOptedOut(PermanentDeliveryError):
    """The recipient unsubscribed from this sender (Twilio 21610); never message them again."""


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str  # e.g. "text/calendar"
    params: dict[str, str] = field(default_factory=dict)  # e.g. {"method": "REQUEST", "charset": "utf-8"}


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to: str
    from_address: str
    from_name: str  # the site's name
    reply_to: str | None
    subject: str
    text: str
    html: str
    message_id: str  # stable per outbox message: "<{uuid}@{domain}>"
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    to: str  # E.164
    from_number: str
    body: str


class EmailSender(Protocol):
    async def send(self, email: OutgoingEmail) -> str: ...


class SmsSender(Protocol):
    async def send(self, sms: OutgoingSms) -> str: ...
