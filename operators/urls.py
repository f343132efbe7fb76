from django.urls import path

from operators.views import auth, team, users

app_name = "operators"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("users/", users.users, name="users"),
    path("operator-team/", team.team, name="team"),
    path("operator-team/invite/", team.invite, name="invite"),
    path(
        "operator-team/invites/<uuid:invite_id>/discard/",
        team.invite_discard,
        name="invite_discard",
    ),
]
