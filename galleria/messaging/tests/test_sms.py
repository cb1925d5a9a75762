"""The SMS outbox with the outbox backend and with a backend standing in for a gateway: what reaches the backend,
what the outbox keeps, pruning. (The real adapters against the sandbox: test_channels.py.)"""

from __future__ import annotations

import pytest

from galleria.messaging.models import SmsMessage, SmsStatus
from galleria.messaging.services import sms_deliver, sms_queue
from galleria.messaging.sms import backend_cache_clear

pytestmark = pytest.mark.django_db

SENT: list[tuple[str, str, tuple[tuple[str, str], ...]]] = []


@pytest.fixture(autouse=True)
def _fresh_backend():
    backend_cache_clear()
    yield
    backend_cache_clear()


class GatewayStub:
    """Stands for a gateway that keeps no bodies: records what it was given."""

    name = "stub"

    def send(self, request, *, body):
        SENT.append((request.phone, body, request.params))
        return "gw-1"

    def lookup(self, *, phone, out_id, since):
        return None


def test_a_gateway_gets_the_code_and_the_outbox_keeps_it_masked(settings):
    settings.GALLERIA_SMS_BACKEND = "galleria.messaging.tests.test_sms.GatewayStub"
    SENT.clear()
    otp = sms_queue(
        phone="+8613812345678",
        template="otp",
        body="【星河】验证码 482913，5分钟内有效。",
        params={"code": "482913", "minutes": 5},
    )
    other = sms_queue(phone="+8613812345678", template="notice", body="您的订单 20261123 已完成。")
    sms_deliver(message_id=otp.pk)
    sms_deliver(message_id=other.pk)
    assert SENT == [
        ("+8613812345678", "【星河】验证码 482913，5分钟内有效。", (("code", "482913"), ("minutes", "5"))),
        ("+8613812345678", "您的订单 20261123 已完成。", ()),
    ]
    otp.refresh_from_db()
    other.refresh_from_db()
    assert otp.status == SmsStatus.SENT and otp.provider_ref == "gw-1" and otp.attempts == 1
    assert otp.body == "【星河】验证码 ******，5分钟内有效。" and otp.params == {"code": "******", "minutes": "5"}
    assert other.body == "您的订单 20261123 已完成。"  # only one-time codes are secrets


def test_the_sandbox_outbox_keeps_the_code_for_developers(settings):
    settings.GALLERIA_SMS_BACKEND = "outbox"
    otp = sms_queue(phone="+8613812345678", template="otp", body="验证码 482913", params={"code": "482913"})
    sms_deliver(message_id=otp.pk)
    row = SmsMessage.objects.get(pk=otp.pk)
    assert row.body == "验证码 482913" and row.status == SmsStatus.SENT and row.provider == "outbox"


def test_an_unexpected_failure_keeps_the_message_queued_for_a_retry_in_doubt(settings):
    settings.GALLERIA_SMS_BACKEND = "galleria.messaging.tests.test_sms.FailingGateway"
    otp = sms_queue(phone="+8613812345678", template="otp", body="验证码 482913", params={"code": "482913"})
    otp.refresh_from_db()
    assert otp.status == SmsStatus.QUEUED and otp.in_doubt and otp.next_attempt_at is not None
    assert otp.body == "验证码 482913" and otp.error_code == "unexpected" and "down" in otp.error
    assert [e["outcome"] for e in otp.attempt_log] == ["retry"]


class FailingGateway:
    name = "failing"

    def send(self, request, *, body):
        raise ConnectionError("gateway down")

    def lookup(self, *, phone, out_id, since):
        return None


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
