from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants and partners"

    def ready(self) -> None:
        from console import palette
        from tenants.palette import PartnerSource, TenantSource

        palette.register(TenantSource())
        palette.register(PartnerSource())
