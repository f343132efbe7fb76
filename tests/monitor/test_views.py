"""The monitor's pages: who may open them, what they show, "Probe now" with and
without htmx (and its rate limit), opening, updating and resolving incidents, and
the banner on the overview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from monitor import services
from monitor.models import Incident, ProbeResult
from monitor.views.infrastructure import PROBES_PER_MINUTE
from tests.console.url_matrix import CONSOLE_INCIDENT, MATRIX
from tests.fakes.server import FakeServer
from tests.fakes.stalwart import FakeStalwart
from tests.operators.factories import OperatorFactory, UserFactory
from tests.tenants.factories import TenantFactory

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
SHELL = '<aside class="sidebar"'


@pytest.fixture
def incident(operator) -> Incident:
    return services.incident_open(
        actor=operator, title="Mail delivery delayed", severity="critical",
        body="Queues on the outbound relay are growing.", affected_components=["stalwart"],
    )  # fmt: skip


def _incident_urls() -> list[str]:
    return [n for n, e in sorted(MATRIX.items()) if e[0] == CONSOLE_INCIDENT]


@pytest.mark.parametrize("name", _incident_urls())
def test_incident_pages_are_for_operators_only(client, incident, name) -> None:
    url = reverse(name, kwargs={"pk": incident.pk})
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith(reverse("operators:login") + "?next=")
    assert client.get(url, headers=HX).status_code == 401
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(OperatorFactory())
    assert client.get(url).status_code == 200
    assert client.get(reverse(name, kwargs={"pk": incident.pk + 1})).status_code == 404


# ------------------------------------------------------------ infrastructure --


def test_the_sidebar_leads_to_the_built_page(operator_client) -> None:
    response = operator_client.get("/infrastructure/")
    assert response.status_code == 200
    assert 'data-testid="placeholder"' not in response.text
    assert 'href="/infrastructure/" data-nav-label="Infrastructure" aria-current="page"' in (
        response.text
    )


def test_unconfigured_integrations_say_which_settings_configure_them(operator_client) -> None:
    text = operator_client.get("/infrastructure/").text
    for component, hint in (
        ("authentik", "AUTHENTIK_URL and AUTHENTIK_TOKEN"),
        ("stalwart", "STALWART_URL and STALWART_TOKEN"),
        ("ocis", "OCIS_URL and OCIS_TOKEN"),
    ):
        assert f'data-testid="card-{component}" data-state="not_configured"' in text
        assert hint in text
    # Configured but never probed is not green either.
    assert 'data-testid="card-database" data-state="unknown"' in text
    assert "Not probed yet" in text


def test_simulated_integrations_say_so_and_are_never_green(operator_client, settings) -> None:
    settings.DEMO_INTEGRATIONS = True
    settings.STALWART_URL, settings.STALWART_TOKEN = "http://127.0.0.1:9", "demo"
    text = operator_client.get("/infrastructure/").text
    assert 'data-testid="card-stalwart" data-state="simulated"' in text
    assert "Simulated (demo): not probed" in text


def test_probe_now_without_javascript_redirects_with_the_outcome(operator_client) -> None:
    response = operator_client.post(reverse("monitor:probe"))
    assert response.status_code == 303
    assert response.url == reverse("monitor:infrastructure")
    assert ProbeResult.objects.count() == 2  # database and cache
    page = operator_client.get(response.url).text
    assert "Probed 2 components: all up." in page
    assert 'data-testid="card-database" data-state="up"' in page
    assert "1 of 1 probed hours up" in page


def test_probe_now_with_htmx_swaps_the_cards_and_shows_a_down_upstream(
    operator_client, settings
) -> None:
    with FakeServer(FakeStalwart()) as fake:
        settings.STALWART_URL, settings.STALWART_TOKEN = fake.url, fake.token
        operator_client.post(reverse("monitor:probe"), headers=HX)
    response = operator_client.post(reverse("monitor:probe"), headers=HX)  # now stopped
    assert response.status_code == 200
    assert "<html" not in response.text and 'data-testid="infra-cards"' in response.text
    assert 'data-testid="card-stalwart" data-state="down"' in response.text
    assert "cannot be reached: Connection refused." in response.text
    assert "Stalwart (mail) down" in response.text  # the toast
    assert 'class="mon-bar mon-bar-down"' in response.text


def test_probe_now_is_rate_limited(operator_client) -> None:
    for _ in range(PROBES_PER_MINUTE):
        assert operator_client.post(reverse("monitor:probe"), headers=HX).status_code == 200
    refused = operator_client.post(reverse("monitor:probe"), headers=HX)
    assert refused.status_code == 429
    assert "Try again in a minute" in refused.text
    assert ProbeResult.objects.count() == 2 * PROBES_PER_MINUTE


def test_probe_now_refuses_get(operator_client) -> None:
    assert operator_client.get(reverse("monitor:probe")).status_code == 405


# ------------------------------------------------------------------ incidents --


def test_opening_an_incident_from_the_form(operator_client, operator) -> None:
    TenantFactory(slug="acme")
    assert operator_client.get(reverse("monitor:incident_new")).status_code == 200
    response = operator_client.post(
        reverse("monitor:incident_new"),
        {
            "title": "Files slow to sync",
            "severity": "minor",
            "affected_components": ["ocis"],
            "affected_tenants": "acme",
            "body": "Uploads take minutes for some tenants.",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 303
    assert response.url == reverse("monitor:incident", kwargs={"pk": incident.pk})
    assert incident.affected_tenants.count() == 1
    event = AuditEvent.objects.get(action="incident.opened")
    assert event.actor == operator and event.metadata["severity"] == "minor"
    page = operator_client.get(response.url).text
    assert "Incident opened: Files slow to sync." in page
    assert 'data-testid="incident-tenants">1<' in page


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ["Title: This field is required.", "First update: This field is required."]),
        ({"title": "x" * 201, "body": "b"}, ["Title: Ensure this value has at most 200"]),
        ({"title": "Mail\x00down", "body": "b"}, ["Title: Null characters are not allowed."]),
        ({"title": "t", "body": "b", "severity": "doom"}, ["Severity: Select a valid choice."]),
        ({"title": "t", "body": "b", "affected_tenants": "nope"}, ["No tenant has the slug nope"]),
        ({"title": "t", "body": "b" * 5001}, ["First update: Ensure this value has at most 5000"]),
    ],
)
def test_an_invalid_incident_names_its_fields(operator_client, data, expected) -> None:
    response = operator_client.post(reverse("monitor:incident_new"), data)
    assert response.status_code == 400
    for words in expected:
        assert words in response.content.decode()
    assert not Incident.objects.exists()


def test_the_list_puts_open_incidents_first(operator_client, operator) -> None:
    first = services.incident_open(actor=operator, title="Old one", severity="minor", body="b")
    services.incident_resolve(actor=operator, incident=first, body="done")
    services.incident_open(actor=operator, title="Current one", severity="major", body="b")
    text = operator_client.get(reverse("monitor:incidents")).text
    assert text.index("Current one") < text.index("Old one")
    resolved = operator_client.get(reverse("monitor:incidents") + "?state=resolved", headers=HX)
    assert "<html" not in resolved.text
    assert "Old one" in resolved.text and "Current one" not in resolved.text


def test_posting_an_update_with_htmx_swaps_the_timeline(operator_client, incident) -> None:
    url = reverse("monitor:incident_update", kwargs={"pk": incident.pk})
    response = operator_client.post(
        url, {"status": "identified", "body": "A full disk on relay 2."}, headers=HX
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert f'id="incident-{incident.pk}-body"' in response.text
    assert response.text.index("A full disk on relay 2.") < response.text.index(
        "Queues on the outbound relay"
    )  # newest first
    assert AuditEvent.objects.get(action="incident.updated").metadata["status"] == "identified"


def test_an_update_without_javascript_redirects_to_the_incident(operator_client, incident) -> None:
    url = reverse("monitor:incident_update", kwargs={"pk": incident.pk})
    response = operator_client.post(url, {"status": "monitoring", "body": "Watching queues."})
    assert response.status_code == 303
    assert response.url == reverse("monitor:incident", kwargs={"pk": incident.pk})


def test_an_empty_update_is_refused_naming_the_field(operator_client, incident) -> None:
    url = reverse("monitor:incident_update", kwargs={"pk": incident.pk})
    response = operator_client.post(url, {"status": "resolved", "body": ""}, headers=HX)
    assert response.status_code == 400
    assert "Update: This field is required." in response.text
    assert "Status: Select a valid choice." in response.text
    assert operator_client.get(url).status_code == 405


def test_resolving_takes_the_banner_off_the_overview(operator_client, incident) -> None:
    overview = operator_client.get("/").text
    assert 'data-testid="incident-banner"' in overview
    assert "Mail delivery delayed" in overview
    assert 'id="incident-dialog"' in overview

    url = reverse("monitor:incident_resolve", kwargs={"pk": incident.pk})
    assert operator_client.post(url, {"body": ""}, headers=HX).status_code == 400
    response = operator_client.post(url, {"body": "Queues drained."}, headers=HX)
    assert response.status_code == 200
    assert 'data-status="resolved"' in response.text
    assert 'data-testid="incident-composer"' not in response.text
    assert 'data-testid="incident-banner"' not in operator_client.get("/").text
    again = operator_client.post(url, {"body": "Again."}, headers=HX)
    assert again.status_code == 409
    assert 'data-testid="incident-closed"' in again.text


def test_the_banner_shows_the_most_severe_open_incident(operator_client, operator) -> None:
    services.incident_open(actor=operator, title="Slow search", severity="minor", body="b")
    services.incident_open(actor=operator, title="Sign-in down", severity="critical", body="b")
    text = operator_client.get("/infrastructure/").text
    assert 'id="incident-banner-title">Sign-in down<' in text
    assert "1 more open" in text


def test_a_bad_incident_id_is_a_404_not_a_500(operator_client) -> None:
    assert operator_client.get("/incidents/99999999999999999999/").status_code == 404
