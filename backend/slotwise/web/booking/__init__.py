"""The hosted booking page ``/book/{site}``: server-rendered steps, swapped by htmx.

Every step is a plain GET or POST that renders the whole page, so the page
works without JavaScript and a reload shows the same step; with htmx (the
``HX-Request`` header) the same handler returns only the step's partial, the
very template the page includes. All state travels in the URL and in hidden
form fields; there are no cookies and no server-side sessions.

Steps and their URL state (``/book/{site}?…``):

=============  ==============================================================
services       (no ``service``)
resources      ``service`` — when the service's first resource group offers
               a choice and ``resource`` is absent
calendar       ``service`` [``resource``=key|any] [``month``=YYYY-MM]
               [``date``=YYYY-MM-DD: also that day's free times]
               [``held``: the customer's own hold, kept on the way back]
details        … ``start`` (ISO with offset) ``hold`` (hold token) ``until``
               (its expiry) ``with`` (the held resources' keys)
confirmation   … ``booked`` (signed summary, set after a booking)
=============  ==============================================================

View parameters carried on every link: ``tz`` (the customer's zone), ``times``
(``site``: show times in the business's zone), ``locale``, ``embed``,
``accent``, ``wid``, ``host``.

htmx requests get the step's partial; with ``HX-Target: sw-slots`` (a click
on a day) only that day's times. POSTs: ``/hold`` (take a hold → details),
``/confirm`` (book → confirmation), ``/expired`` (the countdown ran out →
fresh times). ``/theme.css?accent=rrggbb&v=…`` is the page's stylesheet in
the accent colour (immutable; one request for all CSS).
"""

from slotwise.web.booking.handlers import BookingPages

__all__ = ["BookingPages"]
