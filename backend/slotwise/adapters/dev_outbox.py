"""Senders for running without SMTP or Twilio: messages count as delivered and
stay readable in the outbox, which ``/dev/messages`` shows (the demo)."""

from __future__ import annotations

from slotwise.adapters.delivery import OutgoingEmail, OutgoingSms


class DevEmailSender:
    async def send(self, email: OutgoingEmail) -> str:
        return f"dev:{email.message_id}"


class DevSmsSender:
    async def send(self, sms: OutgoingSms) -> str:
        return f"dev:sms:{sms.to}"
