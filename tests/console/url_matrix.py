"""Every named URL of the project and who may reach it.

A URL added without an entry here fails tests/console/test_access.py, so nothing
can ship unguarded by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = "public"  # anyone, no login
CONSOLE = "console"  # operators; anonymous -> login page, signed-in non-operator -> 403
CONSOLE_POST = "console-post"  # a console write: the same rule for POST; GET is refused
# A console action that also works without JavaScript: its GET is the confirmation as
# a page (the CONSOLE rule) and its POST does it (the CONSOLE_POST rule).
CONSOLE_ACTION = "console-action"
# A console page about one tenant or partner: the CONSOLE rule, checked with the object
# in place (the slug must exist for the 200) by tests/tenants/test_views.py.
CONSOLE_OBJECT = "console-object"
# A console page about one incident: the CONSOLE rule, checked with the incident in
# place by tests/monitor/test_views.py.
CONSOLE_INCIDENT = "console-incident"
# One audit event's page: the CONSOLE rule, checked with the event in place (the id
# must exist for the 200) by tests/audit/test_views.py.
CONSOLE_EVENT = "console-event"
# One flag change request's page and its actions' confirm pages: the CONSOLE rule,
# checked with the request in place by tests/flags/test_change_request_views.py.
CONSOLE_CHANGE_REQUEST = "console-change-request"
# One scheduled flag change's page and its actions' confirm pages: the CONSOLE rule,
# checked with the schedule in place by tests/flags/test_schedule_views.py.
CONSOLE_SCHEDULE = "console-schedule"
SIGNED_IN = "signed-in"  # any signed-in caller, session or service (the API schema)
# API: no credentials -> 401; a signed-in non-operator -> 403; an operator may call
# every method; a service only the methods its scope opens (the optional third
# element, {method: scope}); anything else -> 403.
API = "api"
# The API of tenant data that tenant members may read (their own tenants only; any
# other slug is a 404 so slugs do not leak, see tests/tenants/test_api.py): the API
# rule, except that a signed-in non-operator's GET is answered, never refused.
MEMBER_API = "member-api"

# name -> (who, kwargs to build the URL with[, {method: service scope}])
MATRIX: dict[str, tuple[Any, ...]] = {
    "healthz": (PUBLIC, {}),
    "favicon": (PUBLIC, {}),
    "operators:login": (PUBLIC, {}),
    "operators:logout": (PUBLIC, {}),
    "operators:oidc-login": (PUBLIC, {}),
    "operators:oidc-callback": (PUBLIC, {}),
    "api-schema": (SIGNED_IN, {}),
    "api:flag-list": (API, {}, {"GET": "flags:read"}),
    "api:flag-evaluate": (API, {}, {"POST": "flags:evaluate"}),
    "api:flag-preview": (API, {}),
    "api:flag-detail": (API, {"key": "jmap_native_v2"}, {"GET": "flags:read"}),
    "api:flag-kill": (API, {"key": "jmap_native_v2"}),
    "api:flag-change-requests": (API, {"key": "jmap_native_v2"}),
    "api:flag-change-request": (API, {"request_id": 99999}),
    "api:flag-change-request-approve": (API, {"request_id": 99999}),
    "api:flag-change-request-reject": (API, {"request_id": 99999}),
    "api:flag-change-request-apply": (API, {"request_id": 99999}),
    "api:flag-change-request-withdraw": (API, {"request_id": 99999}),
    "api:flag-change-request-schedule": (API, {"request_id": 99999}),
    "api:flag-schedules": (API, {"key": "jmap_native_v2"}),
    "api:flag-schedule-list": (API, {}),
    "api:flag-schedule": (API, {"schedule_id": 99999}),
    "api:flag-schedule-pause": (API, {"schedule_id": 99999}),
    "api:flag-schedule-resume": (API, {"schedule_id": 99999}),
    "api:flag-schedule-cancel": (API, {"schedule_id": 99999}),
    "api:operator-invite": (API, {}),
    "api:tenant-list": (MEMBER_API, {}, {"GET": "tenants:read"}),
    "api:tenant-detail": (MEMBER_API, {"slug": "acme"}, {"GET": "tenants:read"}),
    "api:tenant-users": (MEMBER_API, {"slug": "acme"}, {"GET": "tenants:read"}),
    "api:tenant-member-invite": (API, {"slug": "acme"}),
    "api:tenant-member": (API, {"slug": "acme", "user_id": 99999}),
    "api:tenant-suspend": (API, {"slug": "acme"}),
    "api:tenant-resume": (API, {"slug": "acme"}),
    "api:tenant-reconcile": (API, {"slug": "acme"}),
    "api:partner-list": (API, {}, {"GET": "tenants:read"}),
    "api:partner-detail": (API, {"slug": "nordic-it"}, {"GET": "tenants:read"}),
    "ofrep:ofrep-bulk": (API, {}, {"POST": "flags:evaluate"}),
    "ofrep:ofrep-flag": (API, {"key": "jmap_native_v2"}, {"POST": "flags:evaluate"}),
    "console:overview": (CONSOLE, {}),
    "console:palette": (CONSOLE, {}),
    "console:support": (CONSOLE, {}),
    "console:billing": (CONSOLE, {}),
    "console:reports": (CONSOLE, {}),
    "console:settings": (CONSOLE, {}),
    "operators:password_change": (CONSOLE, {}),
    # GET is the confirm page; POST signs out the operator's other sessions.
    "operators:sessions_end_others": (CONSOLE_ACTION, {}),
    "operators:users": (CONSOLE, {}),
    "operators:team": (CONSOLE, {}),
    "operators:invite": (CONSOLE, {}),
    # GET is the confirm page (the team page when the invite is gone); POST discards.
    "operators:invite_discard": (
        CONSOLE_ACTION,
        {"invite_id": "5e1d7c3a-0000-4000-8000-00000000d15c"},
    ),
    # An operator row's actions: GET is the confirm page (the team page when the operator
    # is gone); POST does it.
    "operators:deactivate": (CONSOLE_ACTION, {"user_id": 99999}),
    "operators:reactivate": (CONSOLE_ACTION, {"user_id": 99999}),
    "operators:resend": (CONSOLE_ACTION, {"user_id": 99999}),
    # Viewing as a tenant member: the member view is the start page until one starts.
    "operators:impersonation-start": (CONSOLE_ACTION, {}),
    "operators:impersonation-exit": (CONSOLE_POST, {}),
    "operators:member-view": (CONSOLE, {}),
    "operators:member-view-tenant": (CONSOLE, {"slug": "acme"}),
    "tenants:list": (CONSOLE, {}),
    "tenants:partners": (CONSOLE, {}),
    "tenants:detail": (CONSOLE_OBJECT, {"slug": "acme"}),
    "tenants:partner": (CONSOLE_OBJECT, {"slug": "nordic-it"}),
    "tenants:update": (CONSOLE_POST, {"slug": "acme"}),
    "tenants:suspend": (CONSOLE_OBJECT, {"slug": "acme"}),  # GET: its confirm page
    "tenants:resume": (CONSOLE_OBJECT, {"slug": "acme"}),  # GET: its confirm page
    "tenants:delete": (CONSOLE_OBJECT, {"slug": "acme"}),  # GET: its confirm page
    "tenants:reconcile": (CONSOLE_OBJECT, {"slug": "acme"}),  # GET: its confirm page
    "tenants:member_invite": (CONSOLE_OBJECT, {"slug": "acme"}),  # GET: the invite form
    "tenants:member_role": (CONSOLE_POST, {"slug": "acme", "user_id": 99999}),
    # GET: its confirm page (the Users tab when the member is gone)
    "tenants:member_remove": (CONSOLE_OBJECT, {"slug": "acme", "user_id": 99999}),
    "flags:list": (CONSOLE, {}),
    "flags:detail": (CONSOLE, {"key": "jmap_native_v2"}),
    "flags:key_check": (CONSOLE, {}),
    "flags:scope_options": (CONSOLE, {}),
    "flags:preview": (CONSOLE, {"key": "jmap_native_v2"}),
    "flags:explain": (CONSOLE, {"key": "jmap_native_v2"}),
    "flags:create": (CONSOLE_POST, {}),
    "flags:save": (CONSOLE_POST, {"key": "jmap_native_v2"}),
    "flags:kill": (CONSOLE_ACTION, {"key": "jmap_native_v2"}),
    "flags:delete": (CONSOLE_ACTION, {"key": "jmap_native_v2"}),
    "flags:change_requests": (CONSOLE, {}),
    "flags:approval_policy": (CONSOLE_POST, {}),
    "flags:change_request_edit": (CONSOLE_POST, {"request_id": 99999}),
    "flags:change_request": (CONSOLE_CHANGE_REQUEST, {"request_id": 99999}),
    "flags:change_request_approve": (CONSOLE_CHANGE_REQUEST, {"request_id": 99999}),
    "flags:change_request_reject": (CONSOLE_CHANGE_REQUEST, {"request_id": 99999}),
    "flags:change_request_apply": (CONSOLE_CHANGE_REQUEST, {"request_id": 99999}),
    "flags:change_request_withdraw": (CONSOLE_CHANGE_REQUEST, {"request_id": 99999}),
    # GET: the "Schedule apply" form as a page; POST schedules the request.
    "flags:change_request_schedule": (CONSOLE_CHANGE_REQUEST, {"request_id": 99999}),
    "flags:schedules": (CONSOLE, {}),
    "flags:schedule_new": (CONSOLE_ACTION, {"key": "jmap_native_v2"}),  # GET: the form
    "flags:schedule": (CONSOLE_SCHEDULE, {"schedule_id": 99999}),
    "flags:schedule_pause": (CONSOLE_SCHEDULE, {"schedule_id": 99999}),
    "flags:schedule_resume": (CONSOLE_SCHEDULE, {"schedule_id": 99999}),
    "flags:schedule_cancel": (CONSOLE_SCHEDULE, {"schedule_id": 99999}),
    "notifications:list": (CONSOLE, {}),
    "notifications:drawer": (CONSOLE, {}),
    "notifications:count": (CONSOLE, {}),
    "notifications:read": (CONSOLE_POST, {"event_id": 1}),
    "notifications:read-all": (CONSOLE_POST, {}),
    "audit:list": (CONSOLE, {}),
    "monitor:infrastructure": (CONSOLE, {}),
    "monitor:probe": (CONSOLE_POST, {}),
    "monitor:incidents": (CONSOLE, {}),
    "monitor:incident_new": (CONSOLE, {}),
    "monitor:incident": (CONSOLE_INCIDENT, {"pk": 1}),
    "monitor:incident_update": (CONSOLE_POST, {"pk": 1}),
    "monitor:incident_resolve": (CONSOLE_POST, {"pk": 1}),
    "audit:export_csv": (CONSOLE, {}),
    "audit:export_jsonl": (CONSOLE, {}),
    "audit:verify": (CONSOLE_ACTION, {}),  # GET: its confirm page; POST verifies the chain
    "audit:detail": (CONSOLE_EVENT, {"event_id": 1}),
    "api:audit-event-list": (API, {}, {"GET": "audit:read"}),
}


def service_scopes(name: str) -> dict[str, str]:
    entry = MATRIX[name]
    return entry[2] if len(entry) > 2 else {}


# The Django admin guards itself (staff only); tests/console/test_admin.py covers it.
SELF_GUARDED_NAMESPACES = ("admin",)


def named_patterns() -> Iterator[str]:
    def walk(patterns: list[Any], namespace: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                if ns in SELF_GUARDED_NAMESPACES:
                    continue
                inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                if pattern.name is None:
                    raise AssertionError(f"URL {pattern.pattern} has no name; name it")
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    yield from walk(get_resolver().url_patterns, "")
