"""The member app's "WeChat Pay points" page and the console's 商圈 pages, with WeChat played by the sandbox
gateway: linking WeChat through web authorisation (the state bound to the member's session, the code single-use),
turning on 商圈 points on the sandbox's stand-in for WeChat's page, and staff reading what happened."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from galleria.audit.models import AuditEvent
from galleria.members.models import MemberIdentifier
from galleria.members.services import member_identifier_add, member_register
from galleria.payments.models import MallPointsAuth, MallSyncState, WechatOAuthApp
from galleria.payments.sandbox.wechat_oauth import oauth_secret, openid_for
from galleria.payments.secrets import unseal
from galleria.payments.services.mall_points_sync import mall_points_sync
from galleria.payments.services.wechat_link import oauth_app_save
from galleria.testing import PASSWORD

from . import test_mall_points as flows
from .test_mall_points import ACTOR, _openid

gateway, inbox, mall = flows.gateway, flows.inbox, flows.mall  # the same fixtures


def member_client(member) -> Client:
    client = Client()
    session = client.session
    session["member_id"] = member.pk
    session.save()
    client.cookies["django_language"] = "en"
    return client


def wechat_allows(authorize_url: str, *, user: str, allow: bool = True) -> str:
    """Play the member in the sandbox's WeChat: open the authorisation page, answer it; where WeChat sends the
    browser back to (a Galleria URL)."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200 and "to know who you are?" in page.text
    fields = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    fields.update(user=user, action="allow" if allow else "deny")
    answer = requests.post(urlsplit(authorize_url)._replace(query="").geturl(), data=fields, allow_redirects=False)
    assert answer.status_code == 302
    return answer.headers["Location"]


def local(url: str) -> str:
    split = urlsplit(url)
    return f"{split.path}?{split.query}"


@pytest.fixture
def member(mall):
    return member_register(mall=mall.world.mall, phone="13812345678", channel="app", actor=ACTOR)


class TestLinkWechat:
    def test_a_member_links_wechat_and_turns_on_mall_points(self, mall, member, settings):
        client = member_client(member)
        page = client.get("/app/wechat-points/")
        assert page.status_code == 200
        assert b'data-testid="link-wechat"' in page.content and b'data-testid="wechat-linked"' not in page.content
        went = client.get("/app/wechat-points/link/")
        assert went.status_code == 302
        authorize = went["Location"]
        assert authorize.startswith(mall.gateway.base_url + "/connect/oauth2/authorize?")
        query = parse_qs(urlsplit(authorize).query)
        assert query["scope"] == ["snsapi_base"] and query["response_type"] == ["code"]
        assert query["appid"] == [mall.gateway.keys["wechat"]["appid"]]
        assert authorize.endswith("#wechat_redirect")
        back = wechat_allows(authorize, user="alice")
        assert back.startswith("http://testserver/app/wechat-points/return/?")
        done = client.get(local(back), follow=True)
        assert b"WeChat linked." in done.content
        openid = openid_for(mall.gateway.keys["wechat"]["appid"], "alice")
        assert MemberIdentifier.objects.filter(member=member, kind="wechat_openid", value=openid).exists()
        assert b'data-testid="wechat-linked"' in done.content
        # step 2: WeChat's own 商圈 page (the sandbox's stand-in), then back to the app
        auth_url = re.search(rb'href="([^"]+)" data-testid="authorise-mall"', done.content)
        assert auth_url is not None
        url = auth_url.group(1).decode().replace("&amp;", "&")
        assert url.startswith(mall.gateway.base_url + "/sandbox/wechat/mall-auth?")
        fields = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        answer = requests.post(
            urlsplit(url)._replace(query="").geturl(),
            data={**fields, "action": "authorise"},
            cookies={"sbx_wx_user": "alice"},
            allow_redirects=False,
        )
        assert answer.headers["Location"] == "http://testserver/app/wechat-points/"
        event = next(d for d in mall.gateway.control.deliveries() if d["ref"] == {"openid": openid})
        assert event["event_type"] == "MALL_AUTH.ACTIVATE_CARD"
        mall.deliver(event["event_id"])  # the notification reaches our notify URL
        assert MallPointsAuth.objects.get(openid=openid).source == "notice"
        page = client.get("/app/wechat-points/")
        assert b'data-testid="mall-authorised"' in page.content and b'data-testid="mall-points-ready"' in page.content

    def test_a_return_not_started_in_this_session_links_nothing(self, mall, member):
        client = member_client(member)
        authorize = client.get("/app/wechat-points/link/")["Location"]
        back = wechat_allows(authorize, user="bob")
        forged = back.replace("state=", "state=x")
        response = client.get(local(forged), follow=True)
        assert b"has expired or was not started here" in response.content
        assert not MemberIdentifier.objects.filter(member=member, kind="wechat_openid").exists()
        # the session's state is spent by that attempt: the genuine return cannot be used afterwards either
        response = client.get(local(back), follow=True)
        assert b"has expired or was not started here" in response.content
        other = member_client(member_register(mall=mall.world.mall, phone="13900001111", channel="app", actor=ACTOR))
        response = other.get(local(back), follow=True)  # nor by anyone else's session
        assert b"has expired or was not started here" in response.content
        assert not MemberIdentifier.objects.filter(kind="wechat_openid").exists()

    def test_a_code_works_once(self, mall, member):
        client = member_client(member)
        authorize = client.get("/app/wechat-points/link/")["Location"]
        back = wechat_allows(authorize, user="carol")
        code = parse_qs(urlsplit(back).query)["code"][0]
        assert b"WeChat linked." in client.get(local(back), follow=True).content
        answer = requests.get(
            f"{mall.gateway.base_url}/sns/oauth2/access_token",
            params={
                "appid": mall.gateway.keys["wechat"]["appid"],
                "secret": oauth_secret(mall.gateway.keys),
                "code": code,
                "grant_type": "authorization_code",
            },
            timeout=10,
        ).json()
        assert answer["errcode"] == 40163  # WeChat: code been used

    def test_the_member_can_say_no(self, mall, member):
        client = member_client(member)
        back = wechat_allows(client.get("/app/wechat-points/link/")["Location"], user="dave", allow=False)
        assert "code=" not in back
        assert b"you did not allow it" in client.get(local(back), follow=True).content

    def test_a_wechat_already_linked_to_another_member_is_refused(self, mall, member):
        openid = openid_for(mall.gateway.keys["wechat"]["appid"], "erin")
        other = member_register(mall=mall.world.mall, phone="13900001111", channel="app", actor=ACTOR)
        member_identifier_add(member_id=other.pk, actor=ACTOR, kind="wechat_openid", value=openid)
        client = member_client(member)
        back = wechat_allows(client.get("/app/wechat-points/link/")["Location"], user="erin")
        assert b"already linked to another member" in client.get(local(back), follow=True).content
        assert not MemberIdentifier.objects.filter(member=member, kind="wechat_openid").exists()

    def test_a_wrong_or_unreadable_app_secret_links_nothing(self, mall, member):
        oauth_app_save(
            mall_group_id=mall.world.group.pk,
            app_secret="f" * 32,  # not the Official Account's
            authorize_base_url=mall.gateway.base_url,
            api_base_url=mall.gateway.base_url,
            actor=ACTOR,
        )
        client = member_client(member)
        back = wechat_allows(client.get("/app/wechat-points/link/")["Location"], user="frank")
        assert b"WeChat did not confirm who you are" in client.get(local(back), follow=True).content
        assert not MemberIdentifier.objects.filter(member=member, kind="wechat_openid").exists()
        WechatOAuthApp.objects.filter(mall_group=mall.world.group).update(app_secret_enc="env:NO_SUCH_VARIABLE_X")
        response = client.get("/app/wechat-points/link/", follow=True)
        assert b"Linking WeChat is not set up" in response.content


@pytest.fixture
def staff(mall):
    def login(role: str) -> Client:
        client = Client()
        client.cookies["django_language"] = "en"
        assert client.login(username=mall.world.users[role].username, password=PASSWORD)
        return client

    return login


class TestConsole:
    def test_staff_see_payments_with_masked_members_reasons_and_filters(self, mall, member, staff):
        openid = _openid()
        member_identifier_add(member_id=member.pk, actor=ACTOR, kind="wechat_openid", value=openid)
        mall.authorise(openid)
        credited = mall.pay_and_deliver(openid, 12_800)
        stranger = _openid()
        mall.authorise(stranger)
        unknown = mall.pay_and_deliver(stranger, 3_000)
        client = staff("finance")
        page = client.get("/console/payments/wechat-points/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "138****5678" in text and "13812345678" not in text  # the member, masked
        assert text.count('data-testid="mall-points-row"') == 2
        assert "+128" in text and "No member has linked this WeChat" in text
        filtered = client.get("/console/payments/wechat-points/", {"reason": "member_unknown"}).content.decode()
        assert filtered.count('data-testid="mall-points-row"') == 1 and "+128" not in filtered
        assert f"/console/payments/wechat-points/{unknown.pk}/" in filtered
        export = client.get("/console/payments/wechat-points/", {"export": "csv"})
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert {r[1] for r in rows[1:]} == {credited.transaction_id, unknown.transaction_id}
        assert any(r[2] == "138****5678" and r[6] == "128" for r in rows[1:])
        detail = client.get(f"/console/payments/wechat-points/{credited.pk}/").content.decode()
        assert credited.transaction_id in detail and "Reported" in detail
        assert staff("marketing").get("/console/payments/wechat-points/").status_code == 403

    def test_a_refused_report_can_be_sent_again(self, mall, member, staff):
        openid = _openid()
        member_identifier_add(member_id=member.pk, actor=ACTOR, kind="wechat_openid", value=openid)
        mall.authorise(openid)
        mall.gateway.control.fail_next(count=1, status=400, prefix="/v3/businesscircle/points/notify")
        txn = mall.pay_and_deliver(openid, 2_000)
        assert txn.sync_state == MallSyncState.REFUSED
        client = staff("group_admin")
        response = client.post(f"/console/payments/wechat-points/{txn.pk}/report/", follow=True)
        assert b"the report is now: Reported" in response.content
        txn.refresh_from_db()
        assert txn.sync_state == MallSyncState.SYNCED
        assert AuditEvent.objects.filter(action="payments.mall_resync", target_id=txn.pk).exists()
        assert mall_points_sync(mall_txn_id=txn.pk) is None  # nothing left to report

    def test_the_app_secret_is_stored_sealed_and_checked(self, mall, staff):
        client = staff("group_admin")
        url = "/console/payments/wechat-points/settings/"
        page = client.get(url)
        assert mall.gateway.keys["wechat"]["appid"] in page.content.decode()
        bad = client.post(
            url,
            {
                "app_secret": "short",
                "authorize_base_url": "https://open.weixin.qq.com",
                "api_base_url": "https://api.weixin.qq.com",
            },
        )
        assert bad.status_code == 422 and b"32 hexadecimal characters" in bad.content
        secret = "0123456789abcdef0123456789abcdef"
        saved = client.post(
            url,
            {
                "app_secret": secret,
                "authorize_base_url": "https://open.weixin.qq.com",
                "api_base_url": "https://api.weixin.qq.com",
            },
        )
        assert saved.status_code == 302
        app = WechatOAuthApp.objects.get(mall_group=mall.world.group)
        assert secret not in app.app_secret_enc and unseal(app.app_secret_enc) == secret
        assert secret not in client.get(url).content.decode()  # never shown again
        event = AuditEvent.objects.filter(action="payments.oauth_app_save").latest("pk")
        assert secret not in str(event.changes)
        assert staff("finance").get(url).status_code == 403
