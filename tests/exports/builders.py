"""Shared builders for the exports tests (and the permission matrix)."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.core.models import JobStatus
from apps.exports.links import pack_link_token
from apps.exports.models import ChannelPreset, ChannelVersion, Pack
from apps.exports.services import preset_defaults_ensure
from apps.reviews.services import review_submit
from tests.drafts.builders import run_previews
from tests.factories import make_draft
from tests.images import encode_jpeg, jpeg_bytes, pattern_image


def kept_draft(batch, decider, *, size=(2600, 2100), name="can.jpg", data=None, **kw):
    """A real kept draft: intake, previews made, a keep decision by ``decider`` (an art
    director's decision counts without sign-off)."""
    draft = make_draft(batch, name=name, data=data or encode_jpeg(pattern_image(size)), **kw)
    run_previews()
    review_submit(draft=draft, reviewer=decider, decision="keep")
    draft.refresh_from_db()
    return draft


def export_objects(cast, draft) -> dict:
    """A stored channel version and a finished pack of ``draft``, made directly (the matrix
    tests who may reach them, not how they are rendered)."""
    preset_defaults_ensure()
    square = ChannelPreset.objects.get(slug="square")
    key = f"campaigns/{draft.campaign_id}/exports/test/square.jpg"
    default_storage.save(key, ContentFile(jpeg_bytes(size=(64, 64))))
    version = ChannelVersion.objects.create(
        draft=draft,
        preset=square,
        master_sha256=draft.sha256,
        spec_hash="0" * 64,
        crop_x=0,
        crop_y=0,
        crop_width=64,
        crop_height=64,
        file_key=key,
        width=64,
        height=64,
        format="JPEG",
        content_type="image/jpeg",
        byte_size=100,
        sha256="1" * 64,
    )
    pack_file = f"campaigns/{draft.campaign_id}/packs/test.zip"
    default_storage.save(pack_file, ContentFile(b"PK\x05\x06" + bytes(18)))
    pack = Pack.objects.create(
        campaign=draft.campaign,
        draft=draft,
        status=JobStatus.DONE,
        output_key=pack_file,
        sha256="2" * 64,
        byte_size=22,
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )
    return {
        "version": version,
        "pack": pack,
        "pack_token": pack_link_token(pack, cast.membership("producer")),
    }
