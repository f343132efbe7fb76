"""Settings for Dezky Console, read from the environment and an optional `.env` file.

Every variable is listed in README.md ("Configuration"). The embedded default is
SQLite, a local-memory cache and local password login; PostgreSQL, Redis and
Authentik are switched on by their URLs.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DEZKY_READ_DOTENV", default=True):
    # Values already in the environment win over the file.
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off (`make run` writes one into .env)."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105

ENVIRONMENTS = ("dev", "staging", "prod")
DEZKY_ENVIRONMENT = env.str("DEZKY_ENVIRONMENT", default="dev")
if DEZKY_ENVIRONMENT not in ENVIRONMENTS:
    raise ImproperlyConfigured(
        f"DEZKY_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, not {DEZKY_ENVIRONMENT!r}."
    )
# Approvals a flag change needs per environment until an operator sets the policy on
# /flags/change-requests/ (e.g. "prod=1,staging=0"; an environment not named needs 0).
# None by default: an install and its API clients write flags as before until an
# operator turns four eyes on (the page suggests prod=1), which is audited.
FLAG_APPROVALS_DEFAULT = env.dict("FLAG_APPROVALS_DEFAULT", cast={"value": int}, default={})
if set(FLAG_APPROVALS_DEFAULT) - set(ENVIRONMENTS) or any(
    not 0 <= n <= 5 for n in FLAG_APPROVALS_DEFAULT.values()
):
    raise ImproperlyConfigured(
        "FLAG_APPROVALS_DEFAULT names environments of ENVIRONMENTS, each with 0 to 5 approvals."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "template_partials",
    "csp",
    "core",
    "audit",
    "operators",
    "tenants",
    "flags",
    "monitor",
    "notifications",
    "console",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before the OIDC refresh, so an idle or too-old session is ended, not renewed
    # silently; after messages, so the login page can say why.
    "operators.middleware.SignedInSessions",
    "operators.oidc.middleware.OidcSessionRefresh",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After htmx (a swap gets a toast): a NUL byte in the path or the query string
    # never reaches a view.
    "console.request_guard.RequestGuard",
    "console.middleware.ConsolePages",
    # After auth, messages and htmx: narrows what an impersonating operator sees.
    "operators.impersonation_middleware.ImpersonationMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "dezky.urls"
WSGI_APPLICATION = "dezky.wsgi.application"
ASGI_APPLICATION = "dezky.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.shell",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'dezky.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # TRICKY: IMMEDIATE takes SQLite's write lock when a transaction starts, so
    # two writers cannot both read the same audit chain head and fork it.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------
# "default" caches things; "coordination" holds the version numbers that tell
# every worker when flags or tenants changed (see core/versions.py). With Redis
# both live there, shared by all hosts. Without it, "coordination" is a folder on
# this host, so several worker processes of one host still agree.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    _redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    CACHES = {
        "default": {**_redis, "KEY_PREFIX": "dezky", "TIMEOUT": 300},
        "coordination": {**_redis, "KEY_PREFIX": "dezky-coord", "TIMEOUT": None},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "dezky",
            "TIMEOUT": 300,
        },
        "coordination": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("DEZKY_CACHE_DIR", default=str(BASE_DIR / ".cache")),
            "TIMEOUT": None,
            # Past MAX_ENTRIES Django drops a random third of the files, which could
            # drop a sign-in count or a version; far above what one host's sign-in
            # windows hold, and small enough that listing the folder on a write is cheap.
            "OPTIONS": {"MAX_ENTRIES": 10000},
        },
    }
# Serve /bench/floor/ for bench/flags_eval.py; never on in a deployment.
DEZKY_BENCH_FLOOR = env.bool("DEZKY_BENCH_FLOOR", default=False)
# How often a worker asks the coordination cache whether its flag snapshot is stale.
FLAGS_SNAPSHOT_CHECK_SECONDS = env.float("FLAGS_SNAPSHOT_CHECK_SECONDS", default=0.5)
# Each worker counts evaluations in memory and writes them at most this often (and at
# exit), so the counts on the flags page are up to this far behind (flags.counters).
FLAG_EVAL_FLUSH_SECONDS = env.int("FLAG_EVAL_FLUSH_SECONDS", default=60)
# A flag older than this that answered only on, only off, or nothing for this many
# days is listed as stale on the flags page (flags.staleness).
FLAG_STALE_DAYS = env.int("FLAG_STALE_DAYS", default=30)

# --- Identity -----------------------------------------------------------------
AUTH_USER_MODEL = "operators.User"
LOGIN_URL = "operators:login"
LOGIN_REDIRECT_URL = "console:overview"
LOGOUT_REDIRECT_URL = "operators:login"

AUTHENTIK_URL = env.str("AUTHENTIK_URL", default="")
AUTHENTIK_TOKEN = env.str("AUTHENTIK_TOKEN", default="")
AUTHENTIK_ADMIN_GROUP = env.str("AUTHENTIK_ADMIN_GROUP", default="dezky-platform-admins")
AUTHENTIK_TIMEOUT_SECONDS = env.float("AUTHENTIK_TIMEOUT_SECONDS", default=5.0)
# One whole invite (several Authentik calls) ends by then, retries included.
AUTHENTIK_INVITE_DEADLINE_SECONDS = env.float("AUTHENTIK_INVITE_DEADLINE_SECONDS", default=10.0)
# The OIDC provider's "Subject mode" in Authentik: what the ID token's `sub` is.
AUTHENTIK_SUBJECT_MODE = env.str("AUTHENTIK_SUBJECT_MODE", default="hashed_user_id")
if AUTHENTIK_SUBJECT_MODE not in {
    "hashed_user_id", "user_id", "user_uuid", "user_username", "user_email", "user_upn",
}:  # fmt: skip
    raise ImproperlyConfigured(
        "AUTHENTIK_SUBJECT_MODE is one of hashed_user_id, user_id, user_uuid, "
        "user_username, user_email, user_upn (the provider's Subject mode in Authentik)."
    )
# What your Authentik's recovery flow's token validity is set to; the invite says so.
AUTHENTIK_RECOVERY_LINK_MINUTES = env.int("AUTHENTIK_RECOVERY_LINK_MINUTES", default=30)
INVITES_PER_MINUTE = env.int("INVITES_PER_MINUTE", default=10)
AUTHENTIK_TENANT_GROUP_PREFIX = env.str("AUTHENTIK_TENANT_GROUP_PREFIX", default="dezky-tenant-")
# How long an operator may view the console as a tenant member before it ends by itself.
IMPERSONATION_MAX_MINUTES = env.int("IMPERSONATION_MAX_MINUTES", default=15)

# --- Provisioning -------------------------------------------------------------
STALWART_URL = env.str("STALWART_URL", default="")
STALWART_TOKEN = env.str("STALWART_TOKEN", default="")
OCIS_URL = env.str("OCIS_URL", default="")
OCIS_TOKEN = env.str("OCIS_TOKEN", default="")
PROVISIONING_TIMEOUT_SECONDS = env.float("PROVISIONING_TIMEOUT_SECONDS", default=10.0)
# The demo: Authentik, Stalwart and oCIS are simulated in-process (never called), so
# reconcile gives believable states; the console says so in a badge on every page.
DEMO_INTEGRATIONS = env.bool("DEMO_INTEGRATIONS", default=False)
if DEMO_INTEGRATIONS and DEZKY_ENVIRONMENT == "prod":
    raise ImproperlyConfigured(
        "DEMO_INTEGRATIONS simulates provisioning and cannot be on with DEZKY_ENVIRONMENT=prod."
    )
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
# "authentik" only when the API and the OIDC client are both configured; anything
# less is the embedded local mode, so a half-configured deployment never locks
# operators out.
IDENTITY_MODE = (
    "authentik"
    if all([AUTHENTIK_URL, AUTHENTIK_TOKEN, OIDC_RP_CLIENT_ID, OIDC_ISSUER])
    else "local"
)

# Every OIDC_* setting is described in README.md ("Sign-in through Authentik").
# Endpoints come from the issuer's discovery document (operators/oidc/provider.py);
# an OIDC_OP_* variable, when set, wins over discovery.
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_RP_SIGN_ALGO = "RS256"
# Asymmetric only: `none` and HMAC (signed with a public key) are never accepted.
OIDC_ALLOWED_ALGORITHMS = env.list("OIDC_ALLOWED_ALGORITHMS", default=["RS256"])
if {a.upper() for a in OIDC_ALLOWED_ALGORITHMS} & {"NONE", "HS256", "HS384", "HS512"}:
    raise ImproperlyConfigured("OIDC_ALLOWED_ALGORITHMS may list asymmetric algorithms only.")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT_SECONDS", default=5.0)
OIDC_CLOCK_SKEW_SECONDS = env.int("OIDC_CLOCK_SKEW_SECONDS", default=60)
OIDC_DISCOVERY_TTL_SECONDS = env.int("OIDC_DISCOVERY_TTL_SECONDS", default=3600)
OIDC_JWKS_TTL_SECONDS = env.int("OIDC_JWKS_TTL_SECONDS", default=3600)
OIDC_JWKS_MIN_REFETCH_SECONDS = env.int("OIDC_JWKS_MIN_REFETCH_SECONDS", default=60)
# How long a console session lives before it is renewed through the provider.
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_SESSION_RENEW_SECONDS", default=900)
# Service JWTs must carry this audience (Authentik: the console's client id).
OIDC_SERVICE_AUDIENCE = env.str("OIDC_SERVICE_AUDIENCE", default=OIDC_RP_CLIENT_ID)
# The service accounts whose JWTs the API accepts, by `sub` (or `client_id` where a
# provider puts the client there). Everyone in Authentik can ask the console's
# application for a token, so a valid signature alone must not open tenant data.
OIDC_SERVICE_SUBJECTS = env.list("OIDC_SERVICE_SUBJECTS", default=[])
OIDC_AUTHENTICATION_CALLBACK_URL = "operators:oidc-callback"
LOGIN_REDIRECT_URL_FAILURE = "operators:login"
# ModelBackend serves local mode and the break-glass form; the OIDC backend
# authenticates the code flow only (and, unlike the library's, re-checks
# is_active on every request). Sessions remember which one signed them in.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "operators.oidc.backend.OperatorOIDCBackend",
]
# Authentik mode: a staff password login for when Authentik is down. Off unless set.
BREAK_GLASS_LOGIN = env.bool("BREAK_GLASS_LOGIN", default=False)
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=30)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
# Local mode: how long an invite's temporary password works if it is never changed.
TEMP_PASSWORD_HOURS = env.int("TEMP_PASSWORD_HOURS", default=72)
# A signed-in session ends after this long without a request, and this long after
# sign-in whatever happens (operators.middleware.SignedInSessions).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=60)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
# The session store forgets a session no later than it stops being accepted.
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# --- Audit log -----------------------------------------------------------------
# The chain key (HMAC) lives here, never in the database. Unset: derived from
# SECRET_KEY, fine for one machine; a deployment sets its own (see README).
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
AUDIT_CHAIN_PREVIOUS_KEYS = env.list("AUDIT_CHAIN_PREVIOUS_KEYS", default=[])
# Where signed checkpoints of (count, head) go, outside the database: `file:<path>`
# (append-only JSON lines; the first file sink is the one verification reads) and
# optionally `syslog:` (local /dev/log) or `syslog://host:port` (UDP) as copies.
AUDIT_CHECKPOINT_SINKS = env.list(
    "AUDIT_CHECKPOINT_SINKS", default=[f"file:{BASE_DIR / 'var' / 'audit-checkpoints.jsonl'}"]
)
# How long one infrastructure probe may take before it reads "did not answer".
MONITOR_PROBE_DEADLINE_SECONDS = env.float("MONITOR_PROBE_DEADLINE_SECONDS", default=3.0)
# How often an open console page asks for the notification count.
NOTIFICATIONS_POLL_SECONDS = env.int("NOTIFICATIONS_POLL_SECONDS", default=30)
# The serving role the migrating (owning) role grants after every migrate on
# PostgreSQL: everything it needs, and on the audit table only SELECT and INSERT.
DATABASE_SERVING_ROLE = env.str("DATABASE_SERVING_ROLE", default="")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a missing credential a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "operators.authentication.ServiceTokenAuthentication",
        "operators.authentication.ServiceJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deny unless a view says otherwise.
    "DEFAULT_PERMISSION_CLASSES": ["operators.permissions.IsOperator"],
    "DEFAULT_SCHEMA_CLASS": "core.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    # DRF's JSON parser, but a body nested too deeply is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONBodyParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dezky Console API",
    "DESCRIPTION": "The control plane of the Dezky hosting platform.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api_schema.add_error_responses",
    ],
}

# --- Security -----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Pages send the CSRF token in a header from the template (hx-headers on <body>),
# so no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
_issuer = urlsplit(OIDC_ISSUER)
_issuer_origin = f"{_issuer.scheme}://{_issuer.netloc}" if _issuer.netloc else ""
# No inline script or style anywhere (templates load static files), so the
# policy needs no 'unsafe-inline'. The favicon is a data: URL.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        # Signing out (a form post) continues at the provider's end-session endpoint.
        "form-action": ["'self'", *([_issuer_origin] if _issuer_origin else [])],
    }
}
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Whose X-Forwarded-For entries are believed for the client's address (audit events,
# per-address sign-in limits): a number of proxies in front, or their addresses/CIDRs.
# Empty: the header is ignored (core/request_meta.py; checked at startup).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- Static files, i18n -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
