"""The responder and the console middleware, through a sample page built the one way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.console.pages")]

HERE = Path(__file__).parent
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def samples(settings, operator_client):
    templates = [dict(t) for t in settings.TEMPLATES]
    templates[0] = {**templates[0], "DIRS": [*templates[0]["DIRS"], HERE / "templates"]}
    settings.TEMPLATES = templates
    return operator_client


def test_a_plain_get_is_the_whole_page_with_its_inputs_filled(samples) -> None:
    response = samples.get("/samples/?q=sample-01&kind=even&sort=-name&page=1")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<aside class="sidebar"' in html
    assert 'value="sample-01"' in html  # the search box, from the URL
    assert 'aria-current="true"' in html and "Even" in html
    assert response["Cache-Control"] == "private, no-store"
    assert "HX-Request" in response["Vary"]


def test_an_htmx_swap_gets_the_partial_uncached(samples) -> None:
    response = samples.get("/samples/?q=sample-0", **HX)
    html = response.content.decode()
    assert '<aside class="sidebar"' not in html
    assert 'data-testid="result-count"' in html
    assert response["Cache-Control"] == "no-store"
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_is_the_whole_page(samples) -> None:
    response = samples.get("/samples/", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HX)
    assert '<aside class="sidebar"' in response.content.decode()


def test_the_list_components_write_the_state_back_into_every_link(samples) -> None:
    html = samples.get("/samples/?q=sample&kind=even").content.decode()
    assert 'href="/samples/?q=sample&amp;kind=even&amp;page=2"' in html  # pager keeps filters
    assert 'href="/samples/?q=sample&amp;kind=even&amp;sort=name"' in html  # sort header
    assert 'href="/samples/?q=sample"' in html  # the "All" chip drops the filter
    # The search form sends the current filter along (inputs inside the region).
    assert 'name="kind" value="even" form="list-search-form"' in html
    assert re.search(
        r'role="status"[^>]*data-testid="result-count"><span class="tabular">60<', html
    )


def test_a_notice_is_a_message_on_a_page_and_a_toast_on_a_swap(samples) -> None:
    page = samples.get("/samples/?saved=1").content.decode()
    assert "Saved the sample." in page and 'id="toasts"' in page
    fragment = samples.get("/samples/?saved=1", **HX).content.decode()
    assert 'hx-swap-oob="beforeend"' in fragment and "Saved the sample." in fragment


def test_refusals_are_mapped_once(samples) -> None:
    swap = samples.get("/samples/refused/", **HX)
    assert swap.status_code == 422
    assert swap["HX-Reswap"] == "none"
    assert "Samples cannot be refused twice." in swap.content.decode()

    page = samples.get("/samples/refused/")
    assert page.status_code == 422
    assert "Samples cannot be refused twice." in page.content.decode()

    posted = samples.post("/samples/refused/", HTTP_REFERER="http://testserver/samples/")
    assert posted.status_code == 303 and posted["Location"] == "http://testserver/samples/"
    assert "Samples cannot be refused twice." in samples.get("/samples/").content.decode()


def test_not_found_is_the_404_page_or_a_toast(samples) -> None:
    page = samples.get("/samples/gone/")
    assert page.status_code == 404 and 'data-testid="not-found"' in page.content.decode()
    swap = samples.get("/samples/gone/", **HX)
    assert swap.status_code == 404 and swap["HX-Reswap"] == "none"


def test_api_answers_are_left_alone(operator_client) -> None:
    response = operator_client.get("/api/flags/")
    assert "HX-Request" not in response.get("Vary", "")
    assert settings.ROOT_URLCONF  # the real urls serve the API


def test_a_5xx_rendered_on_purpose_is_marked_to_swap(samples) -> None:
    # shell.js swaps a 5xx only with this mark; a crash or a proxy's page has none.
    response = samples.get("/samples/upstream/")
    assert response.status_code == 502
    assert response["X-Console-Swap"] == "error"
    assert "X-Console-Swap" not in samples.get("/samples/refused/", **HX)
