from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.errors import Conflict
from tenants import services
from tenants.models import Membership, ProvisioningState, Tenant, TenantStatus
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory, UserFactory
from tests.tenants.factories import MembershipFactory, PartnerFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return OperatorFactory()


class TestTenantCreate:
    def test_creates_a_pending_tenant_with_every_integration_pending(self, actor) -> None:
        partner = PartnerFactory(slug="nordic-it")
        with watch_audit() as log:
            tenant = services.tenant_create(
                slug="acme", name=" Acme Logistics ", plan="business", domains=["acme.example"],
                partner=partner, actor=actor, ip="198.51.100.4",
            )  # fmt: skip
        assert tenant.status == TenantStatus.PENDING
        assert tenant.name == "Acme Logistics"
        states = ProvisioningState.objects.filter(tenant=tenant)
        assert sorted(states.values_list("integration", flat=True)) == [
            "authentik", "ocis", "stalwart",
        ]  # fmt: skip
        assert {s.state for s in states} == {"pending"}
        event = log.one("tenant.created", actor=actor)
        assert event.tenant_id == tenant.pk
        assert event.actor_ip == "198.51.100.4"
        assert event.metadata == {"slug": "acme", "plan": "business", "partner": "nordic-it"}

    def test_a_duplicate_slug_is_a_conflict_and_writes_nothing(self, actor) -> None:
        TenantFactory(slug="acme")
        with watch_audit() as log, pytest.raises(Conflict, match="acme"):
            services.tenant_create(slug="acme", name="Again", plan="starter", actor=actor)
        log.none()
        assert Tenant.objects.filter(slug="acme").count() == 1

    def test_an_invalid_value_names_the_field_and_writes_nothing(self, actor) -> None:
        with watch_audit() as log, pytest.raises(ValidationError) as exc:
            services.tenant_create(slug="acme", name="Acme", plan="platinum", actor=actor)
        assert "plan" in exc.value.message_dict
        log.none()
        assert not Tenant.objects.filter(slug="acme").exists()


class TestTenantUpdate:
    def test_records_before_and_after_of_what_changed(self, actor) -> None:
        tenant = TenantFactory(plan="starter", name="Acme")
        with watch_audit() as log:
            services.tenant_update(tenant=tenant, plan="enterprise", name="Acme", actor=actor)
        event = log.one("tenant.updated", actor=actor)
        assert event.metadata == {"changes": {"plan": {"before": "starter", "after": "enterprise"}}}
        tenant.refresh_from_db()
        assert tenant.plan == "enterprise"

    def test_nothing_changed_writes_nothing(self, actor) -> None:
        tenant = TenantFactory(plan="starter")
        with watch_audit() as log:
            services.tenant_update(tenant=tenant, plan="starter", actor=actor)
        log.none()

    def test_a_bad_domain_is_refused_and_the_tenant_is_unchanged(self, actor) -> None:
        tenant = TenantFactory(domains=["acme.example"])
        with watch_audit() as log, pytest.raises(ValidationError) as exc:
            services.tenant_update(tenant=tenant, domains=["not a domain"], actor=actor)
        assert "domains" in exc.value.message_dict
        log.none()
        tenant.refresh_from_db()
        assert tenant.domains == ["acme.example"]

    def test_fields_outside_the_editable_set_are_refused(self, actor) -> None:
        with pytest.raises(ValueError, match="status"):
            services.tenant_update(tenant=TenantFactory(), status="active", actor=actor)


class TestSoftDeleteAndRestore:
    def test_soft_delete_keeps_the_row_and_restore_brings_it_back_suspended(self, actor) -> None:
        tenant = TenantFactory(status="active")
        with watch_audit() as log:
            services.tenant_soft_delete(tenant=tenant, actor=actor)
        assert log.one("tenant.deleted", actor=actor).metadata == {"previous_status": "active"}
        tenant.refresh_from_db()
        assert tenant.status == "deleted" and tenant.deleted_at is not None

        with watch_audit() as log:
            services.tenant_restore(tenant=tenant, actor=actor)
        log.one("tenant.restored", actor=actor)
        tenant.refresh_from_db()
        assert tenant.status == "suspended" and tenant.deleted_at is None

    def test_deleting_twice_is_a_conflict(self, actor) -> None:
        tenant = TenantFactory()
        services.tenant_soft_delete(tenant=tenant, actor=actor)
        with watch_audit() as log, pytest.raises(Conflict):
            services.tenant_soft_delete(tenant=tenant, actor=actor)
        log.none()


class TestPartners:
    def test_create_and_rename(self, actor) -> None:
        with watch_audit() as log:
            partner = services.partner_create(slug="nordic-it", name="Nordic IT", actor=actor)
        log.one("partner.created", actor=actor)
        with watch_audit() as log:
            services.partner_update(partner=partner, name="Nordic IT Partners", actor=actor)
        log.one("partner.updated", actor=actor)

    def test_a_duplicate_slug_is_a_conflict(self, actor) -> None:
        PartnerFactory(slug="nordic-it")
        with watch_audit() as log, pytest.raises(Conflict):
            services.partner_create(slug="nordic-it", name="Again", actor=actor)
        log.none()


class TestMemberships:
    def test_add_change_role_and_remove(self, actor) -> None:
        tenant, user = TenantFactory(), UserFactory()
        with watch_audit() as log:
            membership = services.membership_set(tenant=tenant, user=user, actor=actor)
        log.one("tenant.member_added", actor=actor)
        with watch_audit() as log:
            services.membership_set(tenant=tenant, user=user, role="admin", actor=actor)
        assert log.one("tenant.member_role_changed", actor=actor).metadata["previous_role"] == (
            "member"
        )
        with watch_audit() as log:
            services.membership_set(tenant=tenant, user=user, role="admin", actor=actor)
        log.none()
        with watch_audit() as log:
            services.membership_remove(membership=membership, actor=actor)
        log.one("tenant.member_removed", actor=actor)
        assert not Membership.objects.filter(tenant=tenant, user=user).exists()

    def test_user_tenants_go_through_the_membership(self) -> None:
        membership = MembershipFactory()
        assert list(membership.user.tenants.all()) == [membership.tenant]
