"""Form fields shared by the apps: ids posted by the browser, checked before any query."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

# The largest id the database holds: a 64-bit signed integer in SQLite and PostgreSQL.
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """A posted id as an int, or None unless it is plain ASCII digits within the database's
    range. ``str.isdigit`` also accepts "²" (which ``int`` refuses), ``int`` refuses more than
    4300 digits, and an id past 2**63 makes the database driver raise OverflowError: each of
    those would be a 500 rather than a refusal."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


class IdListField(forms.Field):
    """Repeated ``name=<id>`` values as a list of ints (empty when none are sent)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": "“%(value)s” is not an id."}

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        ids = []
        for item in value if isinstance(value, list | tuple) else [value]:
            number = parse_id(item)
            if number is None:
                raise ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": str(item)[:20]}
                )
            ids.append(number)
        return ids


class IdModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses an id outside the database's range as invalid before querying: Django turns
    such a value into an empty result for ``pk=`` but not for the ``pk__in`` this field runs."""

    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            for item in value:
                if parse_id(item) is None:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": str(item)[:20]},
                    )
        return super().clean(value)
