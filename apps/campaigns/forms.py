from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password

from apps.campaigns.channels import channel_choices
from apps.campaigns.models import Channel, Role
from apps.reviews.models import SignOffRule


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    brief = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    key_message = forms.CharField(required=False, max_length=500)
    product_requirements = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    brand_rules = forms.CharField(
        required=False,
        label="Brand rules (one per line)",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    target_channels = forms.MultipleChoiceField(
        required=False, choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    sign_off = forms.ChoiceField(
        label="When does a decision need an art director's sign-off?",
        choices=SignOffRule.choices,
        initial=SignOffRule.KEEP,
        widget=forms.RadioSelect,
    )
    product_reference = forms.FileField(
        required=False, label="Product reference image (PNG, JPEG or WebP)"
    )

    def __init__(self, *args: Any, current_channels: list[str] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        field = self.fields["target_channels"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = channel_choices(current_channels)

    def clean_brand_rules(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["brand_rules"].splitlines()]

    def campaign_fields(self) -> dict[str, Any]:
        keys = ("name", "brief", "key_message", "product_requirements", "brand_rules")
        fields = {k: self.cleaned_data[k] for k in keys}
        fields["target_channels"] = list(self.cleaned_data["target_channels"])
        return fields


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class NewAccountForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[\w.@+-]+\Z",
        max_length=150,
        help_text="Letters, digits and @ . + - _ only.",
    )
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif data.get("password1"):
            try:
                validate_password(data["password1"])
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data
