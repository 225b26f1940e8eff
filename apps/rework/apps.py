from django.apps import AppConfig


class ReworkConfig(AppConfig):
    name = "apps.rework"
    label = "rework"

    def ready(self) -> None:
        from apps.campaigns.home import register_waiting
        from apps.core.panels import (
            register_batch_panel,
            register_draft_panel,
            register_tile_badges,
        )
        from apps.drafts.hooks import register_draft_added
        from apps.reviews.hooks import register_decision_listener
        from apps.rework import panels
        from apps.rework.home import rework_waiting
        from apps.rework.services import decision_notify, references_attach_to_new_batch

        register_draft_panel("viewer_tools", panels.compare_tool, order=50)
        register_draft_panel("panel_top", panels.version_note_panel, order=20)
        register_draft_panel("panel_middle", panels.rework_panel, order=30)
        register_draft_panel("panel_middle", panels.lineage_panel, order=40)
        register_batch_panel("below_filters", panels.batch_references, order=50)
        register_tile_badges(panels.tile_badges, order=50)
        register_draft_added(references_attach_to_new_batch)
        register_decision_listener(decision_notify)
        register_waiting(rework_waiting)
