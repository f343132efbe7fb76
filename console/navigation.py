"""The console's sidebar: 12 entries in 4 sections, in one place.

`placeholder` describes what a page will hold while it is not built yet; the
placeholder view shows it so no entry is a dead link.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    icon: str  # a Lucide icon name present in the vendored sprite
    placeholder: str = ""


@dataclass(frozen=True)
class NavSection:
    label: str
    entries: tuple[NavEntry, ...]


NAV_SECTIONS: tuple[NavSection, ...] = (
    NavSection(
        "Monitor",
        (
            NavEntry(
                "Overview",
                "console:overview",
                "layout-dashboard",
                "Platform KPIs from real tenants, partners and users, a status meter, "
                "recently created tenants and the tenants that need follow-up.",
            ),
            NavEntry(
                "Infrastructure",
                "monitor:infrastructure",
                "server",
                "Health of the mail (Stalwart), files (oCIS) and identity (Authentik) "
                "services the platform runs on.",
            ),
            NavEntry(
                "Audit",
                "audit:list",
                "scroll-text",
                "Every change made on the platform, append-only and hash-chained.",
            ),
        ),
    ),
    NavSection(
        "Customers",
        (
            NavEntry(
                "Tenants",
                "tenants:list",
                "building-2",
                "Every tenant with its status, plan, domains, partner and provisioning state; "
                "a seven-tab detail with lifecycle actions.",
            ),
            NavEntry(
                "Partners",
                "tenants:partners",
                "handshake",
                "The resellers who bring tenants to the platform, and their tenants.",
            ),
            NavEntry(
                "Users",
                "operators:users",
                "users",
                "Every user of every tenant, with admins and inactive users at a glance.",
            ),
            NavEntry(
                "Support",
                "console:support",
                "life-buoy",
                "The support ticket queue.",
            ),
        ),
    ),
    NavSection(
        "Platform",
        (
            NavEntry(
                "Feature flags",
                "flags:list",
                "flag",
                "Flags with their state, rollout and scope; a detail panel with a live "
                "preview of who a change turns on, history and a kill switch.",
            ),
            NavEntry(
                "Operator team",
                "operators:team",
                "shield-check",
                "The platform's operators, their last sign-in, and inviting a new one.",
            ),
            NavEntry(
                "Settings",
                "console:settings",
                "settings",
                "Your profile, appearance and the console's environment.",
            ),
        ),
    ),
    NavSection(
        "Business",
        (
            NavEntry(
                "Billing",
                "console:billing",
                "credit-card",
                "Invoices, plans and payment state per tenant.",
            ),
            NavEntry(
                "Reports",
                "console:reports",
                "chart-column",
                "Growth, churn and usage reports across tenants and partners.",
            ),
        ),
    ),
)


def nav_entries() -> tuple[NavEntry, ...]:
    return tuple(entry for section in NAV_SECTIONS for entry in section.entries)


def entry_for(url_name: str) -> NavEntry:
    for entry in nav_entries():
        if entry.url_name == url_name:
            return entry
    raise KeyError(url_name)
