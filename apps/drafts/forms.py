from __future__ import annotations

from typing import Any

from django import forms

from apps.campaigns.models import Campaign
from apps.drafts.models import Batch


class BatchForm(forms.Form):
    batch = forms.ModelChoiceField(
        queryset=Batch.objects.none(), required=False, empty_label="A new batch…"
    )
    new_batch_name = forms.CharField(required=False, max_length=200, label="New batch name")

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this campaign's batches: a forged id from another campaign is a form error.
        self.fields["batch"].queryset = Batch.objects.filter(campaign=campaign)  # type: ignore[attr-defined]


class ReferenceForm(forms.Form):
    url = forms.URLField(required=False, max_length=1000, assume_scheme="https")
    file = forms.FileField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("url")) == bool(data.get("file")):
            raise forms.ValidationError("Give either a link or a file.")
        return data
