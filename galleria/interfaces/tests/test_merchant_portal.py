"""Merchant portal: scope, masked member lookup, profile edits, staff management."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from galleria.accounts.models import Role, User
from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.members.selectors import member_code_current
from galleria.members.services import member_identifier_add, member_register
from galleria.merchants.models import Merchant, Store
from galleria.testing import PASSWORD

PHONE = "13812345678"
MASKED = "138****5678"


@pytest.fixture
def member(world):
    return member_register(
        mall=world.mall,
        phone=PHONE,
        channel="desk",
        actor=Actor.system(),
        profile={"name": "张小明", "email": "xiaoming@example.com", "birthday": dt.date(1990, 5, 17)},
    )


def login(client, username: str) -> None:
    assert client.login(username=username, password=PASSWORD)


def lookup(client, q: str, *, htmx: bool = False):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post("/merchant/lookup/", {"q": q}, **headers)


def assert_masked_only(html: str, member) -> None:
    assert MASKED in html
    assert PHONE not in html
    assert "+86" + PHONE not in html
    assert "xiaoming@example.com" not in html
    assert "1990-05-17" not in html and "1990" not in html
    assert "张小明" not in html
    assert "张*明" in html
    assert member.card_no in html


@pytest.mark.django_db
class TestLookup:
    def test_by_dynamic_code_shows_masked_view_and_audits(self, client, world, member):
        login(client, "heytea-clerk")
        code = member_code_current(member=member).code
        resp = lookup(client, code)
        assert resp.status_code == 200
        html = resp.content.decode()
        assert_masked_only(html, member)
        event = AuditEvent.objects.get(action="member.lookup")
        assert event.target_id == str(member.pk)
        assert event.actor_id == world.users["merchant_clerk"].pk
        assert event.mall_group_id == world.group.pk

    def test_by_card_phone_and_plate(self, client, world, member):
        member_identifier_add(member_id=member.pk, actor=Actor.system(), kind="plate", value="粤B12345")
        login(client, "heytea-clerk")
        for q in (member.card_no, PHONE, "粤b12345"):
            resp = lookup(client, q)
            assert resp.status_code == 200
            assert_masked_only(resp.content.decode(), member)
        assert AuditEvent.objects.filter(action="member.lookup").count() == 3

    def test_htmx_returns_the_result_panel_only(self, client, world, member):
        login(client, "heytea-clerk")
        resp = lookup(client, member.card_no, htmx=True)
        html = resp.content.decode()
        assert resp.status_code == 200
        assert 'data-testid="lookup-result"' in html
        assert "<html" not in html and 'class="sidebar"' not in html
        assert_masked_only(html, member)

    def test_other_merchants_clerk_is_equally_limited(self, client, world, member):
        make = User(
            username="uniqlo-clerk", role=Role.MERCHANT_CLERK, mall_group=world.group, merchant=world.other_merchant
        )
        make.set_password(PASSWORD)
        make.save()
        login(client, "uniqlo-clerk")
        resp = lookup(client, PHONE)
        assert resp.status_code == 200
        assert_masked_only(resp.content.decode(), member)

    def test_stale_dynamic_code(self, client, world, member):
        login(client, "heytea-clerk")
        with time_machine.travel(dt.datetime(2026, 3, 1, 10, 0, 5, tzinfo=dt.UTC), tick=False) as traveller:
            code = member_code_current(member=member).code
            assert MASKED in lookup(client, code).content.decode()
            traveller.shift(dt.timedelta(minutes=3))
            resp = lookup(client, code)
        html = resp.content.decode()
        assert resp.status_code == 200
        assert "This member code has expired. Ask the member to refresh it." in html
        assert MASKED not in html and member.card_no not in html
        assert AuditEvent.objects.filter(action="member.lookup").count() == 1

    def test_not_found_and_empty(self, client, world, member):
        login(client, "heytea-clerk")
        html = lookup(client, "13900001111").content.decode()
        assert "No member matches this identifier." in html
        html = lookup(client, "   ").content.decode()
        assert "Scan or type a member code" in html
        assert not AuditEvent.objects.filter(action="member.lookup").exists()

    def test_member_of_another_group_is_not_found(self, client, world):
        foreign = member_register(mall=world.foreign_mall, phone="13912345678", channel="desk", actor=Actor.system())
        login(client, "heytea-clerk")
        html = lookup(client, foreign.card_no).content.decode()
        assert "No member matches this identifier." in html
        code = member_code_current(member=foreign).code
        assert foreign.card_no not in lookup(client, code).content.decode()

    def test_overlong_input_is_an_inline_error(self, client, world):
        login(client, "heytea-clerk")
        resp = lookup(client, "9" * 500)
        assert resp.status_code == 200
        assert "errorlist" in resp.content.decode() or "lookup-error" in resp.content.decode()


@pytest.mark.django_db
class TestAccess:
    @pytest.mark.parametrize("role", ["platform_admin", "group_admin", "marketing", "service", "finance", "readonly"])
    @pytest.mark.parametrize("url", ["/merchant/", "/merchant/lookup/", "/merchant/profile/", "/merchant/staff/"])
    def test_console_roles_get_403(self, client, world, role, url):
        client.force_login(world.users[role])
        assert client.get(url).status_code == 403

    def test_console_role_cannot_post_a_lookup(self, client, world, member):
        client.force_login(world.users["service"])
        resp = lookup(client, PHONE)
        assert resp.status_code == 403
        assert MASKED not in resp.content.decode()

    def test_anonymous_goes_to_login(self, client, world):
        resp = client.get("/merchant/lookup/")
        assert resp.status_code == 302 and resp.url.startswith("/console/login/")

    @pytest.mark.parametrize("user", ["merchant_owner", "merchant_manager", "merchant_clerk"])
    def test_merchant_roles_see_overview_lookup_and_profile(self, client, world, user):
        client.force_login(world.users[user])
        for url in ("/merchant/", "/merchant/lookup/", "/merchant/profile/"):
            assert client.get(url).status_code == 200, url

    def test_overview_shows_the_shop(self, client, world):
        Merchant.objects.filter(pk=world.merchant.pk).update(contract_ends_on=dt.date(2027, 6, 30))
        login(client, "heytea-clerk")
        html = client.get("/merchant/").content.decode()
        assert "喜茶" in html and "星河广场" in html and "Dining" in html
        assert "2027-06-30" in html
        assert 'data-testid="stores-count">1<' in html
        assert "优衣库" not in html

    def test_clerk_cannot_reach_staff_page(self, client, world):
        login(client, "heytea-clerk")
        assert client.get("/merchant/staff/").status_code == 403
        assert client.post("/merchant/staff/", {"username": "x"}).status_code == 403
        assert "/merchant/staff/" not in client.get("/merchant/").content.decode()

    def test_manager_cannot_reach_staff_page(self, client, world):
        login(client, "heytea-manager")
        assert client.get("/merchant/staff/").status_code == 403


@pytest.mark.django_db
class TestProfile:
    def test_manager_edits_contact_and_store_phone(self, client, world):
        login(client, "heytea-manager")
        resp = client.post("/merchant/profile/", {"contact_name": "李店长", "contact_phone": "0755-8888 1234"})
        assert resp.status_code == 302
        world.merchant.refresh_from_db()
        assert (world.merchant.contact_name, world.merchant.contact_phone) == ("李店长", "0755-8888 1234")
        resp = client.post(
            f"/merchant/profile/stores/{world.store.pk}/phone/", {f"store{world.store.pk}-phone": "0755-12"}
        )
        assert resp.status_code == 422  # too short: inline error
        assert "errorlist" in resp.content.decode()
        resp = client.post(
            f"/merchant/profile/stores/{world.store.pk}/phone/", {f"store{world.store.pk}-phone": "0755-26660018"}
        )
        assert resp.status_code == 302
        world.store.refresh_from_db()
        assert world.store.phone == "0755-26660018"
        assert AuditEvent.objects.filter(action="merchant.update").exists()

    def test_contract_fields_cannot_be_changed(self, client, world):
        login(client, "heytea-owner")
        client.post(
            "/merchant/profile/",
            {"contact_name": "A", "contact_phone": "", "commission_bp": "0", "name": "Hacked", "status": "terminated"},
        )
        world.merchant.refresh_from_db()
        assert world.merchant.commission_bp == 800
        assert world.merchant.name == "喜茶" and world.merchant.status == "active"

    def test_invalid_contact_phone_is_inline(self, client, world):
        login(client, "heytea-owner")
        resp = client.post("/merchant/profile/", {"contact_name": "A", "contact_phone": "call me maybe"})
        assert resp.status_code == 422
        assert "has-error" in resp.content.decode()

    def test_clerk_sees_profile_read_only(self, client, world):
        login(client, "heytea-clerk")
        html = client.get("/merchant/profile/").content.decode()
        assert "8.00%" in html and 'data-testid="contact-form"' not in html
        assert client.post("/merchant/profile/", {"contact_name": "x"}).status_code == 403
        resp = client.post(f"/merchant/profile/stores/{world.store.pk}/phone/", {f"store{world.store.pk}-phone": "1"})
        assert resp.status_code == 403

    def test_cannot_edit_another_merchants_store(self, client, world):
        other_store = Store.objects.get(merchant=world.other_merchant)
        login(client, "heytea-owner")
        resp = client.post(
            f"/merchant/profile/stores/{other_store.pk}/phone/", {f"store{other_store.pk}-phone": "0755-12345678"}
        )
        assert resp.status_code == 404
        other_store.refresh_from_db()
        assert other_store.phone == ""


@pytest.mark.django_db
class TestStaff:
    def test_owner_adds_a_clerk_who_can_sign_in(self, client, world):
        login(client, "heytea-owner")
        html = client.get("/merchant/staff/").content.decode()
        assert "heytea-clerk" in html and "uniqlo-owner" not in html and "coastal-admin" not in html
        resp = client.post(
            "/merchant/staff/",
            {
                "username": "heytea-clerk2",
                "display_name": "小王",
                "role": "merchant_clerk",
                "password": "Tea-Time-2026!",
            },
        )
        assert resp.status_code == 302
        user = User.objects.get(username="heytea-clerk2")
        assert (user.role, user.merchant_id, user.mall_group_id) == (
            "merchant_clerk",
            world.merchant.pk,
            world.group.pk,
        )
        client.logout()
        resp = client.post("/console/login/", {"username": "heytea-clerk2", "password": "Tea-Time-2026!"})
        assert resp.url == "/merchant/"

    def test_errors_are_inline(self, client, world):
        login(client, "heytea-owner")
        resp = client.post(
            "/merchant/staff/", {"username": "heytea-clerk", "role": "merchant_clerk", "password": "Tea-Time-2026!"}
        )
        assert resp.status_code == 422
        assert "This username is taken." in resp.content.decode()
        resp = client.post("/merchant/staff/", {"username": "newbie", "role": "merchant_clerk", "password": "1234"})
        assert resp.status_code == 422
        assert "has-error" in resp.content.decode()
        resp = client.post(
            "/merchant/staff/", {"username": "boss", "role": "merchant_owner", "password": "Tea-Time-2026!"}
        )
        assert resp.status_code == 422
        assert not User.objects.filter(username__in=["newbie", "boss"]).exists()

    def test_owner_deactivates_and_reactivates_a_clerk(self, client, world):
        clerk = world.users["merchant_clerk"]
        login(client, "heytea-owner")
        resp = client.post(f"/merchant/staff/{clerk.pk}/active/", {"active": "0"})
        assert resp.status_code == 302
        clerk.refresh_from_db()
        assert not clerk.is_active
        client.post(f"/merchant/staff/{clerk.pk}/active/", {"active": "1"})
        clerk.refresh_from_db()
        assert clerk.is_active

    def test_owner_cannot_touch_self_or_other_merchants_staff(self, client, world):
        owner = world.users["merchant_owner"]
        login(client, "heytea-owner")
        client.post(f"/merchant/staff/{owner.pk}/active/", {"active": "0"})
        owner.refresh_from_db()
        assert owner.is_active
        other = world.users["other_owner"]
        assert client.post(f"/merchant/staff/{other.pk}/active/", {"active": "0"}).status_code == 404
        other.refresh_from_db()
        assert other.is_active
