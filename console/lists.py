"""The one list helper: search, view (chips), filters, sort and page, read from the
query string and written back to it.

A list page declares a `ListSpec` once; its view builds a `ListState` from the
request and hands it to the template, whose components (search box, chips, sort
headers, pager) build every link through `state.url(...)`. The URL is the whole
state of a list, so a link, Back, Forward and reload all give the same page.

    TENANTS = ListSpec(
        sorts=(Sort("name", "Tenant", ("name",)), Sort("created", "Created", ("created_at",))),
        default_sort="-created",
        filters=(Filter("status", "Status", (("active", "Active"), ...)),),
    )
    state = ListState.from_request(request, TENANTS)
    page = state.paginate(selectors.tenant_list(**state.filters, order_by=state.order_by))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict

SEARCH_MAX_LENGTH = 100
# A filter without fixed choices (a partner slug, say) takes a slug-shaped value only.
_FREE_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def search_term(data: QueryDict) -> str:
    """The search box's `q`, of a GET query or of a form posted beside the list."""
    return data.get("q", "").strip()[:SEARCH_MAX_LENGTH]


@dataclass(frozen=True)
class Sort:
    """A sortable column: its URL key, its header label, the fields it orders by."""

    key: str
    label: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Filter:
    """A query-string filter. `choices` of (value, label); None accepts any slug."""

    name: str
    label: str
    choices: tuple[tuple[str, str], ...] | None = None

    def clean(self, value: str) -> str:
        if self.choices is None:
            return value if _FREE_VALUE.match(value) else ""
        return value if value in dict(self.choices) else ""


@dataclass(frozen=True)
class ListSpec:
    sorts: tuple[Sort, ...] = ()
    default_sort: str = ""  # "key" or "-key"
    filters: tuple[Filter, ...] = ()
    page_size: int = 50
    search: bool = True

    def sort(self, key: str) -> Sort | None:
        return next((s for s in self.sorts if s.key == key), None)


@dataclass(frozen=True)
class Chip:
    """One filter chip: a value of a filter, with its count and the link that picks it."""

    value: str
    label: str
    count: int | None
    url: str
    current: bool
    testid: str


@dataclass
class ListState:
    path: str
    spec: ListSpec
    q: str = ""
    sort: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    page_number: str = "1"

    @classmethod
    def from_request(cls, request: HttpRequest, spec: ListSpec) -> ListState:
        return cls.from_query(request.path, request.GET, spec)

    @classmethod
    def from_query(cls, path: str, data: QueryDict, spec: ListSpec) -> ListState:
        """The state of the list at `path` from any query: a write reads the list it was
        sent from this way (htmx's HX-Current-URL, or the query of a form's action)."""
        q = search_term(data) if spec.search else ""
        return cls(
            path=path,
            spec=spec,
            q=q,
            sort=cls._clean_sort(spec, data.get("sort", "")),
            filters={f.name: f.clean(data.get(f.name, "")) for f in spec.filters},
            page_number=data.get("page", "1")[:12],
        )

    @staticmethod
    def _clean_sort(spec: ListSpec, value: str) -> str:
        found = spec.sort(value.lstrip("-"))
        return value if found and value.count("-") <= 1 else spec.default_sort

    # ------------------------------------------------------------- reading --

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def order_by(self) -> list[str]:
        """The ORM ordering of the current sort ([] for the selector's own default)."""
        found = self.spec.sort(self.sort_key)
        if found is None:
            return []
        return [f"-{f}" if self.descending else f for f in found.fields]

    def filter(self, name: str) -> str:
        return self.filters.get(name, "")

    @property
    def active_filters(self) -> dict[str, str]:
        return {k: v for k, v in self.filters.items() if v}

    @property
    def narrowed(self) -> bool:
        """Is anything hiding rows (a search or a filter)?"""
        return bool(self.q or self.active_filters)

    def paginate(self, items: Sequence[Any] | Any) -> Page[Any]:
        return Paginator(items, self.spec.page_size).get_page(self.page_number)

    # ------------------------------------------------------------- writing --

    def params(self, **changes: Any) -> dict[str, str]:
        """The query of this state with `changes`; defaults dropped. Any change other
        than the page goes back to page 1, since the old page may not exist."""
        values: dict[str, Any] = {"q": self.q, **self.filters, "sort": self.sort}
        page = changes.pop("page", None)
        values.update(changes)
        if values.get("sort") == self.spec.default_sort:
            values["sort"] = ""
        if page and str(page) != "1":
            values["page"] = page
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def url(self, **changes: Any) -> str:
        query = urlencode(self.params(**changes))
        return f"{self.path}?{query}" if query else self.path

    def sort_url(self, key: str) -> str:
        """Sorting by `key`: ascending first, then the other way on a second click."""
        next_sort = f"-{key}" if self.sort == key else key
        return self.url(sort=next_sort)

    def chips(
        self,
        name: str,
        options: Iterable[tuple[str, str]],
        counts: dict[str, int] | None = None,
    ) -> list[Chip]:
        """Chips for filter `name`: ("", "All") first when it is among `options`."""
        current = self.filter(name)
        return [
            Chip(
                value=value,
                label=label,
                count=None if counts is None else counts.get(value or "", 0),
                url=self.url(**{name: value}),
                current=value == current,
                testid=f"chip-{value or 'all'}",
            )
            for value, label in options
        ]
