"""Message templates in site files: their names, and their sources parsed in the sandbox."""

from __future__ import annotations

import re
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from slotwise.domain.locales import SUPPORTED_LOCALES
from slotwise.domain.messages import MESSAGE_EVENTS
from slotwise.sitefile.report import Report


_EVENT = "|".join(MESSAGE_EVENTS)
_LOCALE = "|".join(SUPPORTED_LOCALES)
# "confirmed.txt" (any language) or "confirmed.de.txt"; parts: subject, text, HTML.
_EMAIL_TEMPLATE_NAME = re.compile(rf"^({_EVENT})(\.({_LOCALE}))?\.(subject\.txt|txt|html)$")
_SMS_TEMPLATE_NAME = re.compile(rf"^({_EVENT})(\.({_LOCALE}))?$")
# Templates are text for one message; longer is a pasted document, not a template.
TEMPLATE_MAX_LENGTH = 20_000


def parse_templates(report: Report, raw: Any) -> tuple[dict[str, str], dict[str, str]]:
    """``[templates.email]`` and ``[templates.sms]``: names checked, sources parsed in the sandbox."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        report.add(("templates",), "must be a table with email and sms tables")
        return {}, {}
    found: dict[str, dict[str, str]] = {"email": {}, "sms": {}}
    for channel, table in raw.items():
        if channel not in found:
            report.add(("templates", channel), "unknown key; use [templates.email] or [templates.sms]")
            continue
        if not isinstance(table, dict):
            report.add(("templates", channel), "must be a table of template name = template text")
            continue
        pattern = _EMAIL_TEMPLATE_NAME if channel == "email" else _SMS_TEMPLATE_NAME
        example = '"confirmed.de.txt"' if channel == "email" else '"confirmed.de"'
        for name, source in table.items():
            loc = ("templates", channel, name)
            if not pattern.match(name):
                report.add(loc, f"unknown template name; use e.g. {example} (see docs/messages.md)")
            elif not isinstance(source, str) or not source.strip():
                report.add(loc, "must be the template's text")
            elif len(source) > TEMPLATE_MAX_LENGTH:
                report.add(loc, f"must be at most {TEMPLATE_MAX_LENGTH} characters")
            else:
                error = template_syntax_error(source)
                if error is not None:
                    report.add(loc, f"template error on line {error[0]}: {error[1]}")
                else:
                    found[channel][name] = source
    return found["email"], found["sms"]


_TEMPLATE_SYNTAX = ImmutableSandboxedEnvironment()


def template_syntax_error(source: str) -> tuple[int, str] | None:
    """``(line, message)`` when ``source`` is not a valid template for the sandbox, else None.

    The one check site files and the admin API's template routes share.
    """
    try:
        _TEMPLATE_SYNTAX.parse(source)
    except TemplateSyntaxError as error:
        return error.lineno, error.message or "invalid template"
    return None

