from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from apps.checks.models import CheckJob
        from apps.core.jobs import register_job_kind, register_job_outcome
        from apps.drafts.hooks import register_draft_added
        from apps.exports.models import ExportJob, Pack
        from apps.reviews.hooks import register_decision_listener
        from apps.rework.hooks import register_assignment_listener
        from apps.upscales.models import UpscaleJob
        from apps.webhooks import receivers
        from apps.webhooks.models import WebhookDelivery

        register_job_kind(
            WebhookDelivery, task_name="apps.webhooks.tasks.webhook_deliver_task", queue="default"
        )
        register_draft_added(receivers.on_draft_added)
        register_decision_listener(receivers.on_decision)
        register_assignment_listener(receivers.on_assignment)
        register_job_outcome(CheckJob, finished=receivers.on_checks_finished)
        register_job_outcome(
            UpscaleJob, finished=receivers.on_upscale_finished, failed=receivers.on_upscale_failed
        )
        register_job_outcome(ExportJob, finished=receivers.on_export_finished)
        register_job_outcome(Pack, finished=receivers.on_pack_ready)
