"""The online mall's catalogue services (docs/design/online-mall.md §3.1, build step C1): settings, shops,
categories of two levels, products with options → SKUs, pictures, publishing, the mall's takedown, shelves and stock
counts. Each change is audited; a merchant reaches only its own products."""

from __future__ import annotations

import pytest
from django.db import transaction

from galleria.audit.models import AuditEvent
from galleria.commerce import exceptions, selectors_catalog
from galleria.commerce import services_catalog as catalog
from galleria.commerce.models import MerchantShop, Product, ProductImage, Sku, SkuStock
from galleria.commerce.types import OnlineProductIn, OnlineSettingsIn, OptionIn, ShelfIn, ShopIn, SkuIn
from galleria.merchants.models import Store

from .catalog_helpers import categories, open_online_mall, picture, product
from .helpers import ACTOR

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


# ------------------------------------------------------------------------------------------------- settings, shops


def test_settings_are_bounded_and_audited(world):
    with pytest.raises(exceptions.SettingsInvalidError) as caught:
        catalog.online_settings_save(
            mall_group_id=world.group.pk, data=OnlineSettingsIn(is_open=True, pay_minutes=2), actor=ACTOR
        )
    assert caught.value.code == "commerce.settings_invalid" and "pay_minutes" in caught.value.fields
    assert selectors_catalog.online_settings_get(mall_group_id=world.group.pk).is_open is False
    row = catalog.online_settings_save(
        mall_group_id=world.group.pk, data=OnlineSettingsIn(is_open=True, pay_minutes=20), actor=ACTOR
    )
    assert (row.is_open, row.pay_minutes) == (True, 20)
    event = AuditEvent.objects.get(action="online_mall.settings_save")
    assert event.changes == {"is_open": [False, True], "pay_minutes": [15, 20]}


def test_a_shop_sells_from_its_own_open_stores(world):
    foreign = Store.objects.filter(merchant=world.other_merchant).get()
    with pytest.raises(exceptions.ShopInvalidError) as caught:
        catalog.merchant_shop_save(
            mall_group_id=world.group.pk,
            merchant_id=world.merchant.pk,
            data=ShopIn(is_open=True, ship_from_store_id=foreign.pk, pickup_store_ids=(foreign.pk,)),
            actor=ACTOR,
        )
    assert set(caught.value.fields) == {"ship_from_store", "pickup_stores"}
    with pytest.raises(exceptions.ShopInvalidError) as caught:
        catalog.merchant_shop_save(
            mall_group_id=world.group.pk,
            merchant_id=world.merchant.pk,
            data=ShopIn(is_open=True, ship_from_store_id=None, pickup_store_ids=()),
            actor=ACTOR,
        )
    assert "is_open" in caught.value.fields
    shop = open_online_mall(world)
    assert selectors_catalog.shop_store_ids(shop=shop) == ([world.store.pk], world.store.pk)
    second = Store.objects.create(merchant=world.merchant, name="喜茶 星河天地店", floor="B1", unit_no="B1-02")
    catalog.merchant_shop_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        data=ShopIn(is_open=True, ship_from_store_id=None, pickup_store_ids=(second.pk,)),
        actor=ACTOR,
    )
    shop = MerchantShop.objects.get(merchant=world.merchant)
    assert selectors_catalog.shop_store_ids(shop=shop) == ([second.pk], None)
    last = AuditEvent.objects.filter(action="online_mall.shop_save").order_by("-pk").first()
    assert last.changes["pickup_stores"] == [[world.store.pk], [second.pk]]


# ------------------------------------------------------------------------------------------------- categories


def test_categories_have_two_levels(world):
    top, child = categories(world)
    with pytest.raises(exceptions.CategoryInvalidError) as caught:  # a third level
        catalog.online_category_save(
            mall_group_id=world.group.pk,
            category_id=None,
            name="波霸",
            parent_id=child.pk,
            sort_order=0,
            is_active=True,
            actor=ACTOR,
        )
    assert caught.value.fields.keys() == {"parent"}
    other = catalog.online_category_save(
        mall_group_id=world.group.pk,
        category_id=None,
        name="服饰",
        parent_id=None,
        sort_order=1,
        is_active=True,
        actor=ACTOR,
    )
    with pytest.raises(exceptions.CategoryInvalidError):  # a top category with children stays on top
        catalog.online_category_save(
            mall_group_id=world.group.pk,
            category_id=top.pk,
            name="饮品",
            parent_id=other.pk,
            sort_order=0,
            is_active=True,
            actor=ACTOR,
        )
    with pytest.raises(exceptions.CategoryInvalidError) as caught:
        catalog.online_category_save(
            mall_group_id=world.group.pk,
            category_id=None,
            name="奶茶",
            parent_id=None,
            sort_order=0,
            is_active=True,
            actor=ACTOR,
        )
    assert caught.value.code == "commerce.category_taken"
    tree = selectors_catalog.online_categories(mall_group_id=world.group.pk)
    assert [c.name for c in tree] == ["饮品", "奶茶", "服饰"]
    assert selectors_catalog.online_category_get(mall_group_id=world.other_group.pk, category_id=top.pk) is None


def test_renaming_a_category_refreshes_its_products_search_text(world):
    open_online_mall(world)
    top, child = categories(world)
    p = product(world, category=child)
    assert "奶茶 饮品" in p.search_text
    catalog.online_category_save(
        mall_group_id=world.group.pk,
        category_id=top.pk,
        name="茶饮",
        parent_id=None,
        sort_order=0,
        is_active=True,
        actor=ACTOR,
    )
    p.refresh_from_db()
    assert "茶饮" in p.search_text and "饮品" not in p.search_text


def test_a_category_icon_is_a_clean_picture(world):
    top, _child = categories(world)
    with pytest.raises(exceptions.ImageInvalidError):
        catalog.online_category_icon_set(mall_group_id=world.group.pk, category_id=top.pk, data=b"nope", actor=ACTOR)
    row = catalog.online_category_icon_set(
        mall_group_id=world.group.pk, category_id=top.pk, data=picture(), actor=ACTOR
    )
    assert row.icon_name.endswith(".jpg") and len(row.icon_sha) == 64


# ------------------------------------------------------------------------------------------------- products


def test_a_product_starts_as_a_draft_with_its_search_text(world):
    _top, child = categories(world)
    p = catalog.online_product_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        product_id=None,
        data=OnlineProductIn(title=" 芝士奶茶 ", subtitle="ＨＥＹＴＥＡ 招牌", category_id=child.pk),
        actor=ACTOR,
    )
    assert (p.shop, p.status, p.merchant_id, p.title) == ("online", "draft", world.merchant.pk, "芝士奶茶")
    assert p.search_text == "芝士奶茶 heytea 招牌 奶茶 饮品 喜茶"
    assert actions()[-1] == "online_mall.product_create"
    with pytest.raises(exceptions.ProductInvalidError) as caught:
        catalog.online_product_save(
            mall_group_id=world.group.pk,
            merchant_id=world.merchant.pk,
            product_id=None,
            data=OnlineProductIn(title="", category_id=999999),
            actor=ACTOR,
        )
    assert set(caught.value.fields) == {"title", "category"}
    with pytest.raises(exceptions.ProductNotFoundError) as caught:  # a merchant of another group
        catalog.online_product_save(
            mall_group_id=world.group.pk,
            merchant_id=world.foreign_merchant.pk,
            product_id=None,
            data=OnlineProductIn(title="外来"),
            actor=ACTOR,
        )
    assert caught.value.code == "commerce.merchant_not_found"
    with pytest.raises(exceptions.ProductNotFoundError):  # another merchant's product
        catalog.online_product_save(
            mall_group_id=world.group.pk,
            merchant_id=world.other_merchant.pk,
            product_id=p.pk,
            data=OnlineProductIn(title="抢走"),
            actor=ACTOR,
        )


def test_options_make_skus_and_a_resave_keeps_the_combinations_it_still_sells(world):
    p = product(world, publish=False)
    skus = {s.option_key: s for s in Sku.objects.filter(product=p)}
    assert set(skus) == {"杯型=中杯", "杯型=大杯"}
    assert (p.min_price_fen, p.max_price_fen) == (2800, 3200)
    assert "中杯" in p.search_text and "大杯" in p.search_text
    big = skus["杯型=大杯"]
    assert (big.options, big.name, big.list_price_fen, big.price_points, big.stock) == (
        {"杯型": "大杯"},
        "大杯",
        3600,
        0,
        0,
    )
    kept = catalog.online_product_options_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        product_id=p.pk,
        options=[OptionIn("杯型", ("大杯", "超大杯")), OptionIn("甜度", ("少糖",))],
        skus=[SkuIn({"杯型": "大杯", "甜度": "少糖"}, 3300), SkuIn({"杯型": "超大杯", "甜度": "少糖"}, 3900)],
        actor=ACTOR,
    )
    assert [s.option_key for s in kept] == ["杯型=大杯|甜度=少糖", "杯型=超大杯|甜度=少糖"]
    assert not Sku.objects.filter(product=p, is_active=True, option_key__in=list(skus)).exists()
    assert Sku.objects.filter(product=p).count() == 4  # dropped combinations are kept, inactive
    p.refresh_from_db()
    assert (p.min_price_fen, p.max_price_fen) == (3300, 3900) and "少糖" in p.search_text
    # the same combinations again: the same rows
    again = catalog.online_product_options_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        product_id=p.pk,
        options=[OptionIn("杯型", ("大杯", "超大杯")), OptionIn("甜度", ("少糖",))],
        skus=[SkuIn({"杯型": "大杯", "甜度": "少糖"}, 3400)],
        actor=ACTOR,
    )
    assert again[0].pk == kept[0].pk and Sku.objects.get(pk=kept[1].pk).is_active is False
    with pytest.raises(exceptions.OptionsInvalidError) as caught:
        catalog.online_product_options_save(
            mall_group_id=world.group.pk,
            merchant_id=world.merchant.pk,
            product_id=p.pk,
            options=[OptionIn("杯型", ("大杯",))],
            skus=[SkuIn({"杯型": "大杯"}, 0)],
            actor=ACTOR,
        )
    assert caught.value.code == "commerce.options_invalid" and "skus.0" in caught.value.fields


def test_a_product_without_options_sells_one_sku(world):
    p = product(world, publish=False)
    kept = catalog.online_product_options_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        product_id=p.pk,
        options=[],
        skus=[SkuIn({}, 1990)],
        actor=ACTOR,
    )
    assert [(s.option_key, s.options, s.price_fen) for s in kept] == [("", {}, 1990)]


def test_pictures_up_to_nine_the_first_is_the_cover(world):
    p = product(world, publish=False)
    args = {"mall_group_id": world.group.pk, "merchant_id": world.merchant.pk, "product_id": p.pk, "actor": ACTOR}
    first = catalog.online_product_image_add(data=picture("red"), **args)
    second = catalog.online_product_image_add(data=picture("blue"), **args)
    p.refresh_from_db()
    assert (first.position, second.position) == (0, 1) and p.image_sha == first.image_sha
    catalog.online_product_image_remove(position=0, **args)
    p.refresh_from_db()
    assert [i.image_sha for i in selectors_catalog.product_images(product_id=p.pk)] == [second.image_sha]
    assert p.image_sha == second.image_sha
    for _ in range(8):
        catalog.online_product_image_add(data=picture(), **args)
    with pytest.raises(exceptions.ImageInvalidError):
        catalog.online_product_image_add(data=picture(), **args)
    assert ProductImage.objects.filter(product=p).count() == 9


def test_publishing_needs_a_category_skus_and_a_way_to_hand_over(world):
    p = product(world, publish=False)
    with pytest.raises(exceptions.PublishRefusedError) as caught:
        catalog.online_product_publish(
            mall_group_id=world.group.pk, merchant_id=world.merchant.pk, product_id=p.pk, actor=ACTOR
        )
    assert len(caught.value.extra["problems"]) == 2  # no category, no pickup store (no shop yet)
    open_online_mall(world)
    _top, child = categories(world)
    p = product(world, category=child)
    assert p.status == "on_sale"
    assert list(selectors_catalog.listed(mall_group_id=world.group.pk)) == [p]
    catalog.online_product_unpublish(
        mall_group_id=world.group.pk, merchant_id=world.merchant.pk, product_id=p.pk, actor=ACTOR
    )
    assert list(selectors_catalog.listed(mall_group_id=world.group.pk)) == []
    assert actions()[-2:] == ["online_mall.product_publish", "online_mall.product_unpublish"]


def test_the_mall_takes_a_product_down_with_a_reason(world):
    open_online_mall(world)
    _top, child = categories(world)
    p = product(world, category=child)
    with pytest.raises(exceptions.ProductInvalidError) as caught:
        catalog.online_product_block(mall_group_id=world.group.pk, product_id=p.pk, reason=" ", actor=ACTOR)
    assert caught.value.code == "commerce.reason_required"
    with pytest.raises(exceptions.ProductNotFoundError):  # another group's console
        catalog.online_product_block(mall_group_id=world.other_group.pk, product_id=p.pk, reason="x", actor=ACTOR)
    catalog.online_product_block(mall_group_id=world.group.pk, product_id=p.pk, reason="资质不全", actor=ACTOR)
    assert list(selectors_catalog.listed(mall_group_id=world.group.pk)) == []
    with pytest.raises(exceptions.PublishRefusedError):
        catalog.online_product_publish(
            mall_group_id=world.group.pk, merchant_id=world.merchant.pk, product_id=p.pk, actor=ACTOR
        )
    catalog.online_product_unblock(mall_group_id=world.group.pk, product_id=p.pk, actor=ACTOR)
    assert list(selectors_catalog.listed(mall_group_id=world.group.pk)) == [p]  # still on sale
    event = AuditEvent.objects.get(action="online_mall.product_block")
    assert event.changes["reason"] == ["", "资质不全"]


def test_a_closed_shop_or_a_sale_window_hides_products(world):
    open_online_mall(world)
    _top, child = categories(world)
    p = product(world, category=child)
    catalog.merchant_shop_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        data=ShopIn(is_open=False, ship_from_store_id=world.store.pk, pickup_store_ids=()),
        actor=ACTOR,
    )
    assert list(selectors_catalog.listed(mall_group_id=world.group.pk)) == []
    open_online_mall(world)
    Product.objects.filter(pk=p.pk).update(on_sale_from=p.created_at.replace(year=2100))
    assert list(selectors_catalog.listed(mall_group_id=world.group.pk)) == []


def test_the_product_page_shows_what_may_be_bought(world):
    open_online_mall(world)
    _top, child = categories(world)
    p = product(world, category=child)
    medium, _large = Sku.objects.filter(product=p).order_by("pk")
    catalog.sku_stock_set(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        sku_id=medium.pk,
        store_id=world.store.pk,
        on_hand=5,
        reason="盘点",
        actor=ACTOR,
    )
    SkuStock.objects.filter(sku=medium).update(allocated=2)
    views = selectors_catalog.product_sku_views(mall_group_id=world.group.pk, product=p)
    assert [(v.label, v.price_fen, v.list_price_fen, v.available) for v in views] == [
        ("中杯", 2800, None, 3),
        ("大杯", 3200, 3600, 0),
    ]


# ------------------------------------------------------------------------------------------------- shelves


def test_shelves_show_their_listed_products_in_order(world):
    open_online_mall(world)
    _top, child = categories(world)
    a, b = product(world, title="芝士奶茶", category=child), product(world, title="芒果冰沙", category=child)
    hidden = product(world, title="草稿", category=child, publish=False)
    with pytest.raises(exceptions.ShelfInvalidError) as caught:
        catalog.shelf_save(mall_group_id=world.group.pk, shelf_id=None, data=ShelfIn("", "category"), actor=ACTOR)
    assert set(caught.value.fields) == {"title", "category"}
    shelf = catalog.shelf_save(mall_group_id=world.group.pk, shelf_id=None, data=ShelfIn("热卖", "home"), actor=ACTOR)
    catalog.shelf_items_set(
        mall_group_id=world.group.pk, shelf_id=shelf.pk, product_ids=[b.pk, hidden.pk, a.pk, b.pk], actor=ACTOR
    )
    shown = selectors_catalog.shelves_shown(mall_group_id=world.group.pk)
    assert [(s.title, [c.title for c in cards]) for s, cards in shown] == [("热卖", ["芒果冰沙", "芝士奶茶"])]
    with pytest.raises(exceptions.ShelfInvalidError):  # not a product of this group's online mall
        catalog.shelf_items_set(mall_group_id=world.other_group.pk, shelf_id=shelf.pk, product_ids=[a.pk], actor=ACTOR)
    catalog.shelf_save(
        mall_group_id=world.group.pk,
        shelf_id=shelf.pk,
        data=ShelfIn("热卖", "category", category_id=child.pk),
        actor=ACTOR,
    )
    assert selectors_catalog.shelves_shown(mall_group_id=world.group.pk) == []
    assert (
        len(selectors_catalog.shelves_shown(mall_group_id=world.group.pk, placement="category", category_id=child.pk))
        == 1
    )


# ------------------------------------------------------------------------------------------------- stock


def test_stock_counts_never_go_below_what_is_allocated(world):
    open_online_mall(world)
    p = product(world, publish=False)
    sku = Sku.objects.filter(product=p).order_by("pk").first()
    args = {
        "mall_group_id": world.group.pk,
        "merchant_id": world.merchant.pk,
        "sku_id": sku.pk,
        "store_id": world.store.pk,
        "actor": ACTOR,
    }
    row = catalog.sku_stock_set(on_hand=10, reason="到货", **args)
    assert (row.on_hand, row.allocated) == (10, 0)
    row = catalog.sku_stock_adjust(delta=5, reason="补货", **args)
    assert row.on_hand == 15
    SkuStock.objects.filter(pk=row.pk).update(allocated=12)  # promised to orders meanwhile
    with pytest.raises(exceptions.StockInvalidError) as caught:
        catalog.sku_stock_adjust(delta=-4, reason="破损", **args)
    assert caught.value.code == "commerce.stock_invalid"
    with pytest.raises(exceptions.StockInvalidError):
        catalog.sku_stock_set(on_hand=11, reason="盘点", **args)
    assert catalog.sku_stock_adjust(delta=-3, reason="破损", **args).on_hand == 12
    with pytest.raises(exceptions.StockInvalidError):
        catalog.sku_stock_adjust(delta=0, reason="x", **args)
    with pytest.raises(exceptions.StockInvalidError):
        catalog.sku_stock_set(on_hand=-1, reason="x", **args)
    with pytest.raises(exceptions.StockInvalidError):  # above 1,000,000
        catalog.sku_stock_adjust(delta=1_000_000, reason="x", **args)
    foreign = Store.objects.filter(merchant=world.other_merchant).get()
    with pytest.raises(exceptions.StockInvalidError) as caught:
        catalog.sku_stock_set(**(args | {"store_id": foreign.pk}), on_hand=1, reason="x")
    assert "store" in caught.value.fields
    with pytest.raises(exceptions.ProductNotFoundError):  # another merchant's SKU
        catalog.sku_stock_set(**(args | {"merchant_id": world.other_merchant.pk}), on_hand=1, reason="x")
    events = AuditEvent.objects.filter(action__startswith="online_mall.stock").order_by("pk")
    assert [e.changes["on_hand"] for e in events] == [[0, 10], [10, 15], [15, 12]]
    assert selectors_catalog.stock_rows(mall_group_id=world.group.pk, merchant_id=world.merchant.pk).count() == 1


def test_find_a_sku_by_its_barcode(world):
    p = product(world, publish=False)
    catalog.online_product_options_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        product_id=p.pk,
        options=[],
        skus=[SkuIn({}, 1990, barcode="6901234567892")],
        actor=ACTOR,
    )
    found = selectors_catalog.sku_by_barcode(
        mall_group_id=world.group.pk, merchant_id=world.merchant.pk, barcode=" 6901234567892 "
    )
    assert found is not None and found.product_id == p.pk
    assert (
        selectors_catalog.sku_by_barcode(
            mall_group_id=world.group.pk, merchant_id=world.other_merchant.pk, barcode="6901234567892"
        )
        is None
    )


def test_every_catalogue_write_is_one_durable_transaction(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        catalog.online_settings_save(mall_group_id=world.group.pk, data=OnlineSettingsIn(is_open=True), actor=ACTOR)
