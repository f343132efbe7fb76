from django.urls import path

from dezky.views.placeholder import placeholder_view
from operators.oidc import views as oidc
from operators.views import auth

app_name = "operators"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    # The redirect URI registered at the provider is <console>/oidc/callback/.
    path("oidc/authenticate/", oidc.OidcLoginView.as_view(), name="oidc-login"),
    path("oidc/callback/", oidc.OidcCallbackView.as_view(), name="oidc-callback"),
    path("users/", placeholder_view("operators:users"), name="users"),
    path("operator-team/", placeholder_view("operators:team"), name="team"),
]
