"""Writes for reviews: decisions with their checklist and marked regions, sign-off, settings."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.campaigns.models import Campaign
from apps.campaigns.permissions import Can, role_can
from apps.campaigns.selectors import membership_for
from apps.campaigns.services import audit_record, campaign_refuse_if_archived
from apps.core.errors import Refusal, StaleView
from apps.core.people import person_name
from apps.core.storage import storage_put
from apps.core.storage_keys import product_reference_key
from apps.drafts.models import Decision, Draft
from apps.drafts.services import intake_limits, intake_refusals
from apps.reviews.guide import suggest_decision
from apps.reviews.hooks import DecisionEvent, DecisionEventKind, decision_recorded
from apps.reviews.models import (
    Criterion,
    Rating,
    Region,
    RegionCategory,
    Review,
    ReviewPreferences,
    ReviewSettings,
    SignOff,
    SignOffRule,
)
from apps.reviews.selectors import decision_changes, decision_version, review_settings_for
from workers.intake import inspect_image, sanitize_display_name

NOTE_MAX = 4000
REGION_NOTE_MAX = 1000
MAX_REGIONS_PER_REVIEW = 50
# JSON can spell what a form field cannot: NUL (PostgreSQL refuses it in text) and lone
# surrogates (no UTF-8 encoding exists for them, so no database takes them).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def clean_checklist(raw: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for key, item in raw.items():
        if key not in Criterion.values:
            raise Refusal(f"Unknown checklist criterion “{key}”.")
        if not isinstance(item, Mapping):
            raise Refusal(f"Checklist item “{key}” must have a rating and a note.")
        rating = str(item.get("rating") or "")
        note = str(item.get("note") or "").strip()
        if rating and rating not in Rating.values:
            raise Refusal(f"Rating for “{key}” must be pass, concern or fail.")
        if len(note) > NOTE_MAX:
            raise Refusal(f"The note for “{key}” is too long.")
        if rating or note:
            cleaned[key] = {"rating": rating, "note": note}
    return cleaned


def _fraction(item: Mapping[str, Any], key: str) -> float:
    try:
        value = float(item[key])
    # OverflowError: JSON integers have no size limit, floats do.
    except (KeyError, TypeError, ValueError, OverflowError):
        raise Refusal(f"A marked region needs a number for “{key}”.") from None
    if not math.isfinite(value):
        raise Refusal(f"A marked region needs a number for “{key}”.")
    return value


def clean_regions(raw: Any, *, width: int, height: int) -> list[dict[str, Any]]:
    """Regions as drawn in the browser (a JSON list, or the list itself) into checked boxes.

    Boxes are fractions of the image; a box that spills over an edge is cut at the edge, and
    one smaller than a source pixel after that is refused."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        # RecursionError: a few thousand nested brackets are enough to exhaust the parser.
        except (ValueError, RecursionError):
            raise Refusal("The marked regions could not be read.") from None
    if not isinstance(raw, list):
        raise Refusal("The marked regions could not be read.")
    if len(raw) > MAX_REGIONS_PER_REVIEW:
        raise Refusal(f"Mark at most {MAX_REGIONS_PER_REVIEW} regions per review.")
    cleaned = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise Refusal("The marked regions could not be read.")
        category = str(item.get("category") or "")
        if category not in RegionCategory.values:
            raise Refusal("Choose a category for every marked region.")
        note = str(item.get("note") or "").strip()
        if len(note) > REGION_NOTE_MAX:
            raise Refusal("A region's note is too long.")
        if _UNSTORABLE.search(note):
            raise Refusal("A region's note contains characters that cannot be saved.")
        x, y = _fraction(item, "x"), _fraction(item, "y")
        w, h = _fraction(item, "w"), _fraction(item, "h")
        left, top = max(0.0, min(1.0, x)), max(0.0, min(1.0, y))
        right, bottom = max(0.0, min(1.0, x + w)), max(0.0, min(1.0, y + h))
        if (right - left) * width < 1 or (bottom - top) * height < 1 or left >= 1 or top >= 1:
            raise Refusal("A marked region is empty or outside the image.")
        cleaned.append(
            {
                "category": category,
                "note": note,
                "x": left,
                "y": top,
                "w": right - left,
                "h": bottom - top,
            }
        )
    return cleaned


def _refuse_if_stale(current: Draft, expected_version: str | None) -> None:
    """``expected_version`` is the token the person's page showed (None: a caller with no
    page, such as a script, which is not checked)."""
    if expected_version is not None and decision_version(current) != expected_version:
        raise StaleView(decision_changes(current))


def _can_sign_off(user: User, campaign_id: int) -> bool:
    membership = membership_for(user, campaign_id)
    return membership is not None and role_can(membership.role, Can.SIGN_OFF)


@transaction.atomic
def review_submit(
    *,
    draft: Draft,
    reviewer: User,
    decision: str,
    checklist: Mapping[str, Any] | None = None,
    note: str = "",
    regions: Any = None,
    expected_version: str | None = None,
) -> Review:
    """Record a review with its marked regions. Whether the decision counts at once or waits
    for an art director's sign-off follows the campaign's review settings; art directors' own
    decisions always count. Every review is kept as history. Raises StaleView when the draft's
    decision moved on since the page the person decided on (``expected_version``)."""
    campaign_refuse_if_archived(draft.campaign)
    if decision not in (Decision.KEEP, Decision.REGENERATE, Decision.REJECT):
        raise Refusal("Choose keep, regenerate or reject.")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise Refusal("The note is too long.")
    if decision in (Decision.REGENERATE, Decision.REJECT) and not note:
        raise Refusal(
            f"A note is required to {decision}: say what should change or why it cannot work."
        )
    cleaned = clean_checklist(checklist or {})
    # The row lock orders concurrent decisions on one draft, so the last one wins cleanly.
    current = Draft.objects.select_for_update(no_key=True).get(pk=draft.pk)
    # Checked under the lock: two tabs posting at once cannot both pass.
    _refuse_if_stale(current, expected_version)
    boxes = clean_regions(regions, width=current.width, height=current.height)
    suggestion = suggest_decision(cleaned)
    settings = review_settings_for(current.campaign)
    waits = settings.needs_sign_off(decision) and not _can_sign_off(reviewer, current.campaign_id)
    # Agreeing with a decision that already counts changes nothing that needs signing.
    waits = waits and current.decision != decision
    review = Review.objects.create(
        draft=current,
        reviewer=reviewer,
        decision=decision,
        checklist=cleaned,
        note=note,
        suggested=suggestion.decision,
        revision=current.revision,
        needs_sign_off=waits,
    )
    Region.objects.bulk_create(
        Region(
            review=review,
            draft=current,
            revision=current.revision,
            image_width=current.width,
            image_height=current.height,
            **box,
        )
        for box in boxes
    )
    now = timezone.now()
    if waits:
        fields: dict[str, Any] = {
            "proposed_decision": decision,
            "proposed_by": reviewer,
            "proposed_at": now,
        }
    else:
        fields = {
            "decision": decision,
            "decided_by": reviewer,
            "decided_at": now,
            "signed_off_by": None,
            "signed_off_at": None,
            # A decision that counts supersedes one still waiting for sign-off.
            "proposed_decision": Decision.UNDECIDED,
            "proposed_by": None,
            "proposed_at": None,
        }
    Draft.objects.filter(pk=draft.pk).update(**fields)
    for name, value in {**fields, "revision": current.revision}.items():
        setattr(draft, name, value)
    label = Decision(decision).label
    audit_record(
        campaign=current.campaign,
        actor=reviewer,
        verb=f"review.{decision}",
        summary=f"{label}{' (awaiting sign-off)' if waits else ''}: “{current.original_name}”"
        + (f" — {note[:200]}" if note else ""),
        target=current,
        data={
            "review_id": review.pk,
            "suggested": suggestion.decision,
            "regions": len(boxes),
            "awaiting_sign_off": waits,
        },
    )
    kind = DecisionEventKind.AWAITING_SIGN_OFF if waits else DecisionEventKind.COUNTED
    decision_recorded(DecisionEvent(kind=kind, draft=draft, review=review, actor=reviewer))
    return review


@transaction.atomic
def review_sign_off(*, draft: Draft, by: User, expected_version: str | None = None) -> Review:
    """An art director makes the decision that waits for sign-off count. The decision stays
    the reviewer's (``decided_by``); the sign-off is recorded beside it. Raises StaleView when
    the decision moved on since the page the sign-off was made on (``expected_version``)."""
    campaign_refuse_if_archived(draft.campaign)
    if not _can_sign_off(by, draft.campaign_id):
        raise Refusal("Only an art director can sign off a decision.")
    current = Draft.objects.select_for_update(no_key=True).get(pk=draft.pk)
    _refuse_if_stale(current, expected_version)
    if not current.proposed_decision:
        raise Refusal("No decision is waiting for sign-off.")
    review = (
        Review.objects.filter(
            draft=current,
            reviewer_id=current.proposed_by_id,
            decision=current.proposed_decision,
            needs_sign_off=True,
            sign_off__isnull=True,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if review is None:
        raise Refusal("No decision is waiting for sign-off.")
    now = timezone.now()
    # Compare-and-swap on the proposal: a newer decision meanwhile makes this sign-off stale.
    updated = Draft.objects.filter(
        pk=current.pk,
        proposed_decision=current.proposed_decision,
        proposed_by_id=current.proposed_by_id,
        proposed_at=current.proposed_at,
    ).update(
        decision=current.proposed_decision,
        decided_by_id=current.proposed_by_id,
        decided_at=now,
        signed_off_by=by,
        signed_off_at=now,
        proposed_decision=Decision.UNDECIDED,
        proposed_by=None,
        proposed_at=None,
    )
    if not updated:
        raise Refusal("The decision changed meanwhile: reload and look again.")
    SignOff.objects.create(review=review, signed_by=by)
    draft.refresh_from_db()
    audit_record(
        campaign=draft.campaign,
        actor=by,
        verb="review.signed_off",
        summary=f"Signed off {Decision(draft.decision).label.lower()}: “{draft.original_name}”"
        + (f" (decided by {person_name(review.reviewer)})" if review.reviewer else ""),
        target=draft,
        data={"review_id": review.pk},
    )
    decision_recorded(
        DecisionEvent(kind=DecisionEventKind.SIGNED_OFF, draft=draft, review=review, actor=by)
    )
    return review


@transaction.atomic
def review_settings_update(*, campaign: Campaign, by: User, sign_off: str) -> ReviewSettings:
    if sign_off not in SignOffRule.values:
        raise Refusal("Choose when a decision needs sign-off.")
    settings, _ = ReviewSettings.objects.get_or_create(campaign=campaign)
    if settings.sign_off != sign_off:
        settings.sign_off = sign_off
        settings.updated_by = by
        settings.save(update_fields=["sign_off", "updated_by", "updated_at"])
        audit_record(
            campaign=campaign,
            actor=by,
            verb="review.settings",
            summary=f"Sign-off rule: {SignOffRule(sign_off).label}",
            target=settings,
        )
    return settings


def product_reference_set(
    *, campaign: Campaign, by: User, name: str, upload: IO[bytes] | bytes
) -> ReviewSettings:
    """The campaign's product reference image (what the product must look like). It goes
    through the intake's validation, since it is shown as an image. Raises Refusal."""
    limits = intake_limits()
    data = upload if isinstance(upload, bytes) else upload.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise Refusal("The product reference image is too large.", code="too_large")
    with intake_refusals():
        facts = inspect_image(data, limits)
    key = product_reference_key(
        campaign_id=campaign.pk, sha256=facts.sha256, extension=facts.extension
    )
    storage_put(key, data, keep_existing=True)
    display = sanitize_display_name(name)
    with transaction.atomic():
        settings, _ = ReviewSettings.objects.select_for_update(no_key=True).get_or_create(
            campaign=campaign
        )
        settings.product_reference_key = key
        settings.product_reference_name = display
        settings.product_reference_sha256 = facts.sha256
        settings.product_reference_width = facts.width
        settings.product_reference_height = facts.height
        settings.product_reference_content_type = facts.content_type
        settings.updated_by = by
        settings.save()
        audit_record(
            campaign=campaign,
            actor=by,
            verb="review.product_reference",
            summary=f"Product reference image: {display}",
            target=settings,
        )
    return settings


def review_preferences_update(*, user: User, stay_after_decision: bool) -> ReviewPreferences:
    prefs, _ = ReviewPreferences.objects.update_or_create(
        user=user, defaults={"stay_after_decision": stay_after_decision}
    )
    return prefs


@dataclass(frozen=True)
class SignOffResult:
    draft_id: int
    ok: bool
    message: str


def review_sign_off_many(
    *, drafts: list[tuple[Draft, str | None]], by: User
) -> list[SignOffResult]:
    """Sign off several waiting decisions, each against the version token its row showed.
    One transaction; each draft in its own savepoint, so a stale or refused one is reported
    and leaves the others signed off."""
    results = []
    with transaction.atomic():
        for draft, version in drafts:
            try:
                with transaction.atomic():
                    review_sign_off(draft=draft, by=by, expected_version=version)
            # StaleView is a Refusal: the row's token no longer matches, nothing saved.
            except Refusal as exc:
                results.append(SignOffResult(draft.pk, False, exc.message))
            else:
                results.append(SignOffResult(draft.pk, True, "Signed off."))
    return results


@dataclass(frozen=True)
class DecisionResult:
    draft_id: int
    ok: bool
    message: str


def review_submit_many(
    *,
    campaign: Campaign,
    drafts: list[tuple[Draft, str | None]],
    reviewer: User,
    decision: str,
    note: str = "",
) -> list[DecisionResult]:
    """Give several drafts of ``campaign`` one decision with one note, each against the version
    token its card showed (the shape of ``review_sign_off_many``). Each draft goes through
    ``review_submit``, so its note rules, sign-off rules, history and row lock apply unchanged.

    A refusal that is about the request (no reviewer right, a draft of another campaign, a
    missing note, an archived campaign) refuses the whole request and nothing is saved; a
    draft whose decision changed since the page showed it is reported and the others saved."""
    membership = membership_for(reviewer, campaign.pk)
    if membership is None or not role_can(membership.role, Can.REVIEW):
        raise Refusal("Your role cannot decide drafts in this campaign.")
    if not drafts:
        raise Refusal("Choose at least one draft to decide.")
    if any(draft.campaign_id != campaign.pk for draft, _ in drafts):
        raise Refusal("Some of the chosen drafts are not in this campaign.")
    results = []
    # One transaction: a request-wide Refusal raised by any draft's review_submit (the note
    # rule is checked before the version) leaves this block and undoes every draft saved so far.
    with transaction.atomic():
        for draft, version in drafts:
            try:
                with transaction.atomic():
                    review_submit(
                        draft=draft,
                        reviewer=reviewer,
                        decision=decision,
                        note=note,
                        expected_version=version,
                    )
            except StaleView as exc:
                results.append(
                    DecisionResult(
                        draft.pk,
                        False,
                        f"changed since you loaded the page — now: {exc.changes} Not saved.",
                    )
                )
            else:
                # review_submit set the saved fields on ``draft``: kept, or awaiting sign-off.
                results.append(DecisionResult(draft.pk, True, draft.status_label))
    return results
