from django.apps import AppConfig


class UpscalesConfig(AppConfig):
    name = "apps.upscales"
    label = "upscales"

    def ready(self) -> None:
        from apps.core.jobs import register_job_kind
        from apps.core.panels import (
            register_batch_panel,
            register_draft_panel,
            register_tile_badges,
        )
        from apps.upscales import panels
        from apps.upscales.models import UpscaleJob
        from apps.upscales.selectors import upscale_job_refusal

        register_job_kind(
            UpscaleJob,
            task_name="apps.upscales.tasks.upscale_task",
            queue="gpu",
            authorize=upscale_job_refusal,
        )
        register_draft_panel("panel_middle", panels.draft_panel, order=60)
        register_batch_panel("toolbar", panels.batch_toolbar, order=60)
        register_tile_badges(panels.tile_badges, order=60)
