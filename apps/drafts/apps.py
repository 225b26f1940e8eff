from django.apps import AppConfig


class DraftsConfig(AppConfig):
    name = "apps.drafts"
    label = "drafts"

    def ready(self) -> None:
        from apps.core.jobs import register_job_kind
        from apps.drafts.models import PreviewJob

        register_job_kind(
            PreviewJob, task_name="apps.drafts.tasks.draft_preview_task", queue="default"
        )
