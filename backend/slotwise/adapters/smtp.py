"""Email delivery over SMTP with aiosmtplib.

Configured by one URL (``SLOTWISE_SMTP_URL``)::

    smtp://user:password@mail.example.com:587?starttls=1   STARTTLS required
    smtp://mail.example.com:25                             STARTTLS if the server offers it
    smtp://127.0.0.1:1025?starttls=0                       plain, never STARTTLS (local relay)
    smtps://user:password@mail.example.com                 implicit TLS (port 465)

User name and password are percent-decoded (``%40`` for ``@``). Query
parameters: ``starttls`` = ``1``/``0`` (absent: opportunistic, aiosmtplib's
default), ``timeout`` = seconds for connecting and for each command (default
30), ``verify`` = ``0`` to skip certificate checks (development only).
Default ports: 25 for ``smtp``, 465 for ``smtps``.

Each ``send`` opens a connection, sends one message and closes it. Failures:
connection errors, timeouts, SMTP 4xx and authentication failures (an
operator fixes the credentials; queued mail then goes out) are
:class:`TransientDeliveryError`; any other SMTP 5xx, and a message that
cannot be built, are :class:`PermanentDeliveryError`. ``code`` carries the
SMTP reply code where there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from slotwise.adapters.delivery import (
    OutgoingEmail,
    PermanentDeliveryError,
    TransientDeliveryError,
)

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
DEFAULT_TIMEOUT = 30.0
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _one_line(value: str) -> str:
    """Header values never carry line breaks, whatever the caller passed."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def email_message(email: OutgoingEmail, *, date: datetime | None = None) -> EmailMessage:
    """The MIME message: text with an HTML alternative, then the attachments.

    Structure: ``multipart/mixed`` [``multipart/alternative`` [text/plain,
    text/html], text/calendar ...] (just the alternative without attachments).
    """
    message = EmailMessage()
    message["Subject"] = _one_line(email.subject)
    message["From"] = Address(display_name=_one_line(email.from_name),
                              addr_spec=_one_line(email.from_address))
    message["To"] = _one_line(email.to)
    if email.reply_to:
        message["Reply-To"] = _one_line(email.reply_to)
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = _one_line(email.message_id)
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
            filename=attachment.filename, params=dict(attachment.params),
        )
    return message


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None
    timeout: float
    validate_certs: bool


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("SMTP URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("SMTP URL has no host")
    query = {key: values[-1].strip().lower() for key, values in parse_qs(parts.query).items()}
    start_tls: bool | None = None
    if "starttls" in query:
        if query["starttls"] in _TRUE:
            start_tls = True
        elif query["starttls"] in _FALSE:
            start_tls = False
        else:
            raise ValueError("SMTP URL: starttls must be 1 or 0")
    if scheme == "smtps":
        if start_tls:
            raise ValueError("SMTP URL: smtps:// is already TLS; drop starttls")
        start_tls = False
    timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
    if timeout <= 0:
        raise ValueError("SMTP URL: timeout must be positive")
    return SmtpConfig(
        hostname=parts.hostname,
        port=parts.port or DEFAULT_PORTS[scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        use_tls=scheme == "smtps",
        start_tls=start_tls,
        timeout=timeout,
        validate_certs=query.get("verify", "1") not in _FALSE,
    )


def _response_error(code: int, text: str) -> TransientDeliveryError | PermanentDeliveryError:
    detail = f"SMTP {code}: {_one_line(text)}"
    if 500 <= code < 600:
        return PermanentDeliveryError(detail, code=str(code))
    # 4xx, and codes outside the SMTP ranges (aiosmtplib uses -1 for "no reply").
    return TransientDeliveryError(detail, code=str(code))


class SmtpMailer:
    """An :class:`~slotwise.adapters.delivery.EmailSender` over SMTP."""

    def __init__(self, url: str) -> None:
        self.config = parse_smtp_url(url)

    def __repr__(self) -> str:  # never the password
        c = self.config
        scheme = "smtps" if c.use_tls else "smtp"
        user = f"{c.username}:***@" if c.username else ""
        return f"SmtpMailer({scheme}://{user}{c.hostname}:{c.port})"

    async def send(self, email: OutgoingEmail) -> str:
        """Send one email; returns its Message-ID as the provider's id."""
        try:
            message = email_message(email)
        except (ValueError, TypeError) as error:  # e.g. an address the email package refuses
            raise PermanentDeliveryError(f"message cannot be built: {error}") from error
        c = self.config
        try:
            errors, _ = await aiosmtplib.send(
                message,
                sender=message["From"].addresses[0].addr_spec,
                recipients=[email.to],
                hostname=c.hostname,
                port=c.port,
                username=c.username,
                password=c.password,
                use_tls=c.use_tls,
                start_tls=c.start_tls,
                timeout=c.timeout,
                validate_certs=c.validate_certs,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            refused = error.recipients[0] if error.recipients else None
            if refused is None:
                raise TransientDeliveryError(str(error)) from error
            raise _response_error(refused.code, refused.message) from error
        except aiosmtplib.SMTPAuthenticationError as error:
            raise TransientDeliveryError(
                f"SMTP authentication failed ({error.code}); check SLOTWISE_SMTP_URL",
                code=str(error.code),
            ) from error
        except aiosmtplib.SMTPResponseException as error:  # sender/data refused, HELO, greeting
            raise _response_error(error.code, error.message) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            # Connection refused or dropped, timeouts, TLS problems, STARTTLS not offered.
            detail = f"SMTP unavailable: {type(error).__name__}: {error}"
            raise TransientDeliveryError(detail) from error
        if errors:  # only for partial refusals; there is one recipient, so this is defensive
            response = next(iter(errors.values()))
            raise _response_error(response.code, response.message)
        return str(message["Message-ID"])
