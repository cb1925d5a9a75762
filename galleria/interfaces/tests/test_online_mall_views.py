"""The online mall's screens (step C3): the merchant portal's shop (settings, products, options → SKUs, pictures,
on/off sale, stock), the console's categories, shelves and takedown, and the member app's mall (home, search,
category, product with the option picker). Permissions, bad input shown inline (never a 500, nothing written), and
tenant isolation: one merchant or mall group never sees or edits another's products."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from galleria.audit.models import AuditEvent
from galleria.commerce import services_catalog as catalog
from galleria.commerce.models import Category, Product, Shelf, Sku, SkuStock
from galleria.commerce.tests.catalog_helpers import categories, open_online_mall, picture, product
from galleria.commerce.tests.helpers import ACTOR, member
from galleria.commerce.types import OnlineProductIn, OnlineSettingsIn
from galleria.testing import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username: str) -> None:
    assert client.login(username=username, password=PASSWORD)


def as_member(client, m) -> None:
    session = client.session
    session["member_id"] = m.pk
    session.save()


@pytest.fixture
def mall(world):
    open_online_mall(world)
    top, child = categories(world)
    tea = product(world, category=child, subtitle="浓郁芝士")
    sku = Sku.objects.filter(product=tea).order_by("pk").first()
    catalog.sku_stock_set(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        sku_id=sku.pk,
        store_id=world.store.pk,
        on_hand=20,
        reason="",
        actor=ACTOR,
    )
    return {"top": top, "child": child, "tea": tea, "sku": sku}


# ------------------------------------------------------------------------------------------------- portal


class TestPortalProducts:
    def test_owner_creates_a_product_with_two_options_and_stock(self, client, world, mall):
        login(client, "heytea-owner")
        resp = client.post(
            "/merchant/shop/products/new/",
            {"title": "多肉葡萄", "subtitle": "", "category": mall["child"].pk, "allow_pickup": "on", "sort_order": 0},
        )
        assert resp.status_code == 302
        new = Product.objects.get(title="多肉葡萄")
        assert new.merchant_id == world.merchant.pk and new.status == "draft"
        assert resp["Location"] == f"/merchant/shop/products/{new.pk}/options/"
        # the matrix from two options (2 × 2), then the prices
        data = {
            "option-0-name": "杯型",
            "option-0-values": "中杯，大杯",
            "option-1-name": "冰量",
            "option-1-values": "少冰, 去冰",
        }
        resp = client.post(resp["Location"], {**data, "action": "matrix"})
        assert resp.status_code == 200
        rows = resp.context["editor"].rows
        assert [r.label for r in rows] == ["中杯 / 少冰", "中杯 / 去冰", "大杯 / 少冰", "大杯 / 去冰"]
        for i, row in enumerate(rows):
            data |= {f"sku-{i}-key": row.key, f"sku-{i}-price": "29" if i < 2 else "32.50"}
            if i != 3:
                data[f"sku-{i}-sell"] = "1"
        resp = client.post(f"/merchant/shop/products/{new.pk}/options/", {**data, "action": "save"})
        assert resp.status_code == 302, resp.context and resp.context["editor"]
        skus = Sku.objects.filter(product=new, is_active=True).order_by("pk")
        assert [(s.name, s.price_fen) for s in skus] == [
            ("中杯 / 少冰", 2900),
            ("中杯 / 去冰", 2900),
            ("大杯 / 少冰", 3250),
        ]
        resp = client.post(
            f"/merchant/shop/stock/{skus[0].pk}/",
            {"store": world.store.pk, "mode": "set", "value": 12, "reason": ""},
        )
        assert resp.status_code == 302
        assert SkuStock.objects.get(sku=skus[0], store=world.store).on_hand == 12
        resp = client.post(f"/merchant/shop/products/{new.pk}/status/", {"action": "publish"})
        assert resp.status_code == 302
        new.refresh_from_db()
        assert new.status == "on_sale"

    def test_bad_input_is_shown_inline_and_writes_nothing(self, client, world, mall):
        login(client, "heytea-owner")
        before = AuditEvent.objects.count()
        resp = client.post("/merchant/shop/products/new/", {"title": "", "sort_order": "x"})
        assert resp.status_code == 400
        assert resp.context["form"].errors["title"] and resp.context["form"].errors["sort_order"]
        resp = client.post("/merchant/shop/products/new/", {"title": "无", "sort_order": 0})
        assert resp.status_code == 400 and "allow_pickup" in resp.context["form"].errors  # neither pickup nor delivery
        tea = mall["tea"]
        url = f"/merchant/shop/products/{tea.pk}/options/"
        same = {"option-0-name": "杯型", "option-0-values": "中杯, 中杯", "action": "save"}
        resp = client.post(url, same)
        assert resp.status_code == 400 and resp.context["editor"].option_errors[0]
        bad_price = {"option-0-name": "杯型", "option-0-values": "中杯", "sku-0-key": "杯型=中杯", "sku-0-sell": "1"}
        resp = client.post(url, {**bad_price, "sku-0-price": "abc", "action": "save"})
        assert resp.status_code == 400 and resp.context["editor"].rows[0].error
        resp = client.post(url, {**bad_price, "sku-0-price": "1.234", "action": "save"})
        assert resp.status_code == 400 and resp.context["editor"].rows[0].error
        resp = client.post(url, {**bad_price, "sku-0-price": "0", "action": "save"})
        assert resp.status_code == 400 and resp.context["editor"].rows[0].error
        nothing = {"option-0-name": "杯型", "option-0-values": "中杯", "sku-0-key": "杯型=中杯", "action": "save"}
        resp = client.post(url, nothing)
        assert resp.status_code == 400 and resp.context["editor"].error
        resp = client.post(f"/merchant/shop/products/{tea.pk}/", {"title": "x" * 61, "sort_order": 0})
        assert resp.status_code == 400 and resp.context["form"].errors["title"]
        resp = client.post(f"/merchant/shop/products/{tea.pk}/images/", {"image": SimpleUploadedFile("a.png", b"nope")})
        assert resp.status_code == 400 and resp.context["image_form"].errors["image"]
        sku = mall["sku"]
        for body in (
            {"store": world.store.pk, "mode": "set", "value": "many"},
            {"store": world.store.pk, "mode": "set", "value": -1},
            {"store": world.store.pk, "mode": "adjust", "value": 5, "reason": ""},  # ± needs a reason
            {"store": 999999, "mode": "set", "value": 3},
        ):
            resp = client.post(f"/merchant/shop/stock/{sku.pk}/", body)
            assert resp.status_code == 400, body
            row = next(r for r in resp.context["rows"] if r["sku"].pk == sku.pk)
            assert row["failed"]["error"], body
        assert SkuStock.objects.get(sku=sku, store=world.store).on_hand == 20
        assert AuditEvent.objects.count() == before
        Sku.objects.get(pk=sku.pk)  # still active

    def test_publish_refused_lists_what_is_missing(self, client, world, mall):
        login(client, "heytea-owner")
        draft = catalog.online_product_save(
            mall_group_id=world.group.pk,
            merchant_id=world.merchant.pk,
            product_id=None,
            data=OnlineProductIn(title="空白"),
            actor=ACTOR,
        )
        resp = client.post(f"/merchant/shop/products/{draft.pk}/status/", {"action": "publish"})
        assert resp.status_code == 409
        assert len(resp.context["problems"]) == 2  # no SKU, no category
        draft.refresh_from_db()
        assert draft.status == "draft"

    def test_pictures_add_and_remove(self, client, world, mall):
        login(client, "heytea-manager")
        tea = mall["tea"]
        resp = client.post(
            f"/merchant/shop/products/{tea.pk}/images/", {"image": SimpleUploadedFile("a.png", picture(), "image/png")}
        )
        assert resp.status_code == 302
        tea.refresh_from_db()
        assert tea.image_sha
        page = client.get(f"/merchant/shop/products/{tea.pk}/")
        assert f"/app/mall/images/{tea.pk}/{tea.image_sha}/" in page.content.decode()
        assert client.get(f"/app/mall/images/{tea.pk}/{tea.image_sha}/").status_code == 200
        resp = client.post(f"/merchant/shop/products/{tea.pk}/images/0/remove/")
        assert resp.status_code == 302
        tea.refresh_from_db()
        assert tea.image_sha == ""

    def test_blocked_product_shows_the_mall_reason(self, client, world, mall):
        catalog.online_product_block(
            mall_group_id=world.group.pk, product_id=mall["tea"].pk, reason="图片与实物不符", actor=ACTOR
        )
        login(client, "heytea-owner")
        html = client.get(f"/merchant/shop/products/{mall['tea'].pk}/").content.decode()
        assert "图片与实物不符" in html
        html = client.get("/merchant/shop/products/?status=blocked").content.decode()
        assert "芝士奶茶" in html

    def test_clerk_counts_stock_but_cannot_edit_products(self, client, world, mall):
        login(client, "heytea-clerk")
        assert client.get("/merchant/shop/products/").status_code == 403
        assert client.get("/merchant/shop/settings/").status_code == 403
        page = client.get("/merchant/shop/stock/")
        assert page.status_code == 200
        row = next(r for r in page.context["rows"] if r["sku"].pk == mall["sku"].pk)
        assert (row["on_hand"], row["available"], row["low"]) == (20, 20, False)
        resp = client.post(
            f"/merchant/shop/stock/{mall['sku'].pk}/",
            {"store": world.store.pk, "mode": "adjust", "value": -17, "reason": "报损"},
        )
        assert resp.status_code == 302
        page = client.get("/merchant/shop/stock/?low=1")
        assert [r["sku"].pk for r in page.context["rows"]][:1] == [mall["sku"].pk]
        assert "low-stock" in page.content.decode()

    def test_another_merchant_cannot_see_or_edit(self, client, world, mall):
        login(client, "uniqlo-owner")
        tea, sku = mall["tea"], mall["sku"]
        assert "芝士奶茶" not in client.get("/merchant/shop/products/").content.decode()
        assert client.get(f"/merchant/shop/products/{tea.pk}/").status_code == 404
        assert client.post(f"/merchant/shop/products/{tea.pk}/", {"title": "偷改"}).status_code == 404
        assert client.get(f"/merchant/shop/products/{tea.pk}/options/").status_code == 404
        assert client.post(f"/merchant/shop/products/{tea.pk}/status/", {"action": "unpublish"}).status_code == 404
        assert client.post(f"/merchant/shop/products/{tea.pk}/images/0/remove/").status_code == 404
        resp = client.post(f"/merchant/shop/stock/{sku.pk}/", {"store": world.store.pk, "mode": "set", "value": 0})
        assert resp.status_code == 404
        assert "芝士奶茶" not in client.get("/merchant/shop/stock/").content.decode()
        tea.refresh_from_db()
        assert tea.title == "芝士奶茶" and tea.status == "on_sale"
        assert SkuStock.objects.get(sku=sku, store=world.store).on_hand == 20

    def test_mall_staff_are_not_portal_users(self, client, world, mall):
        login(client, "admin")
        assert client.get("/merchant/shop/products/").status_code == 403

    def test_shop_settings(self, client, world, mall):
        login(client, "heytea-owner")
        resp = client.post("/merchant/shop/settings/", {"is_open": "on", "service_phone": "abc"})
        assert resp.status_code == 400
        form = resp.context["form"]
        assert form.errors["service_phone"] and form.errors["is_open"]  # open needs a store to ship or pick up from
        resp = client.post(
            "/merchant/shop/settings/",
            {"is_open": "on", "pickup_stores": [world.store.pk], "service_phone": "0755-88886666"},
        )
        assert resp.status_code == 302
        other_store = world.other_merchant.stores.first()
        resp = client.post("/merchant/shop/settings/", {"is_open": "on", "pickup_stores": [other_store.pk]})
        assert resp.status_code == 400  # not a store of this merchant: not a choice


# ------------------------------------------------------------------------------------------------- console


class TestConsole:
    def test_categories_shelves_and_takedown(self, client, world, mall):
        login(client, "marketing")
        icon = SimpleUploadedFile("i.png", picture("blue"), "image/png")
        resp = client.post(
            "/console/online-mall/categories/", {"name": "服饰", "sort_order": 1, "is_active": "on", "icon": icon}
        )
        assert resp.status_code == 302
        assert Category.objects.get(name="服饰", shop="online").icon_sha
        resp = client.post("/console/online-mall/categories/", {"name": "奶茶", "sort_order": 0})
        assert resp.status_code == 400 and resp.context["form"].errors["name"]  # taken
        resp = client.post(
            "/console/online-mall/categories/", {"name": "x", "sort_order": 0, "parent": mall["child"].pk}
        )
        assert resp.status_code == 400 and resp.context["form"].errors["parent"]  # two levels
        resp = client.post("/console/online-mall/shelves/", {"title": "人气推荐", "placement": "home", "sort_order": 0})
        assert resp.status_code == 302
        shelf = Shelf.objects.get(title="人气推荐")
        resp = client.post(f"/console/online-mall/shelves/{shelf.pk}/", {"items": "add", "product": mall["tea"].pk})
        assert resp.status_code == 302
        resp = client.post(f"/console/online-mall/shelves/{shelf.pk}/", {"items": "add", "product": "999999"})
        assert resp.status_code == 400 and resp.context["items_error"]
        resp = client.post("/console/online-mall/shelves/", {"title": "", "placement": "category", "sort_order": 0})
        assert resp.status_code == 400
        url = f"/console/online-mall/products/{mall['tea'].pk}/"
        resp = client.post(url, {"action": "block", "reason": "  "})
        assert resp.status_code == 400 and resp.context["form"].errors["reason"]
        resp = client.post(url, {"action": "block", "reason": "图片与实物不符"})
        assert resp.status_code == 302
        tea = Product.objects.get(pk=mall["tea"].pk)
        assert tea.is_blocked and tea.blocked_reason == "图片与实物不符"
        resp = client.post(url, {"action": "unblock"})
        assert resp.status_code == 302
        assert not Product.objects.get(pk=tea.pk).is_blocked

    def test_settings_bounds_inline(self, client, world, mall):
        login(client, "admin")
        resp = client.post(
            "/console/online-mall/settings/",
            {
                "is_open": "on",
                "pay_minutes": 1,
                "auto_receive_days": 10,
                "return_days": 7,
                "pickup_days": 7,
                "after_sale_response_hours": 48,
                "review_window_days": 30,
            },
        )
        assert resp.status_code == 400 and resp.context["form"].errors["pay_minutes"]

    def test_viewers_read_but_do_not_change(self, client, world, mall):
        login(client, "finance")
        assert client.get("/console/online-mall/products/").status_code == 200
        url = f"/console/online-mall/products/{mall['tea'].pk}/"
        assert client.get(url).status_code == 200
        assert client.post(url, {"action": "block", "reason": "x"}).status_code == 403
        assert not Product.objects.get(pk=mall["tea"].pk).is_blocked

    def test_another_group_gets_404(self, client, world, mall):
        login(client, "coastal-admin")
        assert client.get(f"/console/online-mall/products/{mall['tea'].pk}/").status_code == 404
        resp = client.post(f"/console/online-mall/products/{mall['tea'].pk}/", {"action": "block", "reason": "x"})
        assert resp.status_code == 404
        assert client.get(f"/console/online-mall/categories/{mall['top'].pk}/").status_code == 404
        assert "芝士奶茶" not in client.get("/console/online-mall/products/").content.decode()
        assert not Product.objects.get(pk=mall["tea"].pk).is_blocked


# ------------------------------------------------------------------------------------------------- member app


class TestApp:
    def test_search_finds_the_tea_and_the_product_page_picks_a_kind(self, client, world, mall):
        as_member(client, member(world))
        home = client.get("/app/mall/")
        assert home.status_code == 200 and "芝士奶茶" in home.content.decode()
        resp = client.get("/app/mall/search/", {"q": "奶茶"})
        assert [c["title"] for c in resp.context["cards"]] == ["芝士奶茶"]
        resp = client.get("/app/mall/search/", {"q": "ＮＯＴＨＩＮＧ"})
        assert resp.context["cards"] == [] and "search-none" in resp.content.decode()
        resp = client.get("/app/mall/search/")
        assert "search-empty" in resp.content.decode()
        tea = mall["tea"]
        page = client.get(f"/app/mall/p/{tea.pk}/")
        assert page.status_code == 200
        assert page.context["chosen"].sku_id == mall["sku"].pk  # the kind with stock
        big = Sku.objects.get(product=tea, name="大杯")
        page = client.get(f"/app/mall/p/{tea.pk}/", {"sku": big.pk})
        assert page.context["chosen"].sku_id == big.pk
        assert page.context["stock_state"] == "sold_out"
        assert page.context["price"] == "¥32.00" and page.context["list_price"] == "¥36.00"
        picker = page.context["picker"]
        assert [(v["value"], v["selected"]) for v in picker[0]["values"]] == [("中杯", False), ("大杯", True)]
        assert client.get("/app/mall/search/", {"q": "x", "page": "999999"}).status_code == 200

    def test_category_page_and_bad_ids(self, client, world, mall):
        as_member(client, member(world))
        resp = client.get(f"/app/mall/c/{mall['top'].pk}/")
        assert resp.status_code == 200 and [c["title"] for c in resp.context["cards"]] == ["芝士奶茶"]
        assert client.get("/app/mall/c/999999/").status_code == 302
        assert client.get("/app/mall/p/999999/").status_code == 302

    def test_hidden_products_read_as_absent(self, client, world, mall):
        as_member(client, member(world))
        catalog.online_product_block(mall_group_id=world.group.pk, product_id=mall["tea"].pk, reason="x", actor=ACTOR)
        assert client.get(f"/app/mall/p/{mall['tea'].pk}/").status_code == 302
        assert client.get("/app/mall/search/", {"q": "奶茶"}).context["cards"] == []

    def test_another_groups_product_reads_as_absent(self, client, world, mall):
        from galleria.members.services import member_register

        foreign = member_register(mall=world.foreign_mall, phone="13900000001", channel="desk", actor=ACTOR)
        client.get("/app/mall/", {"mall": world.foreign_mall.code})
        as_member(client, foreign)
        assert client.get(f"/app/mall/p/{mall['tea'].pk}/").status_code in (200, 302)
        resp = client.get(f"/app/mall/p/{mall['tea'].pk}/")
        assert "芝士奶茶" not in resp.content.decode()

    def test_closed_mall(self, client, world, mall):
        catalog.online_settings_save(mall_group_id=world.group.pk, data=OnlineSettingsIn(is_open=False), actor=ACTOR)
        as_member(client, member(world))
        assert "mall-closed" in client.get("/app/mall/").content.decode()

    def test_pictures_need_the_right_digest(self, client, world, mall):
        assert client.get(f"/app/mall/images/{mall['tea'].pk}/{'0' * 64}/").status_code == 404
        assert client.get(f"/app/mall/images/{mall['tea'].pk}/nothex/").status_code == 404
        assert client.get(f"/app/mall/icons/{mall['top'].pk}/{'0' * 64}/").status_code == 404
