from django.urls import path

from console.views.placeholder import placeholder_view
from operators.permissions import operator_required

app_name = "audit"

urlpatterns = [
    path("audit/", operator_required(placeholder_view("audit:list")), name="list"),
]
