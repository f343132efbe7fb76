from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = "Operators and users"

    def ready(self) -> None:
        from console import palette
        from operators import sessions  # noqa: F401  (connects the sign-in/out receivers)
        from operators.palette import ImpersonationSource, UserSource

        palette.register(UserSource())
        palette.register(ImpersonationSource())
