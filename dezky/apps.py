from django.apps import AppConfig


class DezkyConfig(AppConfig):
    name = "dezky"
    verbose_name = "Console shell"
