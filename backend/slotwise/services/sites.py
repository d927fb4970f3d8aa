"""Apply a site file: create or update one site, its resources and its services, in one transaction.

Applying the same file twice changes nothing; resources and services that
disappear from the file are deactivated, never deleted (see persistence.catalog).
A change takes effect for accepting bookings at once in this process, and
within ``OFFER_CACHE_SECONDS`` in every other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import tomli_w

from slotwise.domain.actors import Actor
from slotwise.persistence import catalog
from slotwise.persistence.catalog import ApplyReport
from slotwise.domain.model import Site
from slotwise.persistence.engine import current_engine, read_transaction, write_transaction
from slotwise.services import audit
from slotwise.services.errors import FieldProblem, InvalidInput, PreconditionFailed
from slotwise.services.availability import forget_offers
from slotwise.sitefile import SiteFileError, SiteSpec, parse_site_data, writing

__all__ = ["ApplyReport", "SiteDocument", "apply_site", "document_as_toml", "put_site_document", "site_document"]


async def apply_site(spec: SiteSpec, *, actor: Actor, now: datetime, via: str = "apply") -> ApplyReport:
    """Create or update the site described by ``spec``.

    ``actor`` is who applied it (the command, and with the admin API an
    account or key); the audit log records it with each object that changed,
    and ``via`` the way in (``apply``: the command; ``site-document``: the PUT).
    """
    async with write_transaction(current_engine()):
        before = await audit.site_state(spec.slug)
        report = await catalog.write_site(spec, now=now)
        if report.changed:
            await audit.record_site(spec.slug, before, actor=actor, now=now, via=via)
    forget_offers()
    return report


@dataclass(frozen=True, slots=True)
class SiteDocument:
    """The whole site as a site file holds it, and an ETag of that document."""

    spec: SiteSpec
    document: dict[str, Any]
    etag: str


async def site_document(site: Site) -> SiteDocument:
    async with read_transaction(current_engine()):
        spec = await catalog.read_site(site.id)
    # Without nulls, like the site file it stands for: what GET answers, PUT takes back.
    document = writing.without_nulls(writing.site_document(spec))
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32]
    return SiteDocument(spec, document, f'"{digest}"')


def document_as_toml(document: dict[str, Any]) -> str:
    """The document as a site file (TOML): ``slotwise apply`` of it changes nothing."""
    return tomli_w.dumps(document)


async def put_site_document(site: Site, data: Any, *, source: str, if_match: str | None, actor: Actor,
                            now: datetime) -> ApplyReport:
    """Apply a whole document (a parsed site file) to ``site``, exactly as ``slotwise apply`` would.

    The document must describe this site (its slug); ``if_match`` (the
    ``If-Match`` header) must name the current document's ETag, or be None.
    """
    try:
        spec = parse_site_data(data, source=source)
    except SiteFileError as error:
        raise InvalidInput([FieldProblem(p.path or "document", "site-file-rule", {"message": p.message})
                            for p in error.problems]) from None
    if spec.slug != site.slug:
        raise InvalidInput([FieldProblem("site.slug", "site-file-rule", {
            "message": f"must be {site.slug!r}, the site this document is sent to"})])
    if if_match is not None and if_match.strip() != "*":
        current = await site_document(site)
        if if_match.strip() != current.etag:
            raise PreconditionFailed("site", site.slug)
    return await apply_site(spec, actor=actor, now=now, via="site-document")
