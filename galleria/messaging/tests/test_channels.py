"""The real SMS adapters (Aliyun, Tencent Cloud SDKs) against the sandbox over HTTP: signatures, refusals, retries
with backoff, lookups after a lost answer, receipts; sign-in codes through the whole path."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.utils import timezone

from galleria.messaging.models import SmsMessage, SmsStatus
from galleria.messaging.sandbox import receipts as sandbox_receipts
from galleria.messaging.sandbox.state import Message
from galleria.messaging.services import sms_deliver, sms_queue, sms_retry_due

pytestmark = pytest.mark.django_db
PROVIDERS = ["aliyun", "tencent"]
_n = iter(range(10**6))


def fresh_phone() -> str:
    """A mainland mobile no other test uses (the sandbox is shared by the session)."""
    return f"+86139{int(time.time() * 1000) % 10**5:05d}{next(_n) % 1000:03d}"


def queue_otp(phone: str, code: str = "482913") -> SmsMessage:
    return sms_queue(
        phone=phone,
        template="otp",
        body=f"【Galleria】验证码 {code}，5分钟内有效。",
        params={"code": code, "minutes": 5},
    )


def of_phone(sandbox, phone: str) -> list[dict]:
    return [m for m in sandbox.outbox() if m["phone"] in (phone, phone[3:])]


def make_due(message: SmsMessage) -> None:
    SmsMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_sign_in_code_goes_through_the_signed_protocol(use_sandbox, provider):
    sandbox = use_sandbox(provider)
    phone = fresh_phone()
    message = queue_otp(phone)  # the immediate task backend delivers at once
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT and message.provider == provider and message.attempts == 1
    [received] = of_phone(sandbox, phone)
    assert received["ref"] == message.provider_ref and received["out_id"] == message.out_id
    assert received["text"] == "【Galleria】您的验证码为482913，5分钟内有效，请勿泄露于他人。"
    assert received["params"] in ({"code": "482913", "minutes": "5"}, ["482913", "5"])
    assert message.body == "【Galleria】验证码 ******，5分钟内有效。" and message.params["code"] == "******"


@pytest.mark.parametrize(
    ("provider", "secret_setting", "code"),
    [
        ("aliyun", ("GALLERIA_SMS_ALIYUN", "ACCESS_KEY_SECRET"), "SignatureDoesNotMatch"),
        ("tencent", ("GALLERIA_SMS_TENCENT", "SECRET_KEY"), "AuthFailure.SignatureFailure"),
    ],
)
def test_a_wrong_secret_is_refused_by_the_sandbox_and_is_final(use_sandbox, settings, provider, secret_setting, code):
    sandbox = use_sandbox(provider)
    group, key = secret_setting
    setattr(settings, group, {**getattr(settings, group), key: "not-the-secret"})
    use_sandbox(provider, **{group: getattr(settings, group)})
    phone = fresh_phone()
    message = queue_otp(phone)
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.error_code == code and not message.in_doubt
    assert message.attempts == 1 and message.next_attempt_at is None
    assert not of_phone(sandbox, phone)
    assert any(r["verdict"] == "bad signature" and r["provider"] == provider for r in sandbox.requests())
    assert "not-the-secret" not in message.error


@pytest.mark.parametrize(
    ("provider", "code"),
    [("aliyun", "isv.MOBILE_NUMBER_ILLEGAL"), ("tencent", "InvalidParameterValue.IncorrectPhoneNumber")],
)
def test_an_invalid_number_is_a_final_failure(use_sandbox, provider, code):
    use_sandbox(provider)
    message = queue_otp("+8612000000000")
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.error_code == code and message.attempts == 1
    assert message.body.endswith("482913，5分钟内有效。")  # never sent: nothing to mask


def test_a_template_without_provider_configuration_fails_at_once(use_sandbox):
    use_sandbox("aliyun", GALLERIA_SMS_TEMPLATES={})
    message = queue_otp(fresh_phone())
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.error_code == "config.template_missing"


@pytest.mark.parametrize(("provider", "code"), [("aliyun", "Throttling.User"), ("tencent", "RequestLimitExceeded")])
def test_throttling_is_retried_with_exponential_backoff(use_sandbox, provider, code):
    sandbox = use_sandbox(provider)
    sandbox.fault("throttle", provider=provider, count=2)
    phone = fresh_phone()
    message = queue_otp(phone)
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and message.error_code == code and not message.in_doubt
    first_gap = (message.next_attempt_at - timezone.now()).total_seconds()
    assert 20 < first_gap <= 36  # 30 s ± 20 %
    assert sms_deliver(message_id=message.pk) is None  # not due yet: nothing happens
    make_due(message)
    second = sms_deliver(message_id=message.pk)
    assert second is not None and 45 < second <= 72  # doubled
    make_due(message)
    assert sms_deliver(message_id=message.pk) is None
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT and message.attempts == 3
    assert [e["outcome"] for e in message.attempt_log] == ["retry", "retry", "sent"]
    assert len(of_phone(sandbox, phone)) == 1


def test_a_retryable_failure_becomes_final_when_attempts_run_out(use_sandbox, settings):
    sandbox = use_sandbox("aliyun")
    settings.GALLERIA_MESSAGING_RETRY = {**settings.GALLERIA_MESSAGING_RETRY, "MAX_ATTEMPTS": 2}
    sandbox.fault("limit", provider="aliyun", count=2)
    message = queue_otp(fresh_phone())
    make_due(message)
    sms_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.error_code == "isv.BUSINESS_LIMIT_CONTROL"
    assert message.attempts == 2 and message.next_attempt_at is None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_outage_is_retried_and_the_retry_looks_the_message_up_first(use_sandbox, provider):
    sandbox = use_sandbox(provider)
    sandbox.fault("unavailable", provider=provider)
    phone = fresh_phone()
    message = queue_otp(phone)
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and message.in_doubt
    assert (message.next_attempt_at - timezone.now()).total_seconds() >= 55  # in doubt: at least a minute
    make_due(message)
    assert sms_retry_due() == 1  # the sweep picks it up
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT and len(of_phone(sandbox, phone)) == 1
    actions = [
        r["action"] for r in sandbox.requests() if json.dumps(r["params"], ensure_ascii=False).find(phone[3:]) >= 0
    ]
    lookup = "QuerySendDetails" if provider == "aliyun" else "PullSmsSendStatusByPhoneNumber"
    assert actions[:3] == ["SendSms", lookup, "SendSms"]  # newest first: sent after the lookup found nothing


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_timeout_after_the_provider_accepted_is_not_sent_twice(use_sandbox, provider):
    sandbox = use_sandbox(provider)
    sandbox.fault("timeout_after_accept", provider=provider, delay=2.5)  # the client gives up after 1 s
    phone = fresh_phone()
    message = queue_otp(phone)
    message.refresh_from_db()
    assert message.status == SmsStatus.QUEUED and message.in_doubt and message.error_code == "network"
    time.sleep(0.4)  # the sandbox's receipt exists (Tencent lists a message only then)
    make_due(message)
    sms_deliver(message_id=message.pk)
    message.refresh_from_db()
    [received] = of_phone(sandbox, phone)  # one message at the provider
    assert message.status == SmsStatus.DELIVERED and message.attempts == 2
    assert [e["outcome"] for e in message.attempt_log] == ["retry", "found"]
    if provider == "tencent":
        assert message.provider_ref == received["ref"]


def test_a_one_time_code_is_not_sent_after_its_lifetime(use_sandbox):
    sandbox = use_sandbox("aliyun")
    sandbox.fault("throttle", provider="aliyun")
    phone = fresh_phone()
    message = queue_otp(phone)
    SmsMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - dt.timedelta(minutes=6))
    make_due(message)
    sms_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.error_code == "expired" and not of_phone(sandbox, phone)


def test_two_workers_on_one_message_send_it_once(use_sandbox):
    sandbox = use_sandbox("aliyun")
    sandbox.fault("throttle", provider="aliyun")
    phone = fresh_phone()
    message = queue_otp(phone)
    make_due(message)
    stale = SmsMessage.objects.get(pk=message.pk)
    sms_deliver(message_id=message.pk)  # worker 1 sends it
    from galleria.messaging.services.sms_delivery import _claim

    assert not _claim(stale, timezone.now(), "aliyun")  # worker 2, with what it read before, cannot claim it
    assert len(of_phone(sandbox, phone)) == 1


# ---------------------------------------------------------------- receipts


def sent_message(provider: str, ref: str) -> SmsMessage:
    message = SmsMessage.objects.create(
        phone="+8613812345678",
        template="otp",
        body="x",
        status=SmsStatus.SENT,
        provider=provider,
        provider_ref=ref,
        attempts=1,
    )
    return message


def sandbox_message(provider: str, message: SmsMessage, *, delivered: bool) -> Message:
    now = time.time()
    return Message(
        id=1,
        provider=provider,
        ref=message.provider_ref,
        phone="13812345678",
        sign_name="Galleria",
        template="SMS_1",
        params={},
        text="",
        out_id=message.out_id,
        accepted_at=now - 3,
        report_due=now,
        delivered=delivered,
        receipt_code=("DELIVERED" if provider == "aliyun" else "DELIVRD") if delivered else "MN:0001",
    )


def push(client, provider: str, token: str, items: list[dict]):
    return client.post(
        f"/hooks/sms/{provider}/{token}/", json.dumps(items, ensure_ascii=False), content_type="application/json"
    )


def test_an_aliyun_receipt_marks_the_message_delivered_once(client, settings):
    settings.GALLERIA_SMS_RECEIPT_TOKEN = "receipt-token-0123456789"
    message = sent_message("aliyun", "900619746936498440^0")
    report = sandbox_receipts.aliyun_report(sandbox_message("aliyun", message, delivered=True))
    response = push(client, "aliyun", "receipt-token-0123456789", [report])
    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "接收成功"}
    message.refresh_from_db()
    assert message.status == SmsStatus.DELIVERED and message.receipt_code == "DELIVERED"
    first = (message.delivered_at, message.reported_at)
    assert first[0] is not None
    again = push(client, "aliyun", "receipt-token-0123456789", [{**report, "success": False, "err_code": "X"}])
    assert again.status_code == 200  # acknowledged, so the provider stops pushing …
    message.refresh_from_db()
    assert (message.status, message.delivered_at, message.reported_at) == (SmsStatus.DELIVERED, *first)  # … unchanged


def test_a_tencent_failure_receipt_records_the_operator_code(client, settings):
    settings.GALLERIA_SMS_RECEIPT_TOKEN = "receipt-token-0123456789"
    message = sent_message("tencent", "2645:1234567890")
    report = sandbox_receipts.tencent_report(sandbox_message("tencent", message, delivered=False))
    response = push(client, "tencent", "receipt-token-0123456789", [report])
    assert response.status_code == 200 and response.json() == {"result": 0, "errmsg": "OK"}
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED and message.receipt_code == "MN:0001" and message.delivered_at is None


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_a_receipt_with_a_wrong_token_is_refused_and_changes_nothing(client, settings, token):
    settings.GALLERIA_SMS_RECEIPT_TOKEN = "receipt-token-0123456789"
    message = sent_message("aliyun", "1^0")
    report = sandbox_receipts.aliyun_report(sandbox_message("aliyun", message, delivered=True))
    response = push(client, "aliyun", token or "x", [report])
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT and message.reported_at is None


def test_receipts_are_refused_when_no_token_is_configured(client, settings):
    settings.GALLERIA_SMS_RECEIPT_TOKEN = ""
    assert push(client, "aliyun", "anything", []).status_code == 403


def test_a_malformed_receipt_is_a_400_and_an_unknown_provider_a_404(client, settings):
    settings.GALLERIA_SMS_RECEIPT_TOKEN = "receipt-token-0123456789"
    bad = client.post("/hooks/sms/aliyun/receipt-token-0123456789/", "not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] != 0
    assert push(client, "huawei", "receipt-token-0123456789", []).status_code == 404
    assert client.get("/hooks/sms/aliyun/receipt-token-0123456789/").status_code == 405


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_sandbox_pushes_receipts_to_galleria(live_server, settings, tmp_path, provider):
    from galleria.messaging.sms import backend_cache_clear
    from galleria.messaging.testing import sandbox_settings, sms_sandbox_start

    token = "push-token-0123456789"
    settings.GALLERIA_SMS_RECEIPT_TOKEN = token
    sandbox = sms_sandbox_start(
        workdir=tmp_path, receipt_urls={provider: f"{live_server.url}/hooks/sms/{provider}/{token}/"}, report_delay=0.3
    )
    try:
        for name, value in sandbox_settings(sandbox.keys, endpoint=sandbox.endpoint, provider=provider).items():
            setattr(settings, name, value)
        backend_cache_clear()
        delivered = queue_otp("+8613812345678")
        undelivered = queue_otp("+8613800000000")  # the sandbox's number that does not exist
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if SmsMessage.objects.filter(pk__in=[delivered.pk, undelivered.pk], reported_at__isnull=False).count() == 2:
                break
            time.sleep(0.1)
        delivered.refresh_from_db()
        undelivered.refresh_from_db()
        assert delivered.status == SmsStatus.DELIVERED and delivered.delivered_at is not None
        assert undelivered.status == SmsStatus.FAILED and undelivered.receipt_code == "MN:0001"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not all(m["receipt"] and m["receipt"]["acked"] for m in sandbox.outbox()):
            time.sleep(0.1)
        assert all(m["receipt"]["acked"] for m in sandbox.outbox())  # Galleria acknowledged as the provider expects
    finally:
        sandbox.stop()
        backend_cache_clear()
