"""Webhook queries: endpoints, deliveries queued with a change, claimed by workers, and their log.

Rows come back as plain dicts (there is no domain type for them). Writers
that belong to a change (queueing deliveries) run inside the caller's
transaction; the worker's own writes (claim, outcome) open short ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.persistence.tables import (
    WEBHOOK_EXCERPT_LENGTH,
    Booking,
    Membership,
    Site,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

_ENDPOINT_COLUMNS = (
    WebhookEndpoint.id, WebhookEndpoint.public_id, WebhookEndpoint.site, WebhookEndpoint.url,
    WebhookEndpoint.events, WebhookEndpoint.description, WebhookEndpoint.enabled,
    WebhookEndpoint.disabled_reason, WebhookEndpoint.secret_sealed, WebhookEndpoint.previous_secret_sealed,
    WebhookEndpoint.previous_secret_until, WebhookEndpoint.last_success_at, WebhookEndpoint.created_at,
    WebhookEndpoint.updated_at,
)


# --- endpoints ---------------------------------------------------------------------------

async def insert_endpoint(*, public_id: str, site_id: int, url: str, events: Sequence[str], description: str,
                          secret_sealed: str, now: datetime) -> None:
    await WebhookEndpoint.insert(WebhookEndpoint(
        public_id=public_id, site=site_id, url=url, events=list(events), description=description,
        enabled=True, secret_sealed=secret_sealed, created_at=now, updated_at=now))


async def endpoints_of(site_id: int) -> list[dict[str, Any]]:
    return await (WebhookEndpoint.select(*_ENDPOINT_COLUMNS).where(WebhookEndpoint.site == site_id)
                  .order_by(WebhookEndpoint.id).output(load_json=True))


async def find_endpoint(site_id: int, public_id: str) -> dict[str, Any] | None:
    return await (WebhookEndpoint.select(*_ENDPOINT_COLUMNS)
                  .where((WebhookEndpoint.site == site_id) & (WebhookEndpoint.public_id == public_id))
                  .first().output(load_json=True))


async def endpoint_by_id(endpoint_id: int) -> dict[str, Any] | None:
    return await (WebhookEndpoint.select(*_ENDPOINT_COLUMNS).where(WebhookEndpoint.id == endpoint_id)
                  .first().output(load_json=True))


async def update_endpoint(endpoint_id: int, changes: dict[str, Any], *, now: datetime) -> None:
    """Change columns by name; turning ``enabled`` off pauses its queued deliveries, on resumes them."""
    values = {getattr(WebhookEndpoint, name): value for name, value in changes.items()}
    values[WebhookEndpoint.updated_at] = now
    await WebhookEndpoint.update(values).where(WebhookEndpoint.id == endpoint_id)
    if "enabled" in changes:
        before, after = ("queued", "paused") if not changes["enabled"] else ("paused", "queued")
        await WebhookDelivery.update({WebhookDelivery.status: after}).where(
            (WebhookDelivery.endpoint == endpoint_id) & (WebhookDelivery.status == before))


async def delete_endpoint(endpoint_id: int) -> None:
    deliveries = WebhookDelivery.select(WebhookDelivery.id).where(WebhookDelivery.endpoint == endpoint_id)
    ids = [row["id"] for row in await deliveries]
    if ids:
        await WebhookAttempt.delete().where(WebhookAttempt.delivery.is_in(ids))
        await WebhookDelivery.delete().where(WebhookDelivery.id.is_in(ids))
    await WebhookEndpoint.delete().where(WebhookEndpoint.id == endpoint_id)


async def subscribers(site_id: int) -> list[dict[str, Any]]:
    """The site's endpoints with what they listen to and whether they are enabled."""
    return await (WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.events, WebhookEndpoint.enabled)
                  .where(WebhookEndpoint.site == site_id)
                  .order_by(WebhookEndpoint.id).output(load_json=True))


async def owner_emails(site_id: int) -> list[str]:
    """The emails of the site's owner accounts (not disabled), in order."""
    rows = await (
        Membership.select(Membership.account.email.as_alias("email"))
        .where((Membership.site == site_id) & (Membership.role == "owner")
               & Membership.account.disabled.eq(False))
        .order_by(Membership.account.email)
    )
    return [row["email"] for row in rows]


# --- deliveries --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewDelivery:
    public_id: str
    endpoint_id: int
    message_id: str
    event_type: str
    payload: str
    paused: bool = False  # its endpoint is disabled: it waits until enabled again


async def queue(deliveries: Sequence[NewDelivery], *, now: datetime) -> None:
    """Insert deliveries due at once; callers run this inside the transaction of the change."""
    if not deliveries:
        return
    await WebhookDelivery.insert(*(
        WebhookDelivery(public_id=d.public_id, endpoint=d.endpoint_id, message_id=d.message_id,
                        event_type=d.event_type, payload=d.payload, status="paused" if d.paused else "queued",
                        attempts=0,
                        next_attempt_at=now, created_at=now)
        for d in deliveries
    ))


async def claim_due(*, now: datetime, lease: timedelta, limit: int, per_endpoint: int,
                    busy_endpoints: Sequence[int] = ()) -> list[dict[str, Any]]:
    """Take due deliveries for sending, so no other worker takes them (as ``outbox.claim_due``).

    Oldest first, at most ``per_endpoint`` of one endpoint, none of
    ``busy_endpoints`` (those this worker is still sending to), so one slow
    receiver never fills a worker's hands. A "sending" row whose lease ran
    out (its worker died) is due again.
    """
    due = (
        (WebhookDelivery.status == "queued") & (WebhookDelivery.next_attempt_at <= now)
    ) | ((WebhookDelivery.status == "sending") & (WebhookDelivery.claimed_until < now))
    if busy_endpoints:
        due = due & WebhookDelivery.endpoint.not_in(list(busy_endpoints))
    # A plain read first: an idle worker polls often, and must not queue for the
    # write lock (SQLite's is the bookings' too) only to find nothing due.
    if not await WebhookDelivery.exists().where(due):
        return []
    async with write_transaction(current_engine()):
        query = (
            WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.endpoint)
            .where(due)
            .order_by(WebhookDelivery.next_attempt_at).order_by(WebhookDelivery.id)
            .limit(limit * per_endpoint)
        )
        if isinstance(current_engine(), PostgresEngine):
            query = query.lock_rows(skip_locked=True)
        taken: list[int] = []
        per: dict[int, int] = {}
        for row in await query:
            if per.get(row["endpoint"], 0) < per_endpoint and len(taken) < limit:
                per[row["endpoint"]] = per.get(row["endpoint"], 0) + 1
                taken.append(row["id"])
        if not taken:
            return []
        await WebhookDelivery.update({
            WebhookDelivery.status: "sending", WebhookDelivery.claimed_until: now + lease,
            WebhookDelivery.attempts: WebhookDelivery.attempts + 1,
        }).where(WebhookDelivery.id.is_in(taken))
        return await (
            WebhookDelivery.select(
                WebhookDelivery.all_columns(),
                WebhookDelivery.endpoint.url.as_alias("url"),
                WebhookDelivery.endpoint.enabled.as_alias("endpoint_enabled"),
                WebhookDelivery.endpoint.secret_sealed.as_alias("secret_sealed"),
                WebhookDelivery.endpoint.previous_secret_sealed.as_alias("previous_secret_sealed"),
                WebhookDelivery.endpoint.previous_secret_until.as_alias("previous_secret_until"),
                WebhookDelivery.endpoint.last_success_at.as_alias("last_success_at"),
                WebhookDelivery.endpoint.site.as_alias("site"),
            )
            .where(WebhookDelivery.id.is_in(taken))
            .order_by(WebhookDelivery.next_attempt_at).order_by(WebhookDelivery.id)
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt got: ``outcome`` succeeded | failed | refused | timeout | error."""

    outcome: str
    status_code: int | None
    duration_ms: int
    response_excerpt: str
    error: str | None


async def _log(delivery_id: int, attempt: Attempt, now: datetime) -> None:
    await WebhookAttempt.insert(WebhookAttempt(
        delivery=delivery_id, attempted_at=now, outcome=attempt.outcome, status_code=attempt.status_code,
        duration_ms=attempt.duration_ms, response_excerpt=attempt.response_excerpt[:WEBHOOK_EXCERPT_LENGTH],
        error=None if attempt.error is None else attempt.error[:2000]))


def recording():
    """One write transaction for what a round of sends to one endpoint came to.

    The ``record_*`` functions below run inside it: the worker takes the write
    lock once per round instead of once per delivery (on SQLite it is the
    bookings' lock too).
    """
    return write_transaction(current_engine())


async def record_succeeded(delivery_id: int, endpoint_id: int, attempt: Attempt, *, now: datetime) -> None:
    await WebhookDelivery.update({
        WebhookDelivery.status: "succeeded", WebhookDelivery.claimed_until: None,
        WebhookDelivery.last_status: attempt.status_code, WebhookDelivery.last_error: None,
        WebhookDelivery.finished_at: now,
    }).where(WebhookDelivery.id == delivery_id)
    await WebhookEndpoint.update({WebhookEndpoint.last_success_at: now}).where(WebhookEndpoint.id == endpoint_id)
    await _log(delivery_id, attempt, now)


async def record_retry(delivery_id: int, attempt: Attempt, *, next_attempt_at: datetime, now: datetime) -> None:
    await WebhookDelivery.update({
        WebhookDelivery.status: "queued", WebhookDelivery.claimed_until: None,
        WebhookDelivery.next_attempt_at: next_attempt_at, WebhookDelivery.last_status: attempt.status_code,
        WebhookDelivery.last_error: attempt.error,
    }).where(WebhookDelivery.id == delivery_id)
    await _log(delivery_id, attempt, now)


async def record_failed(delivery_id: int, attempt: Attempt, *, now: datetime,
                        disable_endpoint: tuple[int, str] | None = None) -> bool:
    """The delivery is given up. With ``disable_endpoint`` (id, reason) its endpoint is disabled too,
    if still enabled; returns whether this call disabled it."""
    await WebhookDelivery.update({
        WebhookDelivery.status: "failed", WebhookDelivery.claimed_until: None,
        WebhookDelivery.last_status: attempt.status_code, WebhookDelivery.last_error: attempt.error,
        WebhookDelivery.finished_at: now,
    }).where(WebhookDelivery.id == delivery_id)
    await _log(delivery_id, attempt, now)
    if disable_endpoint is None:
        return False
    endpoint_id, reason = disable_endpoint
    still = await WebhookEndpoint.exists().where(
        (WebhookEndpoint.id == endpoint_id) & WebhookEndpoint.enabled.eq(True))
    if not still:
        return False
    await update_endpoint(endpoint_id, {"enabled": False, "disabled_reason": reason}, now=now)
    return True


async def release(delivery_id: int) -> None:
    """Give a claimed delivery back unattempted (its endpoint was disabled meanwhile)."""
    await WebhookDelivery.update({
        WebhookDelivery.status: "paused", WebhookDelivery.claimed_until: None,
        WebhookDelivery.attempts: WebhookDelivery.attempts - 1,
    }).where(WebhookDelivery.id == delivery_id)


# --- the log -----------------------------------------------------------------------------

async def deliveries_of(endpoint_id: int, *, limit: int, before_id: int | None) -> list[dict[str, Any]]:
    """Newest first, with each delivery's attempts oldest first under ``"attempts"``."""
    where = WebhookDelivery.endpoint == endpoint_id
    if before_id is not None:
        where = where & (WebhookDelivery.id < before_id)
    rows = await (WebhookDelivery.select(
        WebhookDelivery.id, WebhookDelivery.public_id, WebhookDelivery.message_id, WebhookDelivery.event_type,
        WebhookDelivery.status, WebhookDelivery.attempts, WebhookDelivery.next_attempt_at,
        WebhookDelivery.last_status, WebhookDelivery.last_error, WebhookDelivery.created_at,
        WebhookDelivery.finished_at,
    ).where(where).order_by(WebhookDelivery.id, ascending=False).limit(limit))
    if rows:
        attempts = await (WebhookAttempt.select()
                          .where(WebhookAttempt.delivery.is_in([r["id"] for r in rows]))
                          .order_by(WebhookAttempt.id))
        by_delivery: dict[int, list[dict[str, Any]]] = {}
        for attempt in attempts:
            by_delivery.setdefault(attempt["delivery"], []).append(attempt)
        for row in rows:
            row["attempts_log"] = by_delivery.get(row["id"], [])
    return rows


async def find_delivery(endpoint_id: int, public_id: str) -> dict[str, Any] | None:
    return await WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.status).where(
        (WebhookDelivery.endpoint == endpoint_id) & (WebhookDelivery.public_id == public_id)).first()


async def requeue(delivery_ids: Sequence[int], *, now: datetime, enabled: bool) -> None:
    """Deliver these again now (one more attempt each; a paused endpoint's wait until it is enabled)."""
    if delivery_ids:
        await WebhookDelivery.update({
            WebhookDelivery.status: "queued" if enabled else "paused", WebhookDelivery.next_attempt_at: now,
            WebhookDelivery.finished_at: None,
        }).where(WebhookDelivery.id.is_in(list(delivery_ids)))


async def failed_deliveries(endpoint_id: int) -> list[int]:
    rows = await WebhookDelivery.select(WebhookDelivery.id).where(
        (WebhookDelivery.endpoint == endpoint_id) & (WebhookDelivery.status == "failed"))
    return [row["id"] for row in rows]


async def sweep(*, before: datetime) -> int:
    """Forget deliveries created before ``before`` with their attempts; returns how many.

    Finished ones, and paused ones too: an endpoint disabled for longer than
    the log is kept does not hoard events without end.
    """
    async with write_transaction(current_engine()):
        rows = await WebhookDelivery.select(WebhookDelivery.id).where(
            (WebhookDelivery.created_at < before)
            & WebhookDelivery.status.is_in(["succeeded", "failed", "paused"]))
        ids = [row["id"] for row in rows]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            await WebhookAttempt.delete().where(WebhookAttempt.delivery.is_in(chunk))
            await WebhookDelivery.delete().where(WebhookDelivery.id.is_in(chunk))
        return len(ids)


async def site_contact(site_id: int) -> dict[str, Any] | None:
    """What an email to a site's owners needs: slug, name, locale, notify_email, contact_email."""
    return await Site.select(Site.slug, Site.name, Site.locale, Site.notify_email, Site.contact_email).where(
        Site.id == site_id).first()


async def forget_bookings(site_id: int, booking_ids: Sequence[int]) -> int:
    """Remove the site's webhook deliveries (queued or logged) that carry these bookings; returns how many.

    For erasing a customer: the bodies name them. Found by the booking's
    ``bkg_…`` id in the body (32 hex digits: no other text matches). Runs
    inside the caller's transaction.
    """
    if not booking_ids:
        return 0
    endpoints = [row["id"] for row in await WebhookEndpoint.select(WebhookEndpoint.id).where(
        WebhookEndpoint.site == site_id)]
    if not endpoints:
        return 0
    uids = await Booking.select(Booking.uid).where(Booking.id.is_in(list(booking_ids)))
    found: list[int] = []
    for row in uids:
        public_id = "bkg_" + str(row["uid"]).replace("-", "")
        found += [d["id"] for d in await WebhookDelivery.select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint.is_in(endpoints) & WebhookDelivery.payload.like(f"%{public_id}%"))]
    if found:
        await WebhookAttempt.delete().where(WebhookAttempt.delivery.is_in(found))
        await WebhookDelivery.delete().where(WebhookDelivery.id.is_in(found))
    return len(found)
