from django.apps import AppConfig


class ReworkConfig(AppConfig):
    name = "apps.rework"
    label = "rework"
