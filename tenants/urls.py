from django.urls import path

from dezky.views.placeholder import placeholder_view

app_name = "tenants"

urlpatterns = [
    path("tenants/", placeholder_view("tenants:list"), name="list"),
    path("partners/", placeholder_view("tenants:partners"), name="partners"),
]
