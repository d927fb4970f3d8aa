"""Webhooks: a site's endpoints, the events a change queues for them, and the delivery log.

Endpoints (``whk_…``) are managed by the owner or a key with
``webhooks:write``. Each has a signing secret ``whsec_<base64>``, shown once
when created or rotated and stored sealed (``services/secret_box.py``); after a
rotation the previous secret signs too, for :data:`ROTATION_OVERLAP`.

Events are queued by :func:`queue_booking_event`, which ``changes.after_change``
calls inside the change's own transaction: a delivery row per subscribed
endpoint, with the exact body that will be signed and sent. The worker
(``services/webhook_delivery.py``) sends them after commit. What the body holds
is documented, with its version, in ``docs/webhooks.md``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from slotwise.domain import webhooks as rules
from slotwise.domain.actors import Actor
from slotwise.domain.model import Booking, HistoryEntry, Site
from slotwise.persistence import history, outbox
from slotwise.persistence import webhooks as store
from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.persistence.outbox import QueuedMessage
from slotwise.services.booking_documents import ResourceOut, actor_out, booking_document
from slotwise.services.errors import FieldProblem, InvalidInput, NotFound, PreconditionFailed
from slotwise.services.idempotency import IdempotentWrite, fingerprint, scope
from slotwise.services.secret_box import SecretBox

ENDPOINT_PREFIX = "whk_"
DELIVERY_PREFIX = "whd_"
MESSAGE_PREFIX = "msg_"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # 256-bit HMAC keys, as Standard Webhooks recommends (24-64 bytes)
ROTATION_OVERLAP = timedelta(hours=24)
LOG_DAYS = 30
BOX_PURPOSE = "webhook signing secrets"
DEFAULT_PAGE = 50
MAX_PAGE = 200


@lru_cache(maxsize=4)
def box(secret_key: str) -> SecretBox:
    """The box of webhook secrets under ``secret_key`` (its HKDF derivation made once per key)."""
    return SecretBox(secret_key, BOX_PURPOSE)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str  # whk_…
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    last_success_at: datetime | None
    rotating_until: datetime | None  # while the previous secret still signs
    secret: str | None = None  # only when just created or rotated

    @property
    def etag(self) -> str:
        text = json.dumps([self.id, self.url, self.events, self.description, self.enabled,
                           self.updated_at.isoformat()])
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


def _endpoint(row: dict[str, Any], *, secret: str | None = None, now: datetime | None = None) -> Endpoint:
    until = row["previous_secret_until"]
    return Endpoint(
        id=row["public_id"], url=row["url"], events=list(row["events"]), description=row["description"],
        enabled=row["enabled"], disabled_reason=row["disabled_reason"], created_at=row["created_at"],
        updated_at=row["updated_at"], last_success_at=row["last_success_at"],
        rotating_until=until if until is not None and (now is None or until > now) else None, secret=secret)


# --- endpoints ---------------------------------------------------------------------------

def _check(data: dict[str, Any], *, partial: bool, allow_private: bool) -> dict[str, Any]:
    """The fields of an endpoint body, checked; raises InvalidInput with every problem."""
    allowed = {"url", "events", "description"} | ({"enabled"} if partial else set())
    problems = [FieldProblem(name, "field-unknown") for name in sorted(set(data) - allowed)]
    fields: dict[str, Any] = {}
    if "url" in data or not partial:
        url = data.get("url")
        if not isinstance(url, str) or not url.strip():
            problems.append(FieldProblem("url", "required" if url is None else "string-expected"))
        else:
            code = rules.url_problem(url.strip(), allow_private=allow_private)
            if code:
                problems.append(FieldProblem("url", code))
            fields["url"] = url.strip()
    if "events" in data or not partial:
        events = data.get("events")
        if not isinstance(events, list) or not events:
            problems.append(FieldProblem("events", "required"))
        else:
            for index, event in enumerate(events):
                if event not in rules.EVENT_TYPES:
                    problems.append(FieldProblem(f"events[{index}]", "choice-unknown",
                                                 {"choices": ", ".join(rules.EVENT_TYPES)}))
            fields["events"] = list(dict.fromkeys(e for e in events if isinstance(e, str)))
    if "description" in data:
        description = data["description"]
        if description is not None and (not isinstance(description, str)
                                        or len(description) > rules.DESCRIPTION_LENGTH):
            problems.append(FieldProblem("description", "text-too-long", {"limit": rules.DESCRIPTION_LENGTH}))
        elif description is not None and rules.has_control_characters(description):
            problems.append(FieldProblem("description", "control-characters"))
        else:
            fields["description"] = (description or "").strip()
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            problems.append(FieldProblem("enabled", "boolean-expected"))
        else:
            fields["enabled"] = data["enabled"]
    if problems:
        raise InvalidInput(problems)
    return fields


async def list_endpoints(site: Site, *, now: datetime) -> list[Endpoint]:
    return [_endpoint(row, now=now) for row in await store.endpoints_of(site.id)]


async def get_endpoint(site: Site, endpoint_id: str, *, now: datetime) -> Endpoint:
    return _endpoint(await _row(site, endpoint_id), now=now)


async def _row(site: Site, endpoint_id: str) -> dict[str, Any]:
    row = await store.find_endpoint(site.id, endpoint_id) if endpoint_id.startswith(ENDPOINT_PREFIX) else None
    if row is None:
        raise NotFound("webhook", endpoint_id)
    return row


async def create_endpoint(site: Site, data: dict[str, Any], *, actor: Actor, now: datetime, secret_key: str,
                          allow_private: bool, idempotency_key: str | None = None) -> Endpoint:
    """A new endpoint with its secret, which the answer carries this once.

    A repeat with the same ``Idempotency-Key`` answers the same endpoint and
    secret (the client never saw the first answer); the idempotency record
    holds only the endpoint's id, never the secret.
    """
    fields = _check(data, partial=False, allow_private=allow_private)
    write = IdempotentWrite(scope(f"site:{site.id}", "webhook", actor), idempotency_key,
                            fingerprint(**{k: fields.get(k) for k in ("url", "events", "description")}))
    sealer = box(secret_key)
    async with write_transaction(current_engine()):
        replayed = await write.replay(now)
        if replayed is not None:
            row = await store.find_endpoint(site.id, replayed["webhook"])
            if row is None:  # deleted since: the first answer cannot be given again
                raise NotFound("webhook", replayed["webhook"])
            return _endpoint(row, secret=sealer.open(row["secret_sealed"]), now=now)
        public_id = ENDPOINT_PREFIX + secrets.token_hex(12)
        secret = new_secret()
        await store.insert_endpoint(public_id=public_id, site_id=site.id, url=fields["url"],
                                    events=fields["events"], description=fields.get("description", ""),
                                    secret_sealed=sealer.seal(secret), now=now)
        await write.remember({"webhook": public_id}, now)
        row = await store.find_endpoint(site.id, public_id)
    assert row is not None
    return _endpoint(row, secret=secret, now=now)


async def update_endpoint(site: Site, endpoint_id: str, data: dict[str, Any], *, if_match: str | None,
                          now: datetime, allow_private: bool) -> Endpoint:
    """Change the fields sent. Enabling again clears why it was disabled and resumes its queued deliveries."""
    fields = _check(data, partial=True, allow_private=allow_private)
    async with write_transaction(current_engine()):
        row = await _row(site, endpoint_id)
        if if_match is not None and if_match.strip() not in {_endpoint(row).etag, "*"}:
            raise PreconditionFailed("webhook", endpoint_id)
        if fields.get("enabled") is True:
            fields["disabled_reason"] = None
        if fields:
            await store.update_endpoint(row["id"], fields, now=now)
        row = await _row(site, endpoint_id)
    return _endpoint(row, now=now)


async def delete_endpoint(site: Site, endpoint_id: str, *, if_match: str | None) -> None:
    """Remove it, its queued deliveries and its log."""
    async with write_transaction(current_engine()):
        row = await _row(site, endpoint_id)
        if if_match is not None and if_match.strip() not in {_endpoint(row).etag, "*"}:
            raise PreconditionFailed("webhook", endpoint_id)
        await store.delete_endpoint(row["id"])


async def rotate_secret(site: Site, endpoint_id: str, *, actor: Actor, now: datetime, secret_key: str,
                        idempotency_key: str | None = None) -> Endpoint:
    """A new secret, answered this once; the old one keeps signing beside it for 24 hours."""
    sealer = box(secret_key)
    async with write_transaction(current_engine()):
        row = await _row(site, endpoint_id)
        write = IdempotentWrite(scope(f"webhook:{row['id']}", "rotate", actor), idempotency_key, fingerprint())
        if await write.replay(now) is not None:
            return _endpoint(row, secret=sealer.open(row["secret_sealed"]), now=now)
        secret = new_secret()
        await store.update_endpoint(row["id"], {
            "secret_sealed": sealer.seal(secret), "previous_secret_sealed": row["secret_sealed"],
            "previous_secret_until": now + ROTATION_OVERLAP}, now=now)
        await write.remember({"webhook": row["public_id"]}, now)
        row = await _row(site, endpoint_id)
    return _endpoint(row, secret=secret, now=now)


def signing_secrets(row: dict[str, Any], *, secret_key: str, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and during a rotation the previous."""
    sealer = box(secret_key)
    found = [sealer.open(row["secret_sealed"])]
    until = row.get("previous_secret_until")
    if row.get("previous_secret_sealed") and until is not None and until > now:
        found.append(sealer.open(row["previous_secret_sealed"]))
    return found


# --- events ------------------------------------------------------------------------------

def body(event_type: str, data: dict[str, Any], now: datetime) -> str:
    """The exact JSON body of an event (Standard Webhooks: type, timestamp, data).

    Compact UTF-8 JSON; ``data`` may hold the API's msgspec documents as they
    are (the booking's), encoded here in one pass as the API encodes them.
    """
    return msgspec.json.encode({
        "type": event_type, "timestamp": now.astimezone(UTC).isoformat().replace("+00:00", "Z"), "data": data,
    }).decode()


async def _subscribed(site_id: int, event_type: str) -> list[dict[str, Any]]:
    return [row for row in await store.subscribers(site_id) if event_type in row["events"]]


def queued_messages(messages: Sequence[QueuedMessage], *, sandbox: bool) -> list[dict[str, Any]]:
    """Messages just queued, as ``outbox.messages_of`` reads them back: oldest first, none tried yet.

    ``sandbox`` is their site's flag, which ``outbox.queue`` stored on each;
    times are in UTC, as the database gives them back. The sort is stable, so
    messages due at one time keep the order they were queued in, which is the
    order of their ids.
    """
    return [{"uid": m.uid, "event": m.event, "channel": m.channel, "recipient": m.recipient,
             "status": "queued", "attempts": 0, "send_at": m.send_at.astimezone(UTC), "sent_at": None,
             "last_error": None, "sandbox": sandbox}
            for m in sorted(messages, key=lambda m: m.send_at)]


async def _queue(event_type: str, data: dict[str, Any], targets: list[dict[str, Any]], *,
                 now: datetime) -> str | None:
    """One delivery per subscribed endpoint, all with one ``webhook-id``; a disabled endpoint's wait, paused."""
    if not targets:
        return None
    message_id = MESSAGE_PREFIX + uuid.uuid4().hex
    payload = body(event_type, data, now)
    await store.queue([store.NewDelivery(public_id=DELIVERY_PREFIX + secrets.token_hex(12), endpoint_id=target["id"],
                                         message_id=message_id, event_type=event_type, payload=payload,
                                         paused=not target["enabled"])
                       for target in targets], now=now)
    return message_id


def _actor(actor: Actor) -> dict[str, Any]:
    return msgspec.to_builtins(actor_out(actor))


def booking_data(booking: Booking, site: Site, history_entries: list[HistoryEntry],
                 messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The booking exactly as ``GET …/admin/sites/{site}/bookings/{id}`` answers it: the same document.

    Its fields at the top, the nested documents (customer, resources, history,
    messages) left as dataclasses for :func:`body` to encode as the API does.
    """
    document = booking_document(booking, site, history_entries, messages)
    return {field.name: getattr(document, field.name) for field in fields(document)}


EVENT_OF_CHANGE = {"booked": rules.BOOKING_CREATED, "rescheduled": rules.BOOKING_RESCHEDULED,
                   "cancelled": rules.BOOKING_CANCELLED}


async def queue_booking_event(kind: str, booking: Booking, *, site: Site, actor: Actor, now: datetime,
                              previous: Booking | None = None,
                              history_entries: list[HistoryEntry] | None = None,
                              messages: Sequence[QueuedMessage] | None = None) -> str | None:
    """Queue the event of a booking change for the site's subscribed endpoints; inside the change's transaction.

    ``kind`` is the change (booked | rescheduled | cancelled); ``previous`` the
    booking before a move. ``history_entries`` and ``messages`` are the
    booking's whole history and all its messages when the caller knows them
    (a new booking's are the entry and the messages its transaction just
    wrote), saving a read each; ``site`` is as that transaction read it.
    Returns the event's ``webhook-id``, or None when no endpoint listens.
    """
    event_type = EVENT_OF_CHANGE[kind]
    subscribed = await _subscribed(site.id, event_type)
    if not subscribed:
        return None  # the common case costs one indexed read
    zone = ZoneInfo(site.timezone)
    if history_entries is None:
        history_entries = await history.booking_history(booking.id)
    message_rows = (await outbox.messages_of(booking.id) if messages is None
                    else queued_messages(messages, sandbox=site.sandbox))
    data = booking_data(booking, site, history_entries, message_rows)
    data.update({
        "version": rules.PAYLOAD_VERSION, "site": site.slug, "site_timezone": site.timezone,
        "start_utc": booking.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "end_utc": booking.end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "sequence": booking.sequence, "actor": _actor(actor),
    })
    if previous is not None:
        data["previous"] = {
            "start": previous.start.astimezone(zone).isoformat(), "end": previous.end.astimezone(zone).isoformat(),
            "resources": [msgspec.to_builtins(ResourceOut(key=r.key, name=r.name, kind=str(r.kind)))
                          for r in previous.resources],
        }
    return await _queue(event_type, data, subscribed, now=now)


async def queue_message_failed(message: dict[str, Any], *, now: datetime) -> None:
    """``message.failed`` for a message the outbox gave up on; inside the transaction that marks it failed."""
    if message.get("site") is None:
        return  # an account's own email (a password reset): no site to tell
    subscribed = await _subscribed(message["site"], rules.MESSAGE_FAILED)
    if not subscribed:
        return
    data = {
        "version": rules.PAYLOAD_VERSION,
        "message": {"id": f"msg_{message['uid'].hex}" if isinstance(message["uid"], uuid.UUID)
                    else f"msg_{str(message['uid']).replace('-', '')}",
                    "event": message["event"], "channel": message["channel"], "recipient": message["recipient"],
                    "attempts": message["attempts"], "error": (message.get("error") or "")[:500]},
        "booking": None,
    }
    if message.get("booking") is not None:
        from slotwise.persistence import bookings as booking_store

        uid, _ = await booking_store.token_material(message["booking"])
        data["booking"] = "bkg_" + str(uid).replace("-", "")
    await _queue(rules.MESSAGE_FAILED, data, subscribed, now=now)


async def send_test(site: Site, endpoint_id: str, *, actor: Actor, now: datetime,
                    idempotency_key: str | None = None) -> str:
    """Queue a ``webhook.test`` ping for one endpoint; returns its delivery id.

    It goes out even to a disabled endpoint (check a receiver before enabling
    it again) and is tried once: its answer is in the log at once.
    """
    async with write_transaction(current_engine()):
        row = await _row(site, endpoint_id)
        write = IdempotentWrite(scope(f"webhook:{row['id']}", "test", actor), idempotency_key, fingerprint())
        replayed = await write.replay(now)
        if replayed is not None:
            return replayed["delivery"]
        data = {"version": rules.PAYLOAD_VERSION, "site": site.slug, "webhook": row["public_id"],
                "actor": _actor(actor)}
        delivery = DELIVERY_PREFIX + secrets.token_hex(12)
        await store.queue([store.NewDelivery(public_id=delivery, endpoint_id=row["id"],
                                             message_id=MESSAGE_PREFIX + uuid.uuid4().hex,
                                             event_type=rules.WEBHOOK_TEST,
                                             payload=body(rules.WEBHOOK_TEST, data, now))], now=now)
        await write.remember({"delivery": delivery}, now)
    return delivery


# --- the log -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[dict[str, Any]]
    next_cursor: str | None


async def deliveries(site: Site, endpoint_id: str, *, limit: str | None, cursor: str | None) -> DeliveryPage:
    """An endpoint's deliveries of the last 30 days, newest first, each with its attempts."""
    row = await _row(site, endpoint_id)
    problems: list[FieldProblem] = []
    size = DEFAULT_PAGE
    if limit is not None:
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE:
            problems.append(FieldProblem("limit", "number-between", {"low": 1, "high": MAX_PAGE}))
        else:
            size = int(limit)
    before = None
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 18:
            problems.append(FieldProblem("cursor", "cursor-invalid"))
        else:
            before = int(cursor)
    if problems:
        raise InvalidInput(problems)
    rows = await store.deliveries_of(row["id"], limit=size + 1, before_id=before)
    more = len(rows) > size
    rows = rows[:size]
    return DeliveryPage(rows, str(rows[-1]["id"]) if more else None)


async def retry_delivery(site: Site, endpoint_id: str, delivery_id: str, *, now: datetime) -> None:
    """Send one delivery again now (one more attempt), whatever its state but "sending"."""
    async with write_transaction(current_engine()):
        row = await _row(site, endpoint_id)
        found = await store.find_delivery(row["id"], delivery_id)
        if found is None:
            raise NotFound("delivery", delivery_id)
        if found["status"] != "sending":
            await store.requeue([found["id"]], now=now, enabled=row["enabled"])


async def redeliver_failed(site: Site, endpoint_id: str, *, now: datetime) -> int:
    """Send every failed delivery of the endpoint (still in the log) again now; returns how many."""
    async with write_transaction(current_engine()):
        row = await _row(site, endpoint_id)
        failed = await store.failed_deliveries(row["id"])
        await store.requeue(failed, now=now, enabled=row["enabled"])
    return len(failed)


async def sweep_log(*, now: datetime) -> int:
    """Forget finished deliveries older than 30 days."""
    return await store.sweep(before=now - timedelta(days=LOG_DAYS))
