from __future__ import annotations

from typing import Any

from django import forms

from apps.api.models import TokenScope
from apps.campaigns.models import Campaign


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it: “ComfyUI on the render box”.")
    scope = forms.ChoiceField(
        choices=TokenScope.choices, initial=TokenScope.READ, widget=forms.RadioSelect
    )
    campaigns = forms.ModelMultipleChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every campaign you belong to.",
    )
    expires_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Expires on"
    )

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaigns"].queryset = campaigns  # type: ignore[attr-defined]
