"""A stateful fake of Authentik's core API, served over real HTTP on 127.0.0.1.

It answers the calls the directory makes with the paths, status codes and bodies
a real Authentik 2026.2 gave (spec/authentik-exchanges.json), checks every body
it receives against the `authentik-client` package's request models (a body the
real API would reject is recorded in `contract_violations`, which the fixture
asserts empty), and can inject a fault into any call.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.server import FakeService


def _load_request_models() -> tuple[type, ...]:
    """The six request models, without importing all of authentik-client.

    TRICKY: the package's __init__ imports every one of its thousands of modules
    (about 6 s). Registering bare package modules first lets Python import just
    the model files needed (and what they import).
    """
    import importlib.util
    import sys
    import types
    from pathlib import Path

    if "authentik_client" not in sys.modules:
        root = Path(importlib.util.find_spec("authentik_client").origin).parent
        for name, folder in (
            ("authentik_client", root),
            ("authentik_client.models", root / "models"),
        ):
            package = types.ModuleType(name)
            package.__path__ = [str(folder)]
            sys.modules[name] = package
    from authentik_client.models.group_request import GroupRequest
    from authentik_client.models.patched_user_request import PatchedUserRequest
    from authentik_client.models.user_account_request import UserAccountRequest
    from authentik_client.models.user_password_set_request import UserPasswordSetRequest
    from authentik_client.models.user_recovery_link_request import UserRecoveryLinkRequest
    from authentik_client.models.user_request import UserRequest

    return (
        GroupRequest,
        PatchedUserRequest,
        UserAccountRequest,
        UserPasswordSetRequest,
        UserRecoveryLinkRequest,
        UserRequest,
    )


(
    GroupRequest,
    PatchedUserRequest,
    UserAccountRequest,
    UserPasswordSetRequest,
    UserRecoveryLinkRequest,
    UserRequest,
) = _load_request_models()

API = "/api/v3"


@dataclass
class FakeAuthentik(FakeService):
    token: str = "fake-authentik-token"
    recovery_flow: bool = False
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    passwords: dict[int, str] = field(default_factory=dict)
    contract_violations: list[str] = field(default_factory=list)
    page_size: int = 20  # Authentik's default page size
    _next_pk: int = 7

    # --- test controls -----------------------------------------------------------

    def add_user(self, email: str, name: str = "Existing Person", **extra: Any) -> dict[str, Any]:
        with self._lock:
            return self._new_user({"username": email, "name": name, "email": email, **extra})

    # --- the API -----------------------------------------------------------------

    def route(self, method: str, path: str, query: dict[str, str], body: Any, headers: Any):
        auth = headers.get("Authorization", "")
        if not auth:
            return 403, {"detail": "Authentication credentials were not provided."}
        if auth != f"Bearer {self.token}":
            return 403, {"detail": "Token invalid/expired"}
        rest = path.removeprefix(API)
        if rest == "/core/users/" and method == "GET":
            return self._page(self._find_users(query), query)
        if rest == "/core/users/" and method == "POST":
            return self._create_user(body)
        if rest == "/core/groups/" and method == "GET":
            name = query.get("name")
            found = [g for g in self.groups.values() if name is None or g["name"] == name]
            return self._page(found, query)
        if rest == "/core/groups/" and method == "POST":
            return self._create_group(body)
        m = re.fullmatch(r"/core/users/(\d+)/(recovery|set_password)/", rest)
        if m and method == "POST":
            pk, action = int(m.group(1)), m.group(2)
            return (
                self._recovery(pk, body) if action == "recovery" else self._set_password(pk, body)
            )
        m = re.fullmatch(r"/core/groups/([0-9a-f-]+)/(add_user|remove_user)/", rest)
        if m and method == "POST":
            if m.group(2) == "add_user":
                return self._add_user(m.group(1), body)
            return self._remove_user(m.group(1), body)
        m = re.fullmatch(r"/core/users/(\d+)/", rest)
        if m and method == "GET":
            user = self.users.get(int(m.group(1)))
            return (200, user) if user else (404, _not_found())
        if m and method == "DELETE":
            return (204, None) if self.users.pop(int(m.group(1)), None) else (404, _not_found())
        if m and method == "PATCH":
            return self._patch_user(int(m.group(1)), body)
        m = re.fullmatch(r"/core/groups/([0-9a-f-]+)/", rest)
        if m and method == "GET":
            group = self.groups.get(m.group(1))
            return (200, group) if group else (404, {"detail": "No Group matches the given query."})
        if m and method == "DELETE":
            return (204, None) if self.groups.pop(m.group(1), None) else (404, _not_found())
        return 404, {"detail": "Not found."}

    def _check(self, model: type, body: Any) -> str | None:
        try:
            model.model_validate_json(json.dumps(body))
        except Exception as exc:  # pydantic's ValidationError, or a type error
            problem = f"{model.__name__} rejects {body!r}: {exc}"
            self.contract_violations.append(problem)
            return problem
        return None

    def _find_users(self, query: dict[str, str]) -> list[dict[str, Any]]:
        users = list(self.users.values())
        if "email" in query:  # exact and case-sensitive, as Authentik's filter is
            users = [u for u in users if u["email"] == query["email"]]
        if "search" in query:
            needle = query["search"].lower()
            users = [
                u for u in users
                if any(needle in (u.get(f) or "").lower() for f in ("username", "name", "email"))
            ]  # fmt: skip
        return users

    def _create_user(self, body: Any):
        if self._check(UserRequest, body):
            return 400, {"non_field_errors": ["Invalid data."]}
        if any(u["username"] == body["username"] for u in self.users.values()):
            return 400, {"username": ["This field must be unique."]}
        for group_id in body.get("groups") or []:
            if group_id not in self.groups:
                return 400, {"groups": [f'Invalid pk "{group_id}" - object does not exist.']}
        user = self._new_user(body)
        for group_id in body.get("groups") or []:
            self.groups[group_id]["users"].append(user["pk"])
        return 201, user

    def _new_user(self, body: dict[str, Any]) -> dict[str, Any]:
        pk = self._next_pk
        self._next_pk += 1
        user = {
            "pk": pk,
            "username": body["username"],
            "name": body.get("name", ""),
            "is_active": body.get("is_active", True),
            "last_login": None,
            "date_joined": "2026-11-25T10:00:00.000000Z",
            "is_superuser": False,
            "groups": list(body.get("groups") or []),
            "groups_obj": None,
            "roles": [],
            "roles_obj": [],
            "email": body.get("email", ""),
            "avatar": "data:image/svg+xml;base64,",
            "attributes": body.get("attributes") or {},
            "uid": uuid.uuid4().hex + uuid.uuid4().hex,
            "path": "users",
            "type": body.get("type", "internal"),
            "uuid": str(uuid.uuid4()),
            "password_change_date": "2026-11-25T10:00:00.000000Z",
            "last_updated": "2026-11-25T10:00:00.000000Z",
        }
        self.users[pk] = user
        return user

    def _create_group(self, body: Any):
        if self._check(GroupRequest, body):
            return 400, {"non_field_errors": ["Invalid data."]}
        if any(g["name"] == body["name"] for g in self.groups.values()):
            return 400, {"name": ["Group with this name already exists."]}
        group_id = str(uuid.uuid4())
        group = {
            "pk": group_id, "num_pk": 10702 + len(self.groups), "name": body["name"],
            "is_superuser": False, "parents": [], "parents_obj": None, "users": [],
            "users_obj": [], "attributes": {}, "roles": [], "roles_obj": [],
            "inherited_roles_obj": None, "children": [], "children_obj": None,
        }  # fmt: skip
        self.groups[group_id] = group
        return 201, group

    def _recovery(self, pk: int, body: Any):
        if self._check(UserRecoveryLinkRequest, body or {}):
            return 400, {"non_field_errors": ["Invalid data."]}
        if not self.recovery_flow:  # answered before the user is even looked up
            return 400, {"non_field_errors": "No recovery flow set."}
        if pk not in self.users:
            return 404, {"detail": "No User matches the given query."}
        token = uuid.uuid4().hex
        return 200, {"link": f"{self.url}/if/flow/default-recovery-flow/?flow_token={token}"}

    def _set_password(self, pk: int, body: Any):
        if not isinstance(body, dict) or "password" not in body:
            return 400, {"password": ["This field is required."]}
        if self._check(UserPasswordSetRequest, body):
            return 400, {"password": ["Invalid password."]}
        if pk not in self.users:
            return 404, _not_found()
        self.passwords[pk] = body["password"]
        return 204, None

    def _add_user(self, group_id: str, body: Any):
        if self._check(UserAccountRequest, body):
            return 400, {"pk": ["A valid integer is required."]}
        if group_id not in self.groups or body["pk"] not in self.users:
            return 404, {"detail": "Not found."}
        members = self.groups[group_id]["users"]
        if body["pk"] not in members:
            members.append(body["pk"])
            self.users[body["pk"]]["groups"].append(group_id)
        return 204, None

    def _remove_user(self, group_id: str, body: Any):
        # Authentik looks the group up first, then the user, and removing a user who
        # is not a member is a 204 like any other (Django's m2m remove is a no-op).
        if self._check(UserAccountRequest, body):
            return 400, {"pk": ["A valid integer is required."]}
        if group_id not in self.groups:
            return 404, {"detail": "No Group matches the given query."}
        if body["pk"] not in self.users:
            return 404, {"detail": "Not found."}
        members = self.groups[group_id]["users"]
        if body["pk"] in members:
            members.remove(body["pk"])
            self.users[body["pk"]]["groups"].remove(group_id)
        return 204, None

    def _patch_user(self, pk: int, body: Any):
        if self._check(PatchedUserRequest, body or {}):
            return 400, {"non_field_errors": ["Invalid data."]}
        user = self.users.get(pk)
        if user is None:
            return 404, {"detail": "No User matches the given query."}
        if "username" in body and any(
            u["username"] == body["username"] and u["pk"] != pk for u in self.users.values()
        ):
            return 400, {"username": ["This field must be unique."]}
        for key in ("username", "name", "is_active", "email", "attributes", "path", "type"):
            if key in body:
                user[key] = body[key]
        return 200, user

    def _page(self, results: list[dict[str, Any]], query: dict[str, str]):
        """One page, as Authentik's Pagination (DRF's PageNumberPagination) gives it:
        `page_size` (default 20) and `page` from the query; a page past the end is a
        404, and an empty list still has a page 1."""
        size = self.page_size
        if query.get("page_size", "").isdigit() and int(query["page_size"]) > 0:
            size = int(query["page_size"])
        count = len(results)
        total_pages = max(1, -(-count // size))
        raw = query.get("page", "1")
        if raw == "last":
            current = total_pages
        elif raw.isdigit() and int(raw) > 0:
            current = int(raw)
        else:
            return 404, {"detail": "Invalid page."}
        if current > total_pages:
            return 404, {"detail": "Invalid page."}
        chunk = results[(current - 1) * size : current * size]
        start = (current - 1) * size + 1 if count else 0
        return 200, {
            "pagination": {
                "next": current + 1 if current < total_pages else 0,
                "previous": current - 1 if current > 1 else 0,
                "count": count, "current": current, "total_pages": total_pages,
                "start_index": start, "end_index": start + len(chunk) - 1 if count else 0,
            },
            "results": chunk,
            "autocomplete": {},
        }  # fmt: skip


def _not_found() -> dict[str, str]:
    return {"detail": "Not found."}
