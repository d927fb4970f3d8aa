"""Piccolo tables.

Instants are ``Timestamptz`` and always written as aware UTC datetimes (on
SQLite Piccolo stores them as text, which orders correctly because every value
is converted to UTC in one format). Structured settings that come from the site
file and are only ever read whole (opening hours, questions) are JSON; anything
queried or constrained is a real column.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

# Limits with their reason. Slugs and keys end up in URLs and site files.
SLUG_LENGTH = 63  # one DNS label, so a slug can become a sub-domain later
NAME_LENGTH = 200
# IANA zone names are at most 32 characters today ("America/Argentina/ComodRivadavia").
ZONE_LENGTH = 64
EMAIL_LENGTH = 254  # RFC 5321 path limit
PHONE_LENGTH = 32  # E.164 is 15 digits; leave room for the "+" and extensions
# Stripe and the IETF Idempotency-Key draft use opaque keys; 255 holds any UUID or ULID form.
IDEMPOTENCY_KEY_LENGTH = 255
# "booking:<id>:cancel:customer:manage-link" and the like; room for long actor refs.
IDEMPOTENCY_SCOPE_LENGTH = 160


class Site(Table, tablename="site", help_text="A tenant: one business."):
    slug = Varchar(length=SLUG_LENGTH, unique=True, index=True)
    name = Varchar(length=NAME_LENGTH)
    timezone = Varchar(length=ZONE_LENGTH, help_text="IANA zone of the business")
    locale = Varchar(length=8, default="en")
    allowed_origins = JSON(default=[], help_text="origins allowed to embed the widget")
    accent = Varchar(length=7, null=True, default=None, help_text="#rrggbb")
    contact_email = Varchar(length=EMAIL_LENGTH, null=True, default=None)
    contact_phone = Varchar(length=PHONE_LENGTH, null=True, default=None)
    address = Varchar(length=NAME_LENGTH, null=True, default=None, help_text="where customers go, one line")
    notify_email = Varchar(length=EMAIL_LENGTH, null=True, default=None)
    hours = JSON(default={}, help_text="default weekly hours resources inherit")
    closed = JSON(default=[], help_text="whole-site closed dates, ISO strings")
    hold_minutes = Integer(default=10)
    max_reschedules = Integer(default=3)
    sms_enabled = Boolean(default=False)
    sandbox = Boolean(default=False, help_text="messages never reach a provider; keys are sw_test_")
    feed_customer_names = Boolean(default=False, help_text="calendar feeds show the customer's name")
    message_templates = JSON(default={}, help_text='owner templates: {"email": {name: source}, "sms": {...}}')
    config_version = Integer(
        default=0, help_text="raised by every change to the site, its resources or services; "
                             "a booking checks it to never use a stale copy")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Resource(Table, tablename="resource", help_text="Anything bookable."):
    site = ForeignKey(references=Site, index=True)
    key = Varchar(length=SLUG_LENGTH, help_text="unique within its site")
    name = Varchar(length=NAME_LENGTH)
    kind = Varchar(length=16)
    timezone = Varchar(length=ZONE_LENGTH, null=True, default=None, help_text="NULL: the site's")
    hours = JSON(null=True, default=None, help_text="NULL: the site's weekly hours")
    closed = JSON(default=[], help_text="closed local dates, ISO strings")
    extra_open = JSON(default={}, help_text="local date -> extra ranges")
    position = Integer(default=0, help_text="order in the site file; first free wins")
    active = Boolean(default=True, help_text="false once removed from the site file")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    texts = JSON(default={}, help_text="fields given per language: field -> locale -> text")
    metadata = JSON(default={}, help_text="the owner's own keys; never shown to customers")


class Service(Table, tablename="service", help_text="What a customer books."):
    site = ForeignKey(references=Site, index=True)
    slug = Varchar(length=SLUG_LENGTH, help_text="unique within its site")
    name = Varchar(length=NAME_LENGTH)
    description = Text(default="")
    duration_minutes = Integer()
    step_minutes = Integer()
    buffer_before_minutes = Integer(default=0)
    buffer_after_minutes = Integer(default=0)
    min_notice_minutes = Integer(default=0)
    max_advance_minutes = Integer()
    seats = Integer(default=1, help_text="1: private appointment; more: group session")
    price_minor = Integer(null=True, default=None, help_text="in the currency's minor unit")
    currency = Varchar(length=3, null=True, default=None)
    cancel_until_minutes = Integer(default=0, help_text="before start")
    reschedule_until_minutes = Integer(default=0, help_text="before start")
    phone = Varchar(length=8, default="optional", help_text="required | optional | hidden")
    reminders = JSON(default=[], help_text="minutes before start")
    questions = JSON(default=[])
    resource_groups = JSON(default=[], help_text="lists of resource keys; one from each")
    position = Integer(default=0)
    enabled = Boolean(default=True, help_text="disabled services stay for history")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    texts = JSON(default={}, help_text="fields given per language: field -> locale -> text")
    metadata = JSON(default={}, help_text="the owner's own keys; never shown to customers")
    category = Varchar(length=NAME_LENGTH, null=True, default=None, help_text="in the site's language")
    listed_duration_minutes = Integer(null=True, default=None, help_text="what customers are told")
    ask_address = Boolean(default=False, help_text="the booking form asks for a postal address")


class Booking(Table, tablename="booking", help_text="A customer's confirmed time."):
    uid = UUID(unique=True, help_text="public id; also the stable iCalendar UID")
    site = ForeignKey(references=Site, index=True)
    service = ForeignKey(references=Service)
    status = Varchar(length=16, default="confirmed", help_text="confirmed | cancelled")
    start_at = Timestamptz(index=True)
    end_at = Timestamptz()
    customer_name = Varchar(length=NAME_LENGTH)
    customer_email = Varchar(length=EMAIL_LENGTH)
    customer_phone = Varchar(length=PHONE_LENGTH, null=True, default=None, help_text="E.164")
    answers = JSON(default={})
    price_minor = Integer(null=True, default=None, help_text="snapshot at booking time")
    currency = Varchar(length=3, null=True, default=None)
    locale = Varchar(length=8, default="en")
    timezone = Varchar(length=ZONE_LENGTH, help_text="the customer's zone")
    manage_token_hash = Varchar(length=64, null=True, default=None, unique=True)
    manage_token_salt = Varchar(
        length=32, default="", help_text="random; the manage token is derived from it and the secret key"
    )
    sequence = Integer(default=0, help_text="iCalendar SEQUENCE, raised on each change")
    reschedule_count = Integer(default=0)
    resource_ids = JSON(
        default=[],
        help_text="the resources assigned, by id; kept after a cancel, when the allocations are gone",
    )
    cancel_reason = Text(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    metadata = JSON(default={}, help_text="the owner's own keys; never shown to customers")
    customer_address = Text(null=True, default=None, help_text="postal address, when the service asks")


class BookingEvent(Table, tablename="booking_event", help_text="History of one booking."):
    booking = ForeignKey(references=Booking, index=True)
    kind = Varchar(length=32, help_text="booked | rescheduled | cancelled | ...")
    data = JSON(default={})
    actor_kind = Varchar(length=16, default="system", help_text="customer | account | api_key | system")
    actor_ref = Varchar(length=255, null=True, default=None, help_text="who within the kind (how a customer came)")
    actor_label = Varchar(length=NAME_LENGTH, null=True, default=None, help_text="as the history shows them")
    created_at = Timestamptz()


class Hold(Table, tablename="hold", help_text="A short reservation while a customer types."):
    site = ForeignKey(references=Site, index=True)
    service = ForeignKey(references=Service)
    token_hash = Varchar(length=64, unique=True)
    start_at = Timestamptz()
    end_at = Timestamptz()
    expires_at = Timestamptz(index=True)
    created_at = Timestamptz()
    client = Varchar(length=64, null=True, default=None, index=True,
                     help_text="SHA-256 of the client's address: the cap on live holds per client counts it")


class Allocation(
    Table,
    tablename="allocation",
    help_text="Time a resource is committed to a booking or a live hold.",
):
    """One row per resource a booking or hold takes.

    ``blocked_from``/``blocked_until`` include the service's buffers; the
    availability query reads only this table for busy time, and the capacity
    sweep in the tests checks it.
    """

    resource = ForeignKey(references=Resource)
    service = ForeignKey(references=Service)
    booking = ForeignKey(references=Booking, null=True, default=None, index=True)
    hold = ForeignKey(references=Hold, null=True, default=None, index=True)
    start_at = Timestamptz()
    end_at = Timestamptz()
    blocked_from = Timestamptz()
    blocked_until = Timestamptz()
    seats = Integer(default=1)
    expires_at = Timestamptz(null=True, default=None, help_text="holds only")


class IdempotencyKey(
    Table,
    tablename="idempotency_key",
    help_text="The first outcome of a write sent with an idempotency key, replayed on repeats.",
):
    """One row per (scope, key), for any write that honours ``Idempotency-Key``.

    ``scope`` says which write and for whom (``site:3:booking:customer:api``,
    ``booking:17:cancel:customer:manage-link``), so keys chosen by different
    clients or for different writes never meet. ``result`` is what the write
    needs to answer the repeat the same way (``{"booking": 17}``).
    """

    scope = Varchar(length=IDEMPOTENCY_SCOPE_LENGTH)
    key = Varchar(length=IDEMPOTENCY_KEY_LENGTH)
    request_hash = Varchar(length=64, help_text="SHA-256 of the canonical request body")
    result = JSON(default={})
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)


class OutboxMessage(
    Table,
    tablename="outbox_message",
    help_text="An email or SMS, rendered and queued in the transaction that caused it.",
):
    uid = UUID(unique=True, help_text="stable id; also the email's Message-ID")
    site = ForeignKey(references=Site, index=True)
    booking = ForeignKey(references=Booking, null=True, default=None, index=True)
    event = Varchar(length=32, help_text="confirmed | rescheduled | cancelled | reminder")
    channel = Varchar(length=8, help_text="email | sms")
    recipient = Varchar(length=EMAIL_LENGTH)
    content = JSON(help_text="the rendered message, as the sender takes it")
    status = Varchar(length=16, default="queued",
                     help_text="queued | sending | sent | failed | dropped | sandboxed")
    sandbox = Boolean(default=False, help_text="queued for a sandbox site: kept, never handed to a provider")
    send_at = Timestamptz(help_text="not before this instant (reminders lie ahead)")
    next_attempt_at = Timestamptz(index=True)
    attempts = Integer(default=0)
    claimed_until = Timestamptz(null=True, default=None, help_text="lease of the worker sending it")
    last_error = Text(null=True, default=None)
    provider_id = Varchar(length=255, null=True, default=None)
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)


class DeliveryAttempt(Table, tablename="delivery_attempt", help_text="The delivery log of a message."):
    message = ForeignKey(references=OutboxMessage, index=True)
    outcome = Varchar(length=16, help_text="sent | transient | permanent | opted-out")
    detail = Text(default="")
    created_at = Timestamptz()


class OptOut(Table, tablename="opt_out", help_text="Addresses that must not be messaged again."):
    channel = Varchar(length=8)
    address = Varchar(length=EMAIL_LENGTH)
    reason = Text(default="")
    created_at = Timestamptz()


class ApiKey(Table, tablename="api_key", help_text="A program's key to one site's admin API."):
    """Only the key's SHA-256 is stored; the key itself is shown once, when created.

    ``public_id`` (``key_…``) names the key in lists, logs and history;
    ``hint`` (the key's first characters) lets an owner tell their keys apart.
    """

    public_id = Varchar(length=32, unique=True)
    site = ForeignKey(references=Site, index=True)
    name = Varchar(length=NAME_LENGTH)
    token_hash = Varchar(length=64, unique=True)
    hint = Varchar(length=16, help_text="the key's first characters, e.g. sw_live_Ab3x")
    scopes = JSON(default=[], help_text="catalog:read, bookings:write, ...")
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None, help_text="written at most once a minute")


class TimeOff(Table, tablename="time_off", help_text="Time a resource is not bookable: leave, a repair, a meeting."):
    """Any span, from an hour to weeks; it blocks ``[start_at, end_at)`` without buffers.

    Not configuration but busy time, like bookings: every booking reads it
    under its locks; availability keeps it only until it changes (change_feed).
    """

    public_id = Varchar(length=32, unique=True)
    site = ForeignKey(references=Site, index=True)
    resource = ForeignKey(references=Resource, index=True)
    start_at = Timestamptz()
    end_at = Timestamptz()
    reason = Text(default="")
    actor_kind = Varchar(length=16, default="system")
    actor_ref = Varchar(length=255, null=True, default=None)
    actor_label = Varchar(length=NAME_LENGTH, null=True, default=None)
    created_at = Timestamptz()


class CalendarConnection(
    Table, tablename="calendar_connection", help_text="An ICS URL or CalDAV calendar whose busy events block a resource.",
):
    """One outside calendar of a resource (docs/calendars.md).

    ``state`` is ``pending`` until the first sync, then ``ok`` or ``error``;
    ``last_synced_at`` is the last success, ``failures`` the failures since.
    The password is encrypted with a key derived from the secret key.
    """

    public_id = Varchar(length=32, unique=True, help_text="cal_<random>")
    site = ForeignKey(references=Site, index=True)
    resource = ForeignKey(references=Resource, index=True)
    kind = Varchar(length=8, help_text="ics | caldav")
    url = Text()
    username = Varchar(length=255, null=True, default=None)
    password_encrypted = Text(null=True, default=None, help_text="Fernet token; never the password itself")
    write_bookings = Boolean(default=False, help_text="CalDAV only: bookings are written to the calendar")
    state = Varchar(length=16, default="pending", help_text="pending | ok | error")
    last_synced_at = Timestamptz(null=True, default=None, help_text="the last successful sync")
    last_attempt_at = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)
    failures = Integer(default=0, help_text="failed syncs in a row; the owner is emailed at 3")
    etag = Varchar(length=255, null=True, default=None, help_text="ICS: for the next conditional GET")
    last_modified = Varchar(length=64, null=True, default=None, help_text="ICS: for the next conditional GET")
    next_sync_at = Timestamptz(index=True)
    claimed_until = Timestamptz(null=True, default=None, help_text="lease of the worker syncing it")
    created_at = Timestamptz()


class CalendarBusy(Table, tablename="calendar_busy", help_text="A busy block from a connected calendar."):
    """``[start_at, end_at)`` of ``resource`` is busy; replaced whole by each good sync."""

    connection = ForeignKey(references=CalendarConnection, index=True)
    resource = ForeignKey(references=Resource, index=True)
    start_at = Timestamptz()
    end_at = Timestamptz()
    uid = Varchar(length=255, default="", help_text="the event's UID, for the logs")


class CalendarWrite(Table, tablename="calendar_write", help_text="A booking change to write back to CalDAV."):
    """The write-back outbox: ``put`` writes the booking's event as it is now, ``delete`` removes it."""

    connection = ForeignKey(references=CalendarConnection, index=True)
    booking = ForeignKey(references=Booking, index=True)
    action = Varchar(length=8, help_text="put | delete")
    status = Varchar(length=16, default="queued", help_text="queued | sending | done | failed")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    claimed_until = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz()
    done_at = Timestamptz(null=True, default=None)


# --- owner accounts -------------------------------------------------------------------

# "acc_" and 20 hex characters (80 random bits): a public id, not a secret.
ACCOUNT_ID_LENGTH = 32
# An IPv6 address in text is at most 45 characters; room for a zone suffix.
CLIENT_ADDRESS_LENGTH = 64
USER_AGENT_LENGTH = 255
# An argon2id hash in PHC form ($argon2id$v=19$m=65536,t=3,p=4$salt$hash) is about 100 characters.
PASSWORD_HASH_LENGTH = 255


class Account(Table, tablename="account", help_text="A person who signs in to run one or more sites."):
    public_id = Varchar(length=ACCOUNT_ID_LENGTH, unique=True, help_text="acc_<random>; shown and logged")
    email = Varchar(length=EMAIL_LENGTH, unique=True, help_text="normalised: trimmed, lower-case")
    name = Varchar(length=NAME_LENGTH, default="")
    locale = Varchar(length=8, default="en", help_text="the language of their emails")
    password_hash = Varchar(length=PASSWORD_HASH_LENGTH, null=True, default=None,
                            help_text="argon2id, PHC string; NULL until a password is set")
    disabled = Boolean(default=False, help_text="may not sign in")
    created_at = Timestamptz()
    last_sign_in_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="membership", help_text="An account's role on one site."):
    """One row per account and site (a unique index in m0005)."""

    account = ForeignKey(references=Account, index=True)
    site = ForeignKey(references=Site, index=True)
    role = Varchar(length=16, help_text="owner | manager | staff | viewer")
    resource_key = Varchar(length=SLUG_LENGTH, null=True, default=None,
                           help_text="staff only: the person resource they are")
    added_by = Varchar(length=255, default="", help_text="the actor who added it: kind:ref")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class AccountSession(Table, tablename="account_session", help_text="A signed-in browser, server-side."):
    token_hash = Varchar(length=64, unique=True, help_text="SHA-256 of the cookie's token")
    account = ForeignKey(references=Account, index=True)
    created_at = Timestamptz()
    last_seen_at = Timestamptz(help_text="written at most once a minute")
    expires_at = Timestamptz(help_text="the absolute end: created_at + 30 days")
    revoked_at = Timestamptz(null=True, default=None)
    user_agent = Varchar(length=USER_AGENT_LENGTH, default="")
    client_address = Varchar(length=CLIENT_ADDRESS_LENGTH, default="")


class AccountToken(Table, tablename="account_token", help_text="A one-time link: invitation or password reset."):
    """The link's token is derived from ``salt`` and the secret key; only its SHA-256 is stored.

    ``message_uid`` is the outbox message that carries the link (a placeholder
    there), so the worker can derive the token when it sends.
    """

    token_hash = Varchar(length=64, unique=True)
    salt = Varchar(length=32, help_text="random; the token is HMAC(secret key, salt)")
    account = ForeignKey(references=Account, index=True)
    site = ForeignKey(references=Site, null=True, default=None, help_text="the inviting site, if any")
    purpose = Varchar(length=16, help_text="invitation | reset")
    message_uid = UUID(null=True, default=None, help_text="the outbox message carrying the link")
    issued_by = Varchar(length=255, default="", help_text="the actor who issued it: kind:ref")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class SignInFailure(
    Table, tablename="sign_in_failure", help_text="Failed sign-ins of the last minutes, for rate limits.",
):
    """One row per failed attempt; counted per email and per client address within a window.

    Keyed by the normalised email typed, not by account, so an unknown email
    is limited exactly like a known one (no oracle).
    """

    email = Varchar(length=EMAIL_LENGTH)
    client_address = Varchar(length=CLIENT_ADDRESS_LENGTH)
    created_at = Timestamptz()


class AuditEntry(Table, tablename="audit_entry", help_text="One change to a site's configuration: who, when, what."):
    """Written in the transaction of the change it records; never changed afterwards.

    ``changes`` is a list of ``{"field", "old", "new"}`` (``domain.audit.diff``):
    no secrets, no customer data. ``via`` is the way in: ``admin-api``,
    ``csv-import``, ``site-document`` (the whole-site PUT), ``apply`` (the
    command), ``command``, ``back-office``.
    """

    site = ForeignKey(references=Site, index=True)
    at = Timestamptz()
    actor_kind = Varchar(length=16, default="system")
    actor_ref = Varchar(length=255, null=True, default=None)
    actor_label = Varchar(length=NAME_LENGTH, null=True, default=None)
    via = Varchar(length=32, default="")
    action = Varchar(length=16, help_text="created | changed | retired | restored | removed | revoked")
    object_kind = Varchar(length=16, help_text="site | resource | service | time_off | key | membership | feed")
    object_ref = Varchar(length=255, help_text="its key, slug or public id")
    changes = JSON(default=[], help_text='[{"field", "old", "new"}]')


class Feed(Table, tablename="feed", help_text="A secret calendar feed URL of a resource or a whole site."):
    """Only the token's SHA-256 is stored; the URL is shown once, when made (or made again).

    ``target`` (``site:<id>`` or ``resource:<id>``) is unique: making the URL
    again replaces this row's token, and the old URL answers 404.
    """

    site = ForeignKey(references=Site, index=True)
    resource = ForeignKey(references=Resource, null=True, default=None, help_text="NULL: the whole site")
    target = Varchar(length=64, unique=True, help_text="site:<id> | resource:<id>")
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    content_hash = Varchar(length=64, default="", help_text="SHA-256 of the body served last")
    changed_at = Timestamptz(null=True, default=None, help_text="when that body was first served: Last-Modified")

class BookingNote(Table, tablename="booking_note",
                  help_text="The team's internal note on a booking; never shown to the customer."):
    booking = ForeignKey(references=Booking, unique=True)
    text = Text(default="")
    actor_kind = Varchar(length=16, default="system")
    actor_ref = Varchar(length=255, null=True, default=None)
    actor_label = Varchar(length=NAME_LENGTH, null=True, default=None)
    updated_at = Timestamptz()


TABLES: list[type[Table]] = [
    Site, Resource, Service, Booking, BookingEvent, Hold, Allocation, IdempotencyKey,
    OutboxMessage, DeliveryAttempt, OptOut, ApiKey, TimeOff,
    Account, Membership, AccountSession, AccountToken, SignInFailure, AuditEntry, Feed, BookingNote,
    CalendarConnection, CalendarBusy, CalendarWrite,
]


# --- webhooks (m0012) ----------------------------------------------------------------
# A delivery's response excerpt: enough to see an error page's message, never a whole body.
WEBHOOK_EXCERPT_LENGTH = 1000


class WebhookEndpoint(Table, tablename="webhook_endpoint", help_text="Where a site's webhooks go."):
    """The signing secret is stored sealed (Fernet, key derived from the secret key), never in clear.

    During a rotation ``previous_secret_sealed`` still signs until ``previous_secret_until``.
    """

    public_id = Varchar(length=32, unique=True, help_text="whk_<random>")
    site = ForeignKey(references=Site, index=True)
    url = Text()
    events = JSON(default=[], help_text="event types it receives")
    description = Text(default="")
    enabled = Boolean(default=True)
    disabled_reason = Text(null=True, default=None, help_text="why the system disabled it (410, failures)")
    secret_sealed = Text()
    previous_secret_sealed = Text(null=True, default=None)
    previous_secret_until = Timestamptz(null=True, default=None)
    last_success_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class WebhookDelivery(
    Table, tablename="webhook_delivery",
    help_text="One event for one endpoint, queued in the transaction of the change, retried until done.",
):
    public_id = Varchar(length=32, unique=True, help_text="whd_<random>")
    endpoint = ForeignKey(references=WebhookEndpoint, index=True)
    message_id = Varchar(length=64, help_text="the webhook-id header, the same on every retry")
    event_type = Varchar(length=32)
    payload = Text(help_text="the exact body that is signed and sent")
    status = Varchar(length=16, default="queued", help_text="queued | sending | succeeded | failed")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    claimed_until = Timestamptz(null=True, default=None, help_text="lease of the worker sending it")
    last_status = Integer(null=True, default=None, help_text="HTTP status of the last attempt")
    last_error = Text(null=True, default=None)
    created_at = Timestamptz(index=True)
    finished_at = Timestamptz(null=True, default=None)


class WebhookAttempt(Table, tablename="webhook_attempt", help_text="The delivery log: one row per attempt."):
    delivery = ForeignKey(references=WebhookDelivery, index=True)
    attempted_at = Timestamptz()
    outcome = Varchar(length=16, help_text="succeeded | failed | refused | timeout | error")
    status_code = Integer(null=True, default=None)
    duration_ms = Integer(default=0)
    response_excerpt = Text(default="", help_text=f"at most {WEBHOOK_EXCERPT_LENGTH} characters")
    error = Text(null=True, default=None)


TABLES.extend([WebhookEndpoint, WebhookDelivery, WebhookAttempt])
