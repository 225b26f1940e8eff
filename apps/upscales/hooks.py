"""Other apps react to a finished upscale without apps.upscales knowing them: exports
registers here (``ExportsConfig.ready()``) to render channel versions for "upscale and
export", so the dependency runs one way, exports -> upscales.

A listener may raise ``Refusal`` at request time (the person sees it); in the worker the
upscale has already succeeded, so the run logs a listener's failure instead of failing the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from apps.upscales.models import UpscaleJob


@dataclass(frozen=True)
class UpscaleFinished:
    job: UpscaleJob  # done, with its output stored
    by: User | None  # who is asking for what follows (the requester, or who asked again)
    then_export: bool  # the request asked for the channel versions too
    image: Any = None  # the upscaled picture (PIL), when this worker still holds it


UpscaleListener = Callable[[UpscaleFinished], None]
_LISTENERS: list[UpscaleListener] = []


def register_upscale_finished(func: UpscaleListener) -> None:
    if func not in _LISTENERS:
        _LISTENERS.append(func)


def upscale_finished(event: UpscaleFinished) -> None:
    """Called by the worker right after a fresh render, and at request time when an
    "upscale and export" names an upscale that is already done."""
    for func in _LISTENERS:
        func(event)
