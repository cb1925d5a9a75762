"""WeChat messages through the real adapter (wechatpy) against the sandbox process over HTTP: tokens shared and
refreshed, subscribe messages and their quota, template messages, WeCom, refusals, retries, the event hook."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.utils import timezone

from galleria.messaging import rules
from galleria.messaging.models import WechatMessage, WechatStatus, WechatSubscription, WechatToken
from galleria.messaging.providers.wechat import MemoryTokenStore, WechatApp, WechatError, WechatSender
from galleria.messaging.sandbox import keys as sandbox_keys
from galleria.messaging.selectors import channels_reachable
from galleria.messaging.services import (
    wechat_deliver,
    wechat_queue,
    wechat_retry_due,
    wechat_subscription_record,
)
from galleria.messaging.tasks import wechat_deliver_task

pytestmark = pytest.mark.django_db
_members = iter(range(7_000_000, 8_000_000))


def openid() -> str:
    return "o" + secrets.token_urlsafe(20)[:27]


def subscribe_template(sandbox, name: str = "marketing_notice") -> str:
    return sandbox_keys.wechat_template_map(sandbox.keys)[name]["subscribe"]["id"]


def accepted(sandbox, *, member_id: int, oid: str, template_id: str, count: int = 1) -> None:
    """The member accepted in wx.requestSubscribeMessage: WeChat learns it, and the mini-program tells Galleria."""
    sandbox.wechat_quota(openid=oid, template_id=template_id, count=count)
    for _ in range(count):
        wechat_subscription_record(member_id=member_id, openid=oid, results={template_id: "accept"})


def of(sandbox, oid: str) -> list[dict]:
    return [m for m in sandbox.wechat_outbox() if oid in m["recipient"]]


def make_due(message: WechatMessage) -> None:
    WechatMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def notice(member_id: int, **params) -> WechatMessage:
    return wechat_queue(
        channel="subscribe",
        template="marketing_notice",
        member_id=member_id,
        params={"title": "周末会员日", "detail": "全场积分翻倍，仅限本周六", **params},
        page="pages/coupons/index",
    )


def test_a_subscribe_message_is_sent_once_per_accept(use_wechat):
    sandbox = use_wechat
    member_id, oid = next(_members), openid()
    tid = subscribe_template(sandbox)
    accepted(sandbox, member_id=member_id, oid=oid, template_id=tid)
    assert channels_reachable(member_ids=[member_id], wechat_template="marketing_notice").wechat_subscribe == {
        member_id
    }
    message = notice(member_id)  # the immediate task backend delivers at once
    message.refresh_from_db()
    assert message.status == WechatStatus.SENT and message.attempts == 1 and message.provider_ref
    [got] = of(sandbox, oid)
    assert got["msgid"] == message.provider_ref and got["data"]["thing1"] == {"value": "周末会员日"}
    assert WechatSubscription.objects.get(openid=oid, template_id=tid).remaining == 0
    # the accept is used: the next one is skipped with the reason, and never reaches WeChat
    second = notice(member_id)
    assert second.status == WechatStatus.SKIPPED and second.error_code == "quota.none" and second.attempts == 0
    assert len(of(sandbox, oid)) == 1
    assert channels_reachable(member_ids=[member_id], wechat_template="marketing_notice").wechat_subscribe == set()


def test_text_is_fitted_to_wechats_limits_and_bad_values_fail_for_good(use_wechat):
    sandbox = use_wechat
    member_id, oid = next(_members), openid()
    accepted(sandbox, member_id=member_id, oid=oid, template_id=subscribe_template(sandbox), count=1)
    message = notice(member_id, title="这是一个远远超过二十个字的标题，微信会拒绝它所以要截短")
    message.refresh_from_db()
    assert message.status == WechatStatus.SENT
    assert len(message.data["thing1"]) == 20 and message.data["thing1"].endswith("…")
    # a number keyword with letters cannot be fitted: final, and the accept is given back
    otp_tid = subscribe_template(sandbox, "otp")
    accepted(sandbox, member_id=member_id, oid=oid, template_id=otp_tid)
    bad = wechat_queue(
        channel="subscribe", template="otp", member_id=member_id, params={"code": "12ab", "minutes": "5"}
    )
    bad.refresh_from_db()
    assert bad.status == WechatStatus.FAILED and bad.error_code == "config.field_invalid"
    assert WechatSubscription.objects.get(openid=oid, template_id=otp_tid).remaining == 1


def test_wechat_refusing_for_lack_of_quota_is_final_43101(use_wechat):
    sandbox = use_wechat
    member_id, oid = next(_members), openid()
    tid = subscribe_template(sandbox)
    sandbox.wechat_user(oid)
    # Galleria was told of an accept that WeChat does not have (revoked, or used elsewhere): 43101, no retry
    wechat_subscription_record(member_id=member_id, openid=oid, results={tid: "accept"})
    message = notice(member_id)
    message.refresh_from_db()
    assert message.status == WechatStatus.FAILED and message.error_code == "43101" and message.attempts == 1
    assert message.next_attempt_at is None
    assert wechat_retry_due(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert WechatSubscription.objects.get(openid=oid).remaining == 0  # WeChat used it up: not given back


def test_unknown_openid_is_final_40003(use_wechat):
    message = wechat_queue(
        channel="template", template="marketing_notice", recipient=openid(), params={"title": "t", "detail": "d"}
    )
    message.refresh_from_db()
    assert message.status == WechatStatus.FAILED and message.error_code == "40003"


def test_an_expired_token_is_refreshed_and_the_send_retried_once(use_wechat):
    sandbox = use_wechat
    oid = openid()
    sandbox.wechat_user(oid)
    first = wechat_queue(
        channel="template", template="marketing_notice", recipient=oid, params={"title": "一", "detail": "二"}
    )
    first.refresh_from_db()
    assert first.status == WechatStatus.SENT
    token_before = WechatToken.objects.get(key__startswith="wechat:mp:").token
    sandbox.wechat_expire_tokens()  # WeChat now answers 42001 to the token every process shares
    second = wechat_queue(
        channel="template", template="marketing_notice", recipient=oid, params={"title": "三", "detail": "四"}
    )
    second.refresh_from_db()
    assert second.status == WechatStatus.SENT and second.attempts == 1  # one attempt: refreshed inside it
    assert WechatToken.objects.get(key__startswith="wechat:mp:").token != token_before
    assert len(of(sandbox, oid)) == 2


def test_the_token_is_shared_between_senders(use_wechat):
    """Two adapters (two processes) with the table store fetch one token between them."""
    from galleria.messaging.wechat import DbTokenStore, wechat_app

    a = WechatSender(app=wechat_app("template"), tokens=DbTokenStore())
    b = WechatSender(app=wechat_app("template"), tokens=DbTokenStore())
    assert a.access_token() == b.access_token()
    assert WechatToken.objects.filter(key__startswith="wechat:mp:").count() == 1


def test_a_wrong_secret_is_refused_with_wechats_code(use_wechat):
    sandbox = use_wechat
    mp = sandbox.keys["wechat"]["mp"]
    sender = WechatSender(
        app=WechatApp(kind="mp", appid=mp["appid"], secret="0" * 32, base_url=sandbox.base_url + "/cgi-bin/"),
        tokens=MemoryTokenStore(),
    )
    with pytest.raises(WechatError) as refused:
        sender.access_token()
    assert refused.value.code == "40125" and not refused.value.retryable


def test_system_busy_is_retried_with_backoff_and_sent_once(use_wechat):
    sandbox = use_wechat
    oid = openid()
    sandbox.wechat_user(oid)
    sandbox.fault("busy", provider="wechat", count=1)
    message = wechat_queue(
        channel="template", template="marketing_notice", recipient=oid, params={"title": "t", "detail": "d"}
    )
    message.refresh_from_db()
    assert message.status == WechatStatus.QUEUED and message.error_code == "-1" and message.attempts == 1
    assert message.next_attempt_at > timezone.now() + dt.timedelta(seconds=20)
    assert wechat_deliver(message_id=message.pk) is None  # not due yet: nothing happens
    assert of(sandbox, oid) == []
    make_due(message)
    wechat_deliver_task.enqueue(message_id=message.pk)
    wechat_deliver_task.enqueue(message_id=message.pk)  # the task twice: one delivery
    message.refresh_from_db()
    assert message.status == WechatStatus.SENT and message.attempts == 2
    assert len(of(sandbox, oid)) == 1
    assert [e["outcome"] for e in message.attempt_log] == ["retry", "sent"]


def test_a_claimed_attempt_is_not_taken_by_a_second_worker(use_wechat):
    sandbox = use_wechat
    oid = openid()
    sandbox.wechat_user(oid)
    with transaction.atomic():
        sandbox.fault("busy", provider="wechat", count=1)
        message = wechat_queue(
            channel="template", template="marketing_notice", recipient=oid, params={"title": "t", "detail": "d"}
        )
    message.refresh_from_db()
    make_due(message)
    stale = WechatMessage.objects.get(pk=message.pk)
    assert wechat_deliver(message_id=message.pk) is None
    # a second worker that loaded the row before the first claimed it: its claim matches nothing
    from galleria.messaging.services import wechat_delivery

    assert not wechat_delivery._claim(stale, timezone.now())
    assert len(of(sandbox, oid)) == 1


def test_wecom_customer_message_waits_for_the_staff_member(use_wechat):
    sandbox = use_wechat
    external = "wm" + secrets.token_urlsafe(24)
    message = wechat_queue(
        channel="wecom",
        template="marketing_notice",
        recipient=external,
        sender="zhangsan",
        params={"text": "您好，您预约的停车券已到账。"},
    )
    message.refresh_from_db()
    assert message.status == WechatStatus.SENT and message.provider_ref.startswith("msg")
    [got] = of(sandbox, external)
    assert got["app"] == "wecom" and "zhangsan to confirm" in got["text"]
    refused = wechat_queue(channel="wecom", template="x", recipient=external, sender="nobody", params={"text": "hi"})
    refused.refresh_from_db()
    assert refused.status == WechatStatus.FAILED and refused.error_code == "60111"


def test_no_mapping_or_no_recipient_is_skipped(use_wechat, settings):
    skipped = wechat_queue(channel="template", template="birthday", recipient=openid(), params={})
    assert skipped.status == WechatStatus.SKIPPED and skipped.error_code == "config.template_missing"
    nobody = wechat_queue(channel="template", template="marketing_notice", recipient="", params={})
    assert nobody.error_code == "recipient.none"


def test_subscription_results_are_validated(use_wechat):
    sandbox = use_wechat
    from galleria.messaging.exceptions import WechatSubscriptionInvalidError

    tid = subscribe_template(sandbox)
    with pytest.raises(WechatSubscriptionInvalidError):
        wechat_subscription_record(member_id=1, openid="oX", results={"unknown-template": "accept"})
    with pytest.raises(WechatSubscriptionInvalidError):
        wechat_subscription_record(member_id=1, openid="oX", results={tid: "maybe"})
    assert wechat_subscription_record(member_id=1, openid="oX", results={tid: "reject"}) == {tid: 0}
    assert wechat_subscription_record(member_id=1, openid="oX", results={tid: "accept"}) == {tid: 1}


# ---------------------------------------------------------------- events (the hook)


def signed(token: str, **extra: str) -> str:
    ts, nonce = str(int(time.time())), secrets.token_hex(5)
    return urlencode(
        {"signature": rules.wechat_signature(token=token, timestamp=ts, nonce=nonce), "timestamp": ts, "nonce": nonce}
        | extra
    )


def test_the_hook_answers_wechats_url_check_only_when_signed(use_wechat, client):
    token = use_wechat.keys["wechat"]["mini"]["token"]
    ok = client.get(f"/hooks/wechat/mini/?{signed(token, echostr='abc123')}")
    assert ok.status_code == 200 and ok.content == b"abc123"
    assert client.get(f"/hooks/wechat/mini/?{signed('wrong', echostr='abc123')}").status_code == 403
    assert client.get(f"/hooks/wechat/mp/?{signed(token, echostr='abc123')}").status_code == 403  # another app
    assert client.get("/hooks/wechat/other/?echostr=1").status_code == 404


def _event(msgid: str, status: str = "success") -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oA]]></FromUserName>"
        "<CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]>"
        f"</Event><MsgID>{msgid}</MsgID><Status><![CDATA[{status}]]></Status></xml>"
    ).encode()


def test_a_signed_receipt_marks_the_message_once_and_a_forged_one_changes_nothing(use_wechat, client):
    sandbox = use_wechat
    oid = openid()
    sandbox.wechat_user(oid)
    message = wechat_queue(
        channel="template", template="marketing_notice", recipient=oid, params={"title": "t", "detail": "d"}
    )
    message.refresh_from_db()
    token = sandbox.keys["wechat"]["mp"]["token"]
    forged = client.post(
        f"/hooks/wechat/mp/?{signed('not-the-token')}", _event(message.provider_ref), content_type="text/xml"
    )
    assert forged.status_code == 403
    message.refresh_from_db()
    assert message.status == WechatStatus.SENT
    ok = client.post(f"/hooks/wechat/mp/?{signed(token)}", _event(message.provider_ref), content_type="text/xml")
    assert ok.status_code == 200 and ok.content == b"success"
    message.refresh_from_db()
    assert message.status == WechatStatus.DELIVERED and message.delivered_at
    again = client.post(
        f"/hooks/wechat/mp/?{signed(token)}", _event(message.provider_ref, "failed:user block"), content_type="text/xml"
    )
    assert again.status_code == 200
    message.refresh_from_db()
    assert message.status == WechatStatus.DELIVERED  # applied once
    bad = client.post(f"/hooks/wechat/mp/?{signed(token)}", b"<xml><unclosed>", content_type="text/xml")
    assert bad.status_code == 400
    entity = b'<!DOCTYPE x [<!ENTITY e "boom">]><xml><Event>&e;</Event></xml>'
    assert client.post(f"/hooks/wechat/mp/?{signed(token)}", entity, content_type="text/xml").status_code in (200, 400)


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_pushes_the_subscribe_event_to_the_hook(live_server, settings, tmp_path):
    """The sandbox pushes subscribe_msg_sent_event, signed, to the server URL; the message becomes delivered."""
    from galleria.messaging.testing import sms_sandbox_start, wechat_sandbox_values
    from galleria.messaging.wechat import sender_cache_clear

    proc = sms_sandbox_start(
        workdir=tmp_path, wechat_event_urls={"mini": f"{live_server.url}/hooks/wechat/mini/"}, report_delay=0.1
    )
    try:
        for name, value in wechat_sandbox_values(proc.keys, base_url=proc.base_url).items():
            setattr(settings, name, value)
        sender_cache_clear()
        member_id, oid = next(_members), openid()
        tid = subscribe_template(proc)
        accepted(proc, member_id=member_id, oid=oid, template_id=tid)
        message = notice(member_id)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.status == WechatStatus.DELIVERED:
                break
            time.sleep(0.1)
        assert message.status == WechatStatus.DELIVERED and message.receipt_code == "success"
        [got] = of(proc, oid)
        assert got["event"]["acked"] is True
    finally:
        sender_cache_clear()
        proc.stop()


def test_keyword_rules():
    assert rules.wechat_keyword_type("character_string12") == "character_string"
    assert rules.wechat_fit("thing3", "a" * 25) == "a" * 19 + "…"
    assert rules.wechat_fit("number1", "123") == "123"
    assert rules.wechat_value_problem("number1", "12a") and not rules.wechat_value_problem("number1", "12.5")
    assert rules.wechat_value_problem("thing1", "") and rules.wechat_value_problem("weird", "x")
    assert rules.wechat_signature(token="t", timestamp="1", nonce="2") == __import__("hashlib").sha1(b"12t").hexdigest()


@pytest.mark.django_db(transaction=True)
def test_sends_racing_for_the_last_accepts_take_each_once(use_wechat):
    """12 threads queue a subscribe message for a member with 3 accepts: 3 are sent, 9 skipped, none twice."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    sandbox = use_wechat
    member_id, oid = next(_members), openid()
    accepted(sandbox, member_id=member_id, oid=oid, template_id=subscribe_template(sandbox), count=3)

    def send(_: int) -> str:
        try:
            with transaction.atomic():
                return notice(member_id).status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(send, range(12)))
    assert statuses.count(WechatStatus.SKIPPED) == 9
    assert WechatMessage.objects.filter(member_id=member_id, quota_taken=True).count() == 3
    assert WechatSubscription.objects.get(openid=oid).remaining == 0
    assert len(of(sandbox, oid)) == 3
