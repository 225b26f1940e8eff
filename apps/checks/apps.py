from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "apps.checks"
    label = "checks"

    def ready(self) -> None:
        from apps.campaigns.channels import register_channels_changed
        from apps.checks.models import CheckJob
        from apps.checks.panels import check_badges, check_controls, check_panel
        from apps.checks.services import (
            checks_on_draft_added,
            checks_on_draft_revised,
            placements_on_channels_changed,
        )
        from apps.core.jobs import register_job_kind
        from apps.core.panels import (
            register_batch_panel,
            register_draft_panel,
            register_tile_badges,
        )
        from apps.drafts.hooks import register_draft_added, register_draft_revised

        register_job_kind(
            CheckJob, task_name="apps.checks.tasks.draft_checks_task", queue="default"
        )
        register_draft_added(checks_on_draft_added)
        register_draft_revised(checks_on_draft_revised)
        register_channels_changed(placements_on_channels_changed)
        # Before the decision form: the checks are read before anyone decides.
        register_draft_panel("panel_top", check_panel, order=10)
        register_batch_panel("below_filters", check_controls, order=10)
        register_tile_badges(check_badges, order=10)
