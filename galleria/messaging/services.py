from __future__ import annotations

from django.utils import timezone

from galleria.core.tasks import enqueue

from .models import SmsMessage, SmsStatus
from .sms import get_backend


def sms_queue(*, phone: str, template: str, body: str) -> SmsMessage:
    """Write the message to the outbox and enqueue its delivery in the caller's transaction."""
    message = SmsMessage.objects.create(phone=phone, template=template, body=body)
    enqueue("galleria.messaging.tasks.sms_deliver_task", message_id=message.pk)
    return message


def sms_deliver(*, message_id: int) -> None:
    """Deliver one queued message (idempotent: a sent message is not sent again)."""
    message = SmsMessage.objects.get(pk=message_id)
    if message.status == SmsStatus.SENT:
        return
    message.attempts += 1
    try:
        message.provider_ref = get_backend().send(phone=message.phone, body=message.body)
    except Exception as exc:  # the provider's failure is recorded, the worker retries by re-enqueueing
        message.status = SmsStatus.FAILED
        message.error = str(exc)[:200]
    else:
        message.status = SmsStatus.SENT
        message.sent_at = timezone.now()
    message.save(update_fields=["attempts", "provider_ref", "status", "error", "sent_at"])
