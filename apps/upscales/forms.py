from __future__ import annotations

from typing import Any

from django import forms

from apps.upscales.selectors import SCALE_CHOICES, model_options


class UpscaleForm(forms.Form):
    """Model plus either a scale or "fit the largest target channel"."""

    model = forms.ChoiceField()
    target = forms.ChoiceField(
        choices=[(f"{s:g}", f"×{s:g}") for s in SCALE_CHOICES]
        + [("custom", "Custom"), ("fit", "Fit the largest target channel")],
        initial="4",
        widget=forms.RadioSelect,
    )
    custom_scale = forms.FloatField(required=False, min_value=1.01, max_value=8)
    then_export = forms.BooleanField(
        required=False, label="Then render the channel versions from the upscaled image"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["model"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (o.name, o.label + ("" if o.installed else " — weights not installed"))
            for o in model_options()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data.get("target")
        data["fit"] = target == "fit"
        data["scale"] = None
        if target == "custom":
            if data.get("custom_scale") is None:
                self.add_error("custom_scale", "Enter a scale between 1.01 and 8.")
            data["scale"] = data.get("custom_scale")
        elif target and target != "fit":
            data["scale"] = float(target)
        return data
