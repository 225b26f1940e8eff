"""List, fetch or import upscaling weights into UPSCALE_MODELS_DIR.

    manage.py upscale_models list
    manage.py upscale_models fetch x4plus [--url URL]
    manage.py upscale_models import x4plus /path/to/RealESRGAN_x4plus.pth

Fetch and import both check the SHA-256 against the registry (or UPSCALE_PINS) and the state
dict's keys and shapes against the architecture before the file is moved into place, so a
half-downloaded or wrong file never becomes visible to a worker. Tasks never download.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.upscales.runs import model_spec
from workers.upscale.registry import MODELS, UnknownModel, file_sha256, weights_path
from workers.upscale.weights import WeightsError, verify_weights


class Command(BaseCommand):
    help = "List, fetch or import Real-ESRGAN weights (checksum and shape verified)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every model and whether its weights are installed")
        fetch = sub.add_parser("fetch", help="download a model's published weights")
        fetch.add_argument("model")
        fetch.add_argument("--url", help="another address for the same file (a mirror)")
        imp = sub.add_parser("import", help="install a weights file copied onto this machine")
        imp.add_argument("model")
        imp.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        models_dir = Path(settings.UPSCALE_MODELS_DIR)
        action = options["action"]
        if action == "list":
            self._list(models_dir)
            return
        try:
            spec = model_spec(options["model"])
        except UnknownModel as exc:
            raise CommandError(str(exc.args[0])) from None
        models_dir.mkdir(parents=True, exist_ok=True)
        if action == "fetch":
            url = options.get("url") or spec.url
            if not url.startswith("https://"):
                raise CommandError("Only https:// addresses are fetched.")
            with tempfile.NamedTemporaryFile(dir=models_dir, suffix=".part", delete=False) as tmp:
                temp = Path(tmp.name)
                self.stdout.write(f"Fetching {spec.label} from {url} …")
                try:
                    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
                        shutil.copyfileobj(response, tmp, 1 << 20)
                except OSError as exc:
                    temp.unlink(missing_ok=True)
                    raise CommandError(f"Download failed: {exc}") from None
        else:
            source = Path(options["file"])
            if not source.is_file():
                raise CommandError(f"No such file: {source}")
            with tempfile.NamedTemporaryFile(dir=models_dir, suffix=".part", delete=False) as tmp:
                temp = Path(tmp.name)
                with source.open("rb") as fh:
                    shutil.copyfileobj(fh, tmp, 1 << 20)
        try:
            digest = verify_weights(temp, spec)
        except WeightsError as exc:
            temp.unlink(missing_ok=True)
            raise CommandError(f"Refused: {exc}") from None
        except ImportError as exc:
            temp.unlink(missing_ok=True)
            raise CommandError(f"torch and basicsr are needed to check weights: {exc}") from None
        os.replace(temp, weights_path(models_dir, spec))
        self.stdout.write(
            self.style.SUCCESS(f"Installed {spec.label} ({spec.filename}, SHA-256 {digest}).")
        )

    def _list(self, models_dir: Path) -> None:
        self.stdout.write(f"Weights folder: {models_dir}")
        for name in MODELS:
            spec = model_spec(name)
            path = weights_path(models_dir, spec)
            if not path.is_file():
                state = "not installed"
            elif file_sha256(path) == spec.sha256:
                state = "installed, checksum ok"
            else:
                state = "PRESENT BUT CHECKSUM DIFFERS (re-import it)"
            self.stdout.write(f"{name:14} {spec.label:36} ×{spec.scale}  {state}")
        self.stdout.write("classical      Lanczos + sharpen (always available, not neural)")
