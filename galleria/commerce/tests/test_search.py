"""The online mall's product search (docs/design/online-mall.md §8): 奶茶 finds 芝士奶茶, so do 奶 and
ＩＰＨＯＮＥ-style full-width queries; titles first, then best sellers; only listed products of the group; the
same results on SQLite and PostgreSQL (this module runs on both), and on PostgreSQL the gram index answers it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from galleria.commerce import search
from galleria.commerce import services_catalog as catalog
from galleria.commerce import sql as commerce_sql
from galleria.commerce.models import Product
from galleria.commerce.types import OnlineProductIn

from .catalog_helpers import categories, open_online_mall, product
from .helpers import ACTOR

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    open_online_mall(world)
    open_online_mall(world, merchant=world.other_merchant, store=world.other_merchant.stores.get())
    top, child = categories(world)
    digital = catalog.online_category_save(
        mall_group_id=world.group.pk,
        category_id=None,
        name="数码",
        parent_id=None,
        sort_order=1,
        is_active=True,
        actor=ACTOR,
    )
    made = {
        "cheese": product(world, title="芝士奶茶", category=child),
        "mango": product(world, title="芒果冰沙", subtitle="夏日限定 奶香", category=top),
        "phone": product(world, title="iPhone 15 手机壳", merchant=world.other_merchant, category=digital),
        "tea": product(world, title="柠檬茶", category=top),
        "draft": product(world, title="奶茶草稿", category=child, publish=False),
    }
    Product.objects.filter(pk=made["tea"].pk).update(sales_30d=50)
    Product.objects.filter(pk=made["mango"].pk).update(sales_30d=90)
    return made


def titles(page: search.SearchPage) -> list[str]:
    return [c.title for c in page.cards]


def find(world, query: str, **kw) -> list[str]:
    return titles(search.product_search(mall_group_id=world.group.pk, query=query, **kw))


def test_a_two_character_query_finds_it_inside_a_title(world, shop):
    assert find(world, "奶茶") == ["芝士奶茶"]  # the draft is not listed
    assert find(world, "芝士奶茶") == ["芝士奶茶"]
    assert find(world, "士奶") == ["芝士奶茶"]
    assert find(world, "咖啡") == []


def test_titles_first_then_best_sellers(world, shop):
    # 奶 is in 芝士奶茶's title and in 芒果冰沙's subtitle only
    assert find(world, "奶") == ["芝士奶茶", "芒果冰沙"]
    # 茶: two titles (柠檬茶 sells more), then 芒果冰沙, whose text has 茶 in its merchant's name 喜茶
    assert find(world, "茶") == ["柠檬茶", "芝士奶茶", "芒果冰沙"]


def test_queries_are_normalised_like_the_text(world, shop):
    assert find(world, "ＩＰＨＯＮＥ") == ["iPhone 15 手机壳"]
    assert find(world, "  iphone   15 ") == ["iPhone 15 手机壳"]
    assert find(world, "喜茶") == ["芒果冰沙", "柠檬茶", "芝士奶茶"]  # the merchant's name is in the text
    assert find(world, "大杯") != []  # and the option values
    assert search.product_search(mall_group_id=world.group.pk, query="ＩＰＨＯＮＥ").query == "iphone"


def test_filters_pages_and_the_category_listing(world, shop):
    child = shop["cheese"].category
    assert find(world, "茶", category_id=child.pk) == ["芝士奶茶"]
    assert find(world, "喜茶", category_id=child.parent_id) == ["芒果冰沙", "柠檬茶", "芝士奶茶"]  # children too
    assert find(world, "喜茶", price_fen=(3300, 5000)) == []
    assert find(world, "喜茶", price_fen=(3000, 3000)) == ["芒果冰沙", "柠檬茶", "芝士奶茶"]  # 2800–3200
    first = search.product_search(mall_group_id=world.group.pk, query="喜茶", limit=2)
    rest = search.product_search(mall_group_id=world.group.pk, query="喜茶", limit=2, offset=2)
    assert (titles(first), first.has_more, titles(rest), rest.has_more) == (
        ["芒果冰沙", "柠檬茶"],
        True,
        ["芝士奶茶"],
        False,
    )
    assert find(world, " ") == ["芒果冰沙", "柠檬茶", "iPhone 15 手机壳", "芝士奶茶"]  # the listing: best sellers
    assert find(world, "", category_id=child.pk) == ["芝士奶茶"]


def test_only_listed_products_of_the_group_are_found(world, shop):
    catalog.online_product_block(mall_group_id=world.group.pk, product_id=shop["cheese"].pk, reason="下架", actor=ACTOR)
    assert find(world, "奶茶") == []
    assert search.product_search(mall_group_id=world.other_group.pk, query="柠檬").cards == ()
    Product.objects.filter(pk=shop["tea"].pk).update(on_sale_until=timezone.now())
    assert find(world, "柠檬") == []


def test_an_edit_is_found_at_once(world, shop):
    catalog.online_product_save(
        mall_group_id=world.group.pk,
        merchant_id=world.merchant.pk,
        product_id=shop["tea"].pk,
        data=OnlineProductIn(title="鸭屎香柠檬茶", category_id=shop["tea"].category_id),
        actor=ACTOR,
    )
    assert find(world, "鸭屎香") == ["鸭屎香柠檬茶"]


@pytest.mark.postgres
def test_postgresql_answers_from_the_gram_index(world, shop):
    """The gram index answers a 2-character query, not an index of the group or the merchant (at 100,000 products
    the planner takes it on its own: the bench prints the plans)."""
    words = ["芝士", "奶盖", "抹茶", "芒果", "椰子", "柠檬", "草莓", "葡萄", "乌龙", "红豆"]
    Product.objects.bulk_create(
        [
            Product(
                mall_group=world.group,
                shop="online",
                merchant=world.merchant,
                kind="gift",
                title=f"{words[i % 10]}{words[(i // 10) % 10]}{i}",
                search_text=f"{words[i % 10]}{words[(i // 10) % 10]}{i} 饮品 喜茶",
                status="on_sale",
            )
            for i in range(3000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE commerce_product")
        cursor.execute("ANALYZE commerce_merchantshop")
        # at 3,000 rows a scan of the table is as cheap as the index: leave the planner the bitmap scans only
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    merchants = [world.merchant.pk, world.other_merchant.pk]
    plan = commerce_sql.search_plan(
        mall_group_id=world.group.pk, query="奶茶", at=timezone.now(), merchant_ids=merchants
    )
    assert "commerce_product_grams" in plan, plan
    assert find(world, "奶茶") == ["芝士奶茶"]
