"""Settings for the test suite: the real settings, with test-only environment defaults.

The environment still wins, which is how `make test` points the same suite at
SQLite and at PostgreSQL (DATABASE_URL).
"""

import os

os.environ.setdefault("DEZKY_READ_DOTENV", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-any-deployment")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
for var in (
    "AUTHENTIK_URL",
    "AUTHENTIK_TOKEN",
    "OIDC_RP_CLIENT_ID",
    "OIDC_ISSUER",
    "REDIS_URL",
    "DEMO_INTEGRATIONS",
):
    os.environ.pop(var, None)

from dezky.settings import *  # noqa: E402, F403

# Fast hashing: tests log in many times; production keeps Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# One process: local memory is enough to coordinate, and leaves no files behind.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"},
    "coordination": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "t-coord",
        "TIMEOUT": None,
    },
}
