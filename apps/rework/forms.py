from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from apps.core.forms import IdListField, IdModelMultipleChoiceField
from apps.core.people import person_name
from apps.drafts.models import Batch, Decision, Draft
from apps.reviews.models import Region
from apps.reviews.selectors import draft_regions
from apps.rework.models import AssignmentKind
from apps.rework.selectors import assignable_people, rework_version
from apps.rework.services import DUE_WITHIN_DAYS


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_name(obj)


class RegionChoiceField(IdModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        who = person_name(obj.review.reviewer)
        note = f": {obj.note}" if obj.note else ""
        return f"{obj.get_category_display()}{note} — {who}, revision {obj.revision}"


class AssignmentForm(forms.Form):
    kind = forms.ChoiceField(
        choices=AssignmentKind.choices,
        widget=forms.RadioSelect,
        help_text="Regenerate makes a new draft linked to this one; edit makes a new revision "
        "of this draft (a retouched file).",
    )
    assignee = PersonChoiceField(queryset=User.objects.none(), empty_label=None, label="Creator")
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)
    # A date input needs ISO dates whatever the language; the browser shows them localised.
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    regions = RegionChoiceField(
        queryset=Region.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Marked regions that travel with it",
    )
    # The draft's state the page showed (selectors.rework_version); empty: not checked.
    version = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args: Any, draft: Draft, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = assignable_people(draft.campaign)
        self.fields["assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=[p.pk for p in people]
        ).order_by("username")
        self.fields["regions"].queryset = draft_regions(draft)  # type: ignore[attr-defined]
        today = timezone.localdate()  # the date picker offers what the service accepts
        self.fields["due_date"].widget.attrs.update(
            min=today.isoformat(), max=(today + timedelta(days=DUE_WITHIN_DAYS)).isoformat()
        )
        if not self.is_bound:
            self.initial.setdefault("version", rework_version(draft))
            latest = draft.reviews.order_by("-created_at", "-id").first()
            self.initial.setdefault(
                "kind",
                AssignmentKind.REGENERATE
                if draft.decision == Decision.REGENERATE
                else AssignmentKind.EDIT,
            )
            self.initial.setdefault("assignee", people[0].pk if people else None)
            self.initial.setdefault("instructions", latest.note if latest else "")
            self.initial.setdefault("due_date", timezone.localdate() + timedelta(days=3))
            # Regions of the current file travel by default; older ones can be added.
            self.initial.setdefault(
                "regions",
                [r.pk for r in draft_regions(draft) if r.revision == draft.revision],
            )


class SubmitVersionForm(forms.Form):
    file = forms.FileField(label="New version (PNG, JPEG or WebP)")
    note = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note for the reviewers",
    )


class ReferenceForm(forms.Form):
    action = forms.ChoiceField(choices=[("mark", "mark"), ("unmark", "unmark")])
    note = forms.CharField(required=False, max_length=500, label="What to keep from it")
    batch = forms.ModelChoiceField(
        queryset=Batch.objects.none(),
        required=False,
        empty_label="The next batch",
        label="Attach to",
    )

    def __init__(self, *args: Any, draft: Draft, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["batch"].queryset = Batch.objects.filter(  # type: ignore[attr-defined]
            campaign_id=draft.campaign_id
        ).exclude(pk=draft.batch_id)


class NotificationsReadForm(forms.Form):
    """``id`` (repeated) names the notifications to mark read; without one, all of them.
    Ids that are not the person's own are left to the service, which never touches them."""

    id = IdListField(required=False)
