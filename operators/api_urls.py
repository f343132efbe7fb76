from django.urls import path

from operators import api

api_patterns = [
    path("users/invite/", api.InviteView.as_view(), name="operator-invite"),
]
