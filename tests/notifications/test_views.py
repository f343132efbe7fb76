"""The notifications page, its fragments and the mark-read writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from notifications import selectors
from tests.notifications.events import record
from tests.operators.factories import OperatorFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def other() -> Any:
    return OperatorFactory(email="other@dezky.example")


def suspended(other: Any) -> Any:
    tenant = TenantFactory(slug="nordwind-mail")
    return record("tenant.suspended", actor=other, target_id=str(tenant.pk), tenant=tenant)


class TestPage:
    def test_lists_the_notifications_as_a_whole_page(self, operator_client, other) -> None:
        event = suspended(other)
        response = operator_client.get(reverse("notifications:list"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" in body and 'data-testid="notification-bell"' in body
        assert f'data-notification-id="{event.id}"' in body
        assert "Tenant suspended" in body and "other@dezky.example suspended tenant" in body
        assert "last 30 days" in body
        assert "HX-Request" in response["Vary"]

    def test_an_empty_list_says_so(self, operator_client) -> None:
        body = operator_client.get(reverse("notifications:list")).content.decode()
        assert 'data-testid="notifications-empty"' in body

    def test_every_console_page_has_the_bell_and_the_drawer(self, operator_client) -> None:
        body = operator_client.get(reverse("tenants:list")).content.decode()
        assert 'data-testid="notification-bell"' in body
        assert 'id="notifications-drawer"' in body
        assert 'data-poll-seconds="30"' in body

    def test_the_poll_interval_is_a_setting(self, operator_client, settings) -> None:
        settings.NOTIFICATIONS_POLL_SECONDS = 2
        body = operator_client.get(reverse("tenants:list")).content.decode()
        assert 'data-poll-seconds="2"' in body


class TestFragments:
    def test_the_drawer_gets_the_rows_and_is_never_stored(self, operator_client, other) -> None:
        event = suspended(other)
        response = operator_client.get(reverse("notifications:drawer"), **HTMX)
        assert response.status_code == 200
        body = response.content.decode()
        assert "<html" not in body
        assert f'data-notification-id="{event.id}"' in body
        assert f'name="through" value="{event.id}"' in body
        assert response["Cache-Control"] == "no-store"
        assert "HX-Request" in response["Vary"]

    def test_the_drawer_url_opened_itself_is_the_whole_page(self, operator_client) -> None:
        response = operator_client.get(reverse("notifications:drawer"))
        assert response.status_code == 200
        assert "<html" in response.content.decode()
        assert response["Cache-Control"] == "no-store"

    def test_the_count(self, operator_client, other) -> None:
        suspended(other)
        response = operator_client.get(reverse("notifications:count"), **HTMX)
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        body = response.content.decode()
        assert "Notifications, 1 unread" in body
        assert 'data-testid="notification-count">1<' in body

    def test_no_count_no_badge(self, operator_client) -> None:
        body = operator_client.get(reverse("notifications:count"), **HTMX).content.decode()
        assert "Notifications, none unread" in body
        assert "notif-badge" not in body

    def test_more_than_99_reads_99_plus(self, operator_client, other, monkeypatch) -> None:
        monkeypatch.setattr(selectors, "unread_count", lambda user: 100)
        body = operator_client.get(reverse("notifications:count"), **HTMX).content.decode()
        assert "Notifications, 99+ unread" in body

    def test_the_count_endpoint_costs_the_same_whatever_there_is(
        self, operator_client, other, django_assert_num_queries
    ) -> None:
        url = reverse("notifications:count")
        operator_client.get(url, **HTMX)  # the session is warm
        counts = []
        for n in (1, 40):
            for _ in range(n):
                suspended_event = record("tenant.suspended", actor=other)
            assert suspended_event
            with django_assert_num_queries(4) as captured:  # session, user, watermark, batch
                operator_client.get(url, **HTMX)
            counts.append(len(captured.captured_queries))
        assert counts == [4, 4]


class TestMarkRead:
    def test_marks_it_read_and_goes_where_it_leads(self, operator_client, operator, other) -> None:
        event = suspended(other)
        response = operator_client.post(reverse("notifications:read", args=[event.id]))
        assert response.status_code == 303
        assert response.url == "/tenants/nordwind-mail/"
        assert selectors.unread_count(operator) == 0

    def test_only_post(self, operator_client, other) -> None:
        event = suspended(other)
        assert (
            operator_client.get(reverse("notifications:read", args=[event.id])).status_code == 405
        )
        assert operator_client.get(reverse("notifications:read-all")).status_code == 405

    @pytest.mark.parametrize("event_id", [424242, 2**63, 10**30])
    def test_an_unknown_or_impossible_id_is_a_404(self, operator_client, event_id) -> None:
        response = operator_client.post(f"/notifications/{event_id}/read/")
        assert response.status_code == 404

    def test_an_own_event_is_no_notification(self, operator_client, operator) -> None:
        event = record("tenant.suspended", actor=operator)
        response = operator_client.post(reverse("notifications:read", args=[event.id]))
        assert response.status_code == 404


class TestMarkAll:
    def test_with_htmx_the_fresh_rows_a_toast_and_a_trigger(
        self, operator_client, operator, other
    ) -> None:
        event = suspended(other)
        response = operator_client.post(
            reverse("notifications:read-all"), {"through": str(event.id)}, **HTMX
        )
        assert response.status_code == 200
        assert response["HX-Trigger"] == "notifications-changed"
        body = response.content.decode()
        assert "<html" not in body and "All notifications are marked read." in body
        assert "data-unread" not in body
        assert selectors.unread_count(operator) == 0

    def test_without_htmx_back_to_the_page(self, operator_client, operator, other) -> None:
        suspended(other)
        response = operator_client.post(reverse("notifications:read-all"))
        assert response.status_code == 303
        assert response.url == reverse("notifications:list")
        assert selectors.unread_count(operator) == 0

    @pytest.mark.parametrize("through", ["abc", "-1", "1\x00", "9" * 40, "١٢"])
    def test_a_bad_through_is_a_400_naming_it(
        self, operator_client, operator, other, through
    ) -> None:
        suspended(other)
        response = operator_client.post(
            reverse("notifications:read-all"), {"through": through}, **HTMX
        )
        assert response.status_code == 400
        assert "through" in response.content.decode()
        assert selectors.unread_count(operator) == 1
