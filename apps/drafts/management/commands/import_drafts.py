from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.campaigns.models import Campaign
from apps.drafts.importing import drafts_import_folder


class Command(BaseCommand):
    help = (
        "Import a folder of generated drafts into a new batch. Prompts and parameters come from "
        "sidecar files (<name>.json or <name>.txt) and from the images (Automatic1111 and "
        "ComfyUI PNG text, EXIF/XMP descriptions)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--campaign", required=True, help="campaign id or exact name")
        parser.add_argument("--batch", default="", help="batch name (default: the folder name)")
        parser.add_argument("--user", default="", help="username recorded as the uploader")
        parser.add_argument("--recursive", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        ref = options["campaign"]
        campaign = (
            Campaign.objects.filter(pk=int(ref)).first()
            if ref.isdigit()
            else Campaign.objects.filter(name=ref).first()
        )
        if campaign is None:
            raise CommandError(f"No campaign {ref!r}")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}")
        report = drafts_import_folder(
            folder=folder,
            campaign=campaign,
            batch_name=options["batch"],
            by=user,
            recursive=options["recursive"],
        )
        for result in report.results:
            self.stdout.write(f"{result.status:>9}  {result.name}: {result.message}")
        for name in report.skipped:
            self.stdout.write(f"  skipped  {name}: not a PNG, JPEG or WebP file name")
        self.stdout.write(
            self.style.SUCCESS(
                f"Batch “{report.batch.name}” (id {report.batch.pk}): "
                f"{report.count('added')} added, "
                f"{report.count('duplicate')} duplicates, {report.count('rejected')} rejected, "
                f"{len(report.skipped)} skipped."
            )
        )
