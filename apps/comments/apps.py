from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "apps.comments"
    label = "comments"

    def ready(self) -> None:
        from apps.comments.panels import comments_panel
        from apps.core.panels import register_draft_panel

        # Below the decision and its history: a conversation, not a step of the decision.
        register_draft_panel("panel_bottom", comments_panel, order=20)
