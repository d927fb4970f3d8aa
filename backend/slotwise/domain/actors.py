"""Who acts, and which rules bind them. Pure.

Every change to a booking or to the catalog is made by an :class:`Actor` and
recorded with it: a customer (through the widget, the public API or a manage
link), a signed-in account, an API key, or the system itself (the worker, a
sweep, the ``slotwise`` command).

Which rules a change must keep is a :class:`Rules` value, chosen by the caller
and checked here against the actor (:func:`may_use`): a customer always keeps
the customer's rules; staff may set aside the change policy's cut-offs and
the cap on moves; staff who ask for an override (``Rules.OVERRIDE``) also
book and move outside opening hours, notice and advance. Nobody sets aside
capacity: that is not a rule anyone can waive, it is the invariant.

=============  ===========================  ===================  =========
rules          hours, notice, advance, grid  cut-offs, move cap   capacity
=============  ===========================  ===================  =========
``CUSTOMER``   kept                          kept                 kept
``STAFF``      kept                          set aside            kept
``OVERRIDE``   set aside                     set aside            kept
=============  ===========================  ===================  =========

Blocked time (a resource's time off) is busy time like a booking, so an
override does not book into it either: free the time first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    ACCOUNT = "account"
    API_KEY = "api_key"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change. ``ref`` identifies them within their kind; ``label`` is how history shows them.

    Customer: ``ref`` is how they came ("widget", "api", "manage-link").
    Account: the account's public id and its name. API key: the key's public
    id and its name. System: what ran ("worker", "command").
    """

    kind: ActorKind
    ref: str | None = None
    label: str | None = None

    @classmethod
    def customer(cls, via: str) -> Actor:
        return cls(ActorKind.CUSTOMER, via)

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(ActorKind.SYSTEM, what)

    @property
    def is_customer(self) -> bool:
        return self.kind is ActorKind.CUSTOMER


class Rules(StrEnum):
    """Which rules a booking change keeps. Capacity holds under all of them."""

    # The site's policy as customers meet it: opening hours, notice and
    # advance for the new time; the cancel and move cut-offs and the cap on moves.
    CUSTOMER = "customer"
    # Staff serving a customer: the new time still keeps hours, notice and
    # advance, but cut-offs and the cap on moves do not bind them.
    STAFF = "staff"
    # Staff squeezing someone in: any start (outside opening hours and the
    # grid, within the notice, beyond the advance, on a closed day), but
    # never onto a resource that is busy or a session that is full.
    OVERRIDE = "override"

    @property
    def sets_aside_hours(self) -> bool:
        """Whether a new time may lie outside hours, notice, advance and the grid."""
        return self is Rules.OVERRIDE


def default_rules(actor: Actor) -> Rules:
    """The rules a change keeps unless the caller asks for others."""
    return Rules.CUSTOMER if actor.is_customer else Rules.STAFF


def may_use(actor: Actor, rules: Rules) -> bool:
    """Whether ``actor`` may make a change under ``rules``: customers only under their own;
    an override only people on the site's side (an account or an API key), never the system."""
    if rules is Rules.OVERRIDE:
        return actor.kind in (ActorKind.ACCOUNT, ActorKind.API_KEY)
    return rules is Rules.CUSTOMER or not actor.is_customer
