"""A fake oCIS Graph API: project spaces (drives) listed and created the way oCIS
answers (`{"value": [...]}`, 201 with the new drive, Graph-style errors)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeService


@dataclass
class FakeOcis(FakeService):
    token: str = "fake-ocis-token"
    drives: list[dict[str, Any]] = field(default_factory=list)

    def route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any):
        if headers.get("Authorization", "") != f"Bearer {self.token}":
            return 401, {"error": {"code": "unauthenticated", "message": "Unauthorized"}}
        if path == "/graph/v1.0/drives" and method == "GET":
            drives = self.drives
            if query.get("$filter") == "driveType eq 'project'":
                drives = [d for d in drives if d["driveType"] == "project"]
            return 200, {"value": drives}
        if path == "/graph/v1.0/drives" and method == "POST":
            if not isinstance(body, dict) or not body.get("name"):
                return 400, {"error": {"code": "invalidRequest", "message": "invalid spacename"}}
            drive = {
                "id": f"{uuid.uuid4()}$${uuid.uuid4()}",
                "name": body["name"],
                "description": body.get("description", ""),
                "driveType": body.get("driveType", "project"),
                "quota": {"total": 1_000_000_000, "used": 0, "state": "normal"},
            }
            self.drives.append(drive)
            return 201, drive
        return 404, {"error": {"code": "itemNotFound", "message": "not found"}}

    def spaces_named(self, description: str) -> list[dict[str, Any]]:
        return [d for d in self.drives if d.get("description") == description]
