"""Member app: SMS sign-in / join, home with the dynamic member code, profile and plates, isolation."""

from __future__ import annotations

import re

import pytest

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.members.models import Consent, IdentifierKind, JoinChannel, Member, MemberIdentifier
from galleria.members.selectors import member_resolve
from galleria.members.services import member_identifier_add, member_register
from galleria.messaging.models import SmsMessage

PHONE = "13812345678"


def sms_code(phone: str = PHONE) -> str:
    message = SmsMessage.objects.filter(phone="+86" + phone).order_by("-id").first()
    assert message is not None, "no SMS was queued"
    match = re.search(r"(?<!\d)(\d{6})(?!\d)", message.body)
    assert match, message.body
    return match.group(1)


def send_code(client, phone: str = PHONE, query: str = ""):
    return client.post(f"/app/login/{query}", {"phone": phone, "action": "send"})


def sign_in(client, phone: str = PHONE, query: str = ""):
    resp = send_code(client, phone, query)
    assert resp.status_code == 200, resp.content.decode()
    return client.post(
        f"/app/login/{query}", {"phone": phone, "code": sms_code(phone), "agree": "on", "action": "verify"}
    )


@pytest.mark.django_db
class TestSignIn:
    def test_join_creates_an_app_member_and_lands_on_home(self, client, world):
        client.get("/app/login/")
        key_before = client.session.session_key
        resp = send_code(client)
        html = resp.content.decode()
        assert "Code sent to 138****5678" in html
        resp = client.post("/app/login/", {"phone": PHONE, "code": sms_code(), "agree": "on", "action": "verify"})
        assert resp.status_code == 302 and resp.url == "/app/"
        member = Member.objects.get(phone="+86" + PHONE)
        assert member.join_channel == JoinChannel.APP
        assert member.join_mall_id == world.mall.pk
        assert client.session["member_id"] == member.pk
        assert client.session.session_key != key_before
        assert Consent.objects.filter(member=member, purpose="privacy_policy", is_granted=True).exists()
        home = client.get("/app/")
        html = home.content.decode()
        assert home.status_code == 200
        assert "138****5678" in html and member.card_no in html
        assert "<svg" in html and 'class="qr"' in html
        assert "Welcome to 星河广场" in html

    def test_existing_member_signs_in_without_a_new_member(self, client, world):
        existing = member_register(
            mall=world.mall, phone=PHONE, channel="desk", actor=Actor.system(), profile={"name": "张小明"}
        )
        resp = sign_in(client)
        assert resp.status_code == 302
        assert Member.objects.count() == 1
        assert client.session["member_id"] == existing.pk
        assert "张小明" in client.get("/app/").content.decode()

    def test_wrong_code_is_an_inline_error(self, client, world):
        send_code(client)
        code = sms_code()
        wrong = "000000" if code != "000000" else "111111"
        resp = client.post("/app/login/", {"phone": PHONE, "code": wrong, "agree": "on", "action": "verify"})
        assert resp.status_code == 422
        html = resp.content.decode()
        assert "The code is wrong or has expired." in html
        assert 'data-testid="code-error"' in html
        assert "member_id" not in client.session
        assert not Member.objects.exists()

    def test_five_wrong_codes_lock_the_phone(self, client, world):
        send_code(client)
        code = sms_code()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            resp = client.post("/app/login/", {"phone": PHONE, "code": wrong, "agree": "on", "action": "verify"})
        assert "Too many wrong codes" in resp.content.decode()
        resp = client.post("/app/login/", {"phone": PHONE, "code": code, "agree": "on", "action": "verify"})
        assert "Too many wrong codes" in resp.content.decode()
        assert not Member.objects.exists()

    def test_consent_is_required_and_does_not_burn_the_code(self, client, world):
        send_code(client)
        resp = client.post("/app/login/", {"phone": PHONE, "code": sms_code(), "action": "verify"})
        assert resp.status_code == 422
        assert "Please agree to the membership terms and privacy policy" in resp.content.decode()
        assert not Member.objects.exists()
        resp = client.post("/app/login/", {"phone": PHONE, "code": sms_code(), "agree": "on", "action": "verify"})
        assert resp.status_code == 302

    def test_invalid_phone_and_missing_code(self, client, world):
        resp = send_code(client, "12345")
        assert resp.status_code == 422
        assert "Enter a valid mobile phone number." in resp.content.decode()
        assert not SmsMessage.objects.exists()
        resp = client.post("/app/login/", {"phone": PHONE, "code": "", "agree": "on", "action": "verify"})
        assert "Enter the 6-digit code from the SMS." in resp.content.decode()
        resp = client.post("/app/login/", {"phone": "", "action": "send"})
        assert "Enter your mobile phone number." in resp.content.decode()

    def test_resend_too_soon_is_rate_limited(self, client, world):
        send_code(client)
        resp = send_code(client)
        assert resp.status_code == 422
        assert "Too many codes requested" in resp.content.decode()
        assert SmsMessage.objects.count() == 1

    def test_enter_without_action_sends_or_verifies(self, client, world):
        resp = client.post("/app/login/", {"phone": PHONE})
        assert "Code sent to" in resp.content.decode()
        resp = client.post("/app/login/", {"phone": PHONE, "code": sms_code(), "agree": "on"})
        assert resp.status_code == 302

    def test_mall_query_is_remembered(self, client, world):
        client.get("/app/login/?mall=xh-world")
        assert "星河天地" in client.get("/app/login/").content.decode()
        sign_in(client)
        assert Member.objects.get().join_mall_id == world.mall2.pk

    def test_signed_in_member_skips_the_login_page(self, client, world):
        sign_in(client)
        resp = client.get("/app/login/")
        assert resp.status_code == 302 and resp.url == "/app/"

    def test_sign_out(self, client, world):
        sign_in(client)
        resp = client.post("/app/logout/")
        assert resp.status_code == 302 and resp.url == "/app/login/"
        assert "member_id" not in client.session
        assert client.get("/app/").status_code == 302
        assert client.get("/app/logout/").status_code == 405


@pytest.mark.django_db
class TestSessionGate:
    @pytest.mark.parametrize("url", ["/app/", "/app/profile/", "/app/code/"])
    def test_pages_redirect_to_login_without_a_session(self, client, world, url):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.url == "/app/login/"

    def test_htmx_code_refresh_without_session_redirects_the_page(self, client, world):
        resp = client.get("/app/code/", HTTP_HX_REQUEST="true")
        assert resp.headers["HX-Redirect"] == "/app/login/"

    def test_posts_redirect_to_login_without_a_session(self, client, world):
        assert client.post("/app/profile/", {"name": "x"}).url == "/app/login/"
        assert client.post("/app/profile/plates/", {"plate": "粤B12345"}).url == "/app/login/"
        assert not MemberIdentifier.objects.filter(kind="plate").exists()

    def test_member_of_another_group_is_signed_out(self, client, world):
        sign_in(client)
        resp = client.get("/app/?mall=coastal-city")
        assert resp.status_code == 302 and resp.url == "/app/login/"
        assert "member_id" not in client.session

    def test_no_mall_configured_is_not_a_500(self, client, db):
        assert client.get("/app/login/").status_code == 503
        assert client.get("/app/").status_code == 503


@pytest.mark.django_db
class TestHomeAndCode:
    def test_code_partial_is_the_members_current_code(self, client, world):
        sign_in(client)
        member = Member.objects.get()
        resp = client.get("/app/code/", HTTP_HX_REQUEST="true")
        html = resp.content.decode()
        assert resp.status_code == 200 and "<html" not in html
        code = re.search(r'data-code="(\d{18})"', html).group(1)
        resolution = member_resolve(mall_group_id=world.group.pk, raw=code)
        assert resolution is not None and resolution.member.pk == member.pk
        assert 'hx-get="/app/code/"' in html and "load delay:" in html
        assert "no-cache" in resp.headers.get("Cache-Control", "") or "max-age=0" in resp.headers["Cache-Control"]


@pytest.mark.django_db
class TestProfile:
    def test_edit_profile(self, client, world):
        sign_in(client)
        member = Member.objects.get()
        resp = client.post(
            "/app/profile/", {"name": "王小丽", "gender": "female", "birthday": "1995-08-01", "email": "li@example.com"}
        )
        assert resp.status_code == 302
        member.refresh_from_db()
        assert (member.name, member.gender, str(member.birthday), member.email) == (
            "王小丽",
            "female",
            "1995-08-01",
            "li@example.com",
        )
        event = AuditEvent.objects.get(action="member.update")
        assert event.actor_label == f"member:{member.pk}" and event.actor_id is None
        assert "王小丽" in client.get("/app/profile/").content.decode()

    def test_profile_errors_are_inline(self, client, world):
        sign_in(client)
        resp = client.post("/app/profile/", {"name": "x", "gender": "robot", "birthday": "2999-01-01", "email": "nope"})
        assert resp.status_code == 422
        html = resp.content.decode()
        assert html.count('class="field has-error"') == 3
        assert Member.objects.get().name == ""

    def test_bind_and_unbind_plates(self, client, world):
        sign_in(client)
        member = Member.objects.get()
        resp = client.post("/app/profile/plates/", {"plate": "粤b·12345"})
        assert resp.status_code == 302
        assert "粤B12345" in client.get("/app/profile/").content.decode()
        resp = client.post("/app/profile/plates/", {"plate": "ABC"})
        assert resp.status_code == 422
        assert "Enter a valid licence plate" in resp.content.decode()
        row = MemberIdentifier.objects.get(member=member, kind=IdentifierKind.PLATE)
        resp = client.post(f"/app/profile/plates/{row.pk}/remove/")
        assert resp.status_code == 302
        assert not MemberIdentifier.objects.filter(member=member, kind=IdentifierKind.PLATE).exists()

    def test_plate_limit_and_taken(self, client, world):
        other = member_register(mall=world.mall, phone="13900001111", channel="desk", actor=Actor.system())
        member_identifier_add(member_id=other.pk, actor=Actor.system(), kind="plate", value="粤B99999")
        sign_in(client)
        resp = client.post("/app/profile/plates/", {"plate": "粤B99999"})
        assert resp.status_code == 422
        assert "This plate is bound to another membership." in resp.content.decode()
        assert "/app/parking/plates/?plate=%E7%B2%A4B99999" in resp.content.decode()  # the proof is offered
        for plate in ("粤B10001", "粤B10002", "粤B10003", "粤B10004", "粤B10005"):
            assert client.post("/app/profile/plates/", {"plate": plate}).status_code == 302
        resp = client.post("/app/profile/plates/", {"plate": "粤B10006"})
        assert resp.status_code == 422
        assert "at most 5 licence plates" in resp.content.decode()


@pytest.mark.django_db
def test_one_member_cannot_see_or_change_anothers_data(client, world):
    other = member_register(
        mall=world.mall,
        phone="13900001111",
        channel="desk",
        actor=Actor.system(),
        profile={"name": "李四", "email": "lisi@example.com"},
    )
    plate = member_identifier_add(member_id=other.pk, actor=Actor.system(), kind="plate", value="粤B99999")
    phone_row = MemberIdentifier.objects.get(member=other, kind=IdentifierKind.PHONE)
    sign_in(client)
    me = Member.objects.get(phone="+86" + PHONE)
    for url in ("/app/", "/app/profile/", "/app/code/"):
        html = client.get(url).content.decode()
        assert other.card_no not in html and "李四" not in html and "lisi@example.com" not in html
        assert "粤B99999" not in html and "139****1111" not in html
    for row in (plate, phone_row):
        resp = client.post(f"/app/profile/plates/{row.pk}/remove/", follow=True)
        assert "This plate is not bound to your membership." in resp.content.decode()
    assert MemberIdentifier.objects.filter(member=other).count() == 3
    # the member id in the session is the only one used: a forged member_id field changes nothing
    client.post("/app/profile/", {"name": "Mallory", "member_id": other.pk})
    other.refresh_from_db()
    me.refresh_from_db()
    assert other.name == "李四" and me.name == "Mallory"
