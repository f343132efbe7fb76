from django.urls import path

from tenants.views import detail, lists, members

app_name = "tenants"

urlpatterns = [
    path("tenants/", lists.tenant_list, name="list"),
    path("tenants/<slug:slug>/", detail.tenant_detail, name="detail"),
    path("tenants/<slug:slug>/update/", detail.tenant_update, name="update"),
    path("tenants/<slug:slug>/suspend/", detail.tenant_suspend, name="suspend"),
    path("tenants/<slug:slug>/resume/", detail.tenant_resume, name="resume"),
    path("tenants/<slug:slug>/delete/", detail.tenant_delete, name="delete"),
    path("tenants/<slug:slug>/reconcile/", detail.tenant_reconcile_view, name="reconcile"),
    path("tenants/<slug:slug>/members/invite/", members.invite, name="member_invite"),
    path("tenants/<slug:slug>/members/<int:user_id>/role/", members.set_role, name="member_role"),
    path("tenants/<slug:slug>/members/<int:user_id>/remove/", members.remove, name="member_remove"),
    path("partners/", lists.partner_list, name="partners"),
    path("partners/<slug:slug>/", lists.partner_detail, name="partner"),
]
