"""Boot Django for a bench script on a throwaway database (in-memory SQLite unless
DATABASE_URL says otherwise) with the schema migrated."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def boot() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "sqlite" or connection.settings_dict["NAME"] != ":memory:":
        raise SystemExit("bench scripts run on in-memory SQLite only; unset DATABASE_URL")
    call_command("migrate", verbosity=0)
