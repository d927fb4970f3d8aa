"""The development outbox: every queued message as the customer would see it.

Only mounted when ``SLOTWISE_DEV_OUTBOX`` is on (``slotwise demo`` turns it on):
it shows customers' messages, so it never belongs on a public server.
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from slotwise.services import delivery
from slotwise.services.delivery import email_from_json, filled_content, sms_from_json
from slotwise.settings import Settings
from slotwise.web.security import page_csp

# Email HTML is shown as it is, but sandboxed: no scripts, no forms, no requests.
EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class DevMessages(Controller):
    path = "/dev/messages"
    include_in_schema = False

    @get("/")
    async def index(self, settings: NamedDependency[Settings]) -> Template:
        rows = await delivery.recent_messages(100)
        messages = []
        for row in rows:
            content = await filled_content(row, settings.secret_key)
            if row["channel"] == "email":
                email = email_from_json(content)
                body, subject = email.text, email.subject
            else:
                body, subject = sms_from_json(content).body, "SMS"
            messages.append({**row, "subject": subject, "body": body})
        # Its own stylesheet may load; the default policy (nothing loads) left the page unstyled.
        return Template("dev/messages.html", context={"messages": messages},
                        headers={**PRIVATE, "Content-Security-Policy": page_csp([])})

    @get("/{uid:str}/html", media_type="text/html")
    async def email_html(self, uid: FromPath[str], settings: NamedDependency[Settings]) -> Response[str]:
        row = await delivery.message(uid)
        if row is None or row["channel"] != "email":
            raise NotFoundException()
        html = email_from_json(await filled_content(row, settings.secret_key)).html
        return Response(html, media_type="text/html",
                        headers={**PRIVATE, "Content-Security-Policy": EMAIL_CSP})
