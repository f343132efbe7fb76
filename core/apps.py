from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers the deploy checks)
        from core.request_meta import proxy_trust

        proxy_trust()  # a bad TRUSTED_PROXIES stops startup, naming the setting
