from django.urls import path

from dezky.views.placeholder import placeholder_view
from operators.views import auth

app_name = "operators"

urlpatterns = [
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("users/", placeholder_view("operators:users"), name="users"),
    path("operator-team/", placeholder_view("operators:team"), name="team"),
]
