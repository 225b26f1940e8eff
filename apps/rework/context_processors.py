from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from apps.rework.selectors import unread_notification_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The top bar's unread count; lazy, so fragments and JSON answers never query for it."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_notification_count(user))}
