import datetime as dt
import io
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from galleria.accounts.models import Role, User
from galleria.commerce.selectors import settings_get as points_mall_settings
from galleria.core.ids import luhn_valid
from galleria.demo import catalog
from galleria.malls.models import Mall, MallGroup
from galleria.members import rules
from galleria.members.models import (
    Consent,
    ConsentPurpose,
    IdentifierKind,
    JoinChannel,
    Member,
    MemberIdentifier,
)
from galleria.members.services import MAX_PLATES
from galleria.merchants.models import Category, Merchant, PosTerminal, Store
from galleria.parking.selectors import car_park_list

MEMBERS = 300
FROZEN = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shenzhen


def seed(*args, **kwargs) -> str:
    out = io.StringIO()
    with time_machine.travel(FROZEN, tick=True):
        call_command("seed_demo", "--members", str(MEMBERS), "--sales", "30", *args, stdout=out, **kwargs)
    return out.getvalue()


def snapshot():
    members = list(
        Member.objects.order_by("pk").values_list("phone", "card_no", "name", "birthday", "join_channel", "created_at")
    )
    plates = list(
        MemberIdentifier.objects.filter(kind=IdentifierKind.PLATE).order_by("member_id", "value").values_list("value")
    )
    merchants = list(Merchant.objects.order_by("pk").values_list("name", "contract_no", "commission_bp"))
    return members, plates, merchants


@pytest.fixture
def seeded(db):
    seed("--seed", "7")


def test_counts(seeded):
    group = MallGroup.objects.get(code=catalog.GROUP_CODE)
    assert group.name == "星河商业集团"
    assert Mall.objects.filter(group=group).count() == 2
    assert set(Mall.objects.values_list("timezone", flat=True)) == {"Asia/Shanghai"}
    assert Merchant.objects.filter(mall__group=group).count() >= 75
    assert set(Merchant.objects.values_list("category", flat=True)) == set(Category.values)
    assert Member.objects.filter(mall_group=group).count() == MEMBERS
    assert Store.objects.count() == Merchant.objects.count()
    per_store = Counter(PosTerminal.objects.values_list("store_id", flat=True))
    car_park_stores = {p.store_id for p in car_park_list(mall_group_id=group.pk)}  # paid through the car-park API
    desk = points_mall_settings(mall_group_id=group.pk).store_id  # the service desk: points mall and events
    own = car_park_stores | {desk}  # the malls' own stores, sold through their channels, not a POS
    assert len(car_park_stores) == 2 and desk is not None and not own & set(per_store)
    assert set(per_store.values()) <= {1, 2} and len(per_store) == Store.objects.count() - len(own)
    assert Consent.objects.filter(purpose=ConsentPurpose.PRIVACY_POLICY).count() == MEMBERS
    marketing = Consent.objects.filter(purpose=ConsentPurpose.MARKETING_SMS).count()
    assert 0.45 * MEMBERS < marketing < 0.75 * MEMBERS


def test_merchants_are_believable(seeded):
    for mall in Mall.objects.all():
        names = list(Merchant.objects.filter(mall=mall).values_list("name", flat=True))
        assert len(names) == len(set(names))
        units = list(Store.objects.filter(merchant__mall=mall).values_list("unit_no", flat=True))
        assert len(units) == len(set(units))
    car_park_operators = {p.store.merchant_id for p in car_park_list()}  # the malls' own car parks: no commission
    desk = Store.objects.get(
        pk=points_mall_settings(mall_group_id=MallGroup.objects.get(code=catalog.GROUP_CODE).pk).store_id
    )
    for merchant in Merchant.objects.exclude(pk__in=car_park_operators | {desk.merchant_id}):  # nor the service desk
        assert 300 <= merchant.commission_bp <= 1500
        assert merchant.contract_starts_on < merchant.contract_ends_on
        assert merchant.contract_no and merchant.area_m2 > 0
    for store in Store.objects.all():
        assert store.floor in {"B1", "L1", "L2", "L3", "L4", "L5"}
        assert store.unit_no.startswith(f"{store.floor}-") and len(store.unit_no) == len("L3-025")
    assert Merchant.objects.filter(name="喜茶").exists() and Merchant.objects.filter(name="优衣库").exists()


def test_identifiers_are_valid(seeded):
    phones = MemberIdentifier.objects.filter(kind=IdentifierKind.PHONE)
    assert phones.count() == MEMBERS
    for value in phones.values_list("value", flat=True):
        assert value.startswith("+86") and rules.normalize_phone(value) == value
    assert set(phones.values_list("value", flat=True)) == set(Member.objects.values_list("phone", flat=True))

    cards = list(MemberIdentifier.objects.filter(kind=IdentifierKind.CARD).values_list("value", flat=True))
    assert len(cards) == MEMBERS == len(set(cards))
    for card in cards:
        assert luhn_valid(card) and rules.looks_like_card_number(card)
    assert set(cards) == set(Member.objects.values_list("card_no", flat=True))

    plates = MemberIdentifier.objects.filter(kind=IdentifierKind.PLATE)
    for value in plates.values_list("value", flat=True):
        assert rules.normalize_plate(value) == value
    per_member = Counter(plates.values_list("member_id", flat=True))
    assert max(per_member.values()) <= MAX_PLATES
    assert 0.2 * MEMBERS < len(per_member) < 0.5 * MEMBERS
    new_energy = sum(1 for v in plates.values_list("value", flat=True) if rules.is_new_energy_plate(v))
    assert 0 < new_energy < plates.count()


def test_member_profiles(seeded):
    channels = Counter(Member.objects.values_list("join_channel", flat=True))
    assert set(channels) == set(JoinChannel.values)
    assert channels[JoinChannel.APP] > channels[JoinChannel.POS] > channels[JoinChannel.IMPORT]
    for member in Member.objects.all():
        assert len(member.code_secret) == 32 and int(member.code_secret, 16) >= 0
        assert member.last_active_at is not None and member.created_at <= member.last_active_at <= FROZEN
        assert FROZEN - dt.timedelta(days=800) < member.created_at < FROZEN
        assert (member.join_merchant_id is not None) == (member.join_channel == JoinChannel.POS)
        if member.join_merchant_id:
            assert member.join_merchant.mall_id == member.join_mall_id
        if member.birthday:
            age = (FROZEN.date() - member.birthday).days / 365.25
            assert 18 <= age <= 71
    missing = Member.objects.filter(birthday__isnull=True).count()
    assert 0.05 * MEMBERS < missing < 0.3 * MEMBERS
    # growth: the last 12 months brought more members than the 12 before
    recent = Member.objects.filter(created_at__gte=FROZEN - dt.timedelta(days=365)).count()
    assert recent > MEMBERS - recent


def test_same_seed_same_data_and_reset(seeded):
    first = snapshot()
    assert "already seeded" in seed("--seed", "7")
    assert snapshot() == first
    seed("--seed", "7", "--reset")  # wipes the database, then seeds into the empty one
    assert MallGroup.objects.count() == 1 and Member.objects.count() == MEMBERS
    assert snapshot() == first
    seed("--seed", "8", "--reset")
    assert snapshot()[0] != first[0]


def test_reset_refuses_a_database_with_other_tenants(seeded):
    MallGroup.objects.create(name="海岸城集团", code="coastal")
    with pytest.raises(CommandError, match="other mall groups"):
        seed("--reset")
    assert Member.objects.count() == MEMBERS


def test_every_role_logs_in_with_the_demo_password(seeded, client):
    users = User.objects.filter(username__in=[s.username for s in catalog.STAFF])
    assert set(users.values_list("role", flat=True)) == set(Role.values)
    for user in users:
        assert client.login(username=user.username, password=catalog.DEMO_PASSWORD), user.username
        client.logout()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.role == Role.PLATFORM_ADMIN and admin.mall_group_id is None
    heytea = User.objects.get(username="heytea-clerk")
    assert heytea.merchant.name == "喜茶" and heytea.mall_group_id == heytea.merchant.mall.group_id
    assert User.objects.get(username="uniqlo-owner").merchant.name == "优衣库"


def test_demo_no_serve_seeds_once_and_prints_the_banner(db, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    out = io.StringIO()
    call_command("demo", "--no-serve", "--members", "40", "--sales", "10", stdout=out)
    text = out.getvalue()
    assert Member.objects.count() == 40
    for needle in ("/console/", "/merchant/", "/app/", "/api/v1/docs", catalog.DEMO_PASSWORD):
        assert needle in text
    for spec in catalog.STAFF:
        assert spec.username in text
    assert (tmp_path / "static").is_dir()
    out = io.StringIO()
    call_command("demo", "--no-serve", "--port", "8123", stdout=out)  # second run: no new seeding
    assert Member.objects.count() == 40
    assert "http://127.0.0.1:8123/console/" in out.getvalue()


@pytest.mark.django_db
def test_the_demo_has_a_year_of_sales_tiers_wallets_and_a_pos_key_with_a_clean_ledger():
    from galleria.ledger.selectors import ledger_check
    from galleria.merchants.models import PosKey
    from galleria.sales.models import Sale
    from galleria.tiers.models import MemberTier
    from galleria.wallet.models import TopUp

    out = seed()
    assert "30 sales" in out or Sale.objects.count() >= 25
    assert Sale.objects.exclude(member=None).exists()
    assert TopUp.objects.filter(status="paid").exists()
    assert MemberTier.objects.exists()
    assert PosKey.objects.filter(label="demo", revoked_at=None).count() == 1
    assert ledger_check().ok


@pytest.mark.django_db
def test_the_demo_has_a_stocked_claim_centre_used_coupons_and_a_running_promotion():
    from galleria.coupons.models import Coupon, CouponRedemption, CouponTemplate, Promotion
    from galleria.coupons.rules import BASKET_KINDS, STANDALONE_KINDS
    from galleria.ledger.selectors import ledger_check
    from galleria.sales.models import Sale

    seed()
    kinds = set(CouponTemplate.objects.filter(status="active").values_list("kind", flat=True))
    assert kinds >= set(BASKET_KINDS) | set(STANDALONE_KINDS)  # every kind of coupon
    assert CouponTemplate.objects.filter(is_claimable=True, claim_method="points").exists()
    assert CouponTemplate.objects.filter(is_claimable=True, claim_method="price").exists()
    assert Coupon.objects.filter(status="available").exists()
    used = Coupon.objects.filter(status="used")
    assert used.exists()
    assert CouponRedemption.objects.filter(coupon__in=used, sale_id__isnull=False).count() == used.count()
    assert Sale.objects.filter(discount_fen__gt=0).exists()
    assert Promotion.objects.filter(status="active", members_only=False).count() == 1
    assert ledger_check().ok


@pytest.mark.django_db
def test_the_demo_has_car_parks_with_a_week_of_stays_and_the_demo_members_car_parked():
    from galleria.ledger.selectors import ledger_check
    from galleria.members.models import Member
    from galleria.parking.models import CarPark, ParkingGrant, ParkingPayment, ParkingSession

    out = seed()
    assert "car parks" in out
    parks = list(CarPark.objects.all())
    assert parks and all(p.tariffs.exists() and p.gates.filter(direction="exit").exists() for p in parks)
    assert ParkingSession.objects.filter(exit_at__isnull=False).count() >= 50
    parked = ParkingSession.objects.filter(exit_at=None)
    assert parked.exists()
    newest = Member.objects.order_by("-created_at").first()
    assert parked.filter(member=newest).exists()  # the app's "my car" has something to show
    sources = set(ParkingPayment.objects.values_list("source", flat=True))
    assert {"app", "third_party"} <= sources, sources  # paid in the app (wallet, points) and at the booth
    assert ParkingGrant.objects.exclude(session=None).exists()  # a grant that a stay used
    from django.db.models import Sum

    from galleria.ledger.models import Entry

    billed = Entry.objects.filter(account__kind="parking_grant_cost").aggregate(t=Sum("amount"))["t"] or 0
    assert -billed == ParkingGrant.objects.aggregate(t=Sum("fen_used"))["t"] > 0  # billed to the merchants
    assert ledger_check().ok


@pytest.mark.django_db
def test_the_demo_has_a_points_mall_with_a_dozen_items_and_exchanges():
    from galleria.commerce.models import Order, Product
    from galleria.ledger.selectors import ledger_check
    from galleria.members.models import Member

    out = seed()
    assert "Points mall:" in out
    assert Product.objects.filter(status="on_sale").count() >= 12
    assert set(Product.objects.values_list("kind", flat=True)) == {"gift", "coupon"}
    assert Product.objects.exclude(image_sha="").exists()
    orders = Order.objects.all()
    assert orders.count() >= 3
    states = set(orders.values_list("state", flat=True))
    assert {"paid", "completed"} <= states
    newest = Member.objects.order_by("-created_at").first()
    assert orders.filter(member=newest, fulfilment="pickup", state="paid").exists()  # a pickup code in the app
    assert ledger_check().ok


@pytest.mark.django_db
def test_the_demo_has_events_with_seats_a_waiting_list_and_attendance():
    from django.utils import timezone

    from galleria.events import selectors
    from galleria.events.models import Event, Registration
    from galleria.ledger.selectors import ledger_check
    from galleria.members.models import Member

    out = seed()
    assert "Events:" in out
    now = timezone.now()
    stats = {e.title: selectors.attendance(event=e, at=now) for e in Event.objects.all()}
    assert stats["周末亲子烘焙课"].registered < stats["周末亲子烘焙课"].capacity  # seats left
    assert stats["会员日花艺沙龙"].registered == 6 and stats["会员日花艺沙龙"].waiting == 2
    assert (stats["秋季穿搭讲座"].checked_in, stats["秋季穿搭讲座"].no_shows) == (8, 2)
    newest = Member.objects.order_by("-created_at").first()
    assert Registration.objects.filter(member=newest, state="confirmed").exists()  # a ticket with a QR in the app
    assert Event.objects.exclude(poster_sha="").count() == Event.objects.count()
    assert ledger_check().ok


@pytest.mark.django_db
def test_the_demo_has_a_living_online_mall():
    from galleria.commerce import search
    from galleria.commerce import selectors_catalog as online
    from galleria.commerce.models import Product, SkuStock

    out = seed()
    assert "Online mall: 5 shops" in out
    group = MallGroup.objects.get(code=catalog.GROUP_CODE)
    assert online.online_settings_get(mall_group_id=group.pk).is_open
    listed = online.listed(mall_group_id=group.pk)
    assert listed.count() >= 15
    assert set(listed.values_list("merchant__name", flat=True)) == {"喜茶", "奈雪的茶", "优衣库", "无印良品", "迪卡侬"}
    assert not listed.filter(image_sha="").exists()
    assert "芝士奶茶" in [c.title for c in search.product_search(mall_group_id=group.pk, query="奶茶").cards]
    assert Product.objects.filter(shop="online", is_blocked=True).exclude(blocked_reason="").exists()
    assert Product.objects.filter(shop="online", status="draft").exists()
    assert SkuStock.objects.filter(on_hand=0).exists() and SkuStock.objects.filter(on_hand__gt=10).exists()
    shelves = online.shelves_shown(mall_group_id=group.pk)
    assert len(shelves) == 2 and all(cards for _shelf, cards in shelves)
    tops = [c for c in online.online_categories(mall_group_id=group.pk) if c.parent_id is None]
    assert len(tops) == 5 and all(c.icon_sha for c in tops)
    # the newest member's orders (step O5): paid, cancelled with a refund, one waiting for payment
    from galleria.commerce.models import Checkout, Order

    assert "3 checkouts of the newest member" in out
    mine = Checkout.objects.filter(idempotency_key__startswith="demo-online-")
    assert sorted(mine.values_list("idempotency_key", "state")) == [
        ("demo-online-1", "paid"),
        ("demo-online-2", "paid"),
        ("demo-online-3", "pending_payment"),
    ]
    states = Order.objects.filter(checkout__in=mine).values_list("state", flat=True)
    assert sorted(states) == ["cancelled", "paid", "paid", "pending_payment", "pending_payment"]
