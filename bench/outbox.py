"""Drain 1,000 queued emails into a local SMTP server (issue 4's benchmark).

Run: ``python bench/outbox.py``. A fresh SQLite database holds 1,000 queued
confirmation emails, rendered by the real templates for a real booking; one
worker drains them into a local aiosmtpd server. The same 1,000 messages are
then sent by raw aiosmtplib (one connection per message, as the worker does)
into the same server, in the same run. Prints messages per second for both,
their ratio, and the duplicate count at the server (bar: 0).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run from a checkout (`python bench/x.py`): the repository root holds tests.support,
# and backend/ the package when it is not installed.
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "backend")]

MESSAGES = 1_000
DEMO_SITE = Path(__file__).resolve().parents[1] / "examples" / "harbour-physio.toml"


class Inbox:
    def __init__(self) -> None:
        self.message_ids: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.message_ids[line.split(b":", 1)[1].strip().decode()] += 1
                break
        return "250 OK"


async def queue_messages(now: datetime) -> list:
    """One real booking, then MESSAGES copies of its confirmation in the outbox."""
    from slotwise.persistence import outbox
    from slotwise.persistence.outbox import QueuedMessage
    from slotwise.persistence.tables import Booking, Site
    from slotwise.services import bookings
    from slotwise.services.delivery import email_to_json
    from slotwise.services.email_content import build_booking_email
    from slotwise.services.sites import apply_site
    from slotwise.sitefile import load_site_file

    from slotwise.domain.actors import Actor
    from slotwise.services.availability import get_availability, parse_availability_query
    from slotwise.services.config import ServiceConfig
    from slotwise.services.notifications import Messaging

    await apply_site(load_site_file(DEMO_SITE), actor=Actor.system("bench"), now=now)

    first, last = (now + timedelta(days=1)).date(), (now + timedelta(days=14)).date()
    found = await get_availability("harbour-physio", parse_availability_query(
        service="follow-up", start=first.isoformat(), end=last.isoformat()), now=now)
    start = found.slots[0].start
    config = ServiceConfig(secret_key="bench", messaging=Messaging(
        base_url="http://127.0.0.1:8000", mail_from="bookings@slotwise.localhost", sms_from="Slotwise"))
    # Without its own messages: the outbox is filled below with exactly MESSAGES copies.
    result = await bookings.create_booking(
        "harbour-physio",
        bookings.BookingRequest(service="follow-up", start=start,
                                customer={"name": "Bench Customer", "email": "bench@example.com"}),
        actor=Actor.customer("bench"), now=now, config=config, notify=False)
    record = result.booking
    site = await Site.select(Site.id).first()
    emails = []
    for _ in range(MESSAGES):
        uid = uuid.uuid4()
        emails.append(build_booking_email(record, event="confirmed", manage_url="http://127.0.0.1:8000/manage/x",
                                          mail_from="bookings@slotwise.localhost",
                                          message_id=f"<{uid}@slotwise.localhost>", now=now))
        await outbox.queue([QueuedMessage(uid=uid, site_id=site["id"], booking_id=record.id, event="confirmed",
                                          channel="email", recipient=record.customer.email,
                                          content=email_to_json(emails[-1]), send_at=now)], now=now)
    assert await Booking.count() == 1
    return emails


async def drain_with_worker(url: str, now: datetime) -> float:
    from slotwise.adapters.dev_outbox import DevSmsSender
    from slotwise.adapters.smtp import SmtpMailer
    from slotwise.services.delivery import Deliverer

    deliverer = Deliverer(email=SmtpMailer(url), sms=DevSmsSender(), clock=lambda: now, secret_key="bench")
    began = time.perf_counter()
    while await deliverer.deliver_due(limit=50):
        pass
    return time.perf_counter() - began


async def send_raw(url: str, emails: list) -> float:
    import aiosmtplib
    from slotwise.adapters.smtp import email_message, parse_smtp_url

    config = parse_smtp_url(url)
    began = time.perf_counter()
    for email in emails:
        await aiosmtplib.send(email_message(email), hostname=config.hostname, port=config.port,
                              start_tls=False)
    return time.perf_counter() - began


def main() -> int:
    from aiosmtpd.controller import Controller

    from tests.support.servers import free_port

    from slotwise.persistence.engine import Database
    from slotwise.persistence.migrate import migrate
    from slotwise.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="slotwise-outbox-"))
    settings = Settings.from_env({"SLOTWISE_DATA_DIR": str(workdir),
                                  "SLOTWISE_DATABASE_URL": f"sqlite:///{workdir / 'outbox.sqlite'}"})
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        now = datetime.now(UTC)

        async def run() -> tuple[float, float, list]:
            async with Database(settings) as database:
                await migrate(database.engine)
                emails = await queue_messages(now)
                worker_seconds = await drain_with_worker(f"smtp://127.0.0.1:{port}", now)
            worker_ids = Counter(inbox.message_ids)
            raw_seconds = await send_raw(f"smtp://127.0.0.1:{port}", emails)
            return worker_seconds, raw_seconds, worker_ids

        worker_seconds, raw_seconds, worker_ids = asyncio.run(run())
    finally:
        controller.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    delivered = sum(worker_ids.values())
    duplicates = sum(n - 1 for n in worker_ids.values() if n > 1)
    worker_rate, raw_rate = MESSAGES / worker_seconds, MESSAGES / raw_seconds
    print(f"{MESSAGES:,} queued emails drained into a local aiosmtpd (SQLite outbox)")
    print(f"  worker            {worker_rate:7.1f} msg/s  ({delivered:,} delivered, {duplicates} duplicates; bar 0)")
    print(f"  raw aiosmtplib    {raw_rate:7.1f} msg/s  (same messages, one connection each)")
    print(f"  worker / raw      {worker_rate / raw_rate:7.2f}")
    ok = delivered == MESSAGES and duplicates == 0
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
