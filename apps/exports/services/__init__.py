"""Writes for exports, by topic: the focal rectangle and crops, channel versions, packs, the
record and the channel presets. The worker side (export and pack jobs) is in ``runs.py``.
Callers import from here."""

from apps.exports.services.focal import (
    crop_override_clear,
    crop_override_set,
    focal_ensure,
    focal_set,
)
from apps.exports.services.packs import PackIncomplete, pack_members, pack_queue, packs_expire
from apps.exports.services.presets import preset_defaults_ensure
from apps.exports.services.record import record_next_batch
from apps.exports.services.versions import (
    export_queue,
    export_queue_kept,
    export_versions_store,
)

__all__ = [
    "PackIncomplete",
    "crop_override_clear",
    "crop_override_set",
    "export_queue",
    "export_queue_kept",
    "export_versions_store",
    "focal_ensure",
    "focal_set",
    "pack_members",
    "pack_queue",
    "packs_expire",
    "preset_defaults_ensure",
    "record_next_batch",
]
