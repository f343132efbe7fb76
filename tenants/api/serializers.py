from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.validators import STRING_LIST_MAX
from tenants.models import MemberRole, Plan, TenantStatus
from tenants.selectors import provisioning_of


class ProvisioningSerializer(serializers.Serializer):
    integration = serializers.CharField()
    state = serializers.CharField(help_text="pending, ready, error or not_configured.")
    last_error = serializers.CharField()
    last_error_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class TenantSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=TenantStatus.values)
    plan = serializers.ChoiceField(choices=Plan.values)
    domains = serializers.ListField(child=serializers.CharField(), help_text="Primary first.")
    partner = serializers.SerializerMethodField()
    billing_email = serializers.EmailField()
    provisioning = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    deleted_at = serializers.DateTimeField(allow_null=True)

    def get_partner(self, tenant: Any) -> str | None:
        return tenant.partner.slug if tenant.partner_id else None

    def get_provisioning(self, tenant: Any) -> list[dict[str, Any]]:
        # Always the three integrations, so a client never meets a missing key.
        return ProvisioningSerializer(provisioning_of(tenant), many=True).data


class TenantUpdateSerializer(serializers.Serializer):
    """What an operator may change; anything else in the body is a 400 naming it."""

    name = serializers.CharField(max_length=200, required=False)
    plan = serializers.ChoiceField(choices=Plan.values, required=False)
    billing_email = serializers.EmailField(allow_blank=True, required=False)
    domains = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        allow_empty=True,
        max_length=STRING_LIST_MAX,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in unknown}
            )
        if not attrs:
            raise serializers.ValidationError({"detail": ["Nothing to change."]})
        return attrs


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.id")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.name")
    role = serializers.CharField()
    is_active = serializers.BooleanField(source="user.is_active")
    last_login = serializers.DateTimeField(source="user.last_login", allow_null=True)


class MemberInviteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=MemberRole.values, default=MemberRole.MEMBER)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MemberRole.values)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed here."] for name in unknown}
            )
        return attrs


class MemberInviteResultSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=MemberRole.values)
    tenant = serializers.CharField(help_text="The tenant's slug.")
    handoff = serializers.ChoiceField(
        choices=["link", "temp-password", "existing-account"],
        help_text="existing-account: a person who had an account was added, no credential.",
    )
    link = serializers.URLField(required=False, help_text="A recovery link, or…")
    temp_password = serializers.CharField(
        required=False, help_text="…a temporary password; neither for an existing account."
    )


class PartnerSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    tenant_count = serializers.IntegerField(help_text="Tenants that are not deleted.")
    created_at = serializers.DateTimeField()


class ReconcileOutcomeSerializer(serializers.Serializer):
    integration = serializers.CharField()
    state = serializers.CharField()
    error = serializers.CharField()


class ReconcileSerializer(serializers.Serializer):
    results = ReconcileOutcomeSerializer(many=True)
    tenant = TenantSerializer()
