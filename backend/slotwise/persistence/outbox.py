"""Outbox queries: queue messages, claim due ones for sending, record what happened."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from slotwise.persistence.engine import current_engine, write_transaction
from slotwise.persistence.tables import DeliveryAttempt, OptOut, OutboxMessage, Site


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    uid: uuid.UUID
    site_id: int | None  # None: an account's own email (a password reset)
    booking_id: int | None
    event: str
    channel: str  # "email" | "sms"
    recipient: str
    content: dict[str, Any]
    send_at: datetime


async def queue(messages: Sequence[QueuedMessage], *, now: datetime) -> None:
    """Insert messages; callers run this inside the transaction of the change that caused them."""
    if not messages:
        return
    sandboxes = await sandbox_sites({m.site_id for m in messages if m.site_id is not None})
    await OutboxMessage.insert(*(
        OutboxMessage(
            uid=m.uid, site=m.site_id, booking=m.booking_id, event=m.event, channel=m.channel,
            recipient=m.recipient, content=m.content, status="queued", send_at=m.send_at,
            next_attempt_at=m.send_at, created_at=now, sandbox=m.site_id in sandboxes,
        )
        for m in messages
    ))


async def sandbox_sites(site_ids: set[int]) -> set[int]:
    """Which of these sites are sandboxes (their messages are kept, never sent)."""
    if not site_ids:
        return set()
    rows = await Site.select(Site.id).where(Site.id.is_in(list(site_ids)) & (Site.sandbox == True))  # noqa: E712
    return {row["id"] for row in rows}


async def claim_due(*, now: datetime, lease: timedelta, limit: int) -> list[dict[str, Any]]:
    """Take up to ``limit`` due messages for sending, so no other worker takes them.

    Due: queued with ``next_attempt_at <= now``, or "sending" whose lease ran
    out (its worker crashed mid-send). Claiming sets status "sending", a lease
    and one more attempt, in one short transaction. On PostgreSQL rows another
    worker is claiming are skipped (``FOR UPDATE SKIP LOCKED``), so several
    workers share the queue without waiting on each other; on SQLite the
    write lock makes the claim a single path.
    """
    due = (
        (OutboxMessage.status == "queued") & (OutboxMessage.next_attempt_at <= now)
    ) | ((OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now))
    async with write_transaction(current_engine()):
        query = (
            OutboxMessage.select(OutboxMessage.id)
            .where(due)
            .order_by(OutboxMessage.next_attempt_at)
            .limit(limit)
        )
        if isinstance(current_engine(), PostgresEngine):
            query = query.lock_rows(skip_locked=True)
        ids = [row["id"] for row in await query]
        if not ids:
            return []
        await OutboxMessage.update(
            {
                OutboxMessage.status: "sending",
                OutboxMessage.claimed_until: now + lease,
                OutboxMessage.attempts: OutboxMessage.attempts + 1,
            }
        ).where(OutboxMessage.id.is_in(ids))
        rows = await (
            OutboxMessage.select()
            .where(OutboxMessage.id.is_in(ids))
            .order_by(OutboxMessage.next_attempt_at)
            .output(load_json=True)
        )
        # Kept when queued for a sandbox, or when its site is one now.
        sandboxes = await sandbox_sites({row["site"] for row in rows if row["site"] is not None})
        for row in rows:
            row["sandbox"] = bool(row["sandbox"]) or row["site"] in sandboxes
        return rows


async def _log(message_id: int, outcome: str, detail: str, now: datetime) -> None:
    await DeliveryAttempt.insert(
        DeliveryAttempt(message=message_id, outcome=outcome, detail=detail[:2000], created_at=now)
    )


async def mark_sent(message_id: int, *, provider_id: str, now: datetime) -> None:
    async with write_transaction(current_engine()):
        await OutboxMessage.update(
            {OutboxMessage.status: "sent", OutboxMessage.provider_id: provider_id,
             OutboxMessage.sent_at: now, OutboxMessage.claimed_until: None,
             OutboxMessage.last_error: None}
        ).where(OutboxMessage.id == message_id)
        await _log(message_id, "sent", provider_id, now)


async def mark_sandboxed(message_id: int, *, now: datetime) -> None:
    """A sandbox site's message: done, and kept where the development outbox shows it."""
    async with write_transaction(current_engine()):
        await OutboxMessage.update(
            {OutboxMessage.status: "sandboxed", OutboxMessage.sent_at: now,
             OutboxMessage.claimed_until: None, OutboxMessage.last_error: None}
        ).where(OutboxMessage.id == message_id)
        await _log(message_id, "sandboxed", "sandbox site: not handed to a provider", now)


async def mark_retry(message_id: int, *, error: str, next_attempt_at: datetime, now: datetime) -> None:
    async with write_transaction(current_engine()):
        await OutboxMessage.update(
            {OutboxMessage.status: "queued", OutboxMessage.next_attempt_at: next_attempt_at,
             OutboxMessage.claimed_until: None, OutboxMessage.last_error: error[:2000]}
        ).where(OutboxMessage.id == message_id)
        await _log(message_id, "transient", error, now)


async def mark_failed(message_id: int, *, error: str, outcome: str, now: datetime, then=None) -> None:
    """Give the message up; ``then`` (an async callable) runs in the same transaction (the webhook event)."""
    async with write_transaction(current_engine()):
        await OutboxMessage.update(
            {OutboxMessage.status: "failed", OutboxMessage.claimed_until: None,
             OutboxMessage.last_error: error[:2000]}
        ).where(OutboxMessage.id == message_id)
        await _log(message_id, outcome, error, now)
        if then is not None:
            await then()


async def is_opted_out(channel: str, address: str) -> bool:
    return await OptOut.exists().where((OptOut.channel == channel) & (OptOut.address == address))


async def record_opt_out(channel: str, address: str, *, reason: str, now: datetime) -> None:
    if not await is_opted_out(channel, address):
        await OptOut.insert(OptOut(channel=channel, address=address, reason=reason, created_at=now))


async def recent_messages(limit: int = 100) -> list[dict[str, Any]]:
    return await (
        OutboxMessage.select().order_by(OutboxMessage.id, ascending=False).limit(limit).output(load_json=True)
    )


async def message_by_uid(uid: str) -> dict[str, Any] | None:
    return await OutboxMessage.select().where(OutboxMessage.uid == uid).first().output(load_json=True)


async def drop_queued(booking_id: int, *, events: Sequence[str]) -> None:
    """Messages of a booking not yet sent that no longer apply (reminders after a move or cancel)."""
    await OutboxMessage.update({OutboxMessage.status: "dropped"}).where(
        (OutboxMessage.booking == booking_id) & (OutboxMessage.status == "queued")
        & OutboxMessage.event.is_in(list(events))
    )


def _state_columns() -> tuple[Any, ...]:
    return (OutboxMessage.uid, OutboxMessage.event, OutboxMessage.channel, OutboxMessage.recipient,
            OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.send_at, OutboxMessage.sent_at,
            OutboxMessage.last_error, OutboxMessage.sandbox)


async def message_state(uid: str) -> dict[str, Any] | None:
    """One message's delivery state, as :func:`messages_of` lists it."""
    return await OutboxMessage.select(*_state_columns()).where(OutboxMessage.uid == uid).first()


async def messages_of(booking_id: int) -> list[dict[str, Any]]:
    """A booking's messages, oldest first, as their delivery state stands."""
    return await (
        OutboxMessage.select(*_state_columns())
        .where(OutboxMessage.booking == booking_id)
        .order_by(OutboxMessage.send_at).order_by(OutboxMessage.id)
    )
