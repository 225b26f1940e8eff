from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "apps.exports"
    label = "exports"

    def ready(self) -> None:
        from apps.campaigns.channels import register_channel_targets
        from apps.campaigns.home import register_waiting
        from apps.core.jobs import register_job_kind
        from apps.core.panels import register_batch_panel, register_draft_panel
        from apps.drafts.hooks import register_previews_ready
        from apps.exports import panels
        from apps.exports.home import export_waiting
        from apps.exports.models import ExportJob, Pack
        from apps.exports.receivers import export_after_upscale, export_focal_propose
        from apps.exports.selectors import (
            export_job_refusal,
            pack_refusal,
            preset_channel_targets,
        )
        from apps.upscales.hooks import register_upscale_finished

        register_job_kind(
            ExportJob,
            task_name="apps.exports.tasks.export_task",
            queue="default",
            authorize=export_job_refusal,
        )
        register_job_kind(
            Pack, task_name="apps.exports.tasks.pack_task", queue="default", authorize=pack_refusal
        )
        # The presets are the one source of channel sizes and names (apps.campaigns.channels).
        register_channel_targets(preset_channel_targets)
        register_draft_panel("panel_middle", panels.draft_panel, order=200)
        register_batch_panel("toolbar", panels.batch_toolbar, order=200)
        register_upscale_finished(export_after_upscale)
        register_previews_ready(export_focal_propose)
        register_waiting(export_waiting)
