from django.urls import path

from apps.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("campaigns/<int:pk>/webhooks/", views.webhooks_page, name="page"),
]
