from __future__ import annotations

from typing import Any

from django import forms

from apps.drafts.models import Decision
from apps.reviews.models import CRITERION_HELP, Criterion, Rating, SignOffRule


class ReviewForm(forms.Form):
    """The quality check and decision; the same form posts with or without JavaScript."""

    decision = forms.ChoiceField(choices=[c for c in Decision.choices if c[0]])
    note = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    # The decision state the page showed (selectors.decision_version); empty: not checked.
    version = forms.CharField(required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in Criterion.choices:
            self.fields[f"{key}_rating"] = forms.ChoiceField(
                label=label,
                choices=[("", "—"), *Rating.choices],
                required=False,
                widget=forms.RadioSelect,
                help_text=CRITERION_HELP[Criterion(key)],
            )
            self.fields[f"{key}_note"] = forms.CharField(required=False, max_length=4000)

    def checklist(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            key: {"rating": data.get(f"{key}_rating") or "", "note": data.get(f"{key}_note") or ""}
            for key in Criterion.values
        }

    def criteria(self) -> list[dict[str, Any]]:
        return [
            {
                "key": key,
                "label": label,
                "help": CRITERION_HELP[Criterion(key)],
                "rating": self[f"{key}_rating"],
                "note": self[f"{key}_note"],
            }
            for key, label in Criterion.choices
        ]


def checklist_from_post(data: Any) -> dict[str, dict[str, str]]:
    """The checklist part of a posted review form, without validating the decision."""
    return {
        key: {
            "rating": str(data.get(f"{key}_rating", "")),
            "note": str(data.get(f"{key}_note", "")),
        }
        for key in Criterion.values
    }


class ReviewSettingsForm(forms.Form):
    sign_off = forms.ChoiceField(
        label="When does a decision need an art director's sign-off?",
        choices=SignOffRule.choices,
        widget=forms.RadioSelect,
    )


class ProductReferenceForm(forms.Form):
    file = forms.FileField(label="Product reference image (PNG, JPEG or WebP)")


class BulkDecideForm(forms.Form):
    """The batch grid's bulk decide: one decision and one note for the selected drafts (posted
    as ``draft`` ids, each with the ``version-<id>`` token its card showed). The form cleans
    what a person types (a NUL, an overlong note); the rules stay in ``review_submit``."""

    decision = forms.ChoiceField(
        choices=[c for c in Decision.choices if c[0]],
        error_messages={
            "required": "Choose keep, regenerate or reject.",
            "invalid_choice": "Choose keep, regenerate or reject.",
        },
    )
    note = forms.CharField(required=False, max_length=4000)

    def first_error(self) -> str:
        return next(str(e) for errors in self.errors.values() for e in errors)
