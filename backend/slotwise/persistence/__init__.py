"""Persistence: Piccolo tables, migrations and the queries that return domain values."""

import os

# Piccolo finds its engine through this module path; set it before any table is used.
os.environ.setdefault("PICCOLO_CONF", "slotwise.persistence.piccolo_conf")
