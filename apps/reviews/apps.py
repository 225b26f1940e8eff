from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "apps.reviews"
    label = "reviews"

    def ready(self) -> None:
        from apps.campaigns.home import register_waiting
        from apps.core.panels import register_draft_panel, register_tile_badges
        from apps.reviews import panels
        from apps.reviews.home import review_waiting

        register_draft_panel("viewer_tools", panels.region_tools, order=10)
        register_draft_panel("viewer_overlay", panels.region_overlay, order=10)
        register_draft_panel("panel_middle", panels.regions_panel, order=10)
        register_draft_panel("panel_middle", panels.consensus_panel, order=20)
        register_tile_badges(panels.sign_off_badges, order=10)
        register_waiting(review_waiting)
