"""The worker side of rework: sending one notification's e-mail."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from apps.rework.models import EmailState, Notification

logger = logging.getLogger(__name__)


def notification_email_send(*, notification_id: int) -> bool:
    """Send one notification's e-mail. At most once: the row moves queued → sent before the
    backend is called, so a redelivered message is a no-op; a failure is recorded on the row."""
    claimed = Notification.objects.filter(pk=notification_id, email_state=EmailState.QUEUED).update(
        email_state=EmailState.SENT
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    base = settings.DRAFTROOM_BASE_URL.rstrip("/")
    lines = [notification.body] if notification.body else []
    if notification.url:
        lines.append(f"Open it in Draftroom: {base}{notification.url}")
    try:
        send_mail(
            subject=f"[Draftroom] {notification.title}",
            message="\n\n".join(lines) or notification.title,
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
    except Exception as exc:  # any backend error: keep it on the row for the person to see
        logger.warning("notification %s e-mail failed: %s", notification_id, exc)
        Notification.objects.filter(pk=notification_id).update(
            email_state=EmailState.FAILED, email_error=str(exc)[:500]
        )
        return False
    return True
