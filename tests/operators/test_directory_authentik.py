"""The Authentik directory client against the fake Authentik, over real HTTP."""

from __future__ import annotations

import pytest
import requests

from operators.directory import DirectoryError
from operators.directory.authentik import AuthentikDirectory


@pytest.fixture
def directory(fake_authentik) -> AuthentikDirectory:
    return AuthentikDirectory(base_url=fake_authentik.url, token=fake_authentik.token, timeout=0.5)


class TestGroupMembership:
    def test_remove_user_from_group_takes_the_user_out(self, directory, fake_authentik) -> None:
        group_id = directory.ensure_group("dezky-ops")
        pk = fake_authentik.add_user("pat.rivera@northwind.example")["pk"]
        directory.add_user_to_group(pk, group_id)
        assert pk in fake_authentik.groups[group_id]["users"]

        directory.remove_user_from_group(pk, group_id)

        assert pk not in fake_authentik.groups[group_id]["users"]
        assert group_id not in fake_authentik.users[pk]["groups"]
        assert fake_authentik.calls_to("POST", f"/core/groups/{group_id}/remove_user/")[-1][2] == {
            "pk": pk
        }

    def test_removing_a_non_member_is_fine_as_in_authentik(self, directory, fake_authentik) -> None:
        group_id = directory.ensure_group("dezky-ops")
        pk = fake_authentik.add_user("pat.rivera@northwind.example")["pk"]
        directory.remove_user_from_group(pk, group_id)  # never a member: no error
        directory.remove_user_from_group(pk, group_id)
        assert len(fake_authentik.calls_to("POST", "/remove_user/")) == 2

    def test_removing_from_a_deleted_group_is_fine_and_forgets_the_group(
        self, directory, fake_authentik
    ) -> None:
        group_id = directory.ensure_group("dezky-ops")
        pk = fake_authentik.add_user("pat.rivera@northwind.example")["pk"]
        fake_authentik.groups.clear()  # deleted in Authentik's UI
        directory.remove_user_from_group(pk, group_id)
        assert directory.ensure_group("dezky-ops") != group_id  # looked up and made again

    def test_a_server_error_while_removing_is_a_directory_error(
        self, directory, fake_authentik
    ) -> None:
        group_id = directory.ensure_group("dezky-ops")
        pk = fake_authentik.add_user("pat.rivera@northwind.example")["pk"]
        fake_authentik.inject("POST", "/remove_user/", "500")
        with pytest.raises(DirectoryError) as exc:
            directory.remove_user_from_group(pk, group_id)
        assert exc.value.status == 500


class TestSetUserActive:
    def test_deactivates_and_reactivates(self, directory, fake_authentik) -> None:
        pk = fake_authentik.add_user("pat.rivera@northwind.example")["pk"]
        directory.set_user_active(pk, False)
        assert fake_authentik.users[pk]["is_active"] is False
        assert directory.get_user(pk).is_active is False
        directory.set_user_active(pk, True)
        assert fake_authentik.users[pk]["is_active"] is True
        patch = fake_authentik.calls_to("PATCH", f"/core/users/{pk}/")
        assert [c[2] for c in patch] == [{"is_active": False}, {"is_active": True}]

    def test_an_unknown_user_is_a_404_directory_error(self, directory) -> None:
        with pytest.raises(DirectoryError) as exc:
            directory.set_user_active(999999, False)
        assert exc.value.status == 404
        assert exc.value.message == "No User matches the given query."

    def test_a_patch_is_not_retried(self, directory, fake_authentik) -> None:
        pk = fake_authentik.add_user("pat.rivera@northwind.example")["pk"]
        fake_authentik.inject("PATCH", f"/core/users/{pk}/", "502", times=3)
        with pytest.raises(DirectoryError) as exc:
            directory.set_user_active(pk, False)
        assert exc.value.status == 502
        assert len(fake_authentik.calls_to("PATCH", "/core/users/")) == 0  # fault answered
        assert fake_authentik.faults[0].times == 2  # exactly one attempt reached the fake


class TestPaging:
    def test_the_fake_pages_like_authentik(self, fake_authentik) -> None:
        for i in range(45):
            fake_authentik.add_user(f"person{i:02d}@northwind.example")
        headers = {"Authorization": f"Bearer {fake_authentik.token}"}
        url = fake_authentik.url + "/api/v3/core/users/"

        first = requests.get(url, headers=headers, timeout=5).json()
        assert first["pagination"] == {
            "next": 2, "previous": 0, "count": 45, "current": 1, "total_pages": 3,
            "start_index": 1, "end_index": 20,
        }  # fmt: skip
        assert len(first["results"]) == 20
        last = requests.get(url, params={"page": 3}, headers=headers, timeout=5).json()
        assert last["pagination"] == {
            "next": 0, "previous": 2, "count": 45, "current": 3, "total_pages": 3,
            "start_index": 41, "end_index": 45,
        }  # fmt: skip
        sized = requests.get(url, params={"page_size": 30, "page": 2}, headers=headers, timeout=5)
        emails = [u["email"] for u in sized.json()["results"]]
        assert (len(emails), emails[0]) == (15, "person30@northwind.example")
        past = requests.get(url, params={"page": 4}, headers=headers, timeout=5)
        assert (past.status_code, past.json()) == (404, {"detail": "Invalid page."})

    def test_find_by_email_reads_every_page_of_the_search(self, directory, fake_authentik) -> None:
        for i in range(45):
            fake_authentik.add_user(f"x{i:02d}-pat@example.test")
        wanted = fake_authentik.add_user("Pat@Example.TEST", name="Pat Rivera")
        found = directory.find_user_by_email("pat@example.test")
        assert found is not None and found.pk == wanted["pk"]
        assert found.email == "pat@example.test"
        searches = [c for c in fake_authentik.calls_to("GET", "/core/users/")]
        assert len(searches) == 1 + 3  # ?email= then the three pages of ?search=

    def test_two_accounts_with_the_email_on_different_pages_are_a_conflict(
        self, directory, fake_authentik
    ) -> None:
        fake_authentik.add_user("PAT@example.test")
        for i in range(25):
            fake_authentik.add_user(f"x{i:02d}-pat@example.test")
        fake_authentik.add_user("Pat@Example.test")
        with pytest.raises(DirectoryError, match="Several Authentik users") as exc:
            directory.find_user_by_email("pat@example.test")
        assert (exc.value.status, exc.value.field) == (409, "email")

    def test_an_endless_list_stops_with_a_clear_error(
        self, directory, fake_authentik, monkeypatch
    ) -> None:
        from operators.directory import authentik

        monkeypatch.setattr(authentik, "MAX_PAGES", 2)
        for i in range(41):
            fake_authentik.add_user(f"x{i:02d}-pat@example.test")
        with pytest.raises(DirectoryError, match="more than 2 pages; stopped reading it"):
            directory.find_user_by_email("pat@example.test")
        assert len(fake_authentik.calls_to("GET", "/core/users/")) == 1 + 2


class TestSubjectMode:
    @pytest.mark.parametrize(
        ("mode", "expected"),
        [
            ("hashed_user_id", lambda u: u["uid"]),
            ("user_id", lambda u: str(u["pk"])),
            ("user_uuid", lambda u: u["uuid"]),
            ("user_username", lambda u: "pat.rivera"),
            ("user_email", lambda u: "Pat.Rivera@northwind.example"),
            ("user_upn", lambda u: "pat@corp.northwind.example"),
        ],
    )
    def test_the_subject_is_what_the_provider_puts_in_sub(
        self, fake_authentik, mode, expected
    ) -> None:
        account = fake_authentik.add_user(
            "Pat.Rivera@northwind.example", username="pat.rivera",
            attributes={"upn": "pat@corp.northwind.example"},
        )  # fmt: skip
        directory = AuthentikDirectory(
            base_url=fake_authentik.url, token=fake_authentik.token, subject_mode=mode
        )
        assert directory.get_user(account["pk"]).subject == expected(account)

    def test_upn_falls_back_to_the_email(self, fake_authentik) -> None:
        account = fake_authentik.add_user("pat.rivera@northwind.example")
        directory = AuthentikDirectory(
            base_url=fake_authentik.url, token=fake_authentik.token, subject_mode="user_upn"
        )
        assert directory.get_user(account["pk"]).subject == "pat.rivera@northwind.example"

    def test_an_unknown_mode_is_refused(self, fake_authentik) -> None:
        with pytest.raises(ValueError, match="Unknown subject mode"):
            AuthentikDirectory(base_url=fake_authentik.url, token="t", subject_mode="hashed")

    def test_the_setting_chooses_the_mode(self, fake_authentik, settings) -> None:
        from operators.directory import get_directory

        account = fake_authentik.add_user("pat.rivera@northwind.example")
        settings.AUTHENTIK_SUBJECT_MODE = "user_id"
        assert get_directory().get_user(account["pk"]).subject == str(account["pk"])
        settings.AUTHENTIK_SUBJECT_MODE = "hashed_user_id"
        assert get_directory().get_user(account["pk"]).subject == account["uid"]


class TestDeadlines:
    def test_a_hung_read_is_not_retried_and_says_it_did_not_answer(self, fake_authentik) -> None:
        import time

        directory = AuthentikDirectory(
            base_url=fake_authentik.url, token=fake_authentik.token, timeout=0.5
        )
        fake_authentik.inject("GET", r"/core/users/\d+/$", "hang", times=3)
        started = time.monotonic()
        with pytest.raises(DirectoryError) as exc:
            directory.get_user(7)
        assert time.monotonic() - started < 0.5 + 1
        assert exc.value.message == "Authentik did not answer in 0.5 s (GET /core/users/7/)."
        assert fake_authentik.faults[0].times == 2

    def test_a_refused_connection_cannot_be_reached(self) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}"
        directory = AuthentikDirectory(base_url=url, token="t", timeout=0.5)
        with pytest.raises(DirectoryError) as exc:
            directory.get_user(7)
        assert exc.value.message == f"Authentik at {url} cannot be reached."

    def test_a_502_on_a_read_is_retried_while_time_is_left(self, fake_authentik) -> None:
        # One call's own deadline is its timeout; 2 s leave room for both backoffs.
        directory = AuthentikDirectory(
            base_url=fake_authentik.url, token=fake_authentik.token, timeout=2.0
        )
        pk = fake_authentik.add_user("pat.rivera@northwind.example")["pk"]
        fake_authentik.inject("GET", rf"/core/users/{pk}/$", "502", times=2)
        assert directory.get_user(pk).pk == pk  # the third try
        assert fake_authentik.faults[0].times == 0

    def test_no_retry_when_the_deadline_leaves_no_time(self, directory, fake_authentik):
        from operators.directory import deadline

        pk = fake_authentik.add_user("pat.rivera@northwind.example")["pk"]
        fake_authentik.inject("GET", rf"/core/users/{pk}/$", "502", times=2)
        with deadline(0.1), pytest.raises(DirectoryError) as exc:  # less than the backoff
            directory.get_user(pk)
        assert exc.value.status == 502
        assert fake_authentik.faults[0].times == 1  # one try only

    def test_a_spent_deadline_fails_the_next_call_without_calling(
        self, directory, fake_authentik
    ) -> None:
        import time

        from operators.directory import deadline

        with deadline(0.05), pytest.raises(DirectoryError, match=r"did not answer in 0\.05 s"):
            time.sleep(0.06)
            directory.get_user(7)
        assert fake_authentik.calls == []
