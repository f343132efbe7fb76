from django.urls import path

from flags.api import ofrep, views

api_patterns = [
    path("flags/", views.FlagListView.as_view(), name="flag-list"),
    path("flags/evaluate/", views.EvaluateView.as_view(), name="flag-evaluate"),
    path("flags/preview/", views.PreviewView.as_view(), name="flag-preview"),
    path("flags/<str:key>/", views.FlagDetailView.as_view(), name="flag-detail"),
    path("flags/<str:key>/kill/", views.FlagKillView.as_view(), name="flag-kill"),
]

ofrep_patterns = [
    path("evaluate/flags", ofrep.OfrepBulkView.as_view(), name="ofrep-bulk"),
    path("evaluate/flags/<str:key>", ofrep.OfrepFlagView.as_view(), name="ofrep-flag"),
]
