from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.contrib.auth.models import AbstractUser
from django.utils import timezone
from django.utils.timesince import timesince

from apps.core.people import REMOVED, person_name

register = template.Library()


@register.filter
def ago(moment: datetime | None) -> str:
    """“just now” for the last minute (never “0 minutes ago”), else “3 hours ago”."""
    if moment is None:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, depth=1)} ago"


@register.filter
def person(user: AbstractUser | None, fallback: str = REMOVED) -> str:
    """The person's full name, else their username; ``fallback`` (“(removed)”) for a deleted
    account: ``{{ draft.decided_by|person }}``, ``{{ t.author|person:"someone" }}``."""
    return person_name(user, fallback)
