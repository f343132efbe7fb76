from django.urls import path

from dezky.views.placeholder import placeholder_view

app_name = "flags"

urlpatterns = [
    path("flags/", placeholder_view("flags:list"), name="list"),
]
