"""Reading the widget's rendered HTML as a browser would: its forms, hidden fields, steps and links."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser


class Forms(HTMLParser):
    """Forms with their hidden fields and submit buttons; ids and attributes by id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self._form: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.by_id[a["id"]] = {"tag": tag, **a}
        if tag == "form":
            self._form = {
                "action": a.get("action"),
                "method": a.get("method", "get"),
                "id": a.get("id"),
                "fields": {},
                "buttons": [],
            }
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and a.get("type") == "hidden":
            self._form["fields"][a["name"]] = a.get("value", "")
        elif self._form is not None and tag == "button" and a.get("type") == "submit":
            self._form["buttons"].append(a)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    def form(self, action_suffix: str) -> dict:
        return next(f for f in self.forms if (f["action"] or "").endswith(action_suffix))


def step_of(html: str) -> str:
    match = re.search(r'data-sw-step="([a-z-]+)"', html)
    assert match, html[:500]
    return match.group(1)


def link(html: str, text: str) -> str:
    """The href of the link whose visible text contains ``text``."""
    for match in re.finditer(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.DOTALL):
        if text in unescape(re.sub(r"<[^>]+>", "", match.group(2))):
            return unescape(match.group(1))
    raise AssertionError(f"no link {text!r}")
