from django.apps import AppConfig


class UpscalesConfig(AppConfig):
    name = "apps.upscales"
    label = "upscales"
