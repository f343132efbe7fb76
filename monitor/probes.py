"""One probe per component, each with a short hard deadline.

A probe never pretends: a component that is not configured is not probed (its card
says which setting configures it), a simulated one (the demo) is not probed either,
and an upstream that hangs is cut off at the deadline ("did not answer in 3 s")
instead of holding the page. The HTTP probes reuse the integrations' own clients
(their session, base URL and credentials) and make one cheap authenticated read.

The database probe runs in the calling thread (a page cannot render without the
database anyway); the others run in worker threads so all of them together take at
most one deadline, and a hanging one is abandoned, not waited for.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from monitor.models import Component

DEFAULT_DEADLINE_SECONDS = 3.0
ERROR_MAX_LENGTH = 300
# A name no tenant domain can have (.invalid is reserved): Stalwart answers 404.
STALWART_PROBE_PRINCIPAL = "dezky-monitor-probe.invalid"


def deadline_seconds() -> float:
    return float(getattr(settings, "MONITOR_PROBE_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS))


@dataclass(frozen=True)
class Setup:
    """How a component is set up here: what the card says before any probe."""

    component: str
    configured: bool
    simulated: bool
    backend: str  # what it is and where, never with a password
    configure_hint: str  # which settings configure it (shown when not configured)

    @property
    def probed(self) -> bool:
        return self.configured and not self.simulated


@dataclass(frozen=True)
class Outcome:
    component: str
    ok: bool
    latency_ms: int | None
    error: str = ""


class ProbeFailed(Exception):
    """The component answered wrongly or not at all; the message is for an operator."""


# ------------------------------------------------------------------- setup --


def _where(url: str) -> str:
    """scheme://host[:port]/path of a URL, without credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")


def _database_backend() -> str:
    db = settings.DATABASES["default"]
    vendor = connection.vendor
    if vendor == "postgresql":
        host = db.get("HOST") or "local socket"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"PostgreSQL, database {db.get('NAME')} on {host}{port}"
    if vendor == "sqlite":
        name = str(db.get("NAME") or "")
        return "SQLite in memory" if "memory" in name else f"SQLite file {name}"
    return vendor


def _cache_backend() -> str:
    config = settings.CACHES.get("coordination", {})
    backend = config.get("BACKEND", "")
    if "redis" in backend.lower():
        return f"Redis at {_where(str(config.get('LOCATION', '')))}"
    if "filebased" in backend:
        return "a folder on this host (workers of this host only; set REDIS_URL for several hosts)"
    if "locmem" in backend:
        return "local memory (this process only)"
    return backend.rsplit(".", 1)[-1]


def setups() -> list[Setup]:
    """Every component's setup, in the order of Component."""
    demo = bool(settings.DEMO_INTEGRATIONS)
    authentik = bool(settings.AUTHENTIK_URL and settings.AUTHENTIK_TOKEN)
    stalwart = bool(settings.STALWART_URL and settings.STALWART_TOKEN)
    ocis = bool(settings.OCIS_URL and settings.OCIS_TOKEN)
    return [
        Setup(Component.DATABASE, True, False, _database_backend(), "DATABASE_URL"),
        Setup(Component.CACHE, True, False, _cache_backend(), "REDIS_URL"),
        Setup(
            Component.AUTHENTIK,
            authentik,
            # In the demo, reconcile simulates Authentik unless sign-in really uses it.
            demo and settings.IDENTITY_MODE != "authentik",
            _where(settings.AUTHENTIK_URL) if authentik else "",
            "AUTHENTIK_URL and AUTHENTIK_TOKEN",
        ),
        Setup(
            Component.STALWART,
            stalwart,
            demo,
            _where(settings.STALWART_URL) if stalwart else "",
            "STALWART_URL and STALWART_TOKEN",
        ),
        Setup(
            Component.OCIS,
            ocis,
            demo,
            _where(settings.OCIS_URL) if ocis else "",
            "OCIS_URL and OCIS_TOKEN",
        ),
    ]


# ------------------------------------------------------------------ probes --


def _probe_database(deadline: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    if not row or row[0] != 1:
        raise ProbeFailed(f"SELECT 1 answered {row!r}.")


def _probe_cache(deadline: float) -> None:
    cache = caches["coordination"]
    key = f"monitor:probe:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=max(1, int(deadline) + 1))
        read = cache.get(key)
    finally:
        # The probe's verdict is what matters; a failed delete expires on its own.
        with contextlib.suppress(Exception):
            cache.delete(key)
    if read != value:
        raise ProbeFailed("A value written to the cache did not read back.")


def _authentik_directory() -> Any:
    """The operators' Authentik client when sign-in uses Authentik, else one of our own
    built the same way (the URL and token can be set while sign-in is still local)."""
    from operators.directory import get_directory
    from operators.directory.authentik import AuthentikDirectory

    directory = get_directory()
    if isinstance(directory, AuthentikDirectory):
        return directory
    global _own_authentik
    with _own_lock:
        if _own_authentik is None or not _own_authentik.matches_settings():
            _own_authentik = AuthentikDirectory(
                base_url=settings.AUTHENTIK_URL,
                token=settings.AUTHENTIK_TOKEN,
                timeout=settings.AUTHENTIK_TIMEOUT_SECONDS,
            )
        return _own_authentik


_own_authentik: Any = None
_own_lock = threading.Lock()


def _probe_authentik(deadline: float) -> None:
    directory = _authentik_directory()
    # One user, no groups: the cheapest read the operators' token is allowed to make.
    _get(
        "Authentik", directory.session, f"{directory.api}/core/users/", deadline,
        params={"page_size": "1", "include_groups": "false"}, base=directory.base_url,
    )  # fmt: skip


def _probe_stalwart(deadline: float) -> None:
    from tenants.provisioning.stalwart import StalwartProvisioner

    client = StalwartProvisioner().client()
    # The read reconcile makes before creating a domain, for a name that cannot exist.
    response = _get(
        "Stalwart", client.session, f"{client.base_url}/api/principal/{STALWART_PROBE_PRINCIPAL}",
        deadline, ok=(200, 404), base=client.base_url,
    )  # fmt: skip
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    if error and error != "notFound":  # Stalwart's refusals are 200s with {"error": ...}
        raise ProbeFailed(f"Stalwart answered: {body.get('details') or error}")


def _probe_ocis(deadline: float) -> None:
    from tenants.provisioning.ocis import OcisProvisioner

    client = OcisProvisioner().client()
    # The listing reconcile reads (project spaces) through the Graph API.
    _get(
        "oCIS", client.session, f"{client.base_url}/graph/v1.0/drives", deadline,
        params={"$filter": "driveType eq 'project'"}, base=client.base_url,
    )  # fmt: skip


PROBES: dict[str, Callable[[float], None]] = {
    Component.DATABASE: _probe_database,
    Component.CACHE: _probe_cache,
    Component.AUTHENTIK: _probe_authentik,
    Component.STALWART: _probe_stalwart,
    Component.OCIS: _probe_ocis,
}


# ------------------------------------------------------------ HTTP details --


def _get(
    name: str,
    session: requests.Session,
    url: str,
    deadline: float,
    *,
    base: str,
    params: dict[str, str] | None = None,
    ok: tuple[int, ...] = (200,),
) -> requests.Response:
    try:
        response = session.get(url, params=params, timeout=deadline)
    except requests.Timeout:
        raise ProbeFailed(_no_answer(deadline)) from None
    except requests.ConnectionError as err:
        raise ProbeFailed(f"{name} at {_where(base)} cannot be reached: {_reason(err)}.") from None
    if response.status_code not in ok:
        raise ProbeFailed(
            f"{name} answered {response.status_code}: {_words(response) or response.reason}"
        )
    return response


def _json(response: requests.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _words(response: requests.Response) -> str:
    """The upstream's own explanation from its error body (DRF, Graph, problem+json)."""
    body = _json(response)
    if isinstance(body, dict):
        for key in ("detail", "error_description", "message", "details", "title", "error"):
            value = body.get(key)
            if isinstance(value, dict):  # Graph: {"error": {"code", "message"}}
                value = value.get("message") or value.get("code")
            if value:
                return str(value)
        return ""
    if "html" in response.headers.get("Content-Type", ""):
        return ""  # an error page's markup says nothing readable
    text = response.text.strip()
    return text.splitlines()[0][:200] if text else ""


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def _reason(err: Exception) -> str:
    """The reason ("Connection refused") out of urllib3's long chain of wrapped exceptions."""
    found = _ERRNO.search(str(err))
    if found:
        return found.group(1).strip()
    text = str(err)
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was closed without an answer"
    return "connection failed"


def _no_answer(deadline: float) -> str:
    return f"did not answer in {deadline:g} s"


# ------------------------------------------------------------------ running --


def _timed(component: str, probe: Callable[[float], None], deadline: float) -> Outcome:
    started = time.perf_counter()
    try:
        probe(deadline)
    except ProbeFailed as err:
        return Outcome(component, False, _ms(started), _truncate(str(err)))
    except Exception as err:  # a probe reports any failure, it never raises
        return Outcome(component, False, _ms(started), _truncate(f"{type(err).__name__}: {err}"))
    return Outcome(component, True, _ms(started))


def _ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


def _truncate(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "…"


def _close_thread_connection(fn: Callable[[], Outcome]) -> Callable[[], Outcome]:
    def run() -> Outcome:
        try:
            return fn()
        finally:
            # A worker thread never leaves a database connection open behind it.
            from django.db import connections

            connections.close_all()

    return run


def run_probes(
    components: list[str] | None = None, *, deadline: float | None = None
) -> list[Outcome]:
    """Probe every configured, non-simulated component once (or only `components`);
    the whole run takes at most about one deadline."""
    limit = deadline_seconds() if deadline is None else deadline
    wanted = [
        s.component
        for s in setups()
        if s.probed and (components is None or s.component in components)
    ]
    outcomes: dict[str, Outcome] = {}
    threaded = [c for c in wanted if c != Component.DATABASE]
    pool = ThreadPoolExecutor(max_workers=max(1, len(threaded)), thread_name_prefix="probe")
    try:
        started = time.monotonic()
        futures = {
            c: pool.submit(_close_thread_connection(lambda c=c: _timed(c, PROBES[c], limit)))
            for c in threaded
        }
        if Component.DATABASE in wanted:
            outcomes[Component.DATABASE] = _timed(Component.DATABASE, _probe_database, limit)
        for component, future in futures.items():
            remaining = max(0.0, limit - (time.monotonic() - started))
            try:
                outcomes[component] = future.result(timeout=remaining + 0.05)
            except FutureTimeout:
                # TRICKY: the worker keeps running until its own timeout; nobody waits.
                outcomes[component] = Outcome(
                    component, False, round(limit * 1000), _no_answer(limit)
                )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [outcomes[c] for c in wanted]
