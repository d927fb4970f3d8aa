"""Webhook queries: endpoints, deliveries queued with a change, claimed by workers, and their log.

Rows come back as plain dicts (there is no domain type for them). Writers
that belong to a change (queueing deliveries) run inside the caller's
transaction; the worker's own writes (claim, outcome) open short ones.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

from slotwise.persistence.engine import SQLiteBusy, current_engine, postgres_fetch, sqlite_burst, write_transaction
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


# --- plain SQL for the booking path and the worker's rounds --------------------------------
#
# Queueing an event runs inside every booking transaction with a subscribed
# endpoint, and the worker claims and records a few times a second (on SQLite
# holding the write lock the bookings need). Through Piccolo each statement
# costs building the query and, on SQLite, four hops to aiosqlite's thread
# (a PRAGMA, execute, fetch, close); these statements are fixed text run
# directly on the transaction's connection: one hop on SQLite, a prepared
# statement on PostgreSQL (docs/decisions.md, "Webhooks off the booking path").
# Each must write and read what the Piccolo tables declare; the integration
# tests run both engines.

def _placeholders(sql: str, count: int) -> tuple[str, str]:
    """``sql`` with PostgreSQL's and with SQLite's positional parameters."""
    return sql.format(*(f"${n}" for n in range(1, count + 1))), sql.format(*"?" * count)


# The SQLite connection of the worker's transaction when it runs as a burst (see _worker_transaction).
_burst: ContextVar[sqlite3.Connection | None] = ContextVar("webhook_burst", default=None)


def _in_transaction() -> Any:
    transaction = current_engine().current_transaction.get()
    if transaction is None:
        raise RuntimeError("run inside a transaction")
    return transaction.connection


@asynccontextmanager
async def _worker_transaction() -> AsyncIterator[None]:
    """The worker's own short write: on SQLite a burst on the event loop (``engine.sqlite_burst``), or a
    usual write transaction while another process holds the lock; on PostgreSQL a usual one.

    Inside it only :func:`_fetch` and :func:`_execute_many` may run: a burst
    holds SQLite's lock on a connection Piccolo does not know.
    """
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        try:
            async with sqlite_burst(engine) as connection:
                token = _burst.set(connection)
                try:
                    yield
                finally:
                    _burst.reset(token)
            return
        except SQLiteBusy:
            pass
    async with write_transaction(engine):
        yield


async def _fetch(postgres_sql: str, sqlite_sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of one statement, inside the current transaction (PostgreSQL: outside one too)."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        return [dict(row) for row in await postgres_fetch(engine, postgres_sql, *args)]
    return await _sqlite_fetch(sqlite_sql, args)


async def _sqlite_fetch(sql: str, params: Sequence[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of one SQLite statement: in the worker's burst when one runs, else in the current transaction."""
    burst = _burst.get()
    if burst is not None:
        cursor = burst.execute(sql, params)
        return [dict_factory(cursor, row) for row in cursor.fetchall()]
    connection = _in_transaction()
    connection.row_factory = dict_factory
    return list(await connection.execute_fetchall(sql, params))


async def _execute_many(postgres_sql: str, sqlite_sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """One statement run for each of ``rows`` in one call, inside the current transaction."""
    if not rows:
        return
    burst = _burst.get()
    if burst is not None:
        burst.executemany(sqlite_sql, rows)
        return
    connection = _in_transaction()
    if isinstance(current_engine(), PostgresEngine):
        await connection.executemany(postgres_sql, rows)
    elif len(rows) == 1:  # the usual case (one endpoint): one hop to aiosqlite's thread, not two
        await connection.execute_fetchall(sqlite_sql, rows[0])
    else:
        async with connection.executemany(sqlite_sql, rows):
            pass


@lru_cache(maxsize=4)
def _sqlite_reader(path: str) -> sqlite3.Connection:
    """A kept, read-only connection for the worker's reads (as ``queries`` keeps one for busy time).

    Through Piccolo a read outside a transaction opens a connection on a new
    aiosqlite thread, several times a second while nothing is due; this one
    answers on the event loop in microseconds. In WAL mode it never waits for
    a writer, and each statement sees everything committed before it.
    """
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False,
                                 detect_types=sqlite3.PARSE_DECLTYPES)  # Piccolo's converters: rows as it reads them
    connection.row_factory = dict_factory
    return connection


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


_SUBSCRIBERS = 'SELECT id, events, enabled FROM webhook_endpoint WHERE site = {} ORDER BY id'


async def subscribers(site_id: int) -> list[dict[str, Any]]:
    """The site's endpoints with what they listen to and whether they are enabled; inside a transaction.

    One indexed statement (``webhook_endpoint_site``) on every booking path.
    """
    rows = await _fetch(*_placeholders(_SUBSCRIBERS, 1), site_id)
    return [{"id": row["id"], "events": json.loads(row["events"]), "enabled": bool(row["enabled"])}
            for row in rows]


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


_QUEUE = ("INSERT INTO webhook_delivery (public_id, endpoint, message_id, event_type, payload, status, attempts,"
          " next_attempt_at, created_at) VALUES ({}, {}, {}, {}, {}, {}, 0, {}, {})")


async def queue(deliveries: Sequence[NewDelivery], *, now: datetime) -> None:
    """Insert deliveries due at once, in one call; callers run this inside the transaction of the change."""
    await _execute_many(
        *_placeholders(_QUEUE, 8),
        [(d.public_id, d.endpoint_id, d.message_id, d.event_type, d.payload, "paused" if d.paused else "queued",
          now, now) for d in deliveries])


_DUE = ("((status = 'queued' AND next_attempt_at <= {now}) OR (status = 'sending' AND claimed_until < {now}))"
        " AND {not_busy}")
_POSTGRES_DUE = _DUE.format(now="$1", not_busy="endpoint <> ALL($2::integer[])")
_SQLITE_DUE = _DUE.format(now=":now", not_busy="endpoint NOT IN (SELECT value FROM json_each(:busy))")

# The columns a claimed delivery is sent with: the delivery's own, its endpoint's.
_CLAIMED = ("{d}id, {d}public_id, {d}endpoint, {d}message_id, {d}event_type, {d}payload, {d}status, {d}attempts,"
            " {d}next_attempt_at, {d}claimed_until, {d}last_status, {d}last_error, {d}created_at, {d}finished_at,"
            " e.url, e.enabled AS endpoint_enabled, e.secret_sealed, e.previous_secret_sealed,"
            " e.previous_secret_until, e.last_success_at, e.site")

# Which due deliveries a claim takes: the oldest ``scan`` due ones, of those at
# most ``per`` per endpoint, and ``limit`` in all, oldest first.
_TAKE = ("SELECT id FROM (SELECT id, next_attempt_at,"
         " row_number() OVER (PARTITION BY endpoint ORDER BY next_attempt_at, id) AS place FROM {due}) AS ranked"
         " WHERE place <= {per} ORDER BY next_attempt_at, id LIMIT {limit}")

# PostgreSQL: one statement locks the due rows (skipping those another worker
# is claiming), marks those taken and returns them with their endpoints.
_POSTGRES_CLAIM = (
    "WITH due AS (SELECT id, endpoint, next_attempt_at FROM webhook_delivery WHERE " + _POSTGRES_DUE
    + " ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED),"
    " taken AS (" + _TAKE.format(due="due", per="$4", limit="$5") + ")"
    " UPDATE webhook_delivery AS d SET status = 'sending', claimed_until = $6, attempts = d.attempts + 1"
    " FROM webhook_endpoint AS e WHERE d.id IN (SELECT id FROM taken) AND e.id = d.endpoint"
    " RETURNING " + _CLAIMED.format(d="d.")
)
# SQLite, under the write lock: mark those taken, then read them with their endpoints.
_SQLITE_CLAIM = (
    "UPDATE webhook_delivery SET status = 'sending', claimed_until = :until, attempts = attempts + 1"
    " WHERE id IN (" + _TAKE.format(
        due="(SELECT id, endpoint, next_attempt_at FROM webhook_delivery WHERE " + _SQLITE_DUE
        + " ORDER BY next_attempt_at, id LIMIT :scan)", per=":per", limit=":limit") + ")"
    " RETURNING id"
)
_SQLITE_CLAIMED = ("SELECT " + _CLAIMED.format(d="d.") + " FROM webhook_delivery AS d"
                   " JOIN webhook_endpoint AS e ON e.id = d.endpoint"
                   " WHERE d.id IN (SELECT value FROM json_each(?))")


def _sqlite_any_due(engine: SQLiteEngine, now: datetime, busy_endpoints: Sequence[int]) -> bool:
    """Whether a claim now would take anything: a plain read, without the write lock.

    An idle worker polls often, and must not queue for the write lock (SQLite's
    is the bookings' too) only to find nothing due.
    """
    found = _sqlite_reader(engine.path).execute(
        f"SELECT 1 FROM webhook_delivery WHERE {_SQLITE_DUE} LIMIT 1",
        {"now": now, "busy": json.dumps(list(busy_endpoints))})
    return found.fetchone() is not None


async def claim_due(*, now: datetime, lease: timedelta, limit: int, per_endpoint: int,
                    busy_endpoints: Sequence[int] = ()) -> list[dict[str, Any]]:
    """Take due deliveries for sending, so no other worker takes them (as ``outbox.claim_due``).

    Oldest first, at most ``per_endpoint`` of one endpoint, none of
    ``busy_endpoints`` (those this worker is still sending to), so one slow
    receiver never fills a worker's hands. A "sending" row whose lease ran
    out (its worker died) is due again. Each comes with its endpoint's URL,
    state and secrets.
    """
    engine = current_engine()
    busy = list(busy_endpoints)
    if isinstance(engine, PostgresEngine):
        # One statement is atomic without a transaction around it, and when
        # nothing is due it costs what a poll would: one round trip either way.
        rows = await _fetch(_POSTGRES_CLAIM, "", now, busy, limit * per_endpoint, per_endpoint, limit, now + lease)
    else:
        assert isinstance(engine, SQLiteEngine)
        if not _sqlite_any_due(engine, now, busy):
            return []
        async with _worker_transaction():
            taken = [row["id"] for row in await _sqlite_fetch(_SQLITE_CLAIM, {
                "now": now, "busy": json.dumps(busy), "scan": limit * per_endpoint, "per": per_endpoint,
                "limit": limit, "until": now + lease})]
        # Read after commit, off the write lock: the rows are this worker's now
        # (status "sending" under its lease), so no one else changes them.
        rows = _sqlite_reader(engine.path).execute(_SQLITE_CLAIMED, [json.dumps(taken)]).fetchall() if taken else []
    return sorted(rows, key=lambda row: (row["next_attempt_at"], row["id"]))


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt got: ``outcome`` succeeded | failed | refused | timeout | error."""

    outcome: str
    status_code: int | None
    duration_ms: int
    response_excerpt: str
    error: str | None


async def _log(delivery_id: int, attempt: Attempt, now: datetime) -> None:
    await _execute_many(*_placeholders(_ATTEMPT, 7), [_attempt_row(delivery_id, attempt, now)])


def recording():
    """One write transaction for what a round of sends to one endpoint came to.

    The ``record_*`` functions below run inside it: the worker takes the write
    lock once per round instead of once per delivery (on SQLite it is the
    bookings' lock too).
    """
    return write_transaction(current_engine())


_SUCCEEDED = ("UPDATE webhook_delivery SET status = 'succeeded', claimed_until = NULL, last_status = {},"
              " last_error = NULL, finished_at = {} WHERE id = {}")
_LAST_SUCCESS = "UPDATE webhook_endpoint SET last_success_at = {} WHERE id = {}"
_ATTEMPT = ("INSERT INTO webhook_attempt (delivery, attempted_at, outcome, status_code, duration_ms,"
            " response_excerpt, error) VALUES ({}, {}, {}, {}, {}, {}, {})")


async def record_succeeded(endpoint_id: int, succeeded: Sequence[tuple[int, Attempt]], *, now: datetime) -> None:
    """Deliveries to one endpoint that succeeded (id, attempt): three statements for the whole round.

    Inside the caller's transaction, or else in one of the worker's own
    (on SQLite a burst: the common round, all successes, holds the lock briefly).
    """
    if not succeeded:
        return
    own = current_engine().current_transaction.get() is None
    async with _worker_transaction() if own else nullcontext():
        await _execute_many(*_placeholders(_SUCCEEDED, 3),
                            [(attempt.status_code, now, delivery_id) for delivery_id, attempt in succeeded])
        await _fetch(*_placeholders(_LAST_SUCCESS, 2), now, endpoint_id)
        await _execute_many(*_placeholders(_ATTEMPT, 7), [_attempt_row(delivery_id, attempt, now)
                                                          for delivery_id, attempt in succeeded])


def _attempt_row(delivery_id: int, attempt: Attempt, now: datetime) -> tuple[Any, ...]:
    return (delivery_id, now, attempt.outcome, attempt.status_code, attempt.duration_ms,
            attempt.response_excerpt[:WEBHOOK_EXCERPT_LENGTH],
            None if attempt.error is None else attempt.error[:2000])


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
