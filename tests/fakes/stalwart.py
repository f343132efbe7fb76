"""A fake Stalwart management API: the domain principals the provisioning adapter
reads and creates, answered the way Stalwart answers (refusals as a 200 whose body
is {"error": ...}, an unknown principal as a 404)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tests.fakes.server import FakeService


@dataclass
class FakeStalwart(FakeService):
    token: str = "fake-stalwart-api-key"
    principals: dict[str, dict[str, Any]] = field(default_factory=dict)
    _next_id: int = 1

    def route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any):
        if headers.get("Authorization", "") != f"Bearer {self.token}":
            return 401, {
                "type": "about:blank", "status": 401, "title": "Unauthorized",
                "detail": "You have to authenticate first.",
            }  # fmt: skip
        m = re.fullmatch(r"/api/principal/([^/]+)", path)
        if m and method == "GET":
            found = self.principals.get(unquote(m.group(1)))
            if found is None:
                return 404, {
                    "type": "about:blank", "status": 404, "title": "Not Found",
                    "detail": "The requested resource does not exist on this server.",
                }  # fmt: skip
            return 200, {"data": found}
        if path == "/api/principal" and method == "POST":
            return self._create(body)
        return 404, {"type": "about:blank", "status": 404, "title": "Not Found"}

    def _create(self, body: Any):
        if not isinstance(body, dict) or not body.get("name") or not body.get("type"):
            return 200, {"error": "fieldMissing", "field": "name"}
        if body["name"] in self.principals:
            return 200, {"error": "fieldAlreadyExists", "field": "name", "value": body["name"]}
        principal = {"id": self._next_id, **body}
        self._next_id += 1
        self.principals[body["name"]] = principal
        return 200, {"data": principal["id"]}

    def domains(self) -> list[str]:
        return sorted(n for n, p in self.principals.items() if p.get("type") == "domain")
