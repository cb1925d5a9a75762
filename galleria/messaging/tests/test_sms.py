"""The SMS outbox: delivery through the configured backend, and one-time codes not kept once a real gateway has them."""

from __future__ import annotations

import pytest

from galleria.messaging.models import SmsMessage, SmsStatus
from galleria.messaging.services import sms_deliver, sms_queue

pytestmark = pytest.mark.django_db

SENT: list[tuple[str, str]] = []


class GatewayStub:
    """Stands for a real gateway (Aliyun, Tencent Cloud): records what it was given."""

    def send(self, *, phone: str, body: str) -> str:
        SENT.append((phone, body))
        return "gw-1"


def test_a_gateway_gets_the_code_and_the_outbox_keeps_it_masked(settings):
    settings.GALLERIA_SMS_BACKEND = "galleria.messaging.tests.test_sms.GatewayStub"
    SENT.clear()
    otp = sms_queue(phone="+8613812345678", template="otp", body="【星河】验证码 482913，5分钟内有效。")
    other = sms_queue(phone="+8613812345678", template="notice", body="您的订单 20261123 已完成。")
    sms_deliver(message_id=otp.pk)
    sms_deliver(message_id=other.pk)
    assert SENT == [
        ("+8613812345678", "【星河】验证码 482913，5分钟内有效。"),
        ("+8613812345678", "您的订单 20261123 已完成。"),
    ]
    otp.refresh_from_db()
    other.refresh_from_db()
    assert otp.status == SmsStatus.SENT and otp.provider_ref == "gw-1"
    assert otp.body == "【星河】验证码 ******，5分钟内有效。"
    assert other.body == "您的订单 20261123 已完成。"  # only one-time codes are secrets


def test_the_sandbox_outbox_keeps_the_code_for_developers(settings):
    settings.GALLERIA_SMS_BACKEND = "galleria.messaging.sms.OutboxSmsBackend"
    otp = sms_queue(phone="+8613812345678", template="otp", body="验证码 482913")
    sms_deliver(message_id=otp.pk)
    assert SmsMessage.objects.get(pk=otp.pk).body == "验证码 482913"


def test_a_failed_delivery_keeps_the_message_for_the_retry(settings):
    settings.GALLERIA_SMS_BACKEND = "galleria.messaging.tests.test_sms.FailingGateway"
    otp = sms_queue(phone="+8613812345678", template="otp", body="验证码 482913")
    sms_deliver(message_id=otp.pk)
    otp.refresh_from_db()
    assert otp.status == SmsStatus.FAILED and otp.body == "验证码 482913" and "down" in otp.error


class FailingGateway:
    def send(self, *, phone: str, body: str) -> str:
        raise ConnectionError("gateway down")


def test_old_outbox_rows_are_pruned_but_queued_ones_stay(settings):
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    settings.GALLERIA_SMS_BACKEND = "galleria.messaging.sms.OutboxSmsBackend"
    settings.GALLERIA_SMS_RETENTION_DAYS = 90
    old_sent = sms_queue(phone="+8613800000001", template="otp", body="验证码 111111")
    sms_deliver(message_id=old_sent.pk)
    old_queued = sms_queue(phone="+8613800000002", template="otp", body="验证码 222222")
    recent = sms_queue(phone="+8613800000003", template="otp", body="验证码 333333")
    long_ago = timezone.now() - dt.timedelta(days=91)
    SmsMessage.objects.filter(pk__in=[old_sent.pk, old_queued.pk]).update(created_at=long_ago)
    SmsMessage.objects.filter(pk=old_queued.pk).update(status=SmsStatus.QUEUED)  # a worker has not got to it
    call_command("sms_prune")
    assert set(SmsMessage.objects.values_list("pk", flat=True)) == {old_queued.pk, recent.pk}
    call_command("sms_prune")  # idempotent
    assert SmsMessage.objects.count() == 2
