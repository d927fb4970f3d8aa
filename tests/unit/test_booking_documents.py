"""A page of bookings (booking_documents) answers exactly what booking_document answers for each."""

from datetime import UTC, datetime, timedelta

import msgspec

from slotwise.domain import model
from slotwise.services.booking_documents import booking_document, booking_documents

SITE = model.Site(id=1, slug="harbour", name="Harbour", timezone="Europe/Berlin", locale="en")
SITE_REF = model.SiteRef(id=1, slug="harbour", name="Harbour", timezone="Europe/Berlin")
ANNA = model.ResourceRef("anna", "Anna", model.ResourceKind.PERSON)
ROOM = model.ResourceRef("room-1", "Room 1", model.ResourceKind.ROOM)
BEN = model.ResourceRef("ben", "Ben", model.ResourceKind.PERSON)


def _booking(n: int, resources: tuple[model.ResourceRef, ...], **changes) -> model.Booking:
    start = datetime(2026, 3, 28, 9, tzinfo=UTC) + timedelta(hours=7 * n)  # across the DST change
    values = dict(
        id=n, uid=f"00000000-0000-0000-0000-{n:012d}", status=model.BookingStatus.CONFIRMED, site=SITE_REF,
        service=model.ServiceRef(slug="assessment", name="Assessment"), start=start,
        end=start + timedelta(minutes=45), resources=resources,
        customer=model.Customer(name=f"Customer <{n}>", email=f"c{n}@example.com"),
        answers={"reason": "knee"} if n % 2 else {}, price_minor=None, currency=None, locale="en",
        timezone="Europe/Berlin", created_at=start - timedelta(days=3), updated_at=None)
    return model.Booking(**{**values, **changes})


def test_a_page_is_what_each_booking_would_be_on_its_own():
    shared = (ANNA, ROOM)
    bookings = [
        _booking(1, shared),
        _booking(2, shared, price_minor=6000, currency="EUR", updated_at=datetime(2026, 3, 30, tzinfo=UTC)),
        _booking(3, (BEN,), status=model.BookingStatus.CANCELLED, address="Main St 1",
                 metadata={"invoice": "2026-1", "paid": True}, price_minor=500, currency="JPY"),
        _booking(4, shared, customer=model.Customer(name="P", email="p@example.com", phone="+4930123")),
        _booking(5, ()),
    ]

    page = booking_documents(bookings, SITE)

    assert msgspec.to_builtins(page) == msgspec.to_builtins([booking_document(b, SITE) for b in bookings])
    assert [d.start for d in page[:3]] == ["2026-03-28T17:00:00+01:00", "2026-03-29T00:00:00+01:00",
                                           "2026-03-29T08:00:00+02:00"]


def test_a_pages_documents_share_nothing_a_caller_could_change_in_the_bookings():
    booking = _booking(1, (ANNA,), metadata={"paid": False})
    [document] = booking_documents([booking], SITE)
    document.answers["reason"] = "changed"
    document.metadata["paid"] = True
    assert booking.answers == {"reason": "knee"} and booking.metadata == {"paid": False}
