from django.urls import URLPattern

app_name = "rework"

urlpatterns: list[URLPattern] = []
