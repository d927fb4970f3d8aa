"""A customer manages a booking from its private link, in a real browser.

The link comes the way customers get it: in the confirmation email, received
by a real SMTP server (aiosmtpd) on loopback from ``slotwise serve``'s own
worker; or, in the demo, from the development outbox at ``/dev/messages``.
From there the customer moves the booking and then cancels it, with the
keyboard only. axe-core checks every step; each change is checked in the
database and in the email it sends.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from e2e.harness import SITE, RunningSlotwise, demo_slotwise
from e2e.pages import KeyboardSteps, assert_accessible

from tests.support.servers import book_first_free
from tests.support.smtp import SmtpServer

# Customer text that would run or render as markup if it were not escaped.
NAME = '<img src=x onerror="window.__injected=1">Erika <b>Mustermann</b>'
NOTES = '<script>window.__injected=2</script>Knee & "shoulder"'
REASON = "Feeling <i>better</i>, thanks"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def mailing_slotwise(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[RunningSlotwise]:
    """The demo site served by a Slotwise that delivers its email to ``smtp``."""
    env = {"SLOTWISE_SMTP_URL": smtp.url, "SLOTWISE_DEV_OUTBOX": "0"}
    with demo_slotwise(tmp_path_factory.mktemp("mailing"), [], env) as running:
        yield running


def book_follow_up(base: str, *, name: str, email: str, notes: str = "") -> dict:
    """Books the demo's first free follow-up treatment, three days ahead (clear of every cut-off)."""
    return book_first_free(base, SITE, "follow-up", {
        "locale": "en", "timezone": "Europe/Berlin", "customer": {"name": name, "email": email},
        "answers": {"notes": notes} if notes else {}})


def booking_row(database, email: str) -> dict:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        [row] = db.execute("SELECT uid, status, start_at, reschedule_count FROM booking WHERE customer_email = ?",
                           (email,)).fetchall()
    return dict(row)


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def calendar_event(message: EmailMessage) -> tuple[str, dict]:
    """The METHOD and the VEVENT of the email's ``.ics``."""
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(part.get_payload(decode=True))
    return str(calendar["METHOD"]), calendar.walk("VEVENT")[0]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace(" ", "T"))


def test_from_the_emailed_link_a_customer_moves_then_cancels_with_the_keyboard(
    page: Page, mailing_slotwise: RunningSlotwise, smtp: SmtpServer, axe_source: str,
):
    email = f"erika.{uuid.uuid4().hex[:8]}@example.org"
    book_follow_up(mailing_slotwise.base, name=NAME, email=email, notes=NOTES)

    def arrived(subject: str) -> EmailMessage:
        [message] = smtp.inbox.wait_for(lambda m: m["To"] == email and m["Subject"].startswith(subject))
        return message

    confirmation = arrived("Booking confirmed")
    links = re.findall(rf"{re.escape(mailing_slotwise.base)}/manage/[A-Za-z0-9_-]{{43}}", text_of(confirmation))
    assert len(set(links)) == 1, text_of(confirmation)
    link = links[0]
    method, first_event = calendar_event(confirmation)
    assert method == "REQUEST"

    injected: list[str] = []
    page.on("dialog", lambda dialog: (injected.append(dialog.message), dialog.dismiss()))
    page.goto(link)
    steps = KeyboardSteps(page, page)

    # The booking, with what the customer typed shown as text, never as markup.
    booking = steps.step("booking")
    expect(booking.get_by_role("heading", level=2)).to_have_text("Your booking")
    expect(booking).to_contain_text(NAME)
    expect(booking).to_contain_text(NOTES)
    assert page.locator("main img, main b, main script").count() == 0
    assert page.evaluate("() => window.__injected") is None
    assert_accessible(page, axe_source, "booking")

    # Move: the picker opens on the booked day, which shows the current time marked.
    steps.press(booking.get_by_role("link", name="Change time"))
    steps.step("calendar")
    expect(page.locator(".sw-slot--current")).to_have_attribute("aria-label", re.compile(r"\d, your current time"))
    assert_accessible(page, axe_source, "picker")
    steps.choose_first_free_day()
    assert_accessible(page, axe_source, "picker with the day's times")
    new_start = steps.choose_first_slot()
    # Picking a time asks first, saying how many moves remain (the demo allows two).
    confirm = steps.step("move")
    expect(confirm.get_by_role("heading", level=2)).to_have_text(re.compile(r"^Move from .+ to .+\?$"))
    expect(confirm).to_contain_text("After this move, you can change the time online 1 more time.")
    assert_accessible(page, axe_source, "move confirmation")
    assert booking_row(mailing_slotwise.database, email)["reschedule_count"] == 0
    steps.press(confirm.get_by_role("button", name="Move booking"))
    moved = steps.step("booking")
    expect(moved.get_by_role("heading", level=2)).to_have_text("Your booking has been moved")
    expect(moved.locator('[data-sw-event="rescheduled"]')).to_have_count(1)
    assert_accessible(page, axe_source, "moved")

    row = booking_row(mailing_slotwise.database, email)
    assert (row["status"], row["reschedule_count"]) == ("confirmed", 1)
    assert instant(row["start_at"]) == instant(new_start)
    rescheduled = arrived("Booking moved")
    assert link in text_of(rescheduled)  # the same link keeps working
    method, event = calendar_event(rescheduled)
    assert method == "REQUEST" and str(event["UID"]) == str(first_event["UID"])
    assert event["DTSTART"].dt == instant(new_start)
    assert int(event["SEQUENCE"]) > int(first_event.get("SEQUENCE", 0))

    # Cancel, with a reason, after a confirmation step.
    steps.press(moved.get_by_role("link", name="Cancel", exact=True))
    cancel = steps.step("cancel")
    assert_accessible(page, axe_source, "cancel")
    steps.tab_to(cancel.get_by_label("Reason"))
    page.keyboard.type(REASON)
    steps.press(cancel.get_by_role("button", name="Cancel booking"))
    cancelled = steps.step("cancelled")
    expect(cancelled.get_by_role("heading", level=2)).to_have_text("This booking is cancelled")
    expect(cancelled).to_contain_text(f"Cancelled: {REASON}")
    assert page.locator("main i").count() == 0
    assert_accessible(page, axe_source, "cancelled")

    assert booking_row(mailing_slotwise.database, email)["status"] == "cancelled"
    method, cancel_event = calendar_event(arrived("Booking cancelled"))
    assert method == "CANCEL" and str(cancel_event["UID"]) == str(first_event["UID"])
    assert int(cancel_event["SEQUENCE"]) > int(event["SEQUENCE"])

    # Opened again later, the link shows the cancelled state with 410 and an offer to book again.
    again = page.goto(link)
    assert again is not None and again.status == 410
    expect(page.get_by_role("link", name="Book again")).to_have_attribute("href", f"/book/{SITE}")
    assert injected == []


def test_in_the_demo_each_steps_message_appears_in_the_development_outbox(page: Page, slotwise):
    email = f"dora.{uuid.uuid4().hex[:8]}@example.org"
    book_follow_up(slotwise.base, name="Dora Demo", email=email)
    outbox = page.get_by_test_id("dev-message").filter(has_text=email)

    def messages(subject: str):
        return outbox.filter(has=page.get_by_role("heading", name=re.compile(f"^{subject}")))

    page.goto(f"{slotwise.base}/dev/messages/")
    expect(messages("Booking confirmed")).to_have_count(1)
    messages("Booking confirmed").locator("a[href*='/manage/']").click()

    steps = KeyboardSteps(page, page)
    steps.step("booking").get_by_role("link", name="Change time").click()
    steps.step("calendar")
    steps.choose_first_free_day()
    steps.choose_first_slot()
    steps.step("move").get_by_role("button", name="Move booking").click()
    steps.step("booking").get_by_role("link", name="Cancel", exact=True).click()
    steps.step("cancel").get_by_role("button", name="Cancel booking").click()
    steps.step("cancelled")

    page.goto(f"{slotwise.base}/dev/messages/")
    for subject in ("Booking confirmed", "Booking moved", "Booking cancelled"):
        expect(messages(subject)).to_have_count(1)
