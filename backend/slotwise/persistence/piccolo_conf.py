"""The module Piccolo looks up through ``PICCOLO_CONF``.

The engine follows ``SLOTWISE_DATABASE_URL`` (via the cached settings), so one
test suite runs on SQLite or PostgreSQL by configuration alone.
"""

from piccolo.conf.apps import AppRegistry

from slotwise.persistence.engine import create_engine
from slotwise.settings import load_settings

DB = create_engine(load_settings())

APP_REGISTRY = AppRegistry(apps=["slotwise.persistence.piccolo_app"])
