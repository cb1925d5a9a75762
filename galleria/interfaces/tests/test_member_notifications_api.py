"""The member API's notification endpoints: WeChat subscribe-message accepts and browser push subscriptions; bad
input is problem+json 4xx, never a 500."""

from __future__ import annotations

import pytest

from galleria.audit.types import Actor
from galleria.members.models import IdentifierKind, MemberIdentifier
from galleria.members.services import member_register
from galleria.messaging.models import PushSubscription, WechatSubscription
from galleria.messaging.sandbox import keys as sandbox_keys

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, label="test")
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


@pytest.fixture
def member_client(client, world):
    from galleria.interfaces.api.auth import MEMBER_SESSION_KEY

    member = member_register(mall=world.mall, phone="13800990011", channel="app", actor=ACTOR)
    session = client.session
    session[MEMBER_SESSION_KEY] = member.pk
    session.save()
    return client, member


@pytest.fixture
def templates(settings):
    keys = sandbox_keys.generate()
    settings.GALLERIA_WECHAT_TEMPLATES = sandbox_keys.wechat_template_map(keys)
    return settings.GALLERIA_WECHAT_TEMPLATES["marketing_notice"]["subscribe"]["id"]


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_accepts_are_recorded_for_the_members_openid(member_client, templates, world):
    client, member = member_client
    url = "/api/v1/app/me/wechat/subscriptions"
    no_openid = post(client, url, {"results": {templates: "accept"}})
    assert no_openid.status_code == 422 and no_openid["Content-Type"] == "application/problem+json"
    assert no_openid.json()["code"] == "wechat.no_openid"
    MemberIdentifier.objects.create(
        mall_group=world.group, member=member, kind=IdentifierKind.WECHAT_OPENID, value="oMemberOpenid123"
    )
    ok = post(client, url, {"results": {templates: "accept"}})
    assert ok.status_code == 200 and ok.json()["remaining"] == {templates: 1}
    assert WechatSubscription.objects.get(member_id=member.pk).openid == "oMemberOpenid123"
    listed = client.get(url).json()
    assert templates in listed["template_ids"] and listed["remaining"][templates] == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"results": {}},
        {"results": {"bad id!": "accept"}},
        {"results": {"x" * 200: "accept"}},
        {"results": {"tpl": "maybe"}},
        {"results": {f"t{i}": "accept" for i in range(30)}},
        {"results": "accept"},
        [],
    ],
)
def test_bad_subscription_bodies_are_problems(member_client, templates, world, body):
    client, member = member_client
    MemberIdentifier.objects.create(
        mall_group=world.group, member=member, kind=IdentifierKind.WECHAT_OPENID, value="oMemberOpenid456"
    )
    response = post(client, "/api/v1/app/me/wechat/subscriptions", body)
    assert 400 <= response.status_code < 500 and response["Content-Type"] == "application/problem+json"


def test_an_unknown_template_is_refused_whole(member_client, templates, world):
    client, member = member_client
    MemberIdentifier.objects.create(
        mall_group=world.group, member=member, kind=IdentifierKind.WECHAT_OPENID, value="oMemberOpenid789"
    )
    response = post(
        client, "/api/v1/app/me/wechat/subscriptions", {"results": {templates: "accept", "other": "accept"}}
    )
    assert response.status_code == 422 and response.json()["code"] == "wechat.subscription_invalid"
    assert not WechatSubscription.objects.exists()


def test_push_subscribe_and_unsubscribe(member_client):
    client, member = member_client
    key = client.get("/api/v1/app/push/key").json()["public_key"]
    assert len(key) == 87
    body = {"endpoint": "https://push.example.com/send/abc", "keys": {"p256dh": P256DH, "auth": AUTH}}
    created = post(client, "/api/v1/app/me/push/subscriptions", {**body, "expirationTime": None})
    assert created.status_code == 201 and created.json() == {"endpoint": body["endpoint"]}
    assert PushSubscription.objects.get().member_id == member.pk
    gone = post(client, "/api/v1/app/me/push/unsubscribe", {"endpoint": body["endpoint"]})
    assert gone.status_code == 204 and not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"endpoint": "https://push.example.com/x"},
        {"endpoint": "http://push.example.com/send/abc", "keys": {"p256dh": P256DH, "auth": AUTH}},
        {"endpoint": "https://push.example.com/send/abc", "keys": {"p256dh": "B" * 87, "auth": AUTH}},
        {"endpoint": "https://push.example.com/send/abc", "keys": {"p256dh": P256DH, "auth": "!" * 22}},
        {"endpoint": "https://" + "x" * 1200, "keys": {"p256dh": P256DH, "auth": AUTH}},
        {"endpoint": "javascript:alert(1)//", "keys": {"p256dh": P256DH, "auth": AUTH}},
        {
            "endpoint": "https://push.example.com/send/abc",
            "keys": {"p256dh": P256DH, "auth": AUTH},
            "expirationTime": -1,
        },
        "not json",
    ],
)
def test_bad_push_subscriptions_are_problems(member_client, body):
    client, _ = member_client
    response = post(client, "/api/v1/app/me/push/subscriptions", body)
    assert 400 <= response.status_code < 500 and response["Content-Type"] == "application/problem+json"
    assert not PushSubscription.objects.exists()


def test_anonymous_gets_401(client):
    assert client.get("/api/v1/app/push/key").status_code == 401
    assert post(client, "/api/v1/app/me/push/unsubscribe", {"endpoint": "https://x.example/1"}).status_code == 401
