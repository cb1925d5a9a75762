import re

import pytest

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.members import selectors, services
from galleria.messaging.models import SmsMessage
from galleria.testing import PASSWORD

PHONE = "+8613812345678"


def sms_code(phone=PHONE):
    return re.search(r"\d{6}", SmsMessage.objects.filter(phone=phone).latest("id").body).group(0)


def problem(resp, status, code):
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == code and body["status"] == status and body["title"]
    return body


@pytest.fixture
def member(world):
    return services.member_register(
        mall=world.mall,
        phone=PHONE,
        channel="desk",
        actor=Actor.system(),
        profile={"name": "李雷", "email": "li@example.com"},
    )


@pytest.mark.django_db
class TestMemberAppApi:
    def test_join_by_sms_code_then_see_me_and_code(self, client, world):
        resp = client.post("/api/v1/app/otp/request", {"phone": "138 1234 5678"}, content_type="application/json")
        assert resp.status_code == 200 and resp.json()["sent"] is True
        resp = client.post(
            "/api/v1/app/otp/verify",
            {"phone": "13812345678", "code": sms_code(), "accept_terms": True},
            content_type="application/json",
        )
        assert resp.status_code == 200, resp.content
        assert resp.json()["is_new"] is True
        me = client.get("/api/v1/app/me").json()
        assert me["phone"] == PHONE and len(me["card_no"]) == 12
        code = client.get("/api/v1/app/me/code").json()
        assert code["code"].startswith("66") and "<svg" in code["qr_svg"]
        hit = selectors.member_resolve(mall_group_id=world.group.pk, raw=code["code"])
        assert hit.member.pk == me["id"]

    def test_terms_must_be_accepted(self, client, world):
        client.post("/api/v1/app/otp/request", {"phone": PHONE}, content_type="application/json")
        resp = client.post(
            "/api/v1/app/otp/verify",
            {"phone": PHONE, "code": sms_code(), "accept_terms": False},
            content_type="application/json",
        )
        body = problem(resp, 422, "members.terms_required")
        assert "accept_terms" in body["errors"]

    def test_errors_are_problem_json(self, client, world):
        problem(
            client.post("/api/v1/app/otp/request", {"phone": "12"}, content_type="application/json"),
            422,
            "request.invalid",
        )
        problem(
            client.post("/api/v1/app/otp/request", {"phone": "123456789"}, content_type="application/json"),
            422,
            "members.phone_invalid",
        )
        client.post("/api/v1/app/otp/request", {"phone": PHONE}, content_type="application/json")
        problem(
            client.post("/api/v1/app/otp/request", {"phone": PHONE}, content_type="application/json"),
            429,
            "otp.rate_limited",
        )
        problem(
            client.post("/api/v1/app/otp/request", "{not json", content_type="application/json"),
            400,
            "request.malformed",
        )
        problem(client.get("/api/v1/app/me"), 401, "auth.required")

    def test_plates_through_the_api(self, client, world):
        client.post("/api/v1/app/otp/request", {"phone": PHONE}, content_type="application/json")
        client.post(
            "/api/v1/app/otp/verify",
            {"phone": PHONE, "code": sms_code(), "accept_terms": True},
            content_type="application/json",
        )
        resp = client.post("/api/v1/app/me/plates", {"plate": "粤bd12345"}, content_type="application/json")
        assert resp.json()["plates"] == ["粤BD12345"]
        problem(
            client.post("/api/v1/app/me/plates", {"plate": "粤B123"}, content_type="application/json"),
            422,
            "members.plate_invalid",
        )
        resp = client.delete("/api/v1/app/me/plates/粤BD12345")
        assert resp.json()["plates"] == []

    def test_openapi_is_served_and_lists_operations(self, client, world):
        spec = client.get("/api/v1/openapi.json").json()
        assert spec["openapi"].startswith("3.")
        assert "/api/v1/app/otp/request" in spec["paths"]
        docs = client.get("/api/v1/docs")
        assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


@pytest.mark.django_db
class TestStaffApi:
    def test_console_search_masks_phone_without_pii_permission(self, client, world, member):
        client.login(username="marketing", password=PASSWORD)
        body = client.get("/api/v1/console/members", {"q": "13812345678"}).json()
        assert body["count"] == 1 and body["results"][0]["phone"] == "138****5678"
        client.login(username="service", password=PASSWORD)
        body = client.get("/api/v1/console/members", {"q": member.card_no}).json()
        assert body["results"][0]["phone"] == PHONE

    def test_member_detail_is_scoped_to_the_group_and_audited(self, client, world, member):
        client.login(username="coastal-admin", password=PASSWORD)
        problem(client.get(f"/api/v1/console/members/{member.pk}"), 404, "not_found")
        client.login(username="admin", password=PASSWORD)
        resp = client.get(f"/api/v1/console/members/{member.pk}")
        assert resp.status_code == 200 and resp.json()["email"] == "li@example.com"
        assert AuditEvent.objects.filter(
            action="member.view_pii", target_id=str(member.pk), actor__username="admin"
        ).exists()
        client.login(username="root", password=PASSWORD)
        assert client.get(f"/api/v1/console/members/{member.pk}").status_code == 200

    def test_merchant_roles_cannot_use_console_api_and_console_roles_cannot_lookup(self, client, world, member):
        client.login(username="heytea-clerk", password=PASSWORD)
        problem(client.get("/api/v1/console/members"), 403, "auth.forbidden")
        client.login(username="admin", password=PASSWORD)
        problem(client.get("/api/v1/merchant/members/lookup", {"code": member.card_no}), 403, "auth.forbidden")

    def test_merchant_lookup_is_masked_and_stale_codes_are_explained(self, client, world, member):
        client.login(username="heytea-clerk", password=PASSWORD)
        code = selectors.member_code_current(member=member).code
        body = client.get("/api/v1/merchant/members/lookup", {"code": code}).json()
        assert body == {
            "card_no": member.card_no,
            "phone": "138****5678",
            "name": "李*",
            "joined_at": body["joined_at"],
            "matched_by": "dynamic_code",
        }
        stale = selectors.member_code_current(member=member, now=__import__("time").time() - 300).code
        problem(client.get("/api/v1/merchant/members/lookup", {"code": stale}), 422, "members.code_stale")
        problem(client.get("/api/v1/merchant/members/lookup", {"code": "13900000000"}), 404, "members.not_found")
        assert AuditEvent.objects.filter(action="member.lookup").count() == 1

    def test_desk_registration_via_api(self, client, world):
        client.login(username="service", password=PASSWORD)
        resp = client.post(
            "/api/v1/console/members",
            {"phone": "13700001111", "mall_id": world.mall.pk, "name": "韩梅梅"},
            content_type="application/json",
        )
        assert resp.status_code == 201, resp.content
        problem(
            client.post(
                "/api/v1/console/members",
                {"phone": "13700001111", "mall_id": world.mall.pk},
                content_type="application/json",
            ),
            409,
            "members.phone_taken",
        )
        problem(
            client.post(
                "/api/v1/console/members",
                {"phone": "13700002222", "mall_id": world.foreign_mall.pk},
                content_type="application/json",
            ),
            404,
            "malls.not_found",
        )
        client.login(username="marketing", password=PASSWORD)
        problem(
            client.post(
                "/api/v1/console/members",
                {"phone": "13700003333", "mall_id": world.mall.pk},
                content_type="application/json",
            ),
            403,
            "auth.forbidden",
        )


@pytest.mark.django_db
def test_points_simulator_answers_for_a_time_and_writes_nothing(client, world, member):
    import datetime as dt

    from galleria.points.models import PointsCampaign
    from galleria.sales.models import Sale

    PointsCampaign.objects.create(
        mall_group=world.group,
        name="会员日",
        multiplier_bp=20000,
        starts_on=dt.date(2026, 12, 8),
        ends_on=dt.date(2026, 12, 8),
    )
    client.login(username="marketing", password=PASSWORD)
    body = {"merchant_id": world.merchant.pk, "member": member.card_no, "lines": [{"amount_fen": 12800}]}
    normal = client.post(
        "/api/v1/console/points/simulate", {**body, "at": "2026-12-07T20:00:00+08:00"}, content_type="application/json"
    )
    assert normal.status_code == 200, normal.content
    assert normal.json()["points_to_earn"] == 128
    # 00:30 on Dec 8 in Shanghai is still Dec 7 in UTC: the member day is mall-local
    double = client.post(
        "/api/v1/console/points/simulate", {**body, "at": "2026-12-08T00:30:00+08:00"}, content_type="application/json"
    ).json()
    assert double["points_to_earn"] == 256 and double["explanation"]["campaign"]["name"] == "会员日"
    assert Sale.objects.count() == 0
    client.login(username="coastal-admin", password=PASSWORD)
    problem(
        client.post("/api/v1/console/points/simulate", body, content_type="application/json"),
        404,
        "merchants.not_found",
    )
