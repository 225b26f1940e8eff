from django.urls import URLPattern

app_name = "upscales"

urlpatterns: list[URLPattern] = []
