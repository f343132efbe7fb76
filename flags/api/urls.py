from django.urls import path

from flags.api import change_requests, ofrep, schedules, views

api_patterns = [
    path("flags/", views.FlagListView.as_view(), name="flag-list"),
    path("flags/evaluate/", views.EvaluateView.as_view(), name="flag-evaluate"),
    path("flags/preview/", views.PreviewView.as_view(), name="flag-preview"),
    path(
        "flags/change-requests/<int:request_id>/",
        change_requests.ChangeRequestDetailView.as_view(),
        name="flag-change-request",
    ),
    *(
        path(
            f"flags/change-requests/<int:request_id>/{name}/",
            view.as_view(),
            name=f"flag-change-request-{name}",
        )
        for name, view in (
            ("approve", change_requests.ApproveView),
            ("reject", change_requests.RejectView),
            ("apply", change_requests.ApplyView),
            ("withdraw", change_requests.WithdrawView),
        )
    ),
    path(
        "flags/change-requests/<int:request_id>/schedule/",
        schedules.ChangeRequestScheduleView.as_view(),
        name="flag-change-request-schedule",
    ),
    # A fixed path beside flags/<str:key>/ has a hyphen, which no key can hold (and
    # "evaluate" and "preview" are reserved keys: flags.models.RESERVED_FLAG_KEYS).
    path(
        "flags/scheduled-changes/", schedules.ScheduleListView.as_view(), name="flag-schedule-list"
    ),
    path(
        "flags/scheduled-changes/<int:schedule_id>/",
        schedules.ScheduleDetailView.as_view(),
        name="flag-schedule",
    ),
    *(
        path(
            f"flags/scheduled-changes/<int:schedule_id>/{name}/",
            view.as_view(),
            name=f"flag-schedule-{name}",
        )
        for name, view in (
            ("pause", schedules.PauseView),
            ("resume", schedules.ResumeView),
            ("cancel", schedules.CancelView),
        )
    ),
    path("flags/<str:key>/", views.FlagDetailView.as_view(), name="flag-detail"),
    path(
        "flags/<str:key>/change-requests/",
        change_requests.FlagChangeRequestsView.as_view(),
        name="flag-change-requests",
    ),
    path(
        "flags/<str:key>/schedules/",
        schedules.FlagSchedulesView.as_view(),
        name="flag-schedules",
    ),
    path("flags/<str:key>/kill/", views.FlagKillView.as_view(), name="flag-kill"),
]

ofrep_patterns = [
    path("evaluate/flags", ofrep.OfrepBulkView.as_view(), name="ofrep-bulk"),
    path("evaluate/flags/<str:key>", ofrep.OfrepFlagView.as_view(), name="ofrep-flag"),
]
