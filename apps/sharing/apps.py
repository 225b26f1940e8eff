from django.apps import AppConfig


class SharingConfig(AppConfig):
    """Share links for people without an account (clients) and their answers.

    Its own app rather than part of apps.exports: a guest is a second kind of visitor with its
    own gate (token, password, name and e-mail in the session), its own rate limit and its own
    URL space (/share/<token>/), and the links cover drafts as well as packs."""

    name = "apps.sharing"
    label = "sharing"

    def ready(self) -> None:
        from apps.core.panels import register_draft_panel
        from apps.sharing import panels

        register_draft_panel("panel_middle", panels.client_answers_panel, order=45)
