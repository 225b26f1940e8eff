"""How pages, notifications and audit lines name a person: by name, not by login.

Machine-readable outputs (the API, webhook payloads, the pack manifest and asset record JSON)
keep usernames: there the name is an identifier, and a person's full name may change.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser

REMOVED = "(removed)"


def person_name(user: AbstractUser | None, fallback: str = REMOVED) -> str:
    """The person's full name, else their username; ``fallback`` when the account is gone
    (a ``SET_NULL`` foreign key left ``None``)."""
    if not user:
        return fallback
    return user.get_full_name() or user.get_username()
