"""Signed-in browser sessions: their lifetime, the rows behind the list an operator
sees on their settings page, and ending them.

Every Django session of a signed-in user gets a `UserSession` row (made by
`operators.middleware.SignedInSessions` on its first request), so a user's
sessions are found through that table instead of decoding every row of the
session store. A deactivated user's session that escaped anyway is refused:
Django's ModelBackend and the OIDC backend (operators/oidc/backend.py) both
return nobody for an inactive user, on every request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from core.request_meta import client_ip
from operators.models import User, UserSession

# Kept in the session itself (epoch seconds), so checking the lifetime costs no query.
SIGNED_IN_AT = "dezky.signed_in_at"
SEEN_AT = "dezky.seen_at"
# last_seen is written at most this often: reading pages must not write every time.
SEEN_EVERY_SECONDS = 60
IDLE, MAX_AGE = "idle", "max_age"


def session_store(session_key: str | None = None) -> SessionBase:
    """A handle on one session in the configured backend (db, cache, signed cookies…)."""
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def end_user_sessions(user: User, *, keep_session_key: str | None = None) -> int:
    """End every tracked browser session of `user` except `keep_session_key`.

    Deletes the sessions from the session store (their next request is signed
    out) and their `UserSession` rows; returns how many ended. Records no audit
    event: the caller knows why they ended and records that.
    """
    rows = UserSession.objects.filter(user=user)
    if keep_session_key:
        rows = rows.exclude(session_key=keep_session_key)
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        session_store(key).delete(key)
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def session_expiry(session: SessionBase, *, now: float) -> str | None:
    """Why a signed-in session has ended (IDLE or MAX_AGE), or None while it lives."""
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if signed_in_at is not None and now - signed_in_at > settings.SESSION_MAX_HOURS * 3600:
        return MAX_AGE
    if seen_at is not None and now - seen_at > settings.SESSION_IDLE_MINUTES * 60:
        return IDLE
    return None


def session_seen(request: HttpRequest, *, now: float | None = None) -> None:
    """Note a request of a signed-in session: its clock starts with its first request
    (if sign-in did not start it), and its row is made or refreshed when the last
    note is a minute old."""
    user_id = request.user.pk
    if user_id is not None:
        _note(request, user_id, timezone.now().timestamp() if now is None else now)


def _note(request: HttpRequest, user_id: int, now: float, *, force: bool = False) -> None:
    session, key = request.session, request.session.session_key
    # A session from before tracking starts its clock now.
    signed_in_at = session.setdefault(SIGNED_IN_AT, now)
    seen_at = session.get(SEEN_AT)
    if not force and seen_at is not None and now - seen_at < SEEN_EVERY_SECONDS:
        return
    session[SEEN_AT] = now
    if not key:
        return
    seen = datetime.fromtimestamp(now, tz=UTC)
    details = {
        "user_id": user_id,
        "last_seen_at": seen,
        "ip": client_ip(request),
        "user_agent": request.headers.get("User-Agent", "")[:300],
    }
    UserSession.objects.update_or_create(
        session_key=key,
        defaults=details,
        create_defaults={**details, "created_at": datetime.fromtimestamp(signed_in_at, tz=UTC)},
    )


def forget_session(session_key: str | None) -> None:
    """Drop the row of a session that ended (sign-out, expiry)."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def session_rekeyed(old_key: str | None, new_key: str | None) -> None:
    """Keep a session's row when Django gives it a new key (update_session_auth_hash
    after a password change cycles the key; the session goes on)."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def live_sessions(user: User) -> QuerySet[UserSession]:
    """The user's sessions that still work, most recently used first. Rows of sessions
    that ended without a request to notice it (the browser was closed and the time
    ran out, the store was cleared) are pruned first."""
    prune_user_sessions(user)
    return UserSession.objects.filter(user=user).order_by("-last_seen_at")


def prune_user_sessions(user: User) -> int:
    """End `user`'s sessions that are past their idle or absolute limit, and drop rows
    whose session is gone from the store; returns how many rows went."""
    now = timezone.now()
    # last_seen_at lags the session's own clock by up to SEEN_EVERY_SECONDS.
    idle_before = now - timedelta(minutes=settings.SESSION_IDLE_MINUTES, seconds=SEEN_EVERY_SECONDS)
    signed_in_before = now - timedelta(hours=settings.SESSION_MAX_HOURS)
    rows = list(UserSession.objects.filter(user=user))
    stale = {
        row.session_key
        for row in rows
        if row.last_seen_at < idle_before or row.created_at < signed_in_before
    }
    gone = {
        row.session_key
        for row in rows
        if row.session_key not in stale
        and not session_store(row.session_key).exists(row.session_key)
    }
    for key in stale:
        session_store(key).delete(key)
    if stale or gone:
        UserSession.objects.filter(session_key__in=stale | gone).delete()
    return len(stale | gone)


# TRICKY: receivers connect when this module is imported (operators.middleware imports
# it, so before the first request is served). A sign-in before that (a test's
# force_login) is tracked by its first request instead, which then writes.
@receiver(user_logged_in, dispatch_uid="operators.sessions.track_on_login")
def _track_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Start the session's clock and its row at sign-in, so the first page after it
    writes nothing. A renewal (an OIDC refresh logs the same user into the same
    session) keeps the clock: the absolute limit counts from the first sign-in."""
    if request is None or not hasattr(request, "session") or user is None or user.pk is None:
        return
    # Rows of sessions abandoned since (browser closed, time ran out) go now, so they
    # never pile up for someone who never opens their settings page.
    prune_user_sessions(user)
    _note(request, user.pk, timezone.now().timestamp(), force=True)


@receiver(user_logged_out, dispatch_uid="operators.sessions.forget_on_logout")
def _forget_on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        forget_session(request.session.session_key)


# Most specific first: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("HeadlessChrome/", "Chrome (headless)"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """A browser's User-Agent in plain words: "Firefox on Windows"."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"A browser on {system}" if system else "Unknown browser")
