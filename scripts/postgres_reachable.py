"""Exit 0 when the PostgreSQL server in the given URL accepts connections."""

from __future__ import annotations

import sys

import environ
import psycopg


def main(url: str) -> int:
    config = environ.Env.db_url_config(url)
    try:
        psycopg.connect(
            host=config["HOST"] or "127.0.0.1",
            port=config["PORT"] or 5432,
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL unreachable: {exc}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
