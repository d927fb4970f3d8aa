"""The back office's session cookie, its CSRF token, and the page dependency that turns a session into a Caller.

- The session cookie (``slotwise_session``) carries the session token that
  ``services.accounts`` issued; only its hash is stored, so revoking the row
  (sign out, sign out everywhere, a password reset) ends it at once.
  ``HttpOnly``, ``SameSite=Lax``, ``Path=/admin``, and ``Secure`` unless the
  server is reached over plain HTTP (a ``http://`` base URL: development).
- The CSRF token is per session: an HMAC of the session token under the
  secret key, so nothing more is stored. Forms of a visitor who is not signed
  in yet (sign-in, reset, set-password) use a random pre-session cookie
  (``slotwise_csrf``) as the basis instead. :func:`csrf_guard` checks every
  non-GET request under ``/admin`` in one place: the ``csrf`` form field or
  the ``X-CSRF-Token`` header htmx sends must match, else 403.
- :func:`provide_admin` is the page dependency: the signed-in account, its
  memberships as a :class:`~slotwise.services.access.Caller` (exactly the
  grants an API key would carry), or a redirect to the sign-in page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from slotwise.clock import Clock
from slotwise.domain.accounts import SESSION_ABSOLUTE
from slotwise.services import accounts
from slotwise.services.access import Caller
from slotwise.settings import Settings

SESSION_COOKIE = "slotwise_session"
PRE_COOKIE = "slotwise_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedIn(Exception):
    """A page that needs a session was asked for without one (or with one that ended)."""


@dataclass(frozen=True, slots=True)
class Admin:
    """Who is looking at a back-office page: the account, its session token's CSRF token, its grants."""

    current: accounts.CurrentSession
    caller: Caller
    csrf: str

    @property
    def account(self):
        return self.current.account

    @property
    def memberships(self):
        return self.current.memberships


def secure_cookies(settings: Settings) -> bool:
    """``Secure`` everywhere but a plain-HTTP development server (an ``http://`` base URL)."""
    return not settings.base_url.startswith("http://")


def csrf_token(settings: Settings, basis: str) -> str:
    """The CSRF token for a session token (or a pre-session value): HMAC-SHA256 under the secret key."""
    return hmac.new(settings.secret_key.encode(), b"csrf:" + basis.encode(), hashlib.sha256).hexdigest()


def session_cookie(settings: Settings, token: str) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=token, path=COOKIE_PATH, httponly=True, samesite="lax",
                  secure=secure_cookies(settings), max_age=int(SESSION_ABSOLUTE.total_seconds()))


def cleared_session_cookie(settings: Settings) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", path=COOKIE_PATH, httponly=True, samesite="lax",
                  secure=secure_cookies(settings), max_age=0)


def pre_session(request: Request, settings: Settings) -> tuple[str, Cookie | None]:
    """The CSRF token for a visitor's forms before signing in, and the cookie to set when it is new."""
    basis = request.cookies.get(PRE_COOKIE, "")
    cookie = None
    if len(basis) < 20:
        basis = secrets.token_urlsafe(24)
        cookie = Cookie(key=PRE_COOKIE, value=basis, path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=secure_cookies(settings))
    return csrf_token(settings, basis), cookie


def expected_csrf(connection: ASGIConnection, settings: Settings) -> list[str]:
    """The tokens a write may carry: the session's, and the pre-session one's (a sign-in form).

    Either basis lives only in this browser's HttpOnly cookies, so either
    proves the form came from our page; accepting both keeps a browser whose
    session was revoked elsewhere (its cookie still there) able to sign in again.
    """
    bases = [connection.cookies.get(SESSION_COOKIE), connection.cookies.get(PRE_COOKIE)]
    return [csrf_token(settings, basis) for basis in bases if basis]


def csrf_guard(settings: Settings):
    """The guard of every /admin route: a non-GET request carries its session's CSRF token; else 403."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        await check_csrf(connection, settings)

    return guard


async def check_csrf(connection: ASGIConnection, settings: Settings) -> None:
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        return
    expected = expected_csrf(connection, settings)
    sent = connection.headers.get(CSRF_HEADER)
    if not sent and isinstance(connection, Request):
        # Read (and keep) the body first: parsing a multipart form straight from the
        # stream would consume it, and the body check after the guards reads it again.
        await connection.body()
        form = await connection.form()
        sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not any(hmac.compare_digest(sent, token) for token in expected):
        raise PermissionDeniedException("csrf")


async def current_admin(request: Request, settings: Settings, now) -> Admin | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    # A page of a site (/admin/sites/{site}/…) reads that site with the session,
    # as an admin API key is read with its site; access.site_for still decides.
    slug = request.path_params.get("site")
    current = await accounts.current_session(token, now=now, site_slug=slug if isinstance(slug, str) else None)
    if current is None:
        return None
    caller = Caller(current.account.actor, tuple(m.grant() for m in current.memberships), current.site)
    return Admin(current, caller, csrf_token(settings, token))


async def provide_admin(request: Request, settings: NamedDependency[Settings],
                        clock: NamedDependency[Clock]) -> Admin:
    """The signed-in person behind the session cookie; else :class:`NotSignedIn` (→ the sign-in page)."""
    admin = await current_admin(request, settings, clock())
    if admin is None:
        raise NotSignedIn()
    return admin
