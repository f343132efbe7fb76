from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Feature flags"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from flags.seed import seed_flags_after_migrate

        post_migrate.connect(seed_flags_after_migrate, sender=self)

        from console import palette
        from flags.palette import FlagSource

        palette.register(FlagSource())
