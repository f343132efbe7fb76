"""The Django admin in a real browser under the console's Content-Security-Policy:
every changelist and add page renders and works without anything being blocked (the
page fixture fails the test on any CSP report)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from playwright.sync_api import expect

from operators.models import User
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery"
EMAIL = "staff@dezky.example"


@pytest.fixture
def staff_page(live_server, page):
    User.objects.create_superuser(EMAIL, PASSWORD, name="Sample Staff")
    TenantFactory(slug="sample-admin-co", name="Sample Admin Company")
    page.goto(f"{live_server.url}/login/?next=/admin/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def test_every_admin_list_and_add_page_renders_under_the_csp(staff_page, live_server) -> None:
    page = staff_page
    for model in admin.site._registry:
        meta = model._meta
        base = f"{live_server.url}/admin/{meta.app_label}/{meta.model_name}/"
        response = page.goto(base)
        assert response.status == 200, base
        expect(page.locator("#content")).to_be_visible()
        add = page.goto(f"{base}add/")
        assert add.status in (200, 403), base


def test_a_tenant_is_edited_in_the_admin_with_its_widgets_working(staff_page, live_server) -> None:
    page = staff_page
    page.goto(f"{live_server.url}/admin/tenants/tenant/?q=sample-admin")
    page.get_by_role("link", name="sample-admin-co").first.click()
    page.get_by_label("Name").fill("Sample Admin Company Renamed")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
