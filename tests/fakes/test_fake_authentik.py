"""The fake answers every recorded call the way the real Authentik did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.fakes.authentik import FakeAuthentik
from tests.fakes.server import FakeServer

RECORDING = json.loads(
    (Path(__file__).resolve().parents[2] / "spec" / "authentik-exchanges.json").read_text()
)
VOLATILE = {"pk", "num_pk", "uid", "uuid", "link", "last_login", "date_joined", "avatar",
            "password_change_date", "last_updated"}  # fmt: skip


def _shape(value, *, exact_errors: bool):
    """Compare bodies: exact for errors, keys and non-volatile values for objects."""
    if isinstance(value, dict):
        return {k: ("…" if k in VOLATILE else _shape(v, exact_errors=exact_errors))
                for k, v in value.items() if k not in ("autocomplete", "groups_obj")}  # fmt: skip
    if isinstance(value, list):
        return [_shape(v, exact_errors=exact_errors) for v in value]
    return value


@pytest.fixture
def fake():
    with FakeServer(FakeAuthentik(token="recorded-token")) as fake:
        yield fake


def test_every_recorded_exchange_is_answered_alike(fake) -> None:
    ids: dict[str, str] = {}  # recorded volatile id -> the fake's
    for exchange in RECORDING["exchanges"]:
        request, expected = exchange["request"], exchange["response"]
        if "recovery flow" in exchange["call"] and "has a recovery flow" in exchange["call"]:
            fake.recovery_flow = True
        path = request["path"]
        body = request["body"]
        if "{pk}" in path:  # the recording's placeholder for a user made off the record
            path = path.replace("{pk}", str(fake.add_user("link.user@example.com")["pk"]))
        for recorded, ours in ids.items():
            path = path.replace(f"/{recorded}/", f"/{ours}/")
        body_text = json.dumps(body)
        for recorded, ours in ids.items():
            body_text = body_text.replace(recorded, ours)
        body = json.loads(body_text)
        if isinstance(body, dict) and "pk" in body and isinstance(body["pk"], str):
            body["pk"] = int(body["pk"])
        headers = {}
        if exchange["call"] != "no token":
            headers["Authorization"] = (
                "Bearer wrong" if exchange["call"] == "bad token" else "Bearer recorded-token"
            )
        response = requests.request(
            request["method"], fake.url + path, params=request["query"],
            json=body if request["method"] != "GET" else None, headers=headers, timeout=5,
        )  # fmt: skip
        assert response.status_code == expected["status"], exchange["call"]
        if expected["body"] is None:
            assert response.content == b"", exchange["call"]
            continue
        got = response.json()
        if expected["status"] >= 400:
            assert got == expected["body"], exchange["call"]
        else:
            want = _shape(expected["body"], exact_errors=False)
            have = _shape(got, exact_errors=False)
            if "results" in want:
                assert len(have["results"]) == len(want["results"]), exchange["call"]
                for w, h in zip(want["results"], have["results"], strict=True):
                    assert w.keys() == h.keys(), exchange["call"]
            else:
                assert want.keys() <= have.keys() | {"groups_obj"}, exchange["call"]
        if response.status_code == 201:
            ids[str(expected["body"]["pk"])] = str(got["pk"])
    assert fake.contract_violations == []


def test_a_body_the_real_api_would_reject_is_a_contract_violation(fake) -> None:
    response = requests.post(
        fake.url + "/api/v3/core/users/",
        json={"username": "x@example.com", "name": "X", "type": "robot"},
        headers={"Authorization": "Bearer recorded-token"},
        timeout=5,
    )
    assert response.status_code == 400
    assert fake.contract_violations and "UserRequest" in fake.contract_violations[0]


def _auth() -> dict[str, str]:
    return {"Authorization": "Bearer recorded-token"}


def test_remove_user_answers_like_authentik(fake) -> None:
    """Authentik's GroupViewSet.remove_user: the group first (404 from get_object), then
    the user (a bare Http404), then an m2m remove, so a non-member is a 204 too."""
    group = fake._create_group({"name": "dezky-ops"})[1]
    pk = fake.add_user("pat.rivera@northwind.example")["pk"]
    url = f"{fake.url}/api/v3/core/groups/{group['pk']}/remove_user/"
    fake._add_user(group["pk"], {"pk": pk})
    first = requests.post(url, json={"pk": pk}, headers=_auth(), timeout=5)
    assert (first.status_code, first.content) == (204, b"")
    assert group["users"] == [] and fake.users[pk]["groups"] == []
    again = requests.post(url, json={"pk": pk}, headers=_auth(), timeout=5)
    assert again.status_code == 204
    unknown = requests.post(url, json={"pk": 999999}, headers=_auth(), timeout=5)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not found."})
    bad = requests.post(url, json={"pk": "seven"}, headers=_auth(), timeout=5)
    assert bad.status_code == 400
    assert fake.contract_violations and "UserAccountRequest" in fake.contract_violations[0]


def test_patch_user_answers_with_the_user(fake) -> None:
    pk = fake.add_user("pat.rivera@northwind.example")["pk"]
    url = f"{fake.url}/api/v3/core/users/{pk}/"
    off = requests.patch(url, json={"is_active": False}, headers=_auth(), timeout=5)
    assert off.status_code == 200
    assert off.json()["is_active"] is False and off.json()["pk"] == pk
    missing = requests.patch(
        f"{fake.url}/api/v3/core/users/999999/", json={"is_active": True}, headers=_auth(),
        timeout=5,
    )  # fmt: skip
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "No User matches the given query."},
    )
    assert fake.contract_violations == []
    requests.patch(url, json={"is_active": "no"}, headers=_auth(), timeout=5)
    assert fake.contract_violations and "PatchedUserRequest" in fake.contract_violations[0]


def test_a_hang_answers_nothing_until_the_server_stops() -> None:
    import time

    with FakeServer(FakeAuthentik(token="recorded-token")) as fake:
        fake.inject("GET", "/core/users/", "hang")
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            requests.get(fake.url + "/api/v3/core/users/", headers=_auth(), timeout=0.3)
        assert time.monotonic() - started < 1
    # Leaving the block did not wait out hang_seconds (60 s) for the hung handler.
    assert time.monotonic() - started < 5
