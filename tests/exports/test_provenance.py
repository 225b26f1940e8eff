"""Every exported file carries its provenance: the IPTC DigitalSourceType in XMP and, with a
signing certificate configured, a C2PA manifest whose actions repeat the record."""

from __future__ import annotations

import hashlib
import io

import c2pa
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from apps.core.models import JobStatus
from apps.drafts.models import Draft
from apps.exports.models import ChannelPreset, ChannelVersion
from apps.exports.runs import export_run
from apps.exports.services import export_queue, preset_defaults_ensure
from apps.upscales.models import UpscaleJob
from tests.exports.builders import kept_draft
from tests.images import jpeg_bytes
from tests.workers.c2pa_certs import signing_chain
from workers.provenance import COMPOSITE, MIME, TRAINED

WEIGHTS = hashlib.sha256(b"RealESRGAN_x4plus.pth").hexdigest()


@pytest.fixture
def credentials(settings, tmp_path):
    chain, key, ca = signing_chain()
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    settings.C2PA_SIGNING_CERT = str(tmp_path / "chain.pem")
    settings.C2PA_SIGNING_KEY = str(tmp_path / "key.pem")
    # The reader trusts the test's own CA, as a verifier would trust a real signer's.
    return c2pa.Context.from_dict({"trust": {"trust_anchors": ca.decode()}})


def _presets() -> list[ChannelPreset]:
    preset_defaults_ensure()
    made = []
    for slug, fmt in (("prov-jpeg", "JPEG"), ("prov-webp", "WEBP"), ("prov-png", "PNG")):
        made.append(
            ChannelPreset.objects.create(
                slug=slug,
                name=f"Provenance {fmt}",
                channel="square",
                width=320,
                height=320,
                format=fmt,
            )
        )
    return made


def _upscaled(draft: Draft) -> None:
    """The draft's record says a neural upscale made its master (the row the upscale worker
    writes, with its file), so exports render from it."""
    size = (draft.width * 2, draft.height * 2)
    data = Image.new("RGB", size, (120, 90, 60))
    buf = io.BytesIO()
    data.save(buf, "PNG")
    key = f"campaigns/{draft.campaign_id}/upscales/test-master.png"
    default_storage.save(key, ContentFile(buf.getvalue()))
    UpscaleJob.objects.create(
        draft=draft,
        model_name="realesrgan-x4plus",
        scale=2,
        status=JobStatus.DONE,
        used_model="realesrgan-x4plus",
        model_label="Real-ESRGAN x4plus",
        neural=True,
        weights_sha256=WEIGHTS,
        output_key=key,
        output_sha256=hashlib.sha256(buf.getvalue()).hexdigest(),
        output_width=size[0],
        output_height=size[1],
        finished_at=timezone.now(),
    )


def _export(draft: Draft, presets: list[ChannelPreset]) -> list[ChannelVersion]:
    job = export_queue(draft=draft, by=None, presets=presets)
    export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    return list(
        ChannelVersion.objects.filter(draft=draft, preset__in=presets).select_related("preset")
    )


def _read(version: ChannelVersion) -> bytes:
    with default_storage.open(version.file_key, "rb") as fh:
        return fh.read()


def test_exported_jpeg_webp_and_png_carry_signed_credentials_and_the_disclosure(
    cast, batch, credentials
):
    draft = kept_draft(batch, cast.art_director, size=(800, 600), data=jpeg_bytes(size=(800, 600)))
    Draft.objects.filter(pk=draft.pk).update(generator="ComfyUI", model_name="sdxl_base_1.0")
    draft.refresh_from_db()
    _upscaled(draft)
    versions = _export(draft, _presets())
    assert {v.format for v in versions} == {"JPEG", "WEBP", "PNG"}
    for version in versions:
        data = _read(version)
        assert hashlib.sha256(data).hexdigest() == version.sha256  # the stored hash is the file's
        image = Image.open(io.BytesIO(data))
        image.load()
        assert image.size == (320, 320)
        xmp = image.getxmp()["xmpmeta"]["RDF"]["Description"]
        assert xmp["DigitalSourceType"] == TRAINED

        reader = c2pa.Reader(MIME[version.format], io.BytesIO(data), context=credentials)
        assert reader.get_validation_state() == "Trusted"
        assert not reader.get_validation_results()["activeManifest"]["failure"]
        actions = reader.get_active_manifest()["assertions"][0]["data"]["actions"]
        names = [a["action"] for a in actions]
        assert names[0] == "c2pa.created" and "c2pa.cropped" in names
        created = actions[0]
        assert created["parameters"]["model"] == "sdxl_base_1.0"
        assert created["softwareAgent"]["name"] == "ComfyUI"
        upscale = next(a for a in actions if "com.draftroom.upscale" in a.get("parameters", {}))
        assert upscale["parameters"]["com.draftroom.upscale"]["weights_sha256"] == WEIGHTS
        assert upscale["parameters"]["com.draftroom.upscale"]["model"] == "realesrgan-x4plus"
        channel = [a for a in actions if a.get("parameters", {}).get("com.draftroom.channel")]
        assert {a["parameters"]["com.draftroom.channel"] for a in channel} == {version.preset.slug}


def test_without_a_certificate_the_disclosure_is_still_written(cast, batch, settings):
    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    draft = kept_draft(batch, cast.art_director, size=(800, 600), data=jpeg_bytes(size=(800, 600)))
    versions = _export(draft, _presets())
    assert len(versions) == 3
    for version in versions:
        data = _read(version)
        assert (
            Image.open(io.BytesIO(data)).getxmp()["xmpmeta"]["RDF"]["Description"][
                "DigitalSourceType"
            ]
            == TRAINED
        )
        with pytest.raises(c2pa.C2paError):
            c2pa.Reader(MIME[version.format], io.BytesIO(data))


def test_an_edited_draft_is_marked_composite(cast, batch, settings):
    from apps.drafts.services import draft_revision_add
    from tests.images import png_bytes

    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    draft = kept_draft(batch, cast.art_director, size=(800, 600), data=jpeg_bytes(size=(800, 600)))
    draft_revision_add(
        draft=draft, uploaded_by=None, name="e.png", upload=png_bytes(size=(800, 600))
    )
    Draft.objects.filter(pk=draft.pk).update(decision="keep")  # an edit reopens the decision
    draft.refresh_from_db()
    version = _export(draft, _presets()[:1])[0]
    xmp = Image.open(io.BytesIO(_read(version))).getxmp()["xmpmeta"]["RDF"]["Description"]
    assert xmp["DigitalSourceType"] == COMPOSITE


def test_the_pages_say_when_content_credentials_are_off(cast, batch, settings, tmp_path):
    from django.urls import reverse

    draft = kept_draft(batch, cast.art_director, size=(800, 600), data=jpeg_bytes(size=(800, 600)))
    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    client = cast.client("producer")
    for url in (
        reverse("exports:record", args=[draft.pk]),
        reverse("drafts:detail", args=[draft.pk]),
    ):
        assert "content credentials are off" in client.get(url).content.decode()
    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = str(tmp_path / "x.pem")
    page = client.get(reverse("exports:record", args=[draft.pk])).content.decode()
    assert "content credentials are off" not in page and "signed content credentials" in page


def test_the_record_and_manifest_keep_the_disclosure_for_channels_that_strip_metadata(
    cast, batch, settings
):
    from apps.exports.selectors import asset_record

    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    draft = kept_draft(batch, cast.art_director, size=(800, 600), data=jpeg_bytes(size=(800, 600)))
    disclosure = asset_record(draft)["disclosure"]
    assert disclosure == {"digital_source_type": TRAINED, "content_credentials": False}


def test_turning_signing_on_renders_signed_versions_instead_of_reusing_unsigned_ones(
    cast, batch, settings, tmp_path
):
    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    draft = kept_draft(batch, cast.art_director, size=(800, 600), data=jpeg_bytes(size=(800, 600)))
    presets = _presets()[:1]
    [unsigned] = _export(draft, presets)

    chain, key, ca = signing_chain()
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    settings.C2PA_SIGNING_CERT = str(tmp_path / "chain.pem")
    settings.C2PA_SIGNING_KEY = str(tmp_path / "key.pem")
    job = export_queue(draft=draft, by=None, presets=presets)
    export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.report[presets[0].slug]["status"] == "rendered"  # not "reused"
    signed = ChannelVersion.objects.exclude(pk=unsigned.pk).get(draft=draft)
    assert signed.file_key != unsigned.file_key
    trust = c2pa.Context.from_dict({"trust": {"trust_anchors": ca.decode()}})
    reader = c2pa.Reader(MIME[signed.format], io.BytesIO(_read(signed)), context=trust)
    assert reader.get_validation_state() == "Trusted"

    # Signing off again: the unsigned version is the current one once more, reused as it was.
    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    again = export_queue(draft=draft, by=None, presets=presets)
    export_run(job_id=again.pk)
    again.refresh_from_db()
    assert again.report[presets[0].slug] == {
        "status": "reused",
        "version_id": unsigned.pk,
        "warnings": unsigned.warnings,
    }


def test_a_signed_file_stays_under_its_presets_byte_limit(cast, batch, settings, credentials):
    from tests.checks.builders import scene_png

    # A picture with detail, so its JPEG is far larger than the credentials.
    draft = kept_draft(batch, cast.art_director, size=(1200, 1200), data=scene_png((1200, 1200)))
    preset_defaults_ensure()
    preset = ChannelPreset.objects.create(
        slug="prov-budget", name="Budget", channel="square", width=1000, height=1000, quality=90
    )
    signing = (settings.C2PA_SIGNING_CERT, settings.C2PA_SIGNING_KEY)
    # What the preset makes unsigned, at full quality.
    settings.C2PA_SIGNING_CERT = settings.C2PA_SIGNING_KEY = ""
    [plain] = _export(draft, [preset])
    assert plain.quality == 90
    # A limit with less room above that than the credentials take.
    ChannelPreset.objects.filter(pk=preset.pk).update(max_bytes=plain.byte_size + 1000)
    preset.refresh_from_db()
    settings.C2PA_SIGNING_CERT, settings.C2PA_SIGNING_KEY = signing

    signed = ChannelVersion.objects.exclude(pk=plain.pk).get(
        pk__in=[v.pk for v in _export(draft, [preset])]
    )

    data = _read(signed)
    assert (signed.status, len(data)) == ("ok", signed.byte_size)
    assert signed.byte_size <= preset.max_bytes
    assert signed.quality is not None and signed.quality < 90  # it made room by quality
    reader = c2pa.Reader(MIME[signed.format], io.BytesIO(data), context=credentials)
    assert reader.get_validation_state() == "Trusted"
