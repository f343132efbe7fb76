from django.urls import path

from flags.views import editing, pages

app_name = "flags"

# The fixed paths have a hyphen, which a flag key can never contain, so none of them
# can shadow the detail page of a flag.
urlpatterns = [
    path("flags/", pages.flag_list, name="list"),
    path("flags/new-flag/", editing.flag_create, name="create"),
    path("flags/key-check/", editing.key_check, name="key_check"),
    path("flags/scope-options/", editing.scope_options, name="scope_options"),
    path("flags/<str:key>/", pages.flag_detail, name="detail"),
    path("flags/<str:key>/preview/", editing.flag_preview, name="preview"),
    path("flags/<str:key>/save/", editing.flag_save, name="save"),
    path("flags/<str:key>/kill/", editing.flag_kill, name="kill"),
    path("flags/<str:key>/delete/", editing.flag_delete, name="delete"),
]
