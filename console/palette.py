"""The command palette (Ctrl-K / Cmd-K): what it searches and what it remembers.

The console layer knows no app. Each app registers a *source* for its own kind of
thing from its AppConfig.ready() (`tenants/palette.py`, `operators/palette.py`,
`flags/palette.py`):

    class TenantSource:
        kind = "tenant"
        label = "Tenants"

        def search(self, query: str, limit: int) -> list[PaletteItem]: ...

        # Optional: actions offered for a found item ("Reconcile Acme").
        def actions_for(self, item: PaletteItem) -> list[PaletteItem]: ...

    palette.register(TenantSource())

A source answers with at most `limit` items in ONE query whatever the size of its
table. The sidebar's pages (console.navigation) and a few actions (ACTIONS below)
are matched here, on their label, without a query.

Recently opened tenants and flags are kept in the operator's session by
`remember(...)`, which their detail views call; an empty box shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from django.http import HttpRequest
from django.urls import reverse

from console.navigation import NAV_SECTIONS

QUERY_MAX_LENGTH = 100
GROUP_LIMIT = 5
RECENT_LIMIT = 5
RECENT_KINDS = ("tenant", "flag")
_SESSION_KEY = "console.palette.recent"

# Kinds in the order their groups are shown; a kind not listed goes after these.
GROUP_ORDER = ("tenant", "partner", "user", "flag")
# A query starting with this word searches tenants with the rest and offers to
# reconcile them ("reconcile acme").
RECONCILE_VERB = "reconcile"
KIND_ICONS = {
    "tenant": "building-2",
    "partner": "handshake",
    "user": "user",
    "flag": "flag",
    "page": "arrow-right",
    "action": "zap",
}


@dataclass(frozen=True)
class PaletteItem:
    """One row of the palette. `url` is where Enter goes; an action run in the
    browser (toggle the theme) has no url and its `key` names it for palette.js."""

    kind: str  # tenant | partner | user | flag | page | action | recent kinds
    title: str
    subtitle: str
    url: str
    key: str
    icon: str = ""  # a Lucide icon of the sprite; the kind's own when empty

    @property
    def glyph(self) -> str:
        return self.icon or KIND_ICONS.get(self.kind, "arrow-right")

    @property
    def client_action(self) -> str:
        """The action palette.js runs in the browser, or "" for a link."""
        return "" if self.url else self.key


@runtime_checkable
class PaletteSource(Protocol):
    kind: str
    label: str

    def search(self, query: str, limit: int) -> list[PaletteItem]: ...


@dataclass(frozen=True)
class PaletteGroup:
    kind: str
    label: str
    items: tuple[PaletteItem, ...]


@dataclass(frozen=True)
class Action:
    """A thing to do rather than a place to go. `url_name` for a page the action
    opens (with `query` appended), or none for an action palette.js runs."""

    key: str
    label: str
    hint: str
    icon: str
    url_name: str = ""
    query: str = ""
    words: str = ""  # other words it answers to

    def item(self) -> PaletteItem:
        url = f"{reverse(self.url_name)}{self.query}" if self.url_name else ""
        return PaletteItem(
            kind="action", title=self.label, subtitle=self.hint, url=url, key=self.key,
            icon=self.icon,
        )  # fmt: skip

    def matches(self, query: str) -> bool:
        return query in f"{self.label} {self.words}".lower()


ACTIONS: tuple[Action, ...] = (
    Action("invite-operator", "Invite operator", "Operator team", "user-plus",
           "operators:invite", words="add operator new member"),
    Action("new-flag", "New flag", "Feature flags", "plus", "flags:list", "?new=1",
           words="create flag feature"),
    Action("reconcile", "Reconcile tenant…", "Type “reconcile” and the tenant's name",
           "refresh-cw", words="provisioning sync"),
    Action("toggle-theme", "Toggle theme", "Dark or light", "sun-moon",
           words="dark light mode appearance"),
    Action("shortcuts", "Keyboard shortcuts", "Show every shortcut", "keyboard",
           words="keys help ?"),
    Action("sign-out", "Sign out", "End this session", "log-out", words="log out logout"),
)  # fmt: skip

_sources: dict[str, PaletteSource] = {}


def register(source: PaletteSource) -> None:
    """Add (or replace: ready() may run twice in tests) the source of a kind."""
    if not isinstance(source, PaletteSource):
        raise TypeError(f"{source!r} is not a palette source (kind, label, search)")
    _sources[source.kind] = source


def sources() -> list[PaletteSource]:
    def rank(source: PaletteSource) -> int:
        kind = source.kind
        return GROUP_ORDER.index(kind) if kind in GROUP_ORDER else len(GROUP_ORDER)

    return sorted(_sources.values(), key=rank)


def clean_query(raw: str) -> str:
    """The query as searched: whitespace collapsed, at most QUERY_MAX_LENGTH characters.
    Control characters are the caller's to refuse (a NUL byte is a 400, see the view)."""
    return " ".join(raw.split())[:QUERY_MAX_LENGTH]


def search(query: str, *, limit: int = GROUP_LIMIT) -> list[PaletteGroup]:
    """Every kind's matches for `query`, one query per registered source, then the
    pages and actions whose label matches. Empty groups are left out."""
    query = clean_query(query)
    if not query:
        return []
    lowered = query.lower()
    term, reconciling = query, False
    if lowered.startswith(f"{RECONCILE_VERB} "):
        term, reconciling = query[len(RECONCILE_VERB) :].strip(), True

    groups: list[PaletteGroup] = []
    offered: list[PaletteItem] = []  # actions the sources offer for what they found
    for source in sources():
        if reconciling and source.kind != "tenant":
            continue
        found = source.search(term, limit)[:limit]
        if found:
            groups.append(PaletteGroup(source.kind, source.label, tuple(found)))
            actions_for = getattr(source, "actions_for", None)
            # TRICKY: only the best match gets its actions unless the query asks for
            # them by name, so a search does not drown in "Reconcile ..." rows.
            for item in found if reconciling else found[:1]:
                if actions_for is not None:
                    offered.extend(actions_for(item))

    pages = [item for item in page_items() if lowered in item.title.lower()][:limit]
    if pages and not reconciling:
        groups.append(PaletteGroup("page", "Pages", tuple(pages)))
    actions = [*offered, *(a.item() for a in ACTIONS if not reconciling and a.matches(lowered))]
    if actions:
        group = PaletteGroup("action", "Actions", tuple(actions[:limit]))
        # Asked for by name, the actions come first: Enter runs the first one.
        groups = [group, *groups] if reconciling else [*groups, group]
    return groups


def page_items() -> list[PaletteItem]:
    """The sidebar's pages, each with its section as the subtitle."""
    return [
        PaletteItem(
            kind="page", title=entry.label, subtitle=section.label, url=reverse(entry.url_name),
            key=entry.url_name, icon=entry.icon,
        )
        for section in NAV_SECTIONS
        for entry in section.entries
    ]  # fmt: skip


def suggestions(request: HttpRequest, *, limit: int = GROUP_LIMIT) -> list[PaletteGroup]:
    """What an empty box shows: recently opened tenants and flags, then actions."""
    actions = tuple(action.item() for action in ACTIONS[:limit])
    return [*recent_groups(request), PaletteGroup("action", "Actions", actions)]


# ------------------------------------------------------------------ recents --


def remember(request: HttpRequest, *, kind: str, key: str, title: str, url: str) -> None:
    """Note that this operator just opened `kind` `key`: newest first, no duplicates,
    at most RECENT_LIMIT a kind. Kept in the session; writes only on a change."""
    if kind not in RECENT_KINDS:
        raise ValueError(f"the palette remembers {', '.join(RECENT_KINDS)}, not {kind!r}")
    session = request.session
    stored = session.get(_SESSION_KEY)
    recent: dict[str, list[dict[str, str]]] = stored if isinstance(stored, dict) else {}
    entries = [e for e in recent.get(kind, []) if isinstance(e, dict)]
    entry = {"key": key, "title": title, "url": url}
    if entries and entries[0] == entry:
        return  # already the newest: no session write for a reload
    entries = [entry, *(e for e in entries if e.get("key") != key)][:RECENT_LIMIT]
    session[_SESSION_KEY] = {**recent, kind: entries}


def recent_groups(request: HttpRequest) -> list[PaletteGroup]:
    """This operator's recently opened tenants and flags, newest first."""
    stored = request.session.get(_SESSION_KEY)
    if not isinstance(stored, dict):
        return []
    labels = {"tenant": "Recent tenants", "flag": "Recent flags"}
    groups = []
    for kind in RECENT_KINDS:
        items = tuple(_recent_items(kind, stored.get(kind)))
        if items:
            groups.append(PaletteGroup(f"recent-{kind}", labels[kind], items))
    return groups


def _recent_items(kind: str, entries: Any) -> Iterable[PaletteItem]:
    if not isinstance(entries, list):
        return
    for entry in entries[:RECENT_LIMIT]:
        try:
            yield PaletteItem(
                kind=kind, title=str(entry["title"]), subtitle=str(entry["key"]),
                url=str(entry["url"]), key=str(entry["key"]),
            )  # fmt: skip
        except (KeyError, TypeError):
            continue  # a session written by an older version: skip what it cannot say
