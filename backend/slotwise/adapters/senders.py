"""Which email and SMS senders the settings ask for."""

from __future__ import annotations

from slotwise.adapters.delivery import EmailSender, SmsSender
from slotwise.adapters.dev_outbox import DevEmailSender, DevSmsSender
from slotwise.settings import Settings


def senders_from_settings(settings: Settings) -> tuple[EmailSender, SmsSender]:
    """SMTP and Twilio where configured; otherwise the development outbox."""
    email: EmailSender = DevEmailSender()
    sms: SmsSender = DevSmsSender()
    if settings.smtp_url:
        from slotwise.adapters.smtp import SmtpMailer

        email = SmtpMailer(settings.smtp_url)
    if settings.twilio_account_sid and settings.twilio_auth_token:
        from slotwise.adapters.twilio_sms import TwilioTexter

        sms = TwilioTexter(settings.twilio_account_sid, settings.twilio_auth_token,
                           api_base=settings.twilio_api_base)
    return email, sms
