"""Boot Django for a bench script on a throwaway database with the schema migrated:
in-memory SQLite by default; with DATABASE_URL pointing at PostgreSQL, a fresh
`test_<name>` database beside it (Django's test database), dropped at exit."""

from __future__ import annotations

import atexit
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def boot() -> str:
    """Set Django up; returns the database the figures are about."""
    sys.path.insert(0, str(ROOT))
    # WhiteNoise looks for collected static files, which requests for pages do not need.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] == ":memory:":
        call_command("migrate", verbosity=0)
        return "in-memory SQLite"
    if connection.vendor != "postgresql":
        raise SystemExit("bench scripts run on in-memory SQLite or PostgreSQL")
    # Never the configured database itself: a fresh one, migrated, dropped afterwards.
    original = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    atexit.register(connection.creation.destroy_test_db, original, verbosity=0)
    return f"PostgreSQL ({name})"
