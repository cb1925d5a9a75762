"""Console: POS terminals and API keys for mall operators, and the finance Liabilities page.

Roles allowed and refused, other groups' objects as 404, a key created here signing a real POS call (and its secret
shown once only), revocation refusing the key at once; the liabilities read off the ledger after real sales, a
wallet top-up and an adjustment, and the per-merchant CSV.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pytest
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.money import format_cny
from galleria.merchants.models import PosKey, PosTerminal, Store
from galleria.merchants.services import pos_key_create, pos_terminal_create
from galleria.points.models import EarnRule
from galleria.points.services import points_adjust_request
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import member as make_member
from galleria.sales.tests.helpers import sale_in
from galleria.sales.types import PaymentIn
from galleria.testing import PASSWORD
from galleria.testing_pos import PosSigner, PosTestClient
from galleria.wallet import services as wallet_services
from galleria.wallet.models import TopUpBonusRule
from galleria.wallet.selectors import wallet_balance

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
ROLES = ["platform_admin", "group_admin", "marketing", "service", "finance", "readonly"]
MERCHANT_ROLES = ["merchant_owner", "merchant_manager", "merchant_clerk"]
POS_ROLES = {"platform_admin", "group_admin"}
FINANCE_ROLES = {"platform_admin", "group_admin", "finance"}
LOOKUP = "/api/v1/pos/members/lookup?code=13900000000"
KEYS = "/console/pos/keys/"
LIABILITIES = "/console/finance/liabilities/"
EXPORT = "/console/finance/liabilities/merchants.csv"


def login(client, world, role: str):
    user = world.users[role]
    assert client.login(username=user.username, password=PASSWORD)
    return user


def detail_url(merchant) -> str:
    return f"/console/merchants/{merchant.pk}/"


def add_terminal(client, merchant, store, name: str = "收银台1"):
    return client.post(f"/console/merchants/{merchant.pk}/pos/terminals/", {"store": store.pk, "name": name})


def add_key(client, merchant, terminal, label: str = "", request_id: str = ""):
    data = {f"t{terminal.pk}-label": label}
    if request_id:
        data[f"t{terminal.pk}-request_id"] = request_id
    return client.post(f"/console/merchants/{merchant.pk}/pos/terminals/{terminal.pk}/keys/", data)


def revoke_url(key) -> str:
    return f"/console/pos/keys/{key.pk}/revoke/"


def parse_created(html: str) -> tuple[str, str]:
    key_id = re.search(r'data-testid="key-id">([^<]+)<', html)
    secret = re.search(r'data-testid="pos-secret">([^<]+)<', html)
    assert key_id and secret, "key id and secret must be on the creation page"
    return key_id.group(1), secret.group(1)


def problem_code(resp) -> str:
    assert resp["Content-Type"] == "application/problem+json", resp.content
    return resp.json()["code"]


@pytest.fixture
def terminal(world) -> PosTerminal:
    return pos_terminal_create(actor=ACTOR, store_id=world.store.pk, name="前台收银")


@pytest.fixture
def key(terminal) -> PosKey:
    key, _secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk, label="前台电脑")
    return key


@pytest.fixture
def foreign_key(world) -> PosKey:
    store = Store.objects.create(merchant=world.foreign_merchant, name="星巴克 海岸城店", floor="L1", unit_no="L1-001")
    foreign_terminal = pos_terminal_create(actor=ACTOR, store_id=store.pk, name="星巴克收银")
    key, _secret = pos_key_create(actor=ACTOR, terminal_id=foreign_terminal.pk, label="FOREIGN-KEY")
    return key


# ================================================================ POS terminals and API keys: access


@pytest.mark.parametrize("role", ROLES)
def test_pos_pages_allow_or_forbid_by_role(client, world, role, terminal, key):
    login(client, world, role)
    allowed = role in POS_ROLES
    assert client.get(KEYS).status_code == (200 if allowed else 403)
    detail = client.get(detail_url(world.merchant))
    assert detail.status_code == 200  # every console role may read a merchant …
    html = detail.content.decode()
    assert ('data-testid="pos"' in html) is allowed  # … only POS managers see its terminals and keys
    assert (key.key_id in html) is allowed
    nav = client.get(reverse("console:merchants")).content.decode()
    assert ('data-nav="pos_keys"' in nav) is allowed
    if not allowed:
        assert add_terminal(client, world.merchant, world.store, "X").status_code == 403
        assert add_key(client, world.merchant, terminal).status_code == 403
        assert client.get(revoke_url(key)).status_code == 403
        assert client.post(revoke_url(key), {"confirm": "on"}).status_code == 403
        assert PosTerminal.objects.count() == 1 and PosKey.objects.count() == 1
        key.refresh_from_db()
        assert key.revoked_at is None


@pytest.mark.parametrize("role", MERCHANT_ROLES)
def test_merchant_roles_get_403(client, world, role, terminal, key):
    login(client, world, role)
    assert client.get(KEYS).status_code == 403
    assert add_key(client, world.merchant, terminal).status_code == 403
    assert client.post(revoke_url(key), {"confirm": "on"}).status_code == 403


def test_anonymous_goes_to_login(client, world, key):
    for url in (KEYS, revoke_url(key)):
        resp = client.get(url)
        assert resp.status_code == 302 and resp.url.startswith("/console/login/")


def test_get_on_post_only_urls_is_405(client, world, terminal):
    login(client, world, "group_admin")
    assert client.get(f"/console/merchants/{world.merchant.pk}/pos/terminals/").status_code == 405
    assert client.get(f"/console/merchants/{world.merchant.pk}/pos/terminals/{terminal.pk}/keys/").status_code == 405


# ================================================================ scope


def test_another_groups_merchant_terminal_and_key_are_404(client, world, terminal, key):
    login(client, world, "foreign_admin")
    assert add_terminal(client, world.merchant, world.store).status_code == 404
    assert add_key(client, world.merchant, terminal).status_code == 404
    # their own merchant in the URL does not open our terminal either
    assert add_key(client, world.foreign_merchant, terminal).status_code == 404
    assert client.get(revoke_url(key)).status_code == 404
    assert client.post(revoke_url(key), {"confirm": "on"}).status_code == 404
    listing = client.get(KEYS).content.decode()
    assert key.key_id not in listing and "前台收银" not in listing
    assert PosTerminal.objects.count() == 1 and PosKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None


def test_group_admin_lists_only_own_group_and_platform_admin_sees_all(client, world, key, foreign_key):
    login(client, world, "group_admin")
    html = client.get(KEYS).content.decode()
    assert key.key_id in html and foreign_key.key_id not in html and "FOREIGN-KEY" not in html
    assert client.get(revoke_url(foreign_key)).status_code == 404
    client.logout()
    login(client, world, "platform_admin")
    html = client.get(KEYS).content.decode()
    assert key.key_id in html and foreign_key.key_id in html
    assert "海岸城集团" in html and "星河商业集团" in html  # the group is named when a scope spans groups
    assert client.get(revoke_url(foreign_key)).status_code == 200


def test_a_terminal_goes_only_to_an_open_store_of_this_merchant(client, world):
    login(client, world, "group_admin")
    other_store = Store.objects.get(merchant=world.other_merchant)
    resp = add_terminal(client, world.merchant, other_store)
    assert resp.status_code == 422
    assert "Choose an open store of this merchant." in resp.content.decode()
    Store.objects.filter(pk=world.store.pk).update(is_active=False)
    assert add_terminal(client, world.merchant, world.store).status_code == 422
    assert "no open store" in client.get(detail_url(world.merchant)).content.decode()
    assert not PosTerminal.objects.exists()


# ================================================================ terminals and keys


def test_terminal_errors_are_inline(client, world, terminal):
    login(client, world, "group_admin")
    for data, message in [
        ({"store": world.store.pk, "name": ""}, "Give the terminal a name."),
        ({"store": world.store.pk, "name": "x" * 61}, "at most 60 characters"),
        ({"store": world.store.pk, "name": "前台收银"}, "This store already has a terminal with this name."),
        ({"store": "999999", "name": "A"}, "Choose an open store of this merchant."),
    ]:
        resp = client.post(f"/console/merchants/{world.merchant.pk}/pos/terminals/", data)
        assert resp.status_code == 422, data
        html = resp.content.decode()
        assert message in html and "has-error" in html and 'data-testid="merchant-name"' in html, data
    assert PosTerminal.objects.count() == 1


def test_key_made_in_the_console_signs_pos_calls_its_secret_is_shown_once_and_revoking_refuses_it(client, world):
    admin = login(client, world, "group_admin")
    resp = add_terminal(client, world.merchant, world.store, "  收银台1  ")
    terminal = PosTerminal.objects.get()
    assert resp.status_code == 302 and resp.url == f"/console/merchants/{world.merchant.pk}/#terminal-{terminal.pk}"
    assert terminal.name == "收银台1" and terminal.store_id == world.store.pk

    resp = add_key(client, world.merchant, terminal, label="前台电脑")
    assert resp.status_code == 200
    assert "no-store" in resp["Cache-Control"] and resp["Referrer-Policy"] == "no-referrer"
    html = resp.content.decode()
    key_id, secret = parse_created(html)
    key = PosKey.objects.get()
    assert (key.key_id, key.label, key.created_by, key.terminal_id) == (key_id, "前台电脑", "admin", terminal.pk)
    assert "Copy the secret now: it will not be shown again." in html
    assert f"GALLERIA_API_BASE=http://testserver/api/v1/pos/\nGALLERIA_KEY_ID={key_id}\n" in html
    assert f"GALLERIA_KEY_SECRET={secret}" in html

    # the audit trail comes from the services: who did it, never the secret
    events = {e.action: e for e in AuditEvent.objects.filter(action__startswith="pos_")}
    assert set(events) == {"pos_terminal.create", "pos_key.create"}
    assert all(e.actor_id == admin.pk and e.mall_group_id == world.group.pk for e in events.values())

    # the secret is nowhere else: the merchant page, the key list, the revoke page, the session, cookies, audit
    detail = client.get(detail_url(world.merchant)).content.decode()
    assert key_id in detail and "前台电脑" in detail and "by admin" in detail and secret not in detail
    listing = client.get(KEYS).content.decode()
    assert key_id in listing and secret not in listing
    assert secret not in client.get(revoke_url(key)).content.decode()
    assert secret not in str(dict(client.session.items()))
    assert all(secret not in morsel.value for morsel in client.cookies.values())
    assert not any(secret in str(e.changes) or secret in e.target_label for e in AuditEvent.objects.all())

    # and it is the real thing: a signed call is authenticated (404 problem: no such member — not a 401)
    pos = PosTestClient(client, PosSigner(key_id, secret))
    before = pos.get(LOOKUP)
    assert before.status_code == 404 and problem_code(before) != "auth.key_unknown"
    key.refresh_from_db()
    assert key.last_used_at is not None

    confirm = client.get(revoke_url(key))
    assert confirm.status_code == 200 and 'data-testid="revoke-form"' in confirm.content.decode()
    unconfirmed = client.post(revoke_url(key), {})
    assert unconfirmed.status_code == 422 and "Tick the box to confirm" in unconfirmed.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None

    resp = client.post(revoke_url(key), {"confirm": "on"})
    assert resp.status_code == 302 and resp.url == f"/console/merchants/{world.merchant.pk}/#terminal-{terminal.pk}"
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = AuditEvent.objects.get(action="pos_key.revoke")
    assert event.target_label == key_id and event.actor_id == admin.pk

    after = pos.get(LOOKUP)
    assert after.status_code == 401 and problem_code(after) == "auth.key_unknown"

    detail = client.get(detail_url(world.merchant)).content.decode()
    assert f"Key {key_id} was revoked." in detail
    row = re.search(rf'data-key-id="{key_id}".*?</tr>', detail, re.S)
    assert row and "Revoked" in row.group(0) and "/revoke/" not in row.group(0)
    again = client.post(revoke_url(key), {"confirm": "on"})
    assert again.status_code == 200 and "This key was revoked on" in again.content.decode()
    assert AuditEvent.objects.filter(action="pos_key.revoke").count() == 1


def test_platform_admin_manages_keys_of_any_group(client, world, foreign_key):
    login(client, world, "platform_admin")
    terminal = foreign_key.terminal
    resp = add_key(client, world.foreign_merchant, terminal, label="平台")
    assert resp.status_code == 200
    key_id, secret = parse_created(resp.content.decode())
    assert PosTestClient(client, PosSigner(key_id, secret)).get(LOOKUP).status_code == 404


def test_sending_the_same_form_twice_does_not_mint_a_second_key(client, world, terminal):
    login(client, world, "group_admin")
    first = add_key(client, world.merchant, terminal, request_id="a" * 32)
    assert first.status_code == 200
    _, secret = parse_created(first.content.decode())
    again = add_key(client, world.merchant, terminal, request_id="a" * 32)
    assert again.status_code == 302 and again.url.endswith(f"#terminal-{terminal.pk}")
    assert PosKey.objects.count() == 1
    detail = client.get(detail_url(world.merchant)).content.decode()
    assert "its secret is not shown again" in detail and secret not in detail
    assert add_key(client, world.merchant, terminal, request_id="b" * 32).status_code == 200
    assert PosKey.objects.count() == 2


def test_bad_label_and_switched_off_terminal_get_no_key(client, world, terminal):
    login(client, world, "group_admin")
    resp = add_key(client, world.merchant, terminal, label="x" * 61)
    assert resp.status_code == 422
    html = resp.content.decode()
    assert "at most 60 characters" in html and 'data-testid="pos-secret"' not in html
    PosTerminal.objects.filter(pk=terminal.pk).update(is_active=False)
    resp = add_key(client, world.merchant, terminal)
    assert resp.status_code == 422 and "switched off" in resp.content.decode()
    assert not PosKey.objects.exists()
    assert client.post(f"/console/merchants/{world.merchant.pk}/pos/terminals/999999/keys/", {}).status_code == 404


def test_key_list_filters_and_revokes_back_to_the_list(client, world, terminal, key):
    other_store = Store.objects.get(merchant=world.other_merchant)
    other_terminal = pos_terminal_create(actor=ACTOR, store_id=other_store.pk, name="优衣库收银")
    other_key, _ = pos_key_create(actor=ACTOR, terminal_id=other_terminal.pk, label="UNIQLO-KEY")
    login(client, world, "group_admin")
    html = client.get(KEYS).content.decode()
    assert key.key_id in html and other_key.key_id in html and "2 keys" in html
    html = client.get(KEYS, {"merchant": world.other_merchant.pk}).content.decode()
    assert key.key_id not in html and other_key.key_id in html
    html = client.get(KEYS, {"q": "前台电脑"}).content.decode()
    assert key.key_id in html and other_key.key_id not in html

    resp = client.post(revoke_url(other_key), {"confirm": "on", "back": "list"})
    assert resp.status_code == 302 and resp.url == KEYS
    html = client.get(KEYS, {"status": "revoked"}).content.decode()
    assert other_key.key_id in html and key.key_id not in html
    html = client.get(KEYS, {"status": "active"}).content.decode()
    assert key.key_id in html and other_key.key_id not in html
    # bad filter values are ignored, not an error
    assert client.get(KEYS, {"merchant": "nope", "status": "x"}).status_code == 200
    # htmx asks for the results only
    part = client.get(KEYS, {"status": "active"}, headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="key-results"' in part and "<html" not in part


def test_merchant_page_query_count_does_not_grow_with_keys(client, world, django_assert_max_num_queries):
    for n in range(3):
        t = pos_terminal_create(actor=ACTOR, store_id=world.store.pk, name=f"T{n}")
        for _ in range(3):
            pos_key_create(actor=ACTOR, terminal_id=t.pk)
    login(client, world, "group_admin")
    client.get(detail_url(world.merchant))
    with django_assert_max_num_queries(20):
        assert client.get(detail_url(world.merchant)).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(KEYS).status_code == 200


def test_pos_audit_events_read_well_in_the_audit_log(client, world, key):
    login(client, world, "group_admin")
    html = client.get(reverse("console:audit")).content.decode()
    assert "Created a POS API key" in html and "Added a POS terminal" in html


# ================================================================ finance: liabilities


@pytest.mark.parametrize("role", ROLES)
def test_liabilities_allow_or_forbid_by_role(client, world, role):
    login(client, world, role)
    allowed = role in FINANCE_ROLES
    assert client.get(LIABILITIES).status_code == (200 if allowed else 403)
    assert client.get(EXPORT).status_code == (200 if allowed else 403)
    nav = client.get(reverse("console:merchants")).content.decode()
    assert ('data-nav="liabilities"' in nav) is allowed


@pytest.mark.parametrize("role", MERCHANT_ROLES)
def test_merchant_roles_never_see_liabilities(client, world, role):
    login(client, world, role)
    assert client.get(LIABILITIES).status_code == 403
    assert client.get(EXPORT).status_code == 403


def _commit(data):
    return sale_commit(data=data, actor=ACTOR)


@pytest.fixture
def activity(world):
    """Sales at two merchants (one funds its own points), points paid at one, a wallet top-up with a bonus and a
    wallet payment, and a customer-service adjustment."""
    EarnRule.objects.create(
        mall_group=world.group, name="优衣库自担", scope="merchant", merchant=world.other_merchant, funder="merchant"
    )
    TopUpBonusRule.objects.create(mall_group=world.group, name="充200送10", min_amount_fen=20000, bonus_fen=1000)
    other_store = Store.objects.get(merchant=world.other_merchant)
    alice = make_member(world, "13812345678")
    bob = make_member(world, "13812345679")
    at_heytea = _commit(sale_in(world, member_id=alice.pk, amounts=(60000,)))  # ¥600 → 600 mall-funded points
    at_uniqlo = _commit(
        dataclasses.replace(
            sale_in(world, member_id=alice.pk, amounts=(30000,), points=300),  # ¥3 of points, ¥297 in money
            merchant_id=world.other_merchant.pk,
            store_id=other_store.pk,
        )
    )
    intent = wallet_services.wallet_topup_start(mall_id=world.mall.pk, member_id=bob.pk, amount_fen=20000)
    wallet_services.wallet_topup_confirm(topup_id=intent.topup_id, paid_amount_fen=20000)
    paid = sale_in(world, member_id=bob.pk, amounts=(5000,), pay=0)
    wallet_sale = _commit(dataclasses.replace(paid, payments=(PaymentIn("wallet", 5000),)))
    points_adjust_request(
        mall_group_id=world.group.pk, member_id=bob.pk, points=40, reason="补录", actor=ACTOR, tz_name="Asia/Shanghai"
    )
    return {
        "alice": alice,
        "bob": bob,
        "heytea_points": at_heytea.points_earned + wallet_sale.points_earned,
        "uniqlo_points": at_uniqlo.points_earned,
    }


def test_liabilities_show_the_ledger_after_sales_top_up_and_adjustment(client, world, activity):
    heytea, uniqlo = activity["heytea_points"], activity["uniqlo_points"]
    assert heytea == 650 and uniqlo == 297  # 1 point per ¥1 paid; the ¥50 wallet sale earns too
    outstanding = heytea + uniqlo - 300 + 40
    bob_wallet = wallet_balance(member_id=activity["bob"].pk)
    assert bob_wallet.total_fen == 20000 + 1000 - 5000

    login(client, world, "finance")
    resp = client.get(LIABILITIES)
    assert resp.status_code == 200
    html = resp.content.decode()
    ctx = resp.context
    points = ctx["points"]
    assert (points.issued, points.adjusted, points.redeemed, points.expired, points.shortfall) == (
        heytea + uniqlo,
        40,
        300,
        0,
        0,
    )
    assert points.outstanding == outstanding and points.holders == 2 and points.is_consistent
    assert re.search(rf'data-testid="points-outstanding">{re.escape(intcomma(outstanding))}<', html), (
        "outstanding points on the page"
    )
    assert 'data-testid="points-check">Reconciled with the ledger' in html

    # funders: the mall funded Heytea's points, Uniqlo its own; the outstanding balance is shared pro rata
    funders = {(row.merchant.pk if row.merchant else "mall"): row for row, _share, _value in ctx["funders"]}
    assert funders["mall"].issued == heytea and funders[world.other_merchant.pk].issued == uniqlo
    assert sum(row.outstanding for row in funders.values()) == outstanding
    assert world.merchant.pk not in funders

    # per merchant: points redeemed at Uniqlo (owed to it), wallet money spent at Heytea
    rows = {row.merchant.pk: row for row in ctx["merchants"]}
    assert rows[world.other_merchant.pk].points_redeemed == 300
    assert rows[world.other_merchant.pk].points_funded == uniqlo
    assert rows[world.merchant.pk].wallet_spent_fen == 5000 and rows[world.merchant.pk].points_redeemed == 0
    assert ctx["merchants"][0].merchant.pk == world.other_merchant.pk  # most points redeemed first
    row = re.search(rf'data-merchant="{world.other_merchant.pk}".*?</tr>', html, re.S)
    assert row and 'data-testid="redeemed">300<' in row.group(0)
    row = re.search(rf'data-merchant="{world.merchant.pk}".*?</tr>', html, re.S)
    assert row and f'data-testid="wallet-spent">{format_cny(5000)}<' in row.group(0)

    # the wallet: principal and bonus from the ledger, with the consistency check
    assert f'data-testid="wallet-total">{format_cny(16000)}<' in html
    assert f'data-testid="wallet-principal">{format_cny(bob_wallet.principal_fen)}<' in html
    assert f'data-testid="wallet-bonus">{format_cny(bob_wallet.bonus_fen)}<' in html
    assert 'data-testid="wallet-check">Reconciled with the ledger' in html

    # the chart: top merchants by points redeemed
    assert ctx["chart"] == {"labels": ["优衣库"], "values": [300]}
    assert 'id="chart-redeemed"' in html and "vendor/echarts/echarts.min.js" in html


def test_liabilities_csv_has_the_per_merchant_table(client, world, activity):
    login(client, world, "group_admin")
    resp = client.get(EXPORT)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert 'filename="liabilities-xinghe-' in resp["Content-Disposition"]
    body = resp.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][0] == "Merchant"
    by_name = {r[0]: r for r in rows[1:]}
    # the last column values the points redeemed at the points policy's payment rate (default 100 points = ¥1)
    assert by_name["优衣库"] == ["优衣库", "星河广场", str(activity["uniqlo_points"]), "300", "0.00", "3.00"]
    assert by_name["喜茶"] == ["喜茶", "星河广场", "0", "0", "50.00", "0.00"]
    assert by_name["Total"][2:] == [str(activity["uniqlo_points"]), "300", "50.00", "3.00"]


def test_liabilities_value_points_in_yuan_at_the_policys_payment_rate(client, world, activity):
    """Finance reads the points liability in ¥ too: points valued at the group's rate for points used as payment
    (here 50 points = ¥1), rounded half up to the fen; the total adds the prepaid wallet."""
    from galleria.points.models import PointsPolicy

    PointsPolicy.objects.update_or_create(mall_group=world.group, defaults={"redeem_points_per_yuan": 50})
    login(client, world, "finance")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    resp = client.get(LIABILITIES)
    html = resp.content.decode()
    outstanding = resp.context["points"].outstanding
    assert f'data-testid="points-outstanding-value">{format_cny(outstanding * 2)}<' in html
    assert f'data-testid="kpi-points-value">≈ {format_cny(outstanding * 2)}<' in html
    assert "50 points = ¥1.00" in html
    row = re.search(rf'data-merchant="{world.other_merchant.pk}".*?</tr>', html, re.S)
    assert row and f'data-testid="redeemed-value">{format_cny(600)}<' in row.group(0)  # 300 points
    assert format_cny(outstanding * 2 + resp.context["wallet"].total_fen) in html  # points and wallet together


def test_liabilities_group_large_numbers_on_chinese_pages(client, world, activity):
    """Chinese pages group thousands as English ones do (5,687, not 5687), in ¥ amounts too."""
    _commit(sale_in(world, member_id=activity["alice"].pk, amounts=(500000,)))  # ¥5,000 → 5,000 more points
    login(client, world, "finance")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    resp = client.get(LIABILITIES)
    outstanding = resp.context["points"].outstanding
    assert outstanding >= 1000
    html = resp.content.decode()
    assert f'data-testid="points-outstanding">{outstanding:,}<' in html
    assert f'data-testid="points-outstanding">{outstanding}<' not in html


def test_liabilities_are_per_group(client, world, activity):
    login(client, world, "foreign_admin")
    ctx = client.get(LIABILITIES).context
    assert ctx["points"].outstanding == 0 and ctx["merchants"] == [] and ctx["wallet"].total_fen == 0
    client.logout()
    login(client, world, "platform_admin")
    assert client.get(LIABILITIES, {"group": world.other_group.pk}).context["points"].outstanding == 0
    mine = client.get(LIABILITIES, {"group": world.group.pk})
    assert mine.context["points"].outstanding > 0 and 'data-testid="group-picker"' in mine.content.decode()
    assert client.get(LIABILITIES, {"group": "999999"}).status_code == 404
    assert client.get(EXPORT, {"group": world.other_group.pk}).status_code == 200


def test_liabilities_query_count_does_not_grow_with_sales(client, world, activity, django_assert_max_num_queries):
    for n in range(5):
        _commit(sale_in(world, member_id=activity["alice"].pk, amounts=(1000 + n,)))
    login(client, world, "finance")
    client.get(LIABILITIES)
    with django_assert_max_num_queries(12):
        assert client.get(LIABILITIES).status_code == 200


def test_empty_group_renders_empty_states(client, world):
    login(client, world, "finance")
    html = client.get(LIABILITIES).content.decode()
    assert "No points issued yet." in html and "No points or wallet money have moved through a merchant yet." in html
    assert 'data-testid="points-check">Reconciled with the ledger' in html


def test_pages_render_in_english_and_chinese(client, world, key, activity):
    login(client, world, "group_admin")
    for lang in ("en", "zh-hans"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        for url in (detail_url(world.merchant), KEYS, revoke_url(key), LIABILITIES):
            resp = client.get(url)
            assert resp.status_code == 200 and f'<html lang="{lang}">' in resp.content.decode(), (lang, url)


def test_liabilities_csv_neutralises_formulas_in_names(client, world, activity):
    """A merchant named like a spreadsheet formula is exported as text, not as a live formula for finance."""
    world.other_merchant.name = '=HYPERLINK("http://example.invalid","x")'
    world.other_merchant.save(update_fields=["name"])
    login(client, world, "group_admin")
    rows = list(csv.reader(io.StringIO(client.get(EXPORT).content.decode("utf-8").lstrip("\ufeff"))))
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://example.invalid","x")' in names
    assert not any(name.startswith("=") for name in names)
