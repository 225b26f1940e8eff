from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """How people log in: passwords (Django's auth), single sign-on (OpenID Connect) and
    password reset by e-mail. Campaign membership stays in apps.campaigns."""

    name = "apps.accounts"
    label = "accounts"
