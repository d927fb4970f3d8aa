"""The site's allowed embedding origins, edited on their own (the back office's widget page).

The list lives in the site document (``[site] allowed_origins``), so it is
changed through :func:`services.sites.put_site_document`: the same validation
as a site file, the same ETag (``If-Match``), the same audit entry. Each line
is first read with :func:`domain.origins.normalize_origin`, so a mistake is
named on its own line (``allowed_origins[2]``) in plain words.
"""

from __future__ import annotations

import copy
from datetime import datetime

from slotwise.domain.actors import Actor
from slotwise.domain.model import Site
from slotwise.domain.origins import OriginError, normalize_origin
from slotwise.services.errors import FieldProblem, InvalidInput
from slotwise.services.sites import site_document, put_site_document

ORIGINS_MAX = 50


def read_origins(lines: list[str]) -> list[str]:
    """Normalised origins from what a person wrote, one per entry; blanks skipped, repeats dropped."""
    problems: list[FieldProblem] = []
    found: list[str] = []
    written = [line.strip() for line in lines if line.strip()]
    if len(written) > ORIGINS_MAX:
        raise InvalidInput([FieldProblem("allowed_origins", "too-many", {"limit": ORIGINS_MAX})])
    for index, line in enumerate(written):
        try:
            origin = normalize_origin(line)
        except OriginError as error:
            problems.append(FieldProblem(f"allowed_origins[{index}]", "value-invalid", {"message": str(error)}))
            continue
        if origin not in found:
            found.append(origin)
    if problems:
        raise InvalidInput(problems)
    return found


async def set_allowed_origins(site: Site, lines: list[str], *, if_match: str | None, actor: Actor,
                              now: datetime) -> list[str]:
    """Replace the site's allowed origins; answers them as stored. Audited as a site-document change."""
    origins = read_origins(lines)
    current = await site_document(site)
    document = copy.deepcopy(current.document)
    document.setdefault("site", {})["allowed_origins"] = origins
    await put_site_document(site, document, source="back office", if_match=if_match, actor=actor, now=now)
    return origins
