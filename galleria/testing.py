"""Test data builders shared by the test suites (not used by production code)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from galleria.accounts.models import Role, User
from galleria.malls.models import Mall, MallGroup
from galleria.merchants.models import Category, Merchant, Store

PASSWORD = "Correct-Horse-42"


@dataclass
class World:
    group: MallGroup
    mall: Mall
    mall2: Mall
    merchant: Merchant
    other_merchant: Merchant
    store: Store
    other_group: MallGroup
    foreign_mall: Mall
    foreign_merchant: Merchant
    users: dict[str, User] = field(default_factory=dict)


def make_user(username: str, role: str, *, group: MallGroup | None = None, merchant: Merchant | None = None) -> User:
    user = User(
        username=username,
        display_name=username,
        role=role,
        mall_group=group,
        merchant=merchant,
        is_staff=role == Role.PLATFORM_ADMIN,
        is_superuser=role == Role.PLATFORM_ADMIN,
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def build_world() -> World:
    group = MallGroup.objects.create(name="星河商业集团", code="xinghe")
    mall = Mall.objects.create(group=group, name="星河广场", code="xh-plaza", city="深圳")
    mall2 = Mall.objects.create(group=group, name="星河天地", code="xh-world", city="深圳")
    merchant = Merchant.objects.create(mall=mall, name="喜茶", category=Category.DINING, commission_bp=800)
    other = Merchant.objects.create(mall=mall, name="优衣库", category=Category.FASHION)
    store = Store.objects.create(merchant=merchant, name="喜茶 星河广场店", floor="L1", unit_no="L1-018")
    Store.objects.create(merchant=other, name="优衣库 星河广场店", floor="L2", unit_no="L2-001")
    other_group = MallGroup.objects.create(name="海岸城集团", code="coastal")
    foreign_mall = Mall.objects.create(group=other_group, name="海岸城", code="coastal-city")
    foreign_merchant = Merchant.objects.create(mall=foreign_mall, name="星巴克", category=Category.DINING)
    world = World(group, mall, mall2, merchant, other, store, other_group, foreign_mall, foreign_merchant)
    world.users = {
        "platform_admin": make_user("root", Role.PLATFORM_ADMIN),
        "group_admin": make_user("admin", Role.GROUP_ADMIN, group=group),
        "marketing": make_user("marketing", Role.MARKETING, group=group),
        "service": make_user("service", Role.SERVICE, group=group),
        "finance": make_user("finance", Role.FINANCE, group=group),
        "readonly": make_user("viewer", Role.READONLY, group=group),
        "merchant_owner": make_user("heytea-owner", Role.MERCHANT_OWNER, group=group, merchant=merchant),
        "merchant_manager": make_user("heytea-manager", Role.MERCHANT_MANAGER, group=group, merchant=merchant),
        "merchant_clerk": make_user("heytea-clerk", Role.MERCHANT_CLERK, group=group, merchant=merchant),
        "other_owner": make_user("uniqlo-owner", Role.MERCHANT_OWNER, group=group, merchant=other),
        "foreign_admin": make_user("coastal-admin", Role.GROUP_ADMIN, group=other_group),
    }
    return world


def run_parallel(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(0) … fn(n-1) in n threads released together (a barrier), each on its own database connection
    (closed at the end): the concurrency tests' way to make requests collide for real on PostgreSQL."""
    barrier = threading.Barrier(n)

    def worker(i: int) -> Any:
        barrier.wait()
        try:
            return fn(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))
