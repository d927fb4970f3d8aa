"""In-process caches of database reads, dropped the moment another process changes their tables.

The hottest reads (busy time for availability, an API key, a back-office
session) cost one PostgreSQL round trip each, about as much as the rest of the
request together (docs/decisions.md, "Caches that PostgreSQL invalidates").
A ``TableCache`` keeps such reads in memory and forgets them when one of its
tables changes:

- **Other processes' writes**: statement triggers on the watched tables
  (migration m0017) send ``NOTIFY slotwise_changed, '<table>'`` on commit; one
  connection per process ``LISTEN``s and clears the caches of that table.
- **This process's writes**: ``write_transaction`` calls ``note_local_write``
  after it ends, which clears every cache at once, so a process always reads
  its own writes without waiting for the notice.
- **No feed, no cache**: until the listening connection is up and has heard
  a probe notice sent through the pool (behind a pooler in transaction mode
  nothing would ever arrive), and as soon as it is lost, caches keep nothing
  and every read goes to the database (a lost connection may have missed notices). SQLite has no notifications: there the
  caches never keep anything (its reads are local anyway).
- **Transactions read live**: inside a transaction a cache always loads, so a
  booking re-checks busy time against the database under its locks; a cached
  availability answer is at worst a fraction of a millisecond behind a commit
  in another process, and the booking transaction refuses what is taken.

A read that races a change is never kept: each cache has a version, bumped on
every clear, and a value loaded while the version moved is returned but not
stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from piccolo.engine.postgres import PostgresEngine

from slotwise.persistence.engine import current_engine, postgres_fetch
from slotwise.persistence.migrations.m0017_change_notices import TABLES as WATCHABLE_TABLES

log = logging.getLogger(__name__)

CHANNEL = "slotwise_changed"
# After a failed attempt to listen, caches stay off this long before the next try.
RETRY_SECONDS = 5.0
# How long the listener waits to hear its own probe before it gives up (see _Feed._prove).
PROOF_SECONDS = 2.0

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TableCache(Generic[K, V]):
    """Values loaded from ``tables``, kept (up to ``size``, least recently used out) until one changes."""

    def __init__(self, *tables: str, size: int = 1024) -> None:
        unknown = set(tables) - set(WATCHABLE_TABLES)
        if unknown:
            raise ValueError(f"no change notices for {sorted(unknown)}: add a trigger in a migration")
        self.tables = tables
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._version = 0
        _feed.caches.append(self)

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The value for ``key``: kept, or from ``load()`` (and kept when the feed is live)."""
        engine = current_engine()
        if not isinstance(engine, PostgresEngine) or engine.current_transaction.get() is not None:
            return await load()
        if not _feed.live(engine):
            return await load()
        try:
            value = self._entries[key]
        except KeyError:
            pass
        else:
            self._entries.move_to_end(key)
            return value
        version = self._version
        value = await load()
        if version == self._version and _feed.live(engine):
            self._entries[key] = value
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def discard(self, key: K) -> None:
        """Forget ``key``'s value (one that went stale by the clock, not by a change)."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._version += 1


class _Feed:
    """The one listening connection of a process, and the caches it clears."""

    def __init__(self) -> None:
        self.caches: list[TableCache] = []
        self.connection = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connecting: asyncio.Task | None = None
        self.failed_at = float("-inf")

    def live(self, engine: PostgresEngine) -> bool:
        """True when notices are being heard in this event loop; else starts listening in the background."""
        loop = asyncio.get_running_loop()
        if self.connection is not None and self.loop is loop and not self.connection.is_closed():
            return True
        if self.loop is not loop:  # a new event loop (tests, a command): the old connection is unusable
            self._drop()
        if self.connecting is None and time.monotonic() - self.failed_at >= RETRY_SECONDS:
            self.loop = loop
            self.connecting = loop.create_task(self._listen(engine))
        return False

    async def _listen(self, engine: PostgresEngine) -> None:
        import asyncpg

        connection = None
        try:
            connection = await asyncpg.connect(**engine.config)
            await connection.add_listener(CHANNEL, self._heard)
            await self._prove(engine, connection)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("change feed: cannot listen, in-process caches stay off for now: %r", exc)
            self.failed_at = time.monotonic()
            if connection is not None and not connection.is_closed():
                await connection.close()
            return
        finally:
            self.connecting = None
        connection.add_termination_listener(self._lost)
        forget_all()  # nothing kept from before the LISTEN (caches were off; belt and braces)
        self.connection = connection

    async def _prove(self, engine: PostgresEngine, connection) -> None:
        """Hear a notice sent from another connection, or raise TimeoutError.

        Behind a pooler in transaction mode (PgBouncer's default) ``LISTEN``
        is accepted but nothing is ever delivered: caches would then keep
        stale values forever. Only a feed that is heard turns them on.
        """
        probe = f"probe {uuid.uuid4().hex}"
        heard = asyncio.get_running_loop().create_future()

        def listen_for_probe(_connection: object, _pid: int, _channel: str, payload: str) -> None:
            if payload == probe and not heard.done():
                heard.set_result(True)

        await connection.add_listener(CHANNEL, listen_for_probe)
        try:
            await postgres_fetch(engine, "SELECT pg_notify($1, $2)", CHANNEL, probe)
            await asyncio.wait_for(heard, PROOF_SECONDS)
        finally:
            await connection.remove_listener(CHANNEL, listen_for_probe)

    def _heard(self, _connection: object, _pid: int, _channel: str, table: str) -> None:
        for cache in self.caches:
            if table in cache.tables:
                cache.clear()

    def _lost(self, connection: object) -> None:
        if connection is not self.connection:
            return  # closed on purpose (stop) or already replaced
        log.warning("change feed: listening connection lost, in-process caches off until it is back")
        self.connection = None
        forget_all()

    def _drop(self) -> None:
        self.connection = None
        self.connecting = None
        forget_all()

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        task, self.connecting = self.connecting, None
        if task is not None:
            task.cancel()
        forget_all()
        if connection is not None and not connection.is_closed():
            await connection.close()


_feed = _Feed()


def note_local_write() -> None:
    """After a write transaction of this process: forget everything, so the process reads its own writes."""
    forget_all()


def forget_all() -> None:
    for cache in _feed.caches:
        cache.clear()


async def start(engine: PostgresEngine) -> bool:
    """Listen now (``Database.open``), so caches work from the first request; False if it could not."""
    _feed.live(engine)
    if _feed.connecting is not None:
        await asyncio.shield(_feed.connecting)
    return _feed.live(engine)


async def catch_up(engine: PostgresEngine) -> None:
    """Return once every notice committed before the call has been heard (tests, mostly).

    PostgreSQL delivers notices to a listener in commit order, so hearing a
    probe sent now means everything earlier has arrived too.
    """
    if not await start(engine):
        raise RuntimeError("the change feed is not listening")
    await _feed._prove(engine, _feed.connection)


async def stop() -> None:
    """Close the listening connection (``Database.close``); caches are off until it listens again."""
    await _feed.close()
