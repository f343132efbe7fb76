from django.urls import path

from tenants.api import views

api_patterns = [
    path("tenants/", views.TenantListView.as_view(), name="tenant-list"),
    path("tenants/<slug:slug>/", views.TenantDetailView.as_view(), name="tenant-detail"),
    path("tenants/<slug:slug>/users/", views.TenantUsersView.as_view(), name="tenant-users"),
    path(
        "tenants/<slug:slug>/members/invite/",
        views.TenantMemberInviteView.as_view(),
        name="tenant-member-invite",
    ),
    path(
        "tenants/<slug:slug>/members/<int:user_id>/",
        views.TenantMemberView.as_view(),
        name="tenant-member",
    ),
    path(
        "tenants/<slug:slug>/suspend/",
        views.TenantLifecycleView.as_view(action="suspend"),
        name="tenant-suspend",
    ),
    path(
        "tenants/<slug:slug>/resume/",
        views.TenantLifecycleView.as_view(action="resume"),
        name="tenant-resume",
    ),
    path(
        "tenants/<slug:slug>/reconcile/",
        views.TenantReconcileView.as_view(),
        name="tenant-reconcile",
    ),
    path("partners/", views.PartnerListView.as_view(), name="partner-list"),
    path("partners/<slug:slug>/", views.PartnerDetailView.as_view(), name="partner-detail"),
]
