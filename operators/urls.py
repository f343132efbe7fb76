from django.urls import path

from operators.oidc import views as oidc
from operators.views import auth, impersonation, team, users
from operators.views import settings as account_settings

app_name = "operators"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    # The redirect URI registered at the provider is <console>/oidc/callback/.
    path("oidc/authenticate/", oidc.OidcLoginView.as_view(), name="oidc-login"),
    path("oidc/callback/", oidc.OidcCallbackView.as_view(), name="oidc-callback"),
    # /settings/ itself is the sidebar's console:settings (dezky/urls.py).
    path("settings/password/", account_settings.password_change, name="password_change"),
    path(
        "settings/sessions/end-others/",
        account_settings.sessions_end_others,
        name="sessions_end_others",
    ),
    path("users/", users.users, name="users"),
    path("operator-team/", team.team, name="team"),
    path("operator-team/invite/", team.invite, name="invite"),
    path(
        "operator-team/invites/<uuid:invite_id>/discard/",
        team.invite_discard,
        name="invite_discard",
    ),
    path("operator-team/<int:user_id>/deactivate/", team.deactivate, name="deactivate"),
    path("operator-team/<int:user_id>/reactivate/", team.reactivate, name="reactivate"),
    path("operator-team/<int:user_id>/resend-invite/", team.resend_invite, name="resend"),
    path("view-as/", impersonation.member_view, name="member-view"),
    path("view-as/start/", impersonation.start, name="impersonation-start"),
    path("view-as/exit/", impersonation.exit_view, name="impersonation-exit"),
    path("view-as/tenants/<slug:slug>/", impersonation.member_tenant, name="member-view-tenant"),
]
