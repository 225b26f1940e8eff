"""List, fetch or import upscaling weights into UPSCALE_MODELS_DIR.

    manage.py upscale_models list
    manage.py upscale_models fetch x4plus [--url URL]
    manage.py upscale_models import x4plus /path/to/RealESRGAN_x4plus.pth
    manage.py upscale_models import-custom 4x-ultrasharp ~/4x-UltraSharp.pth \
        --licence "CC-BY-NC-SA 4.0" --description "Sharper textures for product shots"

Fetch and import both check the SHA-256 against the registry (or UPSCALE_PINS) and the state
dict's keys and shapes against the architecture before the file is moved into place, so a
half-downloaded or wrong file never becomes visible to a worker. ``import-custom`` installs any
ESRGAN-family super-resolution checkpoint under a name of the team's choosing (see
workers/upscale/custom.py). Installed files are mode 0644, readable by a worker running as
another user. Messages name the file given, never the temporary copy. Tasks never download.

A worker whose model file is present but unusable (a checksum that no longer matches its pin,
a custom file changed after import) fails the job with the same explanation ``list`` gives; it
never quietly falls back to the classical upscaler for a neural request.
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
from workers.upscale.custom import CustomModelError, custom_models, import_custom
from workers.upscale.registry import MODELS, ModelSpec, UnknownModel, file_sha256, weights_path
from workers.upscale.weights import WeightsError, verify_weights


class Command(BaseCommand):
    help = "List, fetch or import upscaling weights (checksum and architecture verified)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every model, whether it can run, and what to do if not")
        fetch = sub.add_parser("fetch", help="download a model's published weights")
        fetch.add_argument("model")
        fetch.add_argument("--url", help="another address for the same file (a mirror)")
        imp = sub.add_parser("import", help="install a weights file copied onto this machine")
        imp.add_argument("model")
        imp.add_argument("file")
        custom = sub.add_parser(
            "import-custom",
            help="install an ESRGAN-family checkpoint (.pth or .safetensors) under a new name",
        )
        custom.add_argument("name", help="lower-case letters, digits and hyphens")
        custom.add_argument("file")
        custom.add_argument("--licence", default="", help="the licence the file comes under")
        custom.add_argument("--description", default="", help="what the team uses it for")

    def handle(self, *args: Any, **options: Any) -> None:
        models_dir = Path(settings.UPSCALE_MODELS_DIR)
        action = options["action"]
        if action == "list":
            self._list(models_dir)
            return
        if action == "import-custom":
            self._import_custom(models_dir, options)
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
            shown = url.rsplit("/", 1)[-1] or spec.filename
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
            shown = source.name
            with tempfile.NamedTemporaryFile(dir=models_dir, suffix=".part", delete=False) as tmp:
                temp = Path(tmp.name)
                with source.open("rb") as fh:
                    shutil.copyfileobj(fh, tmp, 1 << 20)
        try:
            digest = verify_weights(temp, spec, shown_name=shown)
        except WeightsError as exc:
            temp.unlink(missing_ok=True)
            raise CommandError(f"Refused: {exc}") from None
        except ImportError as exc:
            temp.unlink(missing_ok=True)
            raise CommandError(f"torch and basicsr are needed to check weights: {exc}") from None
        # NamedTemporaryFile makes the copy 0600; a worker running as another user must read it.
        temp.chmod(0o644)
        os.replace(temp, weights_path(models_dir, spec))
        self.stdout.write(
            self.style.SUCCESS(f"Installed {spec.label} ({spec.filename}, SHA-256 {digest}).")
        )

    def _import_custom(self, models_dir: Path, options: dict[str, Any]) -> None:
        try:
            model = import_custom(
                models_dir,
                name=options["name"],
                source=options["file"],
                licence=options["licence"],
                description=options["description"],
            )
        except CustomModelError as exc:
            raise CommandError(f"Refused: {exc}") from None
        except ImportError as exc:
            raise CommandError(
                f"torch and spandrel are needed to import custom models: {exc}"
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Installed {model.label} from {model.source_name} ({model.filename}, "
                f"SHA-256 {model.sha256}). It is offered in the upscale menus as “{model.name}”."
            )
        )

    def _list(self, models_dir: Path) -> None:
        self.stdout.write(f"Weights folder: {models_dir}")
        for name in MODELS:
            spec = model_spec(name)
            state = _pinned_state(spec, weights_path(models_dir, spec))
            self.stdout.write(f"{name:14} {spec.label:36} ×{spec.scale}  {state}")
        for model in custom_models(models_dir):
            path = models_dir / model.filename
            if not path.is_file():
                state = (
                    f"FILE MISSING ({model.filename}): import it again with "
                    f"`upscale_models import-custom {model.name} FILE`"
                )
            elif file_sha256(path) == model.sha256:
                state = f"installed, checksum ok (SHA-256 {model.sha256[:16]}…)"
            else:
                state = (
                    "FILE CHANGED SINCE IMPORT, jobs fail: import the file you trust again "
                    f"with `upscale_models import-custom {model.name} FILE`"
                )
            extra = f"; licence: {model.licence}" if model.licence else ""
            self.stdout.write(f"{model.name:14} {model.label:36} ×{model.scale}  {state}{extra}")
        self.stdout.write("classical      Lanczos + sharpen (always available, not neural)")


def _pinned_state(spec: ModelSpec, path: Path) -> str:
    """What ``list`` says of a registry model: whether it can run, and what would make it."""
    if not path.is_file():
        return (
            f"not installed (jobs run the classical upscaler): `upscale_models fetch {spec.name}`"
        )
    digest = file_sha256(path)
    if digest == spec.sha256:
        return "installed, checksum ok"
    return (
        f"CHECKSUM DIFFERS FROM THE PIN, jobs fail: {path.name} has SHA-256 {digest}. To use "
        f"this file, set UPSCALE_PINS={spec.name}={digest}; to replace it with the published "
        f"one, `upscale_models fetch {spec.name}`"
    )
