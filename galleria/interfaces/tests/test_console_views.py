"""Console pages through the Django test client: permissions by role, scope isolation, audit and inline errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.members.models import ConsentPurpose, IdentifierKind, JoinChannel, Member, MemberIdentifier
from galleria.members.services import member_identifier_add, member_register
from galleria.merchants.models import Merchant, Store
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
ROLES = ["platform_admin", "group_admin", "marketing", "service", "finance", "readonly"]
MERCHANT_ROLES = ["merchant_owner", "merchant_manager", "merchant_clerk"]

# page name → roles (of ROLES) that may open it
PAGES: dict[str, set[str]] = {
    "console:home": set(ROLES),
    "console:members": set(ROLES),
    "console:member_new": {"platform_admin", "group_admin", "service"},
    "console:merchants": set(ROLES),
    "console:merchant_new": {"platform_admin", "group_admin"},
    "console:staff": {"platform_admin", "group_admin"},
    "console:staff_new": {"platform_admin", "group_admin"},
    "console:audit": {"platform_admin", "group_admin", "finance"},
}


def login(client, world, role: str):
    user = world.users[role]
    assert client.login(username=user.username, password=PASSWORD)
    return user


def register(world, phone: str, *, name: str = "", mall=None, channel: str = JoinChannel.APP, **kwargs) -> Member:
    return member_register(
        mall=mall or world.mall, phone=phone, channel=channel, actor=ACTOR, profile={"name": name}, **kwargs
    )


@pytest.fixture
def member(world):
    m = register(
        world,
        "13812345678",
        name="张三",
        consents=[ConsentPurpose.PRIVACY_POLICY, ConsentPurpose.MARKETING_SMS],
    )
    member_identifier_add(member_id=m.pk, actor=ACTOR, kind=IdentifierKind.PLATE, value="粤B12345")
    return m


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize("role", ROLES)
def test_every_console_page_allows_or_forbids_by_role(client, world, member, role):
    login(client, world, role)
    for name, allowed in PAGES.items():
        resp = client.get(reverse(name))
        expected = 200 if role in allowed else 403
        assert resp.status_code == expected, (name, role, resp.status_code)
    for name, args in [
        ("console:member_detail", [member.pk]),
        ("console:merchant_detail", [world.merchant.pk]),
        ("console:members_export", []),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 200, (name, role)
    edit = client.get(reverse("console:member_edit", args=[member.pk]))
    assert edit.status_code == (200 if role in PAGES["console:member_new"] else 403)
    merchant_edit = client.get(reverse("console:merchant_edit", args=[world.merchant.pk]))
    assert merchant_edit.status_code == (200 if role in PAGES["console:merchant_new"] else 403)


@pytest.mark.parametrize("role", MERCHANT_ROLES)
def test_merchant_roles_never_get_console_pages(client, world, member, role):
    login(client, world, role)
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(reverse("console:member_detail", args=[member.pk])).status_code == 403
    assert client.get(reverse("console:merchant_detail", args=[world.merchant.pk])).status_code == 403
    assert client.get(reverse("console:members_export")).status_code == 403


def test_anonymous_is_sent_to_login(client, world):
    resp = client.get(reverse("console:members"))
    assert resp.status_code == 302 and resp.url.startswith(reverse("console:login"))


def test_navigation_shows_only_permitted_items(client, world):
    login(client, world, "marketing")
    html = client.get(reverse("console:home")).content.decode()
    assert 'data-nav="members"' in html and 'data-nav="merchants"' in html
    assert 'data-nav="staff"' not in html and 'data-nav="audit"' not in html and "django-admin" not in html
    client.logout()
    login(client, world, "group_admin")
    html = client.get(reverse("console:home")).content.decode()
    assert 'data-nav="staff"' in html and 'data-nav="audit"' in html and 'data-nav="django-admin"' not in html
    client.logout()
    login(client, world, "platform_admin")
    html = client.get(reverse("console:home")).content.decode()
    assert 'data-nav="django-admin"' in html


# ---------------------------------------------------------------- scope isolation


def test_foreign_group_admin_gets_404_for_objects_of_another_group(client, world, member):
    login(client, world, "foreign_admin")
    assert client.get(reverse("console:member_detail", args=[member.pk])).status_code == 404
    assert client.get(reverse("console:member_edit", args=[member.pk])).status_code == 404
    assert client.post(reverse("console:member_phone", args=[member.pk])).status_code == 404
    assert client.get(reverse("console:merchant_detail", args=[world.merchant.pk])).status_code == 404
    assert client.get(reverse("console:merchant_edit", args=[world.merchant.pk])).status_code == 404
    store_url = reverse("console:store_edit", args=[world.merchant.pk, world.store.pk])
    assert client.get(store_url).status_code == 404
    assert client.get(reverse("console:staff_edit", args=[world.users["marketing"].pk])).status_code == 404
    # and lists do not leak either
    members = client.get(reverse("console:members"), {"q": "13812345678"}).content.decode()
    assert member.card_no not in members
    merchants = client.get(reverse("console:merchants")).content.decode()
    assert "喜茶" not in merchants and "星巴克" in merchants
    assert not AuditEvent.objects.filter(action="member.view", target_id=str(member.pk)).exists()


def test_platform_admin_sees_every_group(client, world, member):
    login(client, world, "platform_admin")
    assert client.get(reverse("console:member_detail", args=[member.pk])).status_code == 200
    assert client.get(reverse("console:merchant_detail", args=[world.foreign_merchant.pk])).status_code == 200
    merchants = client.get(reverse("console:merchants")).content.decode()
    assert "喜茶" in merchants and "星巴克" in merchants


def test_a_foreign_mall_cannot_be_chosen_for_a_registration(client, world):
    login(client, world, "group_admin")
    resp = client.post(
        reverse("console:member_new"),
        {"phone": "13900001111", "join_mall": world.foreign_mall.pk, "gender": "unknown", "accepts_policy": "on"},
    )
    assert resp.status_code == 400
    assert not Member.objects.exists()


# ---------------------------------------------------------------- dashboard


def test_dashboard_counts_members_in_mall_local_days(client, world, django_assert_max_num_queries):
    # 00:30 Shanghai today is still "yesterday" in UTC: it must count as today.
    now = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8)))
    local_midnight = now.replace(hour=0, minute=30, second=0, microsecond=0)
    register(world, "13800000001", joined_at=local_midnight)
    register(world, "13800000002", channel=JoinChannel.POS, mall=world.mall2, joined_at=now - dt.timedelta(days=40))
    register(world, "13800000003", channel=JoinChannel.DESK)
    member_register(mall=world.foreign_mall, phone="13800000004", channel=JoinChannel.APP, actor=ACTOR)
    login(client, world, "marketing")
    with django_assert_max_num_queries(12):
        resp = client.get(reverse("console:home"))
    stats = resp.context["stats"]
    assert stats.total == 3  # the foreign group's member is not counted
    assert stats.new_today == 2
    assert sum(n for _day, n in stats.daily) == 2
    assert dict(stats.by_channel) == {"app": 1, "pos": 1, "desk": 1}
    assert dict(stats.by_mall) == {"星河广场": 2, "星河天地": 1}
    html = resp.content.decode()
    assert 'id="chart-daily"' in html and "vendor/echarts/echarts.min.js" in html and "galleria/js/console.js" in html


# ---------------------------------------------------------------- members


def test_member_search_by_identifier_and_name(client, world, member):
    register(world, "13900000000", name="李四")
    login(client, world, "readonly")
    for query in ["13812345678", member.card_no, "粤B12345", "张"]:
        resp = client.get(reverse("console:members"), {"q": query})
        rows = [row.member.pk for row in resp.context["rows"]]
        assert rows == [member.pk], query
    html = client.get(reverse("console:members")).content.decode()
    assert "138****5678" in html and "13812345678" not in html


def test_member_search_htmx_returns_only_the_results(client, world, member):
    login(client, world, "readonly")
    resp = client.get(reverse("console:members"), {"q": "张"}, headers={"HX-Request": "true"})
    html = resp.content.decode()
    assert 'data-testid="member-results"' in html and "<html" not in html and member.card_no in html


def test_member_list_paginates_and_filters(client, world):
    for i in range(30):
        register(world, f"1370000{i:04d}", channel=JoinChannel.POS if i % 2 else JoinChannel.APP)
    login(client, world, "readonly")
    first = client.get(reverse("console:members"))
    assert len(first.context["rows"]) == 25 and first.context["page_obj"].paginator.num_pages == 2
    second = client.get(reverse("console:members"), {"page": 2})
    assert len(second.context["rows"]) == 5
    pos = client.get(reverse("console:members"), {"channel": "pos"})
    assert pos.context["page_obj"].paginator.count == 15
    bad = client.get(reverse("console:members"), {"mall": "nope", "page": "x"})
    assert bad.status_code == 200


def _export(client, **params):
    resp = client.get(reverse("console:members_export"), params)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_masks_phones_without_view_pii_and_is_audited(client, world, member):
    register(world, "13900000000", name="李四")
    login(client, world, "marketing")
    rows = _export(client, q="张")
    assert len(rows) == 2 and rows[1][0] == member.card_no
    assert rows[1][1] == "138****5678"
    assert "13812345678" not in "".join(",".join(r) for r in rows)
    event = AuditEvent.objects.get(action="member.export")
    assert event.actor_label == "marketing" and event.changes["count"] == 1 and event.changes["phones"] == "masked"
    assert event.mall_group_id == world.group.pk


def test_csv_export_shows_full_phones_with_view_pii(client, world, member):
    login(client, world, "service")
    rows = _export(client)
    assert rows[1][1] == "13812345678"
    assert AuditEvent.objects.get(action="member.export").changes["phones"] == "full"


def test_member_360_shows_identifiers_and_consents_and_records_a_view(client, world, member):
    user = login(client, world, "service")
    resp = client.get(reverse("console:member_detail", args=[member.pk]))
    html = resp.content.decode()
    assert member.card_no in html and "粤B12345" in html and "138****5678" in html
    assert "13812345678" not in html  # the full phone needs the audited button
    consents = dict(resp.context["consents"])
    assert consents[ConsentPurpose.PRIVACY_POLICY.label] is True
    assert consents[ConsentPurpose.MARKETING_SMS.label] is True
    assert consents[ConsentPurpose.MARKETING_EMAIL.label] is None
    event = AuditEvent.objects.get(action="member.view")
    assert event.actor_id == user.pk and event.target_type == "member" and event.target_id == str(member.pk)
    assert event.mall_group_id == world.group.pk
    assert 'data-testid="reveal-phone"' in html


def test_show_full_phone_is_audited_and_needs_view_pii(client, world, member):
    login(client, world, "marketing")
    html = client.get(reverse("console:member_detail", args=[member.pk])).content.decode()
    assert 'data-testid="reveal-phone"' not in html
    assert client.post(reverse("console:member_phone", args=[member.pk])).status_code == 403
    client.logout()
    login(client, world, "service")
    resp = client.post(reverse("console:member_phone", args=[member.pk]), headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "13812345678" in resp.content.decode()
    assert AuditEvent.objects.filter(action="member.view_pii", target_id=str(member.pk)).count() == 1
    assert client.get(reverse("console:member_phone", args=[member.pk])).status_code == 405


def test_non_pii_roles_see_birthday_and_email_masked(client, world):
    m = member_register(
        mall=world.mall,
        phone="13812345679",
        channel=JoinChannel.APP,
        actor=ACTOR,
        profile={"name": "王五", "birthday": dt.date(1990, 5, 17), "email": "wangwu@example.com"},
    )
    login(client, world, "readonly")
    html = client.get(reverse("console:member_detail", args=[m.pk])).content.decode()
    assert "1990-05-17" not in html and "wangwu@example.com" not in html and "w***@example.com" in html


@pytest.mark.parametrize("role", ["marketing", "finance", "readonly"])
def test_non_pii_roles_see_names_masked_everywhere(client, world, role):
    """PIPL's minimum necessary: a role without members.view_pii tells members apart by card and masked name."""
    m = register(world, "13812345670", name="欧阳娜娜")
    login(client, world, role)
    listing = client.get(reverse("console:members"), {"q": "欧阳"}).content.decode()
    detail = client.get(reverse("console:member_detail", args=[m.pk])).content.decode()
    for html in (listing, detail):
        assert "欧阳娜娜" not in html and "欧**娜" in html
    rows = _export(client, q="欧阳")
    assert rows[1][2] == "欧**娜"
    api = client.get("/api/v1/console/members", {"q": "欧阳"}).json()
    assert api["results"][0]["name"] == "欧**娜"


def test_pii_roles_see_names_in_full(client, world):
    m = register(world, "13812345670", name="欧阳娜娜")
    login(client, world, "service")
    assert "欧阳娜娜" in client.get(reverse("console:member_detail", args=[m.pk])).content.decode()
    assert _export(client, q="欧阳")[1][2] == "欧阳娜娜"
    assert client.get("/api/v1/console/members", {"q": "欧阳"}).json()["results"][0]["name"] == "欧阳娜娜"


def test_identifier_add_and_remove(client, world, member):
    login(client, world, "service")
    url = reverse("console:member_identifier_add", args=[member.pk])
    resp = client.post(url, {"kind": "plate", "value": "粤b·54321"})
    assert resp.status_code == 302
    assert MemberIdentifier.objects.filter(member=member, kind="plate", value="粤B54321").exists()
    bad = client.post(url, {"kind": "plate", "value": "not a plate"})
    assert bad.status_code == 400 and "粤B12345 or 粤BD12345" in bad.content.decode()
    other = register(world, "13900000009")
    taken = client.post(
        reverse("console:member_identifier_add", args=[other.pk]), {"kind": "plate", "value": "粤B54321"}
    )
    assert taken.status_code == 400 and "This plate is bound to another member." in unescape(taken.content.decode())
    row = MemberIdentifier.objects.get(member=member, value="粤B54321")
    resp = client.post(reverse("console:member_identifier_remove", args=[member.pk, row.pk]))
    assert resp.status_code == 302 and not MemberIdentifier.objects.filter(pk=row.pk).exists()
    phone_row = MemberIdentifier.objects.get(member=member, kind="phone")
    client.post(reverse("console:member_identifier_remove", args=[member.pk, phone_row.pk]))
    assert MemberIdentifier.objects.filter(pk=phone_row.pk).exists()


def test_profile_edit_with_inline_errors(client, world, member):
    login(client, world, "service")
    url = reverse("console:member_edit", args=[member.pk])
    bad = client.post(url, {"name": "张三", "gender": "female", "birthday": "2999-01-01", "email": "nope"})
    assert bad.status_code == 400
    form = bad.context["form"]
    assert "birthday" in form.errors and "email" in form.errors
    ok = client.post(url, {"name": "张三丰", "gender": "male", "birthday": "1980-02-03", "email": "z@example.com"})
    assert ok.status_code == 302
    member.refresh_from_db()
    assert member.name == "张三丰" and member.birthday == dt.date(1980, 2, 3)
    assert AuditEvent.objects.filter(action="member.update", target_id=str(member.pk)).exists()


def test_desk_registration(client, world):
    login(client, world, "service")
    resp = client.post(
        reverse("console:member_new"),
        {
            "phone": "139 0000 1111",
            "join_mall": world.mall2.pk,
            "name": "赵六",
            "gender": "female",
            "accepts_policy": "on",
            "marketing": ["marketing_sms"],
        },
    )
    assert resp.status_code == 302
    member = Member.objects.get(phone="+8613900001111")
    assert member.join_channel == "desk" and member.join_mall == world.mall2 and member.name == "赵六"
    assert set(member.consents.values_list("purpose", flat=True)) == {"privacy_policy", "marketing_sms"}


def test_desk_registration_with_a_taken_phone_shows_an_inline_error_and_links_the_member(client, world, member):
    login(client, world, "service")
    resp = client.post(
        reverse("console:member_new"),
        {"phone": "13812345678", "join_mall": world.mall.pk, "gender": "unknown", "accepts_policy": "on"},
    )
    assert resp.status_code == 400
    assert resp.context["form"].errors["phone"]
    html = resp.content.decode()
    assert reverse("console:member_detail", args=[member.pk]) in html and 'data-testid="existing-member"' in html
    assert Member.objects.count() == 1


def test_desk_registration_requires_policy_and_a_valid_phone(client, world):
    login(client, world, "service")
    resp = client.post(
        reverse("console:member_new"), {"phone": "12345", "join_mall": world.mall.pk, "gender": "unknown"}
    )
    assert resp.status_code == 400 and "accepts_policy" in resp.context["form"].errors
    resp = client.post(
        reverse("console:member_new"),
        {"phone": "12345", "join_mall": world.mall.pk, "gender": "unknown", "accepts_policy": "on"},
    )
    assert resp.status_code == 400 and "phone" in resp.context["form"].errors


# ---------------------------------------------------------------- merchants


MERCHANT_DATA = {
    "name": "奈雪的茶",
    "category": "dining",
    "status": "active",
    "legal_name": "深圳市品道餐饮管理有限公司",
    "credit_code": "91440300MA5DC1234X",
    "contact_name": "陈经理",
    "contact_phone": "0755-88886666",
    "contract_no": "XH-2026-031",
    "contract_starts_on": "2026-01-01",
    "contract_ends_on": "2028-12-31",
    "commission_bp": "650",
    "area_m2": "120",
}


def test_merchant_create_edit_and_store(client, world):
    login(client, world, "group_admin")
    resp = client.post(reverse("console:merchant_new"), {**MERCHANT_DATA, "mall": world.mall.pk})
    assert resp.status_code == 302
    merchant = Merchant.objects.get(name="奈雪的茶")
    assert merchant.commission_bp == 650 and merchant.contract_ends_on == dt.date(2028, 12, 31)
    edit = client.post(
        reverse("console:merchant_edit", args=[merchant.pk]), {**MERCHANT_DATA, "status": "suspended", "area_m2": "150"}
    )
    assert edit.status_code == 302
    merchant.refresh_from_db()
    assert merchant.status == "suspended" and merchant.area_m2 == 150
    store = client.post(
        reverse("console:store_new", args=[merchant.pk]),
        {"name": "奈雪 星河广场店", "floor": "L1", "unit_no": "L1-020", "phone": "", "is_active": "on"},
    )
    assert store.status_code == 302
    dup = client.post(
        reverse("console:store_new", args=[merchant.pk]),
        {"name": "again", "floor": "L1", "unit_no": "L1-020", "is_active": "on"},
    )
    assert dup.status_code == 400 and "unit_no" in dup.context["store_form"].errors
    saved = Store.objects.get(merchant=merchant)
    resp = client.post(
        reverse("console:store_edit", args=[merchant.pk, saved.pk]),
        {"name": "奈雪 星河广场旗舰店", "floor": "L1", "unit_no": "L1-020", "phone": "0755-1"},
    )
    assert resp.status_code == 302
    saved.refresh_from_db()
    assert saved.name == "奈雪 星河广场旗舰店" and saved.is_active is False
    detail = client.get(reverse("console:merchant_detail", args=[merchant.pk])).content.decode()
    assert "奈雪 星河广场旗舰店" in detail and "6.50%" in detail
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"merchant.create", "merchant.update", "store.save"} <= actions


def test_merchant_create_with_a_duplicate_name_shows_an_inline_error(client, world):
    login(client, world, "group_admin")
    resp = client.post(reverse("console:merchant_new"), {**MERCHANT_DATA, "name": "喜茶", "mall": world.mall.pk})
    assert resp.status_code == 400
    assert resp.context["form"].errors["name"] == ["A merchant with this name already exists in this mall."]
    assert 'data-field="name"' in resp.content.decode()
    # the same name in another mall is fine
    ok = client.post(reverse("console:merchant_new"), {**MERCHANT_DATA, "name": "喜茶", "mall": world.mall2.pk})
    assert ok.status_code == 302


def test_merchant_form_errors_are_inline_never_500(client, world):
    login(client, world, "group_admin")
    data = {
        **MERCHANT_DATA,
        "mall": world.mall.pk,
        "commission_bp": "20000",
        "contract_starts_on": "2027-01-01",
        "contract_ends_on": "2026-01-01",
        "category": "nope",
    }
    resp = client.post(reverse("console:merchant_new"), data)
    assert resp.status_code == 400
    errors = resp.context["form"].errors
    assert {"commission_bp", "contract_ends_on", "category"} <= set(errors)
    foreign = client.post(reverse("console:merchant_new"), {**MERCHANT_DATA, "mall": world.foreign_mall.pk})
    assert foreign.status_code == 400 and "mall" in foreign.context["form"].errors


def test_merchant_list_filters(client, world):
    login(client, world, "readonly")
    resp = client.get(reverse("console:merchants"), {"category": "fashion"})
    assert [m.name for m, _pct in resp.context["rows"]] == ["优衣库"]
    resp = client.get(reverse("console:merchants"), {"q": "L1-018"})
    assert [m.name for m, _pct in resp.context["rows"]] == ["喜茶"]
    html = client.get(reverse("console:merchants")).content.decode()
    assert 'data-testid="new-merchant"' not in html


# ---------------------------------------------------------------- staff


def test_staff_create_and_edit(client, world):
    login(client, world, "group_admin")
    resp = client.post(
        reverse("console:staff_new"),
        {"username": "desk-1", "display_name": "前台小王", "password": "Galleria-Desk-2026", "role": "service"},
    )
    assert resp.status_code == 302
    from galleria.accounts.models import User

    user = User.objects.get(username="desk-1")
    assert user.mall_group_id == world.group.pk and user.role == "service"
    resp = client.post(
        reverse("console:staff_new"),
        {
            "username": "heytea-2",
            "password": "Galleria-Desk-2026",
            "role": "merchant_clerk",
            "merchant": world.merchant.pk,
        },
    )
    assert resp.status_code == 302 and User.objects.get(username="heytea-2").merchant_id == world.merchant.pk
    edit = client.post(
        reverse("console:staff_edit", args=[user.pk]),
        {"display_name": "前台王", "role": "marketing", "is_active": ""},
    )
    assert edit.status_code == 302
    user.refresh_from_db()
    assert user.role == "marketing" and not user.is_active and user.display_name == "前台王"


def test_staff_form_errors_inline(client, world):
    login(client, world, "group_admin")
    url = reverse("console:staff_new")
    taken = client.post(url, {"username": "marketing", "password": "Galleria-Desk-2026", "role": "service"})
    assert taken.status_code == 400 and taken.context["form"].errors["username"] == ["This username is taken."]
    weak = client.post(url, {"username": "new-1", "password": "123", "role": "service"})
    assert weak.status_code == 400 and "password" in weak.context["form"].errors
    no_merchant = client.post(url, {"username": "new-2", "password": "Galleria-Desk-2026", "role": "merchant_clerk"})
    assert no_merchant.status_code == 400 and "merchant" in no_merchant.context["form"].errors
    foreign = client.post(
        url,
        {
            "username": "new-3",
            "password": "Galleria-Desk-2026",
            "role": "merchant_clerk",
            "merchant": world.foreign_merchant.pk,
        },
    )
    assert foreign.status_code == 400 and "merchant" in foreign.context["form"].errors
    platform = client.post(url, {"username": "new-4", "password": "Galleria-Desk-2026", "role": "platform_admin"})
    assert platform.status_code == 400 and "role" in platform.context["form"].errors
    me = world.users["group_admin"]
    self_change = client.post(
        reverse("console:staff_edit", args=[me.pk]), {"display_name": "me", "role": "readonly", "is_active": "on"}
    )
    assert self_change.status_code == 400
    assert "You cannot change your own role" in self_change.content.decode()


# ---------------------------------------------------------------- audit log


def test_audit_log_filters_and_scope(client, world, member):
    login(client, world, "group_admin")
    client.get(reverse("console:member_detail", args=[member.pk]))
    foreign = member_register(mall=world.foreign_mall, phone="13800000004", channel=JoinChannel.APP, actor=ACTOR)
    resp = client.get(reverse("console:audit"))
    targets = {r.event.target_id for r in resp.context["rows"]}
    assert str(member.pk) in targets and str(foreign.pk) not in targets
    resp = client.get(reverse("console:audit"), {"action": "member.view"})
    assert {r.event.action for r in resp.context["rows"]} == {"member.view"}
    resp = client.get(reverse("console:audit"), {"action": "member.*", "actor": "admin"})
    assert {r.event.action for r in resp.context["rows"]} == {"member.view"}
    resp = client.get(reverse("console:audit"), {"actor": "test"})
    assert {r.event.action for r in resp.context["rows"]} >= {"member.register", "member.identifier_add"}


def test_audit_log_masks_personal_data_for_roles_without_view_pii(client, world, member):
    from galleria.members.services import member_phone_change

    member_phone_change(member_id=member.pk, actor=ACTOR, phone="13912345678")
    login(client, world, "finance")
    html = client.get(reverse("console:audit")).content.decode()
    assert "139****5678" in html and "+8613912345678" not in html
    client.logout()
    login(client, world, "group_admin")
    assert "+8613912345678" in client.get(reverse("console:audit")).content.decode()


def test_model_validation_errors_from_the_service_land_on_the_field(client, world, monkeypatch):
    """If the form's own check misses a duplicate (a race), full_clean()'s error is still shown inline."""
    from galleria.interfaces.console import forms as console_forms

    monkeypatch.setattr(console_forms, "merchant_name_taken", lambda **kwargs: False)
    monkeypatch.setattr(console_forms, "store_unit_taken", lambda **kwargs: False)
    login(client, world, "group_admin")
    resp = client.post(reverse("console:merchant_new"), {**MERCHANT_DATA, "name": "喜茶", "mall": world.mall.pk})
    assert resp.status_code == 400
    assert resp.context["form"].errors["name"] == ["A merchant with this name already exists in this mall."]
    resp = client.post(
        reverse("console:store_new", args=[world.merchant.pk]),
        {"name": "x", "floor": "L1", "unit_no": "L1-018", "is_active": "on"},
    )
    assert resp.status_code == 400
    assert resp.context["store_form"].errors["unit_no"] == ["This merchant already has a store in this unit."]


def test_list_pages_have_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    for i in range(40):
        register(world, f"1370000{i:04d}", name=f"会员{i}")
    login(client, world, "group_admin")
    client.get(reverse("console:home"))  # warm the session
    for name in ("console:members", "console:merchants", "console:staff", "console:audit"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(name)).status_code == 200


def test_csv_export_neutralises_formulas(client, world):
    register(world, "13700000001", name="=HYPERLINK(1)")
    login(client, world, "group_admin")
    rows = _export(client)
    assert rows[1][2] == "'=HYPERLINK(1)"


def test_sign_out(client, world):
    login(client, world, "group_admin")
    resp = client.post(reverse("console:logout"))
    assert resp.status_code == 302 and resp.url == reverse("console:login")
    assert client.get(reverse("console:home")).status_code == 302


def test_dashboard_uses_the_malls_time_zone_when_they_share_one(client, world):
    from galleria.malls.models import Mall

    Mall.objects.filter(group=world.group).update(timezone="Asia/Urumqi")
    login(client, world, "readonly")
    assert "Asia/Urumqi" in client.get(reverse("console:home")).content.decode()
    Mall.objects.filter(pk=world.mall2.pk).update(timezone="Asia/Shanghai")
    client.logout()
    login(client, world, "readonly")
    assert "Asia/Shanghai" in client.get(reverse("console:home")).content.decode()


def test_audit_trail_shows_labels_not_stored_values(world):
    from galleria.accounts.selectors import scope_for_user
    from galleria.interfaces.console.helpers import change_rows

    rows = change_rows(
        {"channel": [None, "desk"], "category": ["dining", "fashion"]},
        scope_for_user(world.users["group_admin"]),
        {"channel": "Channel", "category": "Category"},
    )
    assert rows == [("Channel", "— → Service desk"), ("Category", "Dining → Fashion")]
