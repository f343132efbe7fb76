from django.urls import path

from flags.views import change_requests, editing, explain, pages, schedules

app_name = "flags"

# The fixed paths have a hyphen, which a flag key can never contain, so none of them
# can shadow the detail page of a flag.
urlpatterns = [
    path("flags/", pages.flag_list, name="list"),
    path("flags/new-flag/", editing.flag_create, name="create"),
    path("flags/key-check/", editing.key_check, name="key_check"),
    path("flags/scope-options/", editing.scope_options, name="scope_options"),
    path("flags/change-requests/", change_requests.change_request_list, name="change_requests"),
    path("flags/change-requests/policy/", change_requests.policy_save, name="approval_policy"),
    path(
        "flags/change-requests/<int:request_id>/",
        change_requests.change_request_detail,
        name="change_request",
    ),
    path(
        "flags/change-requests/<int:request_id>/edit/",
        change_requests.edit,
        name="change_request_edit",
    ),
    *(
        path(
            f"flags/change-requests/<int:request_id>/{name}/",
            getattr(change_requests, name),
            name=f"change_request_{name}",
        )
        for name in ("approve", "reject", "apply", "withdraw")
    ),
    path(
        "flags/change-requests/<int:request_id>/schedule/",
        schedules.change_request_schedule,
        name="change_request_schedule",
    ),
    path("flags/scheduled-changes/", schedules.schedule_list, name="schedules"),
    path(
        "flags/scheduled-changes/<int:schedule_id>/",
        schedules.schedule_detail,
        name="schedule",
    ),
    *(
        path(
            f"flags/scheduled-changes/<int:schedule_id>/{name}/",
            getattr(schedules, name),
            name=f"schedule_{name}",
        )
        for name in schedules.ACTIONS
    ),
    path("flags/<str:key>/", pages.flag_detail, name="detail"),
    path("flags/<str:key>/preview/", editing.flag_preview, name="preview"),
    path("flags/<str:key>/explain/", explain.flag_explain, name="explain"),
    path("flags/<str:key>/save/", editing.flag_save, name="save"),
    path("flags/<str:key>/kill/", editing.flag_kill, name="kill"),
    path("flags/<str:key>/delete/", editing.flag_delete, name="delete"),
    path("flags/<str:key>/schedule/", schedules.schedule_new, name="schedule_new"),
]
