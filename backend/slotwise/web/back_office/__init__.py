"""The back office at /admin: server-rendered pages for the people who run a site (see pages.py)."""

from slotwise.web.back_office.pages import back_office_router

__all__ = ["back_office_router"]
