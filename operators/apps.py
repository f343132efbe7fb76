from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = "Operators and users"

    def ready(self) -> None:
        from console import palette
        from operators.palette import UserSource

        palette.register(UserSource())
