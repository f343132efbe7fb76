"""One small JSON-over-HTTP client for the provisioning adapters: one session per
upstream and process, a timeout on every call, reads retried, the upstream's own
words kept in the error."""

from __future__ import annotations

import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tenants.provisioning.base import ProvisioningFailed


class JsonClient:
    def __init__(self, *, name: str, base_url: str, token: str, timeout: float) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        # Only reads are retried, and only on a gateway error: a write that failed may
        # have happened, and the next reconcile finds it instead of making a second one.
        # read=False: a slow answer is not asked for again (that would triple the wait).
        retry = Retry(
            total=2, read=False, backoff_factor=0.1, status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET"}), raise_on_status=False,
        )  # fmt: skip
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, HTTPAdapter(max_retries=retry))

    def call(
        self, method: str, path: str, *, body: Any = None, params: dict | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, Any]:  # fmt: skip
        """(status, JSON body) for an answer in `ok`; anything else is ProvisioningFailed."""
        try:
            response = self.session.request(
                method, self.base_url + path, json=body, params=params, timeout=self.timeout
            )
        except requests.Timeout:
            raise ProvisioningFailed(
                f"{self.name} did not answer within {self.timeout:g} s ({method} {path})."
            ) from None
        except requests.ConnectionError:
            raise ProvisioningFailed(f"{self.name} at {self.base_url} cannot be reached.") from None
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        if response.status_code not in ok:
            detail = _words(data) or _first_line(response.text) or response.reason
            raise ProvisioningFailed(
                f"{self.name} answered {response.status_code} to {method} {path}: {detail}"
            )
        return response.status_code, data


_clients: dict[tuple[str, str, str, float], JsonClient] = {}
_clients_lock = threading.Lock()


def client_for(*, name: str, base_url: str, token: str, timeout: float) -> JsonClient:
    """The process's client for this upstream; a settings change makes a new one."""
    key = (name, base_url, token, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = JsonClient(
                name=name, base_url=base_url, token=token, timeout=timeout
            )
        return client


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0][:200] if stripped else ""


def _words(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    for key in ("detail", "error_description", "message", "details", "title", "error"):
        value = data.get(key)
        if isinstance(value, dict):  # oCIS (Graph): {"error": {"code", "message"}}
            value = value.get("message") or value.get("code")
        if value:
            return str(value)
    return ""
