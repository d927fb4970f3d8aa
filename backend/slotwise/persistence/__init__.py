"""Persistence: Piccolo tables, migrations and the queries that return domain values.

The tables learn their engine from ``engine.Database.open`` (see ``engine.py``).
"""
