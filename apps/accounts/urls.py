from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sso/login/", views.sso_login, name="sso-login"),
    path("sso/callback/", views.sso_callback, name="sso-callback"),
]
