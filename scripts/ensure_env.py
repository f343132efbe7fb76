"""Write a development `.env` if there is none, and add a SECRET_KEY if it lacks one.

Existing values are never changed, so a developer's own settings survive `make run`.
"""

from __future__ import annotations

import secrets
import string
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"

DEFAULTS = """\
# Written by `make run` for local development; see README.md (Configuration).
DEBUG=true
DEZKY_ENVIRONMENT=dev
# The demo: Authentik, Stalwart and oCIS simulated in-process (nothing is called).
# false: the real ones, from their URLs and tokens (none set: "not configured").
DEMO_INTEGRATIONS=true
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/dezky
# REDIS_URL=redis://127.0.0.1:6379/0
"""


def main() -> None:
    text = ENV_FILE.read_text() if ENV_FILE.exists() else DEFAULTS
    if not any(line.startswith("SECRET_KEY=") for line in text.splitlines()):
        alphabet = string.ascii_letters + string.digits + "-_"
        key = "".join(secrets.choice(alphabet) for _ in range(64))
        text = text.rstrip("\n") + f"\nSECRET_KEY={key}\n"
        ENV_FILE.write_text(text)
        ENV_FILE.chmod(0o600)
        print(f"Wrote {ENV_FILE.name} with a new SECRET_KEY.")


if __name__ == "__main__":
    main()
