from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/drawer/", views.notification_drawer, name="drawer"),
    path("notifications/count/", views.notification_count, name="count"),
    path("notifications/read-all/", views.notification_read_all, name="read-all"),
    path("notifications/<int:event_id>/read/", views.notification_read, name="read"),
]
