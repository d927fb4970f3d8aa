"""Errors services raise on purpose. The web layer turns each into one answer: in
``web/problems.py`` for the JSON API, and in one method per page family for HTML pages
(``BookingPages._failed`` in ``web/booking/handlers.py``, ``_failed`` in ``web/manage_pages.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slotwise.domain.policy import Verdict
from slotwise.i18n import N_

if TYPE_CHECKING:
    from slotwise.services.availability import AvailableSlot


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""


class NotFound(ServiceError):
    """``what`` (site, service, booking, …) under ``key`` does not exist, or is not the caller's.

    ``detail`` is the sentence an API answer gives; by default "There is no site 'x'."
    """

    def __init__(self, what: str, key: str, *, detail: str | None = None) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key
        self.detail = detail or f"There is no {what} {key!r}."


# Every problem with an input, by code: its English text, which is also its
# msgid in the gettext catalogs (pages and emails show it translated; the API
# answers in English and adds the code). ``%(name)s`` are the problem's params.
PROBLEM_TEXTS: Mapping[str, str] = {
    # What customers type (shown beside the field in the booking form).
    "name-missing": N_("Please enter your name."),
    "email-missing": N_("Please enter your email address."),
    "email-invalid": N_("This email address is not valid."),
    "phone-missing": N_("Please enter your phone number."),
    "phone-invalid": N_("This phone number is not valid."),
    "phone-needs-country": N_(
        "This phone number is not valid. Please include the country code, e.g. %(example)s."),
    "too-long": N_("Please use at most %(limit)s characters."),
    "consent-missing": N_("Please confirm this to continue."),
    "answer-missing": N_("Please answer this question."),
    "number-expected": N_("Please enter a number."),
    "number-too-small": N_("Please enter %(low)s or more."),
    "number-too-large": N_("Please enter %(high)s or less."),
    "option-unknown": N_("Please choose one of the options."),
    "text-expected": N_("Please enter text."),
    "address-missing": N_("Please enter your address."),
    # Request parameters and bodies (what a program sends).
    "required": N_("is required"),
    "date-expected": N_("must be a date as YYYY-MM-DD, got %(value)s"),
    "instant-expected": N_("must be an ISO-8601 time with offset such as 2026-12-01T09:00:00+01:00, "
                           "got %(value)s"),
    "offset-missing": N_("needs a UTC offset (e.g. +01:00 or Z)"),
    "zone-unknown": N_("unknown time zone %(value)s; use an IANA name such as Europe/Berlin"),
    "end-before-start": N_("must not be before start"),
    "range-too-long": N_("the range may span at most %(days)s days, start and end included"),
    "text-too-long": N_("must be text of at most %(limit)s characters"),
    "string-expected": N_("must be a string"),
    "object-expected": N_("must be an object"),
    "resource-not-offering": N_("%(value)s does not offer this service"),
    "locale-unsupported": N_("must be one of %(choices)s"),
    "key-length": N_("must be 1 to %(limit)s characters"),
    "current-time": N_("is the booking's current time; choose another"),
    "scope-unknown": N_("unknown scope %(value)s; use one or more of %(choices)s"),
    "date-in-past": N_("must lie in the future"),
    "date-or-instant-expected": N_("must be a date (YYYY-MM-DD) or an ISO-8601 time with offset, got %(value)s"),
    "cursor-invalid": N_("is not a cursor this API gave out"),
    "number-between": N_("must be a whole number from %(low)s to %(high)s"),
    "unknown-key": N_("there is no %(value)s here"),
    "choice-unknown": N_("must be one of %(choices)s"),
    "field-unknown": N_("is not a field of this request"),
    "boolean-expected": N_("must be true or false"),
    "out-of-calendar": N_("must lie between %(earliest)s and %(latest)s"),
    "template-invalid": N_("template error on line %(line)s: %(message)s"),
    "template-failed": N_("the template cannot be rendered: %(message)s"),
    "too-many": N_("may hold at most %(limit)s entries"),
    "variable-name": N_("must be a name of letters, digits and _ (at most %(limit)s characters, "
                        "not starting with a digit or _)"),
    "no-phone": N_("the customer gave no phone number"),
    "sms-disabled": N_("SMS are not enabled for this site (sms_enabled in [site])"),
    "metadata-too-many": N_("may have at most %(limit)s keys"),
    "metadata-key": N_("keys must be 1 to %(limit)s lower-case letters, digits and _, starting with a letter"),
    "metadata-value": N_("must be text, a number or true/false"),
    "value-invalid": N_("is not valid: %(message)s"),
    "webhook-url-invalid": N_("must be an http or https URL without a user name or password"),
    "webhook-url-private": N_("points to a private or loopback address, which webhooks may not call"),
    "control-characters": N_("must not contain control characters"),
    # The site file's own checks, reused by the admin API's catalog bodies: their messages are
    # English only (as `slotwise apply` prints them), so this one has no catalog entry.
    "site-file-rule": "%(message)s",
    # A CSV import's sheet or cell syntax (services/catalog_import.py): English only, like the above.
    "csv-rule": "%(message)s",
    # Connected calendars (services/calendars.py).
    "http-url-expected": N_("must be an http:// or https:// URL"),
    "caldav-only": N_("only a CalDAV calendar can have bookings written to it"),
    "private-address": N_("points to a private or loopback address; "
                          "the server allows that only with SLOTWISE_WEBHOOK_ALLOW_PRIVATE=1"),
    # Owner accounts.
    "password-too-short": N_("Please use at least %(limit)s characters."),
}


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """What is wrong with one input.

    ``field`` is a query parameter, header or JSON path (``customer.email``,
    ``answers.reason``); ``code`` a key of :data:`PROBLEM_TEXTS`; ``params``
    fill its text. ``message`` is the English text, for the API and logs.
    """

    field: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in PROBLEM_TEXTS:
            raise ValueError(f"unknown problem code {self.code!r}")

    @property
    def message(self) -> str:
        return PROBLEM_TEXTS[self.code] % self.params

    def text(self, gettext: Callable[..., str]) -> str:
        """The text in a language: ``gettext(msgid, **params)`` as ``Formatter.gettext`` takes it."""
        return gettext(PROBLEM_TEXTS[self.code], **self.params)


class InvalidInput(ServiceError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class Unauthenticated(ServiceError):
    """No usable credentials: a missing, unknown, revoked or expired key (401)."""


class Forbidden(ServiceError):
    """The caller may see the site but not do this there (403)."""

    def __init__(self, action: str) -> None:
        super().__init__(f"not allowed: {action}")
        self.action = action


class SlotUnavailable(ServiceError):
    """The start is not (or no longer) bookable; ``alternatives`` are the next free ones."""

    def __init__(self, alternatives: list[AvailableSlot]) -> None:
        super().__init__("this time is no longer available")
        self.alternatives = alternatives


class IdempotencyConflict(ServiceError):
    """The key was used before with a different request."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used with a different request")


class ActionRefused(ServiceError):
    """The rules the change must keep do not allow it (any more): ``verdict`` says why.

    ``contact`` is whom the customer can call or write instead.
    """

    def __init__(self, action: str, verdict: Verdict, contact: str | None) -> None:
        super().__init__(f"{action} is not possible: {verdict.reason}")
        self.action = action
        self.verdict = verdict
        self.contact = contact

    @property
    def gone(self) -> bool:
        """A cancelled booking is gone for good; anything else refused conflicts with the policy now."""
        return self.verdict.reason == "cancelled"


# --- owner accounts ---------------------------------------------------------------------


class SignInFailed(ServiceError):
    """The email and password do not belong together. The same for an unknown email, an
    account without a password yet, a disabled account and a wrong password: nobody
    learns from it whether an account exists."""

    def __init__(self) -> None:
        super().__init__("the email address or the password is not right")


class SignInThrottled(ServiceError):
    """Too many failed sign-ins for this email or from this client; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} seconds")
        self.retry_after = retry_after


class LinkInvalid(ServiceError):
    """A one-time link that is unknown, used or expired (``reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"this link cannot be used: {reason}")
        self.reason = reason


class MembershipRefused(ServiceError):
    """A membership that cannot be: staff without a person resource, a resource for another role, ..."""


# --- the catalog through the admin API -----------------------------------------------------


class PreconditionFailed(ServiceError):
    """``If-Match`` names another version than the stored one (412): someone changed it meanwhile."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key!r} was changed since you read it; read it again and retry")
        self.what = what
        self.key = key


class InUse(ServiceError):
    """The change would leave something that relies on it broken (409); ``used_by`` names them."""

    def __init__(self, message: str, used_by: list[str]) -> None:
        super().__init__(message)
        self.used_by = used_by
