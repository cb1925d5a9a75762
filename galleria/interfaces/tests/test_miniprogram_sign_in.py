"""Mini-program sign-in against the messaging sandbox speaking WeChat's wire protocol (a separate process): a
wx.login code through code2Session, the phone number through getPhoneNumber, openid/unionid stored as the member's
identifiers, an existing member found by phone (the same person), a returning WeChat user found by unionid without
sharing the phone again, a used code refused, and bearer tokens that work on the member API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from galleria.audit.types import Actor
from galleria.members.models import IdentifierKind, Member, MemberIdentifier
from galleria.members.services import member_register
from galleria.messaging.testing import SmsSandboxProcess, sms_sandbox_start, wechat_sandbox_values
from galleria.messaging.wechat import sender_cache_clear

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSandboxProcess]:
    proc = sms_sandbox_start(workdir=tmp_path_factory.mktemp("wechat-sandbox"))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def wechat(settings: Any, sandbox: SmsSandboxProcess) -> Iterator[SmsSandboxProcess]:
    for name, value in wechat_sandbox_values(sandbox.keys, base_url=sandbox.base_url).items():
        setattr(settings, name, value)
    settings.GALLERIA_WECHAT_TIMEOUT_S = 2.0
    sender_cache_clear()
    yield sandbox
    sender_cache_clear()


def _login(sandbox: SmsSandboxProcess, **user: str) -> dict[str, str]:
    """What wx.login (and a getPhoneNumber button) give the mini-program on the phone."""
    return sandbox._call("POST", "/sandbox/control/wechat-login", user)


def _sign_in(body: dict[str, Any]) -> Any:
    return Client().post("/api/v1/app/auth/wechat", {"accept_terms": True, **body}, content_type="application/json")


def test_a_new_wechat_user_joins_with_the_verified_phone_and_gets_tokens(world, wechat):
    codes = _login(wechat, openid="oMini001", unionid="uUnion001", phone="13700001234")
    resp = _sign_in({"code": codes["code"], "phone_code": codes["phone_code"], "device_name": "小程序"})
    assert resp.status_code == 200, resp.content
    tokens = resp.json()
    assert tokens["is_new"] is True and tokens["access_token"].startswith("gat_")
    member = Member.objects.get(pk=tokens["member_id"])
    assert member.phone == "+8613700001234" and member.join_channel == "app"
    kinds = dict(MemberIdentifier.objects.filter(member=member).values_list("kind", "value"))
    assert kinds[IdentifierKind.WECHAT_OPENID] == "oMini001" and kinds[IdentifierKind.WECHAT_UNIONID] == "uUnion001"
    me = Client().get("/api/v1/app/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert me.status_code == 200 and me.json()["id"] == member.pk


def test_an_existing_member_is_found_by_phone_and_a_returning_user_by_unionid(world, wechat):
    existing = member_register(mall=world.mall, phone="13700005678", channel="desk", actor=Actor.system())
    first = _login(wechat, openid="oMini002", unionid="uUnion002", phone="13700005678")
    resp = _sign_in({"code": first["code"], "phone_code": first["phone_code"]})
    assert resp.status_code == 200, resp.content
    assert resp.json()["member_id"] == existing.pk and resp.json()["is_new"] is False
    # next time: no phone needed, found by the WeChat identity (another openid of the same unionid included)
    again = _login(wechat, openid="oOther002", unionid="uUnion002")
    resp = _sign_in({"code": again["code"]})
    assert resp.status_code == 200 and resp.json()["member_id"] == existing.pk
    openids = set(
        MemberIdentifier.objects.filter(member=existing, kind=IdentifierKind.WECHAT_OPENID).values_list(
            "value", flat=True
        )
    )
    assert openids == {"oMini002", "oOther002"}
    assert Member.objects.filter(phone="+8613700005678").count() == 1


def test_an_unknown_user_without_a_phone_and_a_used_or_unknown_code_are_refused(world, wechat):
    codes = _login(wechat, openid="oMini003")
    resp = _sign_in({"code": codes["code"]})
    assert resp.status_code == 422 and resp.json()["code"] == "members.wechat_phone_required"
    resp = _sign_in({"code": codes["code"]})  # a wx.login code works once
    assert resp.status_code == 422 and resp.json()["code"] == "wechat.code_invalid"
    assert resp.json()["errors"]["code"] == "40163"
    resp = _sign_in({"code": "not-a-code"})
    assert resp.status_code == 422 and resp.json()["errors"]["code"] == "40029"
    assert not MemberIdentifier.objects.filter(value="oMini003").exists()


def test_without_a_mini_program_configured_the_answer_is_404(world, settings):
    settings.GALLERIA_WECHAT = {**settings.GALLERIA_WECHAT, "MINI_APPID": "", "MINI_SECRET": ""}
    sender_cache_clear()
    resp = _sign_in({"code": "x"})
    assert resp.status_code == 404 and resp.json()["code"] == "wechat.not_configured"
