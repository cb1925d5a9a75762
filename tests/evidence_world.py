"""The data the evidence suites (permission matrix, API fuzzing, bad input) share: build_world() plus members, a
sale, a top-up, loyalty rules and one signed POS terminal per merchant — built once per test module.

`module_world()` wraps the build in an outer atomic block marked as a test case's (so the services' durable
transactions run inside it, exactly as under pytest-django's `db`) and rolls everything back when the module ends;
each test still runs in its own savepoint through the `db` fixture.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client
from django.test.client import ClientHandler
from django.utils import timezone

from galleria.accounts.models import User
from galleria.audit.types import Actor
from galleria.members.models import IdentifierKind, JoinChannel, Member, MemberIdentifier
from galleria.members.services import member_identifier_add, member_register
from galleria.merchants.models import PosTerminal, Store
from galleria.merchants.services import pos_key_create
from galleria.parking.services_keys import car_park_key_create
from galleria.parking.tests import helpers as parking_test_helpers
from galleria.points.models import AdjustmentStatus, BehaviourRule, EarnRule, PointsAdjustment, PointsCampaign
from galleria.sales.models import Sale
from galleria.sales.services import sale_commit
from galleria.sales.types import LineIn, PaymentIn, SaleIn
from galleria.testing import World, build_world
from galleria.testing_pos import PosSigner
from galleria.tiers.models import TierLevel
from galleria.tiers.services import tier_ladder_ensure_default
from galleria.wallet.models import TopUp
from galleria.wallet.services import wallet_topup_start

ACTOR = Actor.system("evidence")
MEMBER_PHONE = "13812345678"
OTHER_PHONE = "13900001111"
FOREIGN_PHONE = "13700002222"
PLATE = "粤B12345"
SALE_ID = "EVID-0001"


@dataclass
class Terminal:
    terminal: Any  # a PosTerminal, or a CarPark for the car-park system
    key: Any  # its PosKey or CarParkKey
    signer: PosSigner


@dataclass
class EvidenceWorld:
    world: World
    member: Member
    other_member: Member
    foreign_member: Member
    plate: MemberIdentifier
    sale: Sale
    topup: TopUp
    adjustment: PointsAdjustment
    rule: EarnRule
    campaign: PointsCampaign
    tier_level: TierLevel
    other_store: Store
    auth_group: Group
    terminals: dict[str, Terminal] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # by username
    sessions: dict[str, str] = field(default_factory=dict)  # session keys: "member", "other-member", usernames


def _terminal(store: Store, name: str) -> Terminal:
    terminal = PosTerminal.objects.create(store=store, name=name)
    key, secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk)
    return Terminal(terminal, key, PosSigner(key.key_id, secret))


def _car_park_terminal(w: World) -> Terminal:
    """星河广场's car park (the tests' own, parking/tests/helpers.py) and its car-park system's API key."""
    park = parking_test_helpers.car_park(w)
    key, secret = car_park_key_create(actor=ACTOR, car_park_id=park.pk, label="barrier")
    return Terminal(park, key, PosSigner(key.key_id, secret))


def build_evidence_world() -> EvidenceWorld:
    w = build_world()
    member = member_register(
        mall=w.mall, phone=MEMBER_PHONE, channel=JoinChannel.DESK, actor=ACTOR, profile={"name": "王小明"}
    )
    other = member_register(
        mall=w.mall, phone=OTHER_PHONE, channel=JoinChannel.APP, actor=ACTOR, profile={"name": "李四"}
    )
    foreign = member_register(
        mall=w.foreign_mall, phone=FOREIGN_PHONE, channel=JoinChannel.APP, actor=ACTOR, profile={"name": "赵六"}
    )
    plate = member_identifier_add(member_id=member.pk, actor=ACTOR, kind=IdentifierKind.PLATE, value=PLATE)
    tier_ladder_ensure_default(mall_group_id=w.group.pk)
    BehaviourRule.objects.create(mall_group=w.group, event="checkin", points=5)
    rule = EarnRule.objects.create(mall_group=w.group, name="喜茶 2x", scope="merchant", merchant=w.merchant)
    today = timezone.localdate()
    campaign = PointsCampaign.objects.create(
        mall_group=w.group, name="会员日", starts_on=today, ends_on=today + dt.timedelta(days=30)
    )
    result = sale_commit(
        data=SaleIn(
            merchant_id=w.merchant.pk,
            store_id=w.store.pk,
            terminal_id=None,
            pos_sale_id=SALE_ID,
            occurred_at=timezone.now() - dt.timedelta(minutes=5),
            lines=(LineIn(sku="T1", name="多肉葡萄", quantity=2, unit_price_fen=1900, amount_fen=3800),),
            payments=(PaymentIn("wechat", 3800),),
            member_id=member.pk,
        ),
        actor=ACTOR,
    )
    sale = Sale.objects.get(pk=result.sale_id)
    # a top-up waiting at the service desk (no gateway is configured in the evidence world)
    intent = wallet_topup_start(
        mall_id=w.mall.pk, member_id=member.pk, amount_fen=10000, idempotency_key="evidence-topup-1"
    )
    topup = TopUp.objects.get(pk=intent.topup_id)
    adjustment = PointsAdjustment.objects.create(
        mall_group=w.group, member=member, points=9000, reason="补录小票", status=AdjustmentStatus.PENDING
    )
    ew = EvidenceWorld(
        world=w,
        member=member,
        other_member=other,
        foreign_member=foreign,
        plate=plate,
        sale=sale,
        topup=topup,
        adjustment=adjustment,
        rule=rule,
        campaign=campaign,
        tier_level=TierLevel.objects.get(mall_group=w.group, code="gold"),
        other_store=Store.objects.get(merchant=w.other_merchant),
        auth_group=Group.objects.create(name="evidence"),
    )
    ew.terminals = {
        "pos-heytea": _terminal(w.store, "喜茶 收银台1"),
        "pos-uniqlo": _terminal(ew.other_store, "优衣库 收银台1"),
        "pos-coastal": _terminal(Store.objects.create(merchant=w.foreign_merchant, name="星巴克 海岸城店"), "星巴克 1"),
    }
    ew.terminals["car-park"] = _car_park_terminal(w)
    ew.users = {u.username: u for u in w.users.values()}
    ew.sessions = {name: staff_session(user) for name, user in ew.users.items()}
    ew.sessions["member"] = member_session(member)
    ew.sessions["other-member"] = member_session(other)
    return ew


@contextmanager
def module_world() -> Iterator[EvidenceWorld]:
    """Build once, roll back at the end (see the module docstring)."""
    atomic: Any = transaction.atomic()
    atomic._from_testcase = True  # what django.test.TestCase does: services may open durable blocks inside
    atomic.__enter__()
    try:
        yield build_evidence_world()
    finally:
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


_HANDLERS: dict[bool, ClientHandler] = {}


def fast_client(*, session_key: str | None = None, enforce_csrf_checks: bool = False) -> Client:
    """A test client sharing one request handler per CSRF mode: a new handler loads the middleware again, and
    WhiteNoise's start-up scan of the static files costs ~80 ms each time."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.handler = _HANDLERS.setdefault(enforce_csrf_checks, client.handler)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def member_session(member: Member) -> str:
    """A member app session (what SMS sign-in leaves behind); its key."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["member_id"] = member.pk
    session.create()
    return str(session.session_key)


def staff_session(user: User) -> str:
    client = fast_client()
    client.force_login(user)
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)
