"""Piccolo app registration: our tables and where their migrations live."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from slotwise.persistence.tables import TABLES

APP_NAME = "slotwise"

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
