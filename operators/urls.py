from django.urls import path

from operators.oidc import views as oidc
from operators.views import auth, team, users

app_name = "operators"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    # The redirect URI registered at the provider is <console>/oidc/callback/.
    path("oidc/authenticate/", oidc.OidcLoginView.as_view(), name="oidc-login"),
    path("oidc/callback/", oidc.OidcCallbackView.as_view(), name="oidc-callback"),
    path("users/", users.users, name="users"),
    path("operator-team/", team.team, name="team"),
    path("operator-team/invite/", team.invite, name="invite"),
    path(
        "operator-team/invites/<uuid:invite_id>/discard/",
        team.invite_discard,
        name="invite_discard",
    ),
]
