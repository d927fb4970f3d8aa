"""SmtpMailer against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from slotwise.adapters.delivery import PermanentDeliveryError, TransientDeliveryError
from slotwise.adapters.smtp import SmtpMailer, email_message, parse_smtp_url
from slotwise.domain.model import Booking
from slotwise.services.email_content import build_booking_email

from tests.support.bookings import sample_booking
from tests.support.servers import free_port

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
UID = "9a1b2c3d-0000-4000-8000-123456789abc"
MANAGE_URL = "http://testserver.local/manage/abc123"
XSS = "<script>alert(1)</script>"


def booking_record() -> Booking:
    return sample_booking(
        id=1, uid=UID, site_name="Studio Müller, Köln", site_address=None, service_slug="cut",
        service_name="Haircut", start=START, end=datetime(2026, 11, 24, 8, 45, tzinfo=UTC),
        resources=(("anna", "Anna", "person"),), customer_name=XSS, customer_email="customer@example.com",
        customer_phone=None, price_minor=None, currency=None, locale="de", created_at=NOW,
    )


def confirmation(message_id: str = "<m-1@slotwise.test>"):
    return build_booking_email(
        booking_record(), event="confirmed", manage_url=MANAGE_URL,
        mail_from="bookings@slotwise.test", message_id=message_id, now=NOW,
    )


class Recorder:
    """Keeps every message; or answers DATA with a fixed reply (e.g. "550 ...")."""

    def __init__(self, data_reply: str | None = None, rcpt_reply: str | None = None) -> None:
        self.data_reply = data_reply
        self.rcpt_reply = rcpt_reply
        self.envelopes: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def serve(handler: Recorder) -> Iterator[tuple[Recorder, int]]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[Recorder, int]]:
    yield from serve(Recorder())


async def test_confirmation_arrives_complete(smtp_server) -> None:
    recorder, port = smtp_server
    outgoing = confirmation()
    provider_id = await SmtpMailer(f"smtp://127.0.0.1:{port}?starttls=0").send(outgoing)
    assert provider_id == "<m-1@slotwise.test>"

    (envelope,) = recorder.envelopes
    assert envelope.mail_from == "bookings@slotwise.test"
    assert envelope.rcpt_tos == ["customer@example.com"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)

    assert message["Message-ID"] == "<m-1@slotwise.test>"
    (sender,) = message["From"].addresses
    assert sender.display_name == "Studio Müller, Köln" and sender.addr_spec == "bookings@slotwise.test"
    assert message["Reply-To"] == "hello@studio.example"
    assert message["To"] == "customer@example.com"
    assert message["Subject"].startswith("Buchung bestätigt: Haircut, Dienstag, 24. November 2026")
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/mixed"

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"Guten Tag {XSS}," in text
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert MANAGE_URL in text and f'href="{MANAGE_URL}"' in html

    (ics_part,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert ics_part.get_filename() == "booking.ics"
    assert ics_part.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(ics_part.get_payload(decode=True))
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{UID}@slotwise"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == START


def test_mime_build_encodes_the_display_name() -> None:
    raw = email_message(confirmation()).as_bytes()
    (header,) = [line for line in raw.splitlines() if line.startswith(b"From:")]
    assert header.isascii() and b"=?utf-8?" in header.lower()  # RFC 2047 encoded word
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["From"].addresses[0].display_name == "Studio Müller, Köln"


async def test_data_refused_with_550_is_permanent() -> None:
    for _, port in serve(Recorder(data_reply="550 5.7.1 Message rejected as spam")):
        with pytest.raises(PermanentDeliveryError) as caught:
            await SmtpMailer(f"smtp://127.0.0.1:{port}").send(confirmation())
        assert caught.value.code == "550"


async def test_recipient_refused_with_550_is_permanent() -> None:
    for recorder, port in serve(Recorder(rcpt_reply="550 5.1.1 No such user")):
        with pytest.raises(PermanentDeliveryError) as caught:
            await SmtpMailer(f"smtp://127.0.0.1:{port}").send(confirmation())
        assert caught.value.code == "550"
        assert recorder.envelopes == []


async def test_greylisting_451_is_transient() -> None:
    for _, port in serve(Recorder(data_reply="451 4.7.1 Greylisted, try again later")):
        with pytest.raises(TransientDeliveryError) as caught:
            await SmtpMailer(f"smtp://127.0.0.1:{port}").send(confirmation())
        assert caught.value.code == "451"


async def test_closed_port_is_transient() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(TransientDeliveryError):
        await SmtpMailer(f"smtp://127.0.0.1:{port}?timeout=5").send(confirmation())


async def test_silent_server_times_out_as_transient() -> None:
    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets; returns when the client gives up
        writer.close()

    server = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TransientDeliveryError):
            await SmtpMailer(f"smtp://127.0.0.1:{port}?timeout=0.3").send(confirmation())
    finally:
        server.close()
        await server.wait_closed()


def test_smtp_url_forms() -> None:
    plain = parse_smtp_url("smtp://mail.example.com")
    assert (plain.port, plain.use_tls, plain.start_tls, plain.username) == (25, False, None, None)
    starttls = parse_smtp_url("smtp://user%40x.com:p%3Ass@mail.example.com:587?starttls=1&timeout=10")
    assert (starttls.username, starttls.password, starttls.port) == ("user@x.com", "p:ss", 587)
    assert starttls.start_tls is True and starttls.timeout == 10
    implicit = parse_smtp_url("smtps://u:p@mail.example.com?verify=0")
    assert (implicit.port, implicit.use_tls, implicit.start_tls, implicit.validate_certs) == (465, True, False, False)
    assert "secret" not in repr(SmtpMailer("smtps://u:secret@mail.example.com"))
    for bad in ("http://mail.example.com", "smtp://", "smtp://h?starttls=maybe", "smtps://h?starttls=1"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)
