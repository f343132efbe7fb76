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
"""

from __future__ import annotations

import threading
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from operators.directory.base import DirectoryError, DirectoryUser

NO_RECOVERY_FLOW = "No recovery flow set."


class AuthentikDirectory:
    kind = "authentik"

    def __init__(self, *, base_url: str, token: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api = f"{self.base_url}/api/v3"
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        # Only reads are retried: a retried POST could create a second user.
        retry = Retry(
            total=2,
            connect=2,
            read=2,
            status=2,
            backoff_factor=0.2,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self._group_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def matches_settings(self) -> bool:
        return (self.base_url, self.token) == (
            settings.AUTHENTIK_URL.rstrip("/"),
            settings.AUTHENTIK_TOKEN,
        )

    # --- users -----------------------------------------------------------------

    def find_user_by_email(self, email: str) -> DirectoryUser | None:
        email = email.strip().lower()
        found = self._get("/core/users/", {"email": email, "include_groups": "false"})
        matches = found["results"]
        if not matches:
            # Someone created in Authentik's own UI may have typed capitals.
            found = self._get("/core/users/", {"search": email, "include_groups": "false"})
            matches = [u for u in found["results"] if (u.get("email") or "").lower() == email]
        if len(matches) > 1:
            pks = ", ".join(str(u["pk"]) for u in matches)
            raise DirectoryError(
                f"Several Authentik users have the email {email} (pk {pks}); "
                "merge or change them in Authentik first.",
                status=409,
                field="email",
            )
        return _user(matches[0]) if matches else None

    def get_user(self, user_pk: int) -> DirectoryUser | None:
        """The account with this pk, or None when Authentik has none (deleted)."""
        try:
            return _user(self._send("GET", f"/core/users/{int(user_pk)}/", None, expect=200))
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
            return _user(self._send("POST", "/core/users/", body, expect=201))
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

    def recovery_link(self, user_pk: int) -> str | None:
        """The user's recovery link, or None when the brand has no recovery flow."""
        try:
            answer = self._send("POST", f"/core/users/{user_pk}/recovery/", {}, expect=200)
        except DirectoryError as err:
            if err.status == 400 and err.message == NO_RECOVERY_FLOW:
                return None
            raise
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

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        expect: int,
        params: dict[str, str] | None = None,
    ) -> Any:
        try:
            response = self.session.request(
                method, self.api + path, json=body, params=params, timeout=self.timeout
            )
        except requests.Timeout:
            raise DirectoryError(
                f"Authentik did not answer within {self.timeout:g} s ({method} {path})."
            ) from None
        except requests.ConnectionError:
            raise DirectoryError(f"Authentik at {self.base_url} cannot be reached.") from None
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


def _user(data: dict[str, Any]) -> DirectoryUser:
    return DirectoryUser(
        pk=int(data["pk"]),
        username=data.get("username", ""),
        email=(data.get("email") or "").lower(),
        name=data.get("name", ""),
        is_active=bool(data.get("is_active", True)),
        subject=data.get("uid", ""),
        attributes=data.get("attributes") or {},
    )


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
