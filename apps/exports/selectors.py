"""Reads for channel versions, packs and records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from apps.campaigns.channels import ChannelTarget
from apps.campaigns.models import Campaign
from apps.campaigns.permissions import Can
from apps.campaigns.selectors import AnyUser, requester_refusal, require_membership
from apps.core.models import JobStatus
from apps.core.provenance import content_credentials_on
from apps.drafts.models import Batch, Decision, Draft
from apps.drafts.selectors import Scoped, draft_edits, original_file
from apps.exports.masters import Master, draft_provenance, master_for
from apps.exports.models import (
    ChannelPreset,
    ChannelVersion,
    CropOverride,
    ExportJob,
    FocalArea,
    FocalSource,
    Pack,
)
from apps.reviews.selectors import draft_regions, draft_reviews, region_as_json
from apps.rework.selectors import lineage_path
from apps.sharing.selectors import client_approvals_json
from apps.upscales.selectors import draft_upscales
from workers.focal import Box, fit_box_to_aspect, scale_box, upscale_needed
from workers.render import UPSCALE_TOLERANCE, plan_crops, too_small_message


def export_job_refusal(job: ExportJob) -> str | None:
    """Checked by the worker when it claims the job (see ``register_job_kind``)."""
    campaign_id = Draft.objects.filter(pk=job.draft_id).values_list("campaign_id", flat=True)
    return requester_refusal(
        user_id=job.requested_by_id, campaign_id=campaign_id.get(), need=Can.EXPORT
    )


def pack_refusal(pack: Pack) -> str | None:
    """Checked by the worker when it claims the pack: its requester may still export, and every
    draft it names belongs to the pack's campaign."""
    refusal = requester_refusal(
        user_id=pack.requested_by_id, campaign_id=pack.campaign_id, need=Can.EXPORT
    )
    if refusal:
        return refusal
    ids = pack_draft_ids(pack)
    if ids is None:
        return "Not run: the pack's list of drafts is malformed."
    inside = Draft.objects.filter(pk__in=ids, campaign_id=pack.campaign_id).count()
    if inside != len(set(ids)):
        return "Not run: the pack names drafts that are not in this campaign."
    return None


def pack_draft_ids(pack: Pack) -> list[int] | None:
    raw = pack.spec.get("draft_ids") if isinstance(pack.spec, dict) else None
    if not isinstance(raw, list) or not all(type(i) is int for i in raw):
        return None
    return raw


def active_presets() -> QuerySet[ChannelPreset]:
    return ChannelPreset.objects.filter(is_active=True).order_by("sort_order", "id")


def targeted_presets(campaign: Campaign) -> list[ChannelPreset]:
    """The active presets a campaign's target channels pick, by channel or by preset slug."""
    targets = {str(t) for t in campaign.target_channels or []}
    if not targets:
        return []
    return [
        p for p in active_presets() if p.slug in targets or (p.channel and p.channel in targets)
    ]


def preset_channel_targets(campaign: Campaign) -> list[ChannelTarget]:
    """The channel-targets provider (registered in apps.py): the campaign's presets as the sizes
    and names checks, upscales and the pages use."""
    return [
        ChannelTarget(channel=p.channel, slug=p.slug, label=p.name, width=p.width, height=p.height)
        for p in targeted_presets(campaign)
    ]


def presets_for_campaign(campaign: Campaign) -> list[ChannelPreset]:
    """The presets an export renders: those the campaign's target channels pick; every active
    preset when it names none (or none that a preset serves)."""
    return targeted_presets(campaign) or list(active_presets())


def get_preset(slug: str) -> ChannelPreset:
    preset = active_presets().filter(slug=slug).first()
    if preset is None:
        raise Http404("No such channel preset")
    return preset


def focal_for(draft: Draft) -> FocalArea | None:
    return FocalArea.objects.filter(draft=draft).first()


def focal_default_box(draft: Draft) -> Box:
    """The proposal when saliency has not run yet or cannot read the picture: the middle."""
    return Box(draft.width // 3, draft.height // 3, draft.width // 3, draft.height // 3)


def focal_shown(draft: Draft) -> FocalArea:
    """The focal rectangle pages show: the stored one, or, before the preview job has proposed
    one from saliency, the default proposal, unsaved (``pk`` is None). Pages only read: the
    proposal is written by the preview job (``focal_ensure``), never by a GET."""
    focal = focal_for(draft)
    if focal is not None:
        return focal
    box = focal_default_box(draft)
    return FocalArea(
        draft=draft,
        x=box.x,
        y=box.y,
        width=box.width,
        height=box.height,
        source=FocalSource.AUTO,
        confidence=0.0,
    )


def crop_overrides(draft: Draft) -> dict[int, CropOverride]:
    return {o.preset_id: o for o in CropOverride.objects.filter(draft=draft)}


def planned_crops(
    draft: Draft, master: Master, presets: Sequence[ChannelPreset]
) -> tuple[Box | None, dict[str, tuple[Box, tuple[str, ...]]], set[str]]:
    """The focal rectangle and every preset's crop with its warnings, in the master's pixels,
    and the slugs a person cropped by hand. Stored boxes are in the original's pixels."""
    focal = focal_shown(draft)
    master_size, size = (master.width, master.height), (draft.width, draft.height)
    focal_box = scale_box(focal.box, size, master_size)
    by_id = crop_overrides(draft)
    overrides: dict[str, Box] = {}
    for preset in presets:
        override = by_id.get(preset.pk)
        if override is not None:
            in_master = scale_box(override.box, size, master_size)
            overrides[preset.slug] = fit_box_to_aspect(
                in_master, master_size, (preset.width, preset.height)
            )
    planned = plan_crops(master_size, [p.spec() for p in presets], focal_box, overrides)
    return focal_box, planned, set(overrides)


@dataclass
class SheetRow:
    preset: ChannelPreset
    crop: Box
    overridden: bool
    warnings: list[str]
    upscale_needed: float
    version: ChannelVersion | None = None
    exported_other_crop: bool = False

    @property
    def too_small(self) -> bool:
        return self.upscale_needed > UPSCALE_TOLERANCE

    @property
    def upscale_fix(self) -> str:
        for factor in (2, 4):
            if factor >= self.upscale_needed:
                return f"×{factor}"
        return ""

    @property
    def missing_reason(self) -> str:
        """Why this channel has no file a pack can ship (the checklist and the manifest)."""
        if self.too_small:
            fix = f"; upscale {self.upscale_fix} first" if self.upscale_fix else ""
            return f"Too small: the crop needs {self.upscale_needed:g}× enlargement{fix}."
        return "Could not be rendered: " + ("; ".join(self.warnings) or "see the export job.")


@dataclass
class Sheet:
    draft: Draft
    master: Master
    focal: Box | None
    rows: list[SheetRow] = field(default_factory=list)

    @property
    def too_small_count(self) -> int:
        return sum(1 for row in self.rows if row.too_small)

    @property
    def warning_count(self) -> int:
        return sum(1 for row in self.rows if row.warnings)


def channel_sheet(draft: Draft, presets: list[ChannelPreset]) -> Sheet:
    """Every preset's crop of one draft, with what would go wrong, and the file when one was
    already rendered for exactly this master, preset spec and crop."""
    master = master_for(draft)
    focal_box, planned, overridden = planned_crops(draft, master, presets)
    versions = list(
        ChannelVersion.objects.filter(draft=draft, master_sha256=master.sha256).order_by(
            "-created_at", "-id"
        )
    )
    sheet = Sheet(draft=draft, master=master, focal=focal_box)
    for preset in presets:
        spec = preset.spec()
        crop, notes = planned[preset.slug]
        warnings = list(notes)
        needed = upscale_needed(crop, spec.size)
        if needed > UPSCALE_TOLERANCE:
            warnings.append(too_small_message(crop, spec.size, needed))
        spec_hash = preset.version_hash()
        match = next((v for v in versions if v.spec_hash == spec_hash and v.crop == crop), None)
        if match is not None:
            warnings.extend(w for w in match.warnings if w not in warnings)
        other = match is None and any(v.preset_id == preset.pk for v in versions)
        sheet.rows.append(
            SheetRow(
                preset=preset,
                crop=crop,
                overridden=preset.slug in overridden,
                warnings=warnings,
                upscale_needed=round(needed, 3),
                version=match,
                exported_other_crop=other,
            )
        )
    return sheet


@dataclass(frozen=True)
class PackChecklistItem:
    preset: ChannelPreset
    can_make: bool  # exported by the pack job itself
    reason: str


@dataclass(frozen=True)
class PackChecklist:
    """What a pack of ``draft`` lacks before it is built: channels the pack job will export
    first, and channels it cannot make, with why."""

    draft: Draft
    items: list[PackChecklistItem]

    @property
    def to_export(self) -> list[PackChecklistItem]:
        return [i for i in self.items if i.can_make]

    @property
    def left_out(self) -> list[PackChecklistItem]:
        return [i for i in self.items if not i.can_make]


def pack_checklist(drafts: Sequence[Draft]) -> list[PackChecklist]:
    """Every draft's missing target channels (drafts that lack nothing are not listed)."""
    lists = []
    for draft in drafts:
        sheet = channel_sheet(draft, presets_for_campaign(draft.campaign))
        items = [
            PackChecklistItem(
                preset=row.preset,
                can_make=not row.too_small,
                reason=(
                    f"Not exported yet: the pack exports it from the {sheet.master.label.lower()}."
                    if not row.too_small
                    else row.missing_reason
                ),
            )
            for row in sheet.rows
            if row.version is None
        ]
        if items:
            lists.append(PackChecklist(draft=draft, items=items))
    return lists


def latest_export_job(draft: Draft) -> ExportJob | None:
    return ExportJob.objects.filter(draft=draft).order_by("-created_at", "-id").first()


def current_versions(draft: Draft, master: Master | None = None) -> list[ChannelVersion]:
    """The newest file per preset rendered from the draft's current master."""
    master = master or master_for(draft)
    newest: dict[int, ChannelVersion] = {}
    for version in (
        ChannelVersion.objects.filter(draft=draft, master_sha256=master.sha256)
        .select_related("preset")
        .order_by("-created_at", "-id")
    ):
        newest.setdefault(version.preset_id, version)
    return sorted(newest.values(), key=lambda v: (v.preset.sort_order, v.preset_id))


def get_version_for_user(user: AnyUser, pk: int) -> Scoped[ChannelVersion]:
    version = ChannelVersion.objects.select_related("draft", "preset").filter(pk=pk).first()
    if version is None:
        raise Http404("No such channel version")
    return Scoped(version, require_membership(user, version.draft.campaign_id, Can.VIEW))


def get_pack_for_user(user: AnyUser, pk: int, *, need: Can = Can.EXPORT) -> Scoped[Pack]:
    pack = Pack.objects.select_related("campaign", "draft").filter(pk=pk).first()
    if pack is None:
        raise Http404("No such pack")
    return Scoped(pack, require_membership(user, pack.campaign_id, need))


def campaign_packs(campaign: Campaign) -> QuerySet[Pack]:
    return Pack.objects.filter(campaign=campaign).select_related("draft", "requested_by")


def kept_drafts(*, campaign: Campaign | None = None, batch: Batch | None = None) -> QuerySet[Draft]:
    qs = Draft.objects.filter(decision=Decision.KEEP)
    if batch is not None:
        qs = qs.filter(batch=batch)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.select_related("campaign", "batch").order_by("batch_id", "id")


# --- the record ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionRow:
    """A marked region as the record page prints it: a readable row and a crop thumbnail (an
    SVG viewBox over the draft's thumbnail, so no inline style is needed under our CSP)."""

    region: Any
    view_box: str
    thumb_width: int
    thumb_height: int


def record_regions(draft: Draft, *, size: int = 96) -> list[RegionRow]:
    rows = []
    for region in draft_regions(draft):
        w, h = max(region.w, 1e-3), max(region.h, 1e-3)
        aspect = (w * region.image_width) / max(1e-3, h * region.image_height)
        width, height = (
            (size, round(size / aspect)) if aspect >= 1 else (round(size * aspect), size)
        )
        rows.append(
            RegionRow(
                region=region,
                view_box=f"{region.x:.5f} {region.y:.5f} {w:.5f} {h:.5f}",
                thumb_width=max(8, width),
                thumb_height=max(8, height),
            )
        )
    return rows


def _lineage_node(draft: Draft) -> dict[str, Any]:
    upscales = [u for u in draft_upscales(draft) if u.output_sha256]
    versions = ChannelVersion.objects.filter(draft=draft).select_related("preset").order_by("id")
    return {
        "id": draft.pk,
        "name": draft.original_name,
        "parent_id": draft.parent_id,
        "sha256": draft.sha256,
        "edits": [
            {"revision": r.number, "sha256": r.sha256, "note": r.note} for r in draft_edits(draft)
        ],
        "upscales": [
            {
                "id": u.pk,
                "model": u.used_model or u.model_name,
                "neural": u.neural,
                "weights": u.weights_sha256 or ("classical, not neural" if not u.neural else None),
                "factor": u.scale,
                "sha256": u.output_sha256,
            }
            for u in upscales
        ],
        "exports": [
            {"preset": v.preset.slug, "from_sha256": v.master_sha256, "sha256": v.sha256}
            for v in versions
        ],
    }


def _person(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def asset_record(draft: Draft, *, versions: list[ChannelVersion] | None = None) -> dict[str, Any]:
    """Everything about one asset, in the record's order, as JSON-ready data. Names of people
    come from their accounts; nothing here is taken from file names."""
    master = master_for(draft)
    campaign = draft.campaign
    focal = focal_for(draft)
    lineage = lineage_path(draft)
    original = original_file(draft)
    versions = versions if versions is not None else current_versions(draft, master)
    return {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "brief": campaign.brief,
            "key_message": campaign.key_message,
            "product_requirements": campaign.product_requirements,
            "brand_rules": list(campaign.brand_rules or []),
            "target_channels": list(campaign.target_channels or []),
        },
        "draft": {
            "id": draft.pk,
            "name": draft.original_name,
            "batch": {"id": draft.batch_id, "name": draft.batch.name},
            "uploaded_by": _person(draft.uploaded_by),
            "uploaded_at": draft.uploaded_at.isoformat(),
        },
        "generation": {
            "prompt": draft.prompt,
            "negative_prompt": draft.negative_prompt,
            "generator": draft.generator,
            "model": draft.model_name,
            "seed": draft.seed,
            "parameters": draft.parameters,
            "metadata_sources": draft.metadata_sources,
            # Every sampler of a multi-pass graph with its label, prompts, model and seed.
            "passes": draft.generation_passes,
        },
        "references": [
            {"id": ref.pk, "url": ref.url or None, "name": ref.name, "is_file": bool(ref.file_key)}
            for ref in draft.references.all()
        ],
        # The generated original, even after an edit (the edits follow).
        "source": {
            "sha256": original.sha256,
            "format": original.format,
            "width": original.width,
            "height": original.height,
            "bytes": original.byte_size,
            "mode": draft.mode,
            "bit_depth": draft.bit_depth,
            "icc": draft.icc_description or None,
        },
        "edits": [
            {
                "revision": r.number,
                "note": r.note,
                "by": _person(r.created_by),
                "at": r.created_at.isoformat(),
                "sha256": r.sha256,
                "format": r.format,
                "width": r.width,
                "height": r.height,
                "bytes": r.byte_size,
            }
            for r in draft_edits(draft)
        ],
        "lineage": [
            {
                "id": d.pk,
                "name": d.original_name,
                "sha256": d.sha256,
                "decision": d.decision or None,
                "is_this": d.pk == draft.pk,
            }
            for d in lineage
        ],
        # The family as a tree of files: each draft on the path with its edits, finished
        # upscales (model, weights) and the channel versions made from each master.
        "lineage_tree": [_lineage_node(d) for d in lineage],
        "children": [
            {"id": c.pk, "name": c.original_name, "decision": c.decision or None}
            for c in draft.children.order_by("id")
        ],
        "decision": {
            "current": draft.decision or None,
            "by": _person(draft.decided_by),
            "at": draft.decided_at.isoformat() if draft.decided_at else None,
            # The art director's sign-off of a decision that needed one (who, when).
            "signed_off_by": _person(draft.signed_off_by),
            "signed_off_at": draft.signed_off_at.isoformat() if draft.signed_off_at else None,
        },
        "reviews": [
            {
                "reviewer": _person(review.reviewer),
                "decision": review.decision,
                "suggested": review.suggested or None,
                "note": review.note,
                "checklist": review.checklist,
                "at": review.created_at.isoformat(),
            }
            for review in draft_reviews(draft)
        ],
        # Answers of clients through share links (apps.sharing), oldest first.
        "client_approvals": client_approvals_json(draft),
        "regions": [region_as_json(r) for r in draft_regions(draft)],
        "master": master.as_json(),
        # What every exported file says inside (XMP, C2PA): kept here too for channels whose
        # platform strips metadata.
        "disclosure": {
            "digital_source_type": draft_provenance(draft, master).digital_source_type,
            "content_credentials": content_credentials_on(),
        },
        "focal": (
            {"box": focal.box.as_list(), "source": focal.source, "confidence": focal.confidence}
            if focal
            else None
        ),
        "exports": [
            {
                "preset": v.preset.slug,
                "preset_name": v.preset.name,
                "spec_hash": v.spec_hash,
                "format": v.format,
                "crop_box": v.crop.as_list(),
                "width": v.width,
                "height": v.height,
                "bytes": v.byte_size,
                "sha256": v.sha256,
                "quality": v.quality,
                "status": v.status,
                "warnings": v.warnings,
            }
            for v in versions
        ],
    }


def pack_downloadable(pack: Pack) -> bool:
    """Built, stored and not expired."""
    if pack.status != JobStatus.DONE or not pack.output_key:
        return False
    return not (pack.expires_at and pack.expires_at < timezone.now())
