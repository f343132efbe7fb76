from django.urls import path

from dezky.views.placeholder import placeholder_view

app_name = "audit"

urlpatterns = [
    path("audit/", placeholder_view("audit:list"), name="list"),
]
