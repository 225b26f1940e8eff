"""Sending a notification's e-mail (apps.rework.runs): at most once, failures on the row."""

from django.core import mail

from apps.rework.models import EmailState, Notification, NotificationKind
from apps.rework.runs import notification_email_send
from apps.rework.services import notification_send


def _notification(cast) -> Notification:
    cast.creator.email = "cora@example.com"
    cast.creator.save()
    return notification_send(
        recipient=cast.creator,
        kind=NotificationKind.ASSIGNED,
        title="Rework the can",
        body="Make the label upright.",
        url="/assignments/1/",
        campaign=cast.campaign,
    )


def test_the_email_is_sent_once_even_when_the_message_is_delivered_twice(cast):
    note = _notification(cast)
    assert notification_email_send(notification_id=note.pk)
    assert not notification_email_send(notification_id=note.pk)  # a redelivery: no-op
    (message,) = mail.outbox
    assert message.subject == "[Draftroom] Rework the can"
    assert "Make the label upright." in message.body and "/assignments/1/" in message.body
    assert Notification.objects.get(pk=note.pk).email_state == EmailState.SENT


def test_a_failing_mail_backend_is_recorded_on_the_notification(cast, settings):
    note = _notification(cast)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    assert not notification_email_send(notification_id=note.pk)
    note.refresh_from_db()
    assert note.email_state == EmailState.FAILED and note.email_error
