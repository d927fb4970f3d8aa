"""Every error becomes RFC 9457 problem details, decided here and nowhere else."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.status_codes import (
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_410_GONE,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from slotwise.services.catalog_import import ImportRejected
from slotwise.services.errors import (
    ActionRefused,
    FieldProblem,
    Forbidden,
    IdempotencyConflict,
    InUse,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    SlotUnavailable,
    Unauthenticated,
)

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://slotwise.dev/problems/"


def problem(
    status: int, kind: str, title: str, detail: str = "", **extra: Any
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        type_=PROBLEM_BASE + kind,
        title=title,
        detail=detail,
        extra=extra or None,
    )


def field_errors(problems: list[FieldProblem]) -> list[dict[str, str]]:
    """One entry per problem: the field, a stable ``code`` programs can act on, the English text."""
    return [{"name": p.field, "code": p.code, "detail": p.message} for p in problems]


def _not_found(exc: NotFound) -> ProblemDetailsException:
    return problem(HTTP_404_NOT_FOUND, "not-found", f"Unknown {exc.what}", exc.detail)


def _invalid_input(exc: InvalidInput) -> ProblemDetailsException:
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        "invalid-input",
        "The request has invalid values",
        str(exc),
        errors=field_errors(exc.problems),
    )


def _slot_unavailable(exc: SlotUnavailable) -> ProblemDetailsException:
    return problem(
        HTTP_409_CONFLICT,
        "slot-unavailable",
        "This time is no longer available",
        "Someone else took this time, or it is outside the bookable hours. "
        "The next free times are listed in 'alternatives'.",
        alternatives=[
            {
                "start": slot.start.isoformat(),
                "end": slot.end.isoformat(),
                "resources": [{"key": r.key, "name": r.name, "kind": str(r.kind)} for r in slot.resources],
            }
            for slot in exc.alternatives
        ],
    )


def _action_refused(exc: ActionRefused) -> ProblemDetailsException:
    deadline = exc.verdict.deadline.isoformat() if exc.verdict.deadline else None
    contact = f" Please contact {exc.contact}." if exc.contact else ""
    # A cancelled booking is gone for good (as GET on its link says); anything
    # else refused is a conflict with the policy at this moment.
    return problem(
        HTTP_410_GONE if exc.gone else HTTP_409_CONFLICT,
        "not-allowed",
        f"This booking can no longer be {'cancelled' if exc.action == 'cancel' else 'moved'} online",
        f"Reason: {exc.verdict.reason}.{contact}",
        action=exc.action, reason=exc.verdict.reason, until=deadline, contact=exc.contact,
    )


def _idempotency_conflict(exc: IdempotencyConflict) -> ProblemDetailsException:
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
        "Idempotency-Key reused with a different request",
        str(exc),
        errors=[{"name": "Idempotency-Key", "detail": str(exc)}],
    )


def _import_rejected(exc: ImportRejected) -> ProblemDetailsException:
    """An import with problems: 422 per row and column, and the whole report, as a dry run answers it."""
    report = exc.report
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY, "import-rejected", "The import has problems; nothing was written",
        f"{report.counts['error']} of {len(report.rows)} rows have problems; see 'rows'.",
        errors=field_errors(exc.problems), counts=report.counts,
        rows=[{"row": row.row, "key": row.key, "outcome": row.outcome,
               "errors": [{"column": e.column, "path": e.path, "code": e.code, "detail": e.detail}
                          for e in row.errors]} for row in report.rows],
    )


def _unauthenticated(exc: Unauthenticated) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=401, type_=PROBLEM_BASE + "unauthenticated", title="A valid API key is needed",
        detail="Send 'Authorization: Bearer <key>' with a key that is neither revoked nor expired.",
        headers={"WWW-Authenticate": 'Bearer realm="slotwise"'},
    )


def _forbidden(exc: Forbidden) -> ProblemDetailsException:
    return problem(403, "forbidden", "Not allowed", f"This key or account may not do this here: {exc.action}.",
                   action=exc.action)


def _precondition_failed(exc: PreconditionFailed) -> ProblemDetailsException:
    return problem(HTTP_412_PRECONDITION_FAILED, "precondition-failed",
                   f"The {exc.what} was changed since it was read", str(exc))


def _in_use(exc: InUse) -> ProblemDetailsException:
    return problem(HTTP_409_CONFLICT, "in-use", "Still in use", str(exc), used_by=exc.used_by)


# msgspec's messages, as Litestar passes them on for a body typed as a Struct or dataclass
# (web/bodies.py's pydantic bodies never get here): the first problem only, mapped to our codes.
_UNKNOWN = re.compile(r"^Object contains unknown field `(.+)`")
_MISSING = re.compile(r"^Object missing required field `(.+)`")
_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `[^`]+`")
_TYPE_CODES = {"str": "string-expected", "bool": "boolean-expected", "object": "object-expected"}


def _framework_problem(key: str, message: str, source: str | None) -> FieldProblem | None:
    """One of Litestar's validation messages as our problem, when we recognise it."""
    base = "" if key == "data" else key.removeprefix("data.")

    def at(name: str) -> str:
        return f"{base}.{name}" if base else name

    if source == "body" and key == "data" and message == "'data'":
        return FieldProblem("body", "required")  # a route that needs a body got none
    if found := _UNKNOWN.match(message):
        return FieldProblem(at(found[1]), "field-unknown")
    if found := _MISSING.match(message):
        return FieldProblem(at(found[1]), "required")
    if found := _EXPECTED.match(message):
        code = _TYPE_CODES.get(found[1])
        return FieldProblem(base or "body", code) if code else FieldProblem(
            base or "body", "value-invalid", {"message": message})
    return None


def _framework_validation(exc: ValidationException) -> ProblemDetailsException:
    """Litestar's own parameter and body checks: 422 with the fields it named."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        known = _framework_problem(str(item.get("key", "")), str(item.get("message", "")), item.get("source"))
        errors.append(field_errors([known])[0] if known else
                      {"name": str(item.get("key", "")), "detail": str(item.get("message", ""))})
    return problem(
        HTTP_422_UNPROCESSABLE_ENTITY,
        "invalid-input",
        "The request has invalid values",
        str(exc.detail),
        errors=errors,
    )


def _route_not_found(exc: NotFoundException) -> ProblemDetailsException:
    # Litestar's own detail is a bare "Not Found"; say what it means.
    return problem(HTTP_404_NOT_FOUND, "not-found", "Not found", "There is nothing at this address.")


def _http_exception(exc: HTTPException) -> ProblemDetailsException:
    if exc.status_code == 413:
        from slotwise.web.request_limits import MAX_BODY_BYTES  # that module raises through this one

        return problem(413, "body-too-large", "The body is too large",
                       f"No request of this API is larger than {MAX_BODY_BYTES:,} bytes.", limit=MAX_BODY_BYTES)
    return ProblemDetailsException(
        status_code=exc.status_code, title=str(exc.detail), headers=exc.headers
    )


def internal_error_handler(request: Request, exc: Exception) -> Response:
    """A 500 is always a bug: log it with its traceback, tell the client nothing more."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal", "Internal error").to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                NotFound: _not_found,
                InvalidInput: _invalid_input,
                ImportRejected: _import_rejected,
                SlotUnavailable: _slot_unavailable,
                IdempotencyConflict: _idempotency_conflict,
                ActionRefused: _action_refused,
                Unauthenticated: _unauthenticated,
                Forbidden: _forbidden,
                PreconditionFailed: _precondition_failed,
                InUse: _in_use,
                ValidationException: _framework_validation,
                NotFoundException: _route_not_found,
                HTTPException: _http_exception,
            }
        )
    )
