"""The schema's migrations, ``m<4 digits>_<what>.py``, applied in name order by ``persistence/migrate.py``."""
