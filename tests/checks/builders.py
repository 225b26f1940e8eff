"""Pictures with real detail for the checks' tests (tests.images makes flat colours), and a
draft's checks run as the worker runs them."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

from apps.checks.models import CheckJob, CheckResult
from apps.checks.runs import draft_checks_run


def scene(size: tuple[int, int] = (1024, 1024), seed: int = 1) -> Image.Image:
    """A busy, sharp picture: a smooth gradient backdrop (where compression shows) with
    hard-edged shapes, thin lines and small text-like marks (where softness shows)."""
    rng = random.Random(seed)
    width, height = size
    top, bottom = [tuple(rng.randrange(40, 220) for _ in range(3)) for _ in range(2)]
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BICUBIC)
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)
    draw = ImageDraw.Draw(image)
    unit = min(width, height) / 1024
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = int(rng.randrange(20, 220) * unit), int(rng.randrange(20, 220) * unit)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice((draw.rectangle, draw.ellipse))
        shape((x, y, x + w, y + h), fill=colour)
    for _ in range(120):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.line(
            (x, y, x + rng.randrange(-90, 90), y + rng.randrange(-90, 90)),
            fill=tuple(rng.randrange(256) for _ in range(3)),
            width=max(1, int(2 * unit)),
        )
    for _ in range(60):
        x, y = rng.randrange(width - 60), rng.randrange(height - 20)
        draw.text((x, y), "FJELL 0.33l", fill=(rng.randrange(256),) * 3)
    return image


def scene_png(size: tuple[int, int] = (1024, 1024), seed: int = 1, *, blur: float = 0) -> bytes:
    image = scene(size, seed)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def run_checks(draft) -> CheckJob:
    """Run the draft's check job as the worker would; the job row afterwards."""
    draft_checks_run(job_id=draft.check_job.pk)
    return CheckJob.objects.get(pk=draft.check_job.pk)


def check_statuses(draft) -> dict[str, str]:
    return dict(CheckResult.objects.filter(draft=draft).values_list("key", "status"))
