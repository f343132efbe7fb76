"""The list helper: what it reads from the query string and the URLs it writes back."""

from __future__ import annotations

from django.test import RequestFactory

from console.lists import Filter, ListSpec, ListState, Sort

SPEC = ListSpec(
    sorts=(Sort("name", "Name", ("name", "slug")), Sort("created", "Created", ("created_at",))),
    default_sort="-created",
    filters=(
        Filter("status", "Status", (("", "All"), ("active", "Active"), ("pending", "Pending"))),
        Filter("partner", "Partner"),
    ),
    page_size=2,
)


def _state(query: str) -> ListState:
    return ListState.from_request(RequestFactory().get(f"/tenants/?{query}"), SPEC)


def test_reads_search_sort_filters_and_page() -> None:
    state = _state("q=+acme+&sort=name&status=active&partner=nordic-it&page=3")
    assert state.q == "acme"
    assert state.sort == "name" and not state.descending
    assert state.order_by == ["name", "slug"]
    assert state.filters == {"status": "active", "partner": "nordic-it"}
    assert state.page_number == "3"
    assert state.narrowed


def test_unknown_values_fall_back_to_the_defaults() -> None:
    state = _state("sort=password&status=gone&partner=%00DROP&q=" + "x" * 500)
    assert state.sort == "-created"
    assert state.order_by == ["-created_at"]
    assert state.filters == {"status": "", "partner": ""}
    assert len(state.q) == 100


def test_descending_sort_orders_every_field_the_other_way() -> None:
    assert _state("sort=-name").order_by == ["-name", "-slug"]
    assert _state("sort=--name").sort == "-created"


def test_urls_keep_the_state_drop_defaults_and_reset_the_page() -> None:
    state = _state("q=acme&status=active&page=3")
    assert state.url() == "/tenants/?q=acme&status=active"
    assert state.url(status="pending") == "/tenants/?q=acme&status=pending"
    assert state.url(page=2) == "/tenants/?q=acme&status=active&page=2"
    assert state.url(page=1) == "/tenants/?q=acme&status=active"
    assert state.url(q="", status="") == "/tenants/"
    assert state.url(sort="-created") == "/tenants/?q=acme&status=active"


def test_sort_url_toggles_the_direction_of_the_current_column() -> None:
    assert _state("").sort_url("name") == "/tenants/?sort=name"
    assert _state("sort=name").sort_url("name") == "/tenants/?sort=-name"
    assert _state("sort=-name").sort_url("name") == "/tenants/?sort=name"
    # Going back to the default sort leaves it out of the URL.
    assert _state("sort=created").sort_url("created") == "/tenants/"


def test_chips_carry_counts_links_and_the_current_one() -> None:
    state = _state("q=acme&status=pending")
    chips = state.chips(
        "status", (("", "All"), ("active", "Active"), ("pending", "Pending")),
        {"": 5, "active": 3, "pending": 2},
    )  # fmt: skip
    assert [(c.label, c.count, c.current) for c in chips] == [
        ("All", 5, False),
        ("Active", 3, False),
        ("Pending", 2, True),
    ]
    assert chips[0].url == "/tenants/?q=acme"
    assert chips[1].url == "/tenants/?q=acme&status=active"
    assert chips[0].testid == "chip-all"


def test_paginate_pages_and_forgives_a_bad_page_number() -> None:
    items = list(range(5))
    assert list(_state("page=2").paginate(items)) == [2, 3]
    assert list(_state("page=99").paginate(items)) == [4]
    assert list(_state("page=abc").paginate(items)) == [0, 1]
