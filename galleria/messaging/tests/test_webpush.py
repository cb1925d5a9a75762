"""Web push through the real adapter (pywebpush + py-vapid) against the sandbox's push service over HTTP: VAPID
signatures and aes128gcm payloads checked and decrypted there, 410 deletes the subscription, 429/5xx retried
honouring Retry-After, a row delivered at most once; the sandbox refuses forged tokens and undecryptable bodies."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import urllib.error
import urllib.request

import pytest
from django.utils import timezone

from galleria.messaging import rules
from galleria.messaging.exceptions import PushSubscriptionInvalidError
from galleria.messaging.models import PushMessage, PushStatus, PushSubscription, VapidKey
from galleria.messaging.providers.webpush import vapid_generate
from galleria.messaging.selectors import channels_reachable
from galleria.messaging.services import (
    push_deliver,
    push_queue,
    push_retry_due,
    push_subscription_delete,
    push_subscription_save,
    vapid_public,
)
from galleria.messaging.tasks import push_deliver_task

pytestmark = pytest.mark.django_db
_members = iter(range(8_000_000, 9_000_000))


def browser(sandbox, member_id: int, key: str | None = None) -> PushSubscription:
    """A browser subscribes with the installation's applicationServerKey and the app saves it."""
    sub = sandbox.push_subscribe(key if key is not None else vapid_public())
    return push_subscription_save(
        member_id=member_id, endpoint=sub["endpoint"], p256dh=sub["keys"]["p256dh"], auth=sub["keys"]["auth"]
    )


def received(sandbox, sub: PushSubscription) -> list[dict]:
    sub_id = sub.endpoint.rsplit("/", 1)[1]
    return [json.loads(d["payload"]) for d in sandbox.push_outbox() if d["subscription"] == sub_id]


def make_due(message: PushMessage) -> None:
    PushMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def test_a_push_is_encrypted_signed_and_decrypted_by_the_push_service(use_push):
    sandbox = use_push
    member_id = next(_members)
    sub = browser(sandbox, member_id)
    assert member_id in channels_reachable(member_ids=[member_id, 1]).push
    [message] = push_queue(member_id=member_id, title="会员日", body="全场积分翻倍", url="/app/coupons/")
    message.refresh_from_db()
    assert message.status == PushStatus.SENT and message.attempts == 1
    [payload] = received(sandbox, sub)
    assert payload == {"title": "会员日", "body": "全场积分翻倍", "url": "/app/coupons/", "id": message.pk}
    sub.refresh_from_db()
    assert sub.last_success_at is not None


def test_the_vapid_key_is_made_once_and_sealed(use_push):
    public = vapid_public()
    assert vapid_public() == public and VapidKey.objects.count() == 1
    row = VapidKey.objects.get()
    assert "PRIVATE KEY" not in row.private_key_sealed and row.public_key == public
    assert len(base64.urlsafe_b64decode(public + "==")) == 65


def test_a_subscription_made_with_another_key_is_refused_403(use_push):
    sandbox = use_push
    member_id = next(_members)
    _, other_public = vapid_generate()
    sub = browser(sandbox, member_id, key=other_public)
    [message] = push_queue(member_id=member_id, title="t")
    message.refresh_from_db()
    assert message.status == PushStatus.FAILED and message.error_code == "http_403"
    assert received(sandbox, sub) == []


def test_410_deletes_the_subscription(use_push):
    sandbox = use_push
    member_id = next(_members)
    sub = browser(sandbox, member_id)
    sandbox.push_gone(sub.endpoint)
    [message] = push_queue(member_id=member_id, title="t")
    message.refresh_from_db()
    assert message.status == PushStatus.FAILED and message.error_code == "http_410"
    assert not PushSubscription.objects.filter(pk=sub.pk).exists()
    assert push_queue(member_id=member_id, title="again") == []
    assert member_id not in channels_reachable(member_ids=[member_id]).push


@pytest.mark.parametrize("mode", ["throttle", "unavailable"])
def test_429_and_5xx_are_retried_after_retry_after_and_sent_once(use_push, mode):
    sandbox = use_push
    member_id = next(_members)
    sub = browser(sandbox, member_id)
    sandbox.fault(mode, provider="push", count=1)
    [message] = push_queue(member_id=member_id, title="t")
    message.refresh_from_db()
    assert message.status == PushStatus.QUEUED and message.error_code in ("http_429", "http_503")
    assert message.next_attempt_at > timezone.now() + dt.timedelta(seconds=20)  # backoff ≥ the 1 s Retry-After
    assert push_deliver(message_id=message.pk) is None  # not due
    make_due(message)
    push_deliver_task.enqueue(message_id=message.pk)
    push_deliver_task.enqueue(message_id=message.pk)  # twice: one delivery
    assert push_retry_due(now=timezone.now() + dt.timedelta(hours=1)) == 0
    message.refresh_from_db()
    assert message.status == PushStatus.SENT and message.attempts == 2
    assert len(received(sandbox, sub)) == 1


def test_subscriptions_are_validated_moved_and_deleted(use_push):
    sandbox = use_push
    a, b = next(_members), next(_members)
    sub = browser(sandbox, a)
    moved = push_subscription_save(member_id=b, endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth)
    assert moved.pk == sub.pk and moved.member_id == b
    assert push_subscription_delete(member_id=a, endpoint=sub.endpoint) == 0
    assert push_subscription_delete(member_id=b, endpoint=sub.endpoint) == 1
    for endpoint, p256dh, auth in [
        ("http://push.example.com/x", sub.p256dh, sub.auth),  # not https
        ("https://push.example.com/x", "B" * 87, sub.auth),  # not a point
        ("https://push.example.com/x", sub.p256dh, "short"),
        ("javascript:alert(1)", sub.p256dh, sub.auth),
    ]:
        with pytest.raises(PushSubscriptionInvalidError):
            push_subscription_save(member_id=a, endpoint=endpoint, p256dh=p256dh, auth=auth)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_push_service_refuses_forged_tokens_and_bodies(use_push):
    """What the sandbox checks, with requests built by hand from a real signed one."""
    from py_vapid import Vapid02
    from pywebpush import WebPusher

    sandbox = use_push
    vapid = Vapid02(conf={"no-strict": True})  # lets the test sign claims py-vapid itself would refuse
    vapid.generate_keys()
    public = (
        base64.urlsafe_b64encode(
            vapid.public_key.public_bytes(
                __import__("cryptography.hazmat.primitives.serialization", fromlist=["x"]).Encoding.X962,
                __import__(
                    "cryptography.hazmat.primitives.serialization", fromlist=["x"]
                ).PublicFormat.UncompressedPoint,
            )
        )
        .rstrip(b"=")
        .decode()
    )
    sub = sandbox.push_subscribe(public)
    origin = sandbox.base_url
    body = WebPusher({"endpoint": sub["endpoint"], "keys": sub["keys"]}).encode(b'{"title":"x"}', "aes128gcm")["body"]

    def headers(claims: dict, signer=vapid) -> dict[str, str]:
        return {**signer.sign(claims), "TTL": "60", "Content-Encoding": "aes128gcm"}

    good = {"aud": origin, "exp": int(time.time()) + 3600, "sub": "mailto:ops@example.com"}
    assert _post(sub["endpoint"], body, headers(good)) == 201
    assert _post(sub["endpoint"], body, headers({**good, "aud": "https://fcm.googleapis.com"})) == 401
    assert _post(sub["endpoint"], body, headers({**good, "exp": int(time.time()) + 30 * 3600})) == 401
    assert _post(sub["endpoint"], body, headers({**good, "exp": int(time.time()) - 10})) == 401
    assert _post(sub["endpoint"], body, headers({**good, "sub": "ops"})) == 401
    tampered = headers(good)
    t, k = tampered["Authorization"][6:].split(",k=")
    tampered["Authorization"] = f"vapid t={t[:-4]}AAAA,k={k}"
    assert _post(sub["endpoint"], body, tampered) == 401
    other = Vapid02()
    other.generate_keys()
    assert _post(sub["endpoint"], body, headers(good, signer=other)) == 403  # not the subscription's key
    assert _post(sub["endpoint"], body[:-5] + b"xxxxx", headers(good)) == 400  # does not decrypt
    no_ttl = headers(good)
    del no_ttl["TTL"]
    assert _post(sub["endpoint"], body, no_ttl) == 400
    assert _post(sandbox.base_url + "/push/send/unknown", body, headers(good)) == 404


def test_retry_after_rule():
    assert rules.push_retry_after_s("120", now=0) == 120
    assert rules.push_retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470) == 10
    assert rules.push_retry_after_s("soon", now=0) is None and rules.push_retry_after_s(None, now=0) is None
