from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from apps.campaigns.selectors import AnyUser
from apps.drafts.models import Draft
from apps.reviews.models import Review


def draft_reviews(draft: Draft) -> QuerySet[Review]:
    return draft.reviews.select_related("reviewer").order_by("-created_at", "-id")


def latest_review_by(draft: Draft, user: AnyUser) -> Review | None:
    if not isinstance(user, User):
        return None
    return draft.reviews.filter(reviewer=user).order_by("-created_at", "-id").first()
