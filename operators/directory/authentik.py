"""Authentik's core API (/api/v3), as far as inviting operators needs it.

What its answers look like was recorded from a real Authentik (2026.2) and is
replayed by the test fake (tests/fakes/authentik.py). Things to know:
- email is not unique in Authentik, and `?email=` is exact and case-sensitive;
  `?search=` is a case-insensitive substring match. Emails are lower-cased here
  and a match is confirmed case-insensitively, never assumed.
- an existing username is a 400 `{"username": [...]}`, not a 409.
- a bad token is a 403 `{"detail": "Token invalid/expired"}` (never a 401).
- with no recovery flow on the brand, the recovery request is a 400
  `{"non_field_errors": "No recovery flow set."}` (a string or a list), even for
  an unknown user.
- lists are paged (20 a page unless `page_size` says otherwise), with a
  `pagination` object whose `next` is 0 on the last page.
- removing a user from a group they are not in is a 204, like any removal.

Deadlines: every call has one (the per-call timeout), and `deadline(seconds)`
sets a tighter one for everything a caller does inside it (one whole invite).
A read timeout is never retried (a hung Authentik would only be waited on again);
a GET is retried on a refused connection or a 502/503/504 only while its deadline
leaves time, and each request waits at most the time left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import requests
from django.conf import settings
from django.core.cache import caches
from requests.adapters import HTTPAdapter

from operators.directory.base import DirectoryError, DirectoryUser

NO_RECOVERY_FLOW = "No recovery flow set."
# What the last recovery request found, shared by every worker: the team page warns
# while the brand has no recovery flow (invites then hand over temporary passwords,
# which Authentik's default flows never make anyone change).
RECOVERY_FLOW_SEEN = "authentik:recovery-flow-seen"


def _remember_recovery_flow(*, present: bool) -> None:
    caches["coordination"].set(RECOVERY_FLOW_SEEN, {"present": present, "at": time.time()})


def recovery_flow_missing_since() -> float | None:
    """When a recovery request last found no recovery flow on the brand (a Unix time),
    or None when the last one found a flow or none was made yet."""
    seen = caches["coordination"].get(RECOVERY_FLOW_SEEN)
    if isinstance(seen, dict) and seen.get("present") is False:
        return float(seen.get("at") or 0)
    return None


# Authentik's OAuth2 provider "subject mode" (sub_mode) values, and what each puts in `sub`.
SUBJECT_MODES = (
    "hashed_user_id", "user_id", "user_uuid", "user_username", "user_email", "user_upn",
)  # fmt: skip
# Lists come in Authentik's default pages of 20; a search for one email that still
# has pages after this many (500 accounts) is not going to find it reliably.
MAX_PAGES = 25
RETRYABLE_STATUSES = frozenset({502, 503, 504})
RETRY_BACKOFF_SECONDS = (0.2, 0.4)  # so at most three tries of one GET

# (monotonic time it ends, its length in seconds) of the innermost `deadline()`.
_deadline: ContextVar[tuple[float, float] | None] = ContextVar("authentik_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every Authentik call made inside ends by `seconds` from now (or fails saying so)."""
    outer = _deadline.get()
    ends = time.monotonic() + seconds
    if outer is not None and outer[0] < ends:
        ends, seconds = outer  # an enclosing, tighter deadline wins
    token = _deadline.set((ends, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


class AuthentikDirectory:
    kind = "authentik"

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float = 5.0,
        subject_mode: str | None = None,
    ) -> None:
        subject_mode = subject_mode or settings.AUTHENTIK_SUBJECT_MODE
        if subject_mode not in SUBJECT_MODES:
            raise ValueError(f"Unknown subject mode {subject_mode!r}; one of {SUBJECT_MODES}.")
        self.base_url = base_url.rstrip("/")
        self.api = f"{self.base_url}/api/v3"
        self.token = token
        self.timeout = timeout
        self.subject_mode = subject_mode
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        # Retries are done in _send, where the deadline is known; none down here.
        self.session.mount("http://", HTTPAdapter(max_retries=0))
        self.session.mount("https://", HTTPAdapter(max_retries=0))
        self._group_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def matches_settings(self) -> bool:
        return (self.base_url, self.token, self.timeout, self.subject_mode) == (
            settings.AUTHENTIK_URL.rstrip("/"),
            settings.AUTHENTIK_TOKEN,
            settings.AUTHENTIK_TIMEOUT_SECONDS,
            settings.AUTHENTIK_SUBJECT_MODE,
        )

    # --- users -----------------------------------------------------------------

    def find_user_by_email(self, email: str) -> DirectoryUser | None:
        email = email.strip().lower()
        matches = self._all("/core/users/", {"email": email, "include_groups": "false"})
        if not matches:
            # Someone created in Authentik's own UI may have typed capitals. The search
            # also matches longer emails and names (a-pat@… for pat@…): every page is
            # read, so the exact one cannot hide on page two.
            found = self._all("/core/users/", {"search": email, "include_groups": "false"})
            matches = [u for u in found if (u.get("email") or "").lower() == email]
        if len(matches) > 1:
            pks = ", ".join(str(u["pk"]) for u in matches)
            raise DirectoryError(
                f"Several Authentik users have the email {email} (pk {pks}); "
                "merge or change them in Authentik first.",
                status=409,
                field="email",
            )
        return self._user(matches[0]) if matches else None

    def get_user(self, user_pk: int) -> DirectoryUser | None:
        """The account with this pk, or None when Authentik has none (deleted)."""
        try:
            return self._user(self._send("GET", f"/core/users/{int(user_pk)}/", None, expect=200))
        except DirectoryError as err:
            if err.status == 404:
                return None
            raise

    def create_user(
        self, *, email: str, name: str, group_ids: list[str], attributes: dict[str, Any]
    ) -> DirectoryUser:
        email = email.strip().lower()
        body = {
            "username": email,
            "name": name,
            "email": email,
            "is_active": True,
            "type": "internal",
            "groups": group_ids,
            "attributes": attributes,
        }
        try:
            return self._user(self._send("POST", "/core/users/", body, expect=201))
        except DirectoryError as err:
            if err.status == 400 and err.field == "groups":
                # A cached group was deleted in Authentik; a retry looks it up again.
                for group_id in group_ids:
                    self._forget_group_id(group_id)
            raise

    def add_user_to_group(self, user_pk: int, group_id: str) -> None:
        try:
            self._send("POST", f"/core/groups/{group_id}/add_user/", {"pk": user_pk}, expect=204)
        except DirectoryError as err:
            if err.status == 404:
                # The group (or the user) is gone; the next ensure_group looks it up again.
                self._forget_group_id(group_id)
            raise

    def remove_user_from_group(self, user_pk: int, group_id: str) -> None:
        """Idempotent, as Authentik is: removing a non-member answers 204 too.

        A 404 means the user or the group is gone in Authentik, so the user is not a
        member either way; the cached group id is forgotten so it is looked up again.
        """
        try:
            self._send(
                "POST", f"/core/groups/{group_id}/remove_user/", {"pk": int(user_pk)}, expect=204
            )
        except DirectoryError as err:
            if err.status != 404:
                raise
            self._forget_group_id(group_id)

    def set_user_active(self, user_pk: int, active: bool) -> None:
        """Activate or deactivate the account; a deactivated one cannot sign in."""
        self._send("PATCH", f"/core/users/{int(user_pk)}/", {"is_active": bool(active)}, expect=200)

    def recovery_link(self, user_pk: int) -> str | None:
        """The user's recovery link, or None when the brand has no recovery flow."""
        try:
            answer = self._send("POST", f"/core/users/{user_pk}/recovery/", {}, expect=200)
        except DirectoryError as err:
            if err.status == 400 and err.message == NO_RECOVERY_FLOW:
                _remember_recovery_flow(present=False)
                return None
            raise
        _remember_recovery_flow(present=True)
        return answer["link"]

    def set_password(self, user_pk: int, password: str) -> None:
        self._send(
            "POST", f"/core/users/{user_pk}/set_password/", {"password": password}, expect=204
        )

    # --- groups ----------------------------------------------------------------

    def ensure_group(self, name: str, *, verify: bool = False) -> str:
        """The group's id, creating the group if needed; looked up once per process.

        `verify=True` asks Authentik whether the cached group still exists (one GET)
        and finds or creates it again when it was deleted there; reconcile does this,
        since a group removed in Authentik's UI must come back without a restart.
        """
        with self._lock:
            cached = self._group_ids.get(name)
        if cached and (not verify or self._group_exists(cached, name)):
            return cached
        if cached:
            self._forget_group_id(cached)
        group_id = self._find_group(name)
        if group_id is None:
            try:
                group_id = self._send("POST", "/core/groups/", {"name": name}, expect=201)["pk"]
            except DirectoryError as err:
                if err.status != 400 or err.field != "name":
                    raise
                group_id = self._find_group(name)  # created meanwhile by another worker
                if group_id is None:
                    raise
        with self._lock:
            self._group_ids[name] = group_id
        return group_id

    def _group_exists(self, group_id: str, name: str) -> bool:
        try:
            group = self._get(f"/core/groups/{group_id}/", {"include_users": "false"})
        except DirectoryError as err:
            if err.status == 404:
                return False
            raise
        return group.get("name") == name  # renamed in Authentik: not the group we want

    def _forget_group_id(self, group_id: str) -> None:
        with self._lock:
            for name in [n for n, pk in self._group_ids.items() if pk == group_id]:
                del self._group_ids[name]

    def _find_group(self, name: str) -> str | None:
        found = self._get("/core/groups/", {"name": name, "include_users": "false"})
        exact = [g for g in found["results"] if g["name"] == name]
        return exact[0]["pk"] if exact else None

    # --- HTTP ------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        return self._send("GET", path, None, expect=200, params=params)

    def _all(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every result of a paged list, page by page, at most MAX_PAGES pages."""
        results: list[dict[str, Any]] = []
        page = 1
        for _ in range(MAX_PAGES):
            found = self._get(path, {**params, "page": str(page)})
            results.extend(found["results"])
            page = int((found.get("pagination") or {}).get("next") or 0)
            if not page:
                return results
        raise DirectoryError(
            f"Authentik's list {path} with {_describe(params)} has more than {MAX_PAGES} "
            "pages; stopped reading it. Find the account in Authentik's own UI instead."
        )

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        expect: int,
        params: dict[str, str] | None = None,
    ) -> Any:
        now = time.monotonic()
        ends, seconds = now + self.timeout, self.timeout
        outer = _deadline.get()
        if outer is not None and outer[0] < ends:
            ends, seconds = outer
        for attempt in range(len(RETRY_BACKOFF_SECONDS) + 1):
            left = ends - time.monotonic()
            if left <= 0:
                raise _no_answer(seconds, method, path)
            try:
                response = self.session.request(
                    method, self.api + path, json=body, params=params, timeout=left
                )
            except requests.Timeout:
                # Includes a connect timeout: never retried, the deadline is spent.
                raise _no_answer(seconds, method, path) from None
            except requests.ConnectionError:
                if method == "GET" and self._pause(attempt, ends):
                    continue
                raise DirectoryError(f"Authentik at {self.base_url} cannot be reached.") from None
            if (
                response.status_code in RETRYABLE_STATUSES
                and method == "GET"  # a retried POST could create a second user
                and self._pause(attempt, ends)
            ):
                response.close()  # give the connection back before the next try
                continue
            return _answer(response, method, path, expect)
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _pause(attempt: int, ends: float) -> bool:
        """Wait before retry `attempt + 1`; False when there is none, or no time for it."""
        if attempt >= len(RETRY_BACKOFF_SECONDS):
            return False
        pause = RETRY_BACKOFF_SECONDS[attempt]
        if time.monotonic() + pause >= ends:
            return False
        time.sleep(pause)
        return True

    def _user(self, data: dict[str, Any]) -> DirectoryUser:
        return DirectoryUser(
            pk=int(data["pk"]),
            username=data.get("username", ""),
            email=(data.get("email") or "").lower(),
            name=data.get("name", ""),
            is_active=bool(data.get("is_active", True)),
            subject=subject_for(data, self.subject_mode),
            attributes=data.get("attributes") or {},
        )


def subject_for(data: dict[str, Any], mode: str) -> str:
    """What Authentik's OAuth2 provider puts in `sub` for this user, in this sub_mode."""
    email = data.get("email") or ""
    if mode == "user_id":
        return str(data["pk"])
    if mode == "user_uuid":
        return str(data.get("uuid") or "")
    if mode == "user_username":
        return str(data.get("username") or "")
    if mode == "user_email":
        return email
    if mode == "user_upn":
        return str((data.get("attributes") or {}).get("upn") or email)
    return str(data.get("uid") or "")  # hashed_user_id, Authentik's default


def _no_answer(seconds: float, method: str, path: str) -> DirectoryError:
    return DirectoryError(f"Authentik did not answer in {seconds:g} s ({method} {path}).")


def _describe(params: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if k != "page")


def _answer(response: requests.Response, method: str, path: str, expect: int) -> Any:
    if response.status_code != expect:
        message, field = _upstream_message(response)
        raise DirectoryError(message, status=response.status_code, field=field)
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise DirectoryError(
            f"Authentik answered {method} {path} with something that is not JSON.",
            status=response.status_code,
        ) from None


def _upstream_message(response: requests.Response) -> tuple[str, str | None]:
    """Authentik's own words from a DRF-shaped error body, and the field they are about."""
    try:
        body = response.json()
    except ValueError:
        # A proxy's or the server's HTML error page would show up as markup on a page.
        text = "" if "html" in response.headers.get("Content-Type", "") else response.text
        text = text.strip()[:200] or response.reason or "no explanation"
        return f"Authentik answered {response.status_code}: {text}.", None
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"]), None
        for field, value in body.items():
            messages = value if isinstance(value, list) else [value]
            text = " ".join(str(m) for m in messages)
            return text, None if field == "non_field_errors" else field
    return f"Authentik answered {response.status_code}.", None
