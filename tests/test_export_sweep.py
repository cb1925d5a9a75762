"""The data export reaches every area: parking, commerce, events and audience through
settings.GALLERIA_EXPORT_SECTIONS (privacy cannot import them), messaging directly. A member with data everywhere
gets all of it and another member's never appears; the document is plain JSON, its queries do not grow with the
member's history; and a table keyed by a member that is neither exported nor left out with a reason fails
`test_every_member_table_is_exported_or_left_out_with_a_reason` (as tests/test_erasure_sweep.py does for erasure).

It lives outside the apps because it crosses them all (privacy sits below parking, commerce, events and audience)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from galleria.audience.models import MemberProfile, MemberTag, Segment, Tag, TagGroup
from galleria.audit.types import Actor
from galleria.campaigns.models import Campaign, CampaignMember
from galleria.commerce.models import (
    CartItem,
    Checkout,
    Order,
    OrderLine,
    Product,
    ReturnLine,
    ReturnRequest,
    Review,
    ShipmentEvent,
    Sku,
)
from galleria.events.models import Event, Registration
from galleria.journeys.models import Enrollment, Journey, JourneyVersion, StepRun
from galleria.members.models import Member
from galleria.members.services import member_register
from galleria.messaging.models import (
    EmailMessage,
    InboxMessage,
    InboxRead,
    PushMessage,
    PushSubscription,
    SmsMessage,
    WechatMessage,
    WechatSubscription,
)
from galleria.parking.models import ParkingGrant, ParkingPayment, ParkingProfile, ParkingSession, PlateClaim
from galleria.parking.tests.helpers import car_park
from galleria.privacy import selectors, services

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, label="member-app")
_phones = itertools.count(30000000)
_seq = itertools.count(1)

# The sections of the core document (privacy's own reads), which the registered areas may not reuse.
CORE = {"format", "generated_at", "mall_group", "profile", "identifiers", "consents", "points", "tier", "wallet"}
CORE |= {"sales", "refunds", "coupons"}
# Sections of tables keyed by the member's phone or e-mail address, not by the member (messaging's outboxes).
BY_CONTACT = {"sms_messages", "emails"}

# Every table with a foreign key to members.Member or a `member_id` column: the sections that export it ...
EXPORTED: dict[str, set[str]] = {
    "members.Member": {"profile"},
    "members.MemberIdentifier": {"identifiers"},
    "members.Consent": {"consents"},
    "ledger.Account": {"points", "wallet"},
    "wallet.TopUp": {"wallet"},
    "wallet.WalletPayment": {"wallet"},
    "tiers.MemberTier": {"tier"},
    "tiers.TierChange": {"tier"},
    "points.PointsLot": {"points"},
    "coupons.Coupon": {"coupons"},
    "sales.Sale": {"sales", "refunds", "recommendation_profile"},  # the profile is computed from the member's sales
    "messaging.InboxMessage": {"inbox_messages"},
    "messaging.InboxRead": {"inbox_messages"},
    "messaging.WechatMessage": {"wechat_messages"},
    "messaging.WechatSubscription": {"wechat_subscriptions"},
    "messaging.PushSubscription": {"push_subscriptions"},
    "messaging.PushMessage": {"push_messages"},
    "parking.ParkingProfile": {"parking_profile"},
    "parking.ParkingSession": {"parking_stays"},
    "parking.PlateClaim": {"parking_plate_claims"},
    "commerce.Order": {"points_mall_orders", "online_orders"},
    "commerce.CartItem": {"online_cart"},
    "commerce.Checkout": {"online_checkouts"},
    "commerce.ReturnRequest": {"after_sales_requests"},
    "commerce.Review": {"product_reviews"},
    "events.Registration": {"event_registrations"},
    "amenities.Rental": {"amenity_rentals"},
    "amenities.Booking": {"service_bookings"},
    "games.Draw": {"game_draws"},
    "games.CheckInDay": {"checkin_days"},
    "games.StreakReward": {"checkin_streak_rewards"},
    "audience.MemberProfile": {"audience_profile"},
    "audience.MemberTag": {"audience_tags"},
    "campaigns.CampaignMember": {"marketing_campaigns"},
    "journeys.Enrollment": {"marketing_journeys"},
    "apiauth.MemberDevice": {"api_devices"},
}
# ... or why it is left out. "Not exported yet" entries are known gaps to close (docs/privacy.md, Known limits).
LEFT_OUT: dict[str, str] = {
    "commerce.MemberQuota": "a lock row per (product, member): no data of its own",
    "coupons.CouponHolding": "a lock row per (template, member): no data of its own",
    "games.Player": "a lock row per (game, member) with play counts derived from the draws under game_draws",
    "coupons.CouponRedemption": "the use of a coupon: its time is the coupon's used_at, its sale is under sales",
    "tiers.TierSpend": "running totals for tier qualification, derived from the sales exported under sales",
    "points.BehaviourAward": "each award is a points credit exported in points.history, with its explanation",
    "points.PointsAdjustment": "the staff workflow of a correction; its posting is in points.history",
    "points.ExpiryNotice": "the trigger of an expiry notice; the message itself is under sms_messages/inbox",
    "privacy.PrivacyRequest": "the member's own requests, listed on the app's privacy page; an export that held "
    "earlier exports would grow without bound",
    "audit.PiiAccess": "the security record of staff access to personal data (docs/privacy.md, access log)",
    "dedupe.PairMark": "staff's review of suspected duplicate pairs (an internal work queue)",
    "dedupe.MergeRecord": "what a merge moved: the moved identifiers, points and history are under their sections",
    "imports.ImportRow": "the mall's report of an import file row: the values it loaded are under profile and "
    "identifiers",
    "imports.OpeningBalance": "opening points and tier of an import: exported as credits in points and tier",
    "wallet.BalanceRefund": "not exported yet (known gap): service-desk refunds of the wallet balance",
    "receipts.Receipt": "not exported yet (known gap): receipts is privacy's sibling and registers no section; "
    "the points each approved receipt earned are in points.history",
    "receipts.ReceiptBlock": "not exported yet (known gap): a desk's block on the member's receipt uploads",
    "payments.PaymentAttempt": "not exported yet (known gap): payments is privacy's sibling; the paid amounts are "
    "in wallet, sales and the commerce orders",
    "campaigns.MarketingSend": "the weekly marketing cap's count; the messages are under sms_messages and "
    "inbox_messages",
    "payments.MallTransaction": "not exported yet (known gap): 商圈 payments; their points sales are under sales",
    "webhooks.WebhookEvent": "events sent to the mall's own systems (webhooks): ids only, no personal data",
    "webhooks.Delivery": "the delivery log of those webhook events: ids, status codes and times",
}


def _member_tables() -> set[str]:
    found = set()
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if (f.is_relation and f.related_model is Member) or (not f.is_relation and f.column == "member_id"):
                found.add(model._meta.label)
    return found


def _register(world, phone: str) -> Member:
    member = member_register(mall=world.mall, phone=phone, channel="app", actor=ACTOR, consents=("privacy_policy",))
    return member


def _data_everywhere(world, member: Member, *, mark: str, plate: str, park, claim_plate: str = "") -> None:
    """One row (or a few) of `member` in every area, each text carrying `mark`."""
    now = timezone.now()
    n = next(_seq)
    Member.objects.filter(pk=member.pk).update(email=f"{mark.lower()}@example.com")
    member.refresh_from_db()
    # parking
    ParkingProfile.objects.update_or_create(member=member, defaults={"auto_pay": True, "auto_pay_since": now})
    stay = ParkingSession.objects.create(
        car_park=park,
        plate=plate,
        member=member,
        state="exited",
        entry_at=now - dt.timedelta(hours=3),
        exit_at=now - dt.timedelta(hours=1),
        paid_fen=1000 + n,
        fee_fen=1000 + n,
        note=f"{mark}-stay",
        explanation={"segments": [{"fen": 1000 + n}]},
    )
    ParkingPayment.objects.create(
        session=stay,
        key=f"{mark}-pay",
        source="app",
        amount_fen=1000 + n,
        wallet_fen=1000 + n,
        covers_until=now - dt.timedelta(hours=1),
        paid_at=now - dt.timedelta(hours=1, minutes=5),
        benefits=[{"kind": "tier_hours", "minutes": 60}],
    )
    ParkingGrant.objects.create(
        mall=world.mall,
        merchant=world.merchant,
        plate=plate,
        hours=2,
        granted_at=now - dt.timedelta(hours=2),
        valid_until=now + dt.timedelta(hours=1),
        key=f"{mark}-grant",
        session=stay,
        minutes_used=120,
        fen_used=500,
        note=f"{mark}-grant-note",
    )
    PlateClaim.objects.create(
        mall_group=world.group,
        member=member,
        plate=claim_plate or plate,
        created_at=now,
        image_name=f"claims/{mark}.jpg",
        image_sha256="f" * 64,
    )
    # commerce: a points-mall exchange picked up at the desk, an online order with a delivery, a return, a review
    gift = Product.objects.create(mall_group=world.group, kind="gift", title=f"{mark}-gift", status="on_sale")
    gift_sku = Sku.objects.create(product=gift, code=f"{mark}-g", price_points=500, stock=10)
    exchange = Order.objects.create(
        mall_group=world.group,
        number=f"PM{mark}",
        member=member,
        merchant=world.merchant,
        store=world.store,
        state="completed",
        fulfilment="pickup",
        local_day=now.date(),
        total_points=500,
        pos_sale_id=f"pos-{mark}",
        idempotency_key=f"{mark}-x",
        paid_at=now,
        pickup_code=f"{n:08d}",
        picked_up_at=now,
        handed_over_by=f"{mark}-clerk",
    )
    OrderLine.objects.create(
        order=exchange, product=gift, sku=gift_sku, title=f"{mark}-gift", quantity=1, unit_points=500
    )
    item = Product.objects.create(
        mall_group=world.group,
        shop="online",
        merchant=world.merchant,
        kind="gift",
        title=f"{mark}-tea",
        status="on_sale",
    )
    sku = Sku.objects.create(product=item, code=f"{mark}-t", price_fen=3000, options={"杯型": "大杯"}, option_key="x")
    CartItem.objects.create(member=member, sku=sku, quantity=2)
    checkout = Checkout.objects.create(
        mall_group=world.group,
        member=member,
        number=f"OC{mark}",
        idempotency_key=f"{mark}-c",
        state="paid",
        placed_at=now,
        expires_at=now + dt.timedelta(minutes=15),
        paid_at=now,
        goods_fen=3000,
        wallet_fen=3000,
        pay_method="wallet",
        ship_name=f"{mark}-receiver",
        ship_phone="13800000000",
        ship_address=f"{mark} road 1",
    )
    order = Order.objects.create(
        mall_group=world.group,
        shop="online",
        number=f"OO{mark}",
        member=member,
        merchant=world.merchant,
        store=world.store,
        state="delivered",
        fulfilment="delivery",
        local_day=now.date(),
        cash_fen=3000,
        wallet_fen=3000,
        goods_fen=3000,
        pay_method="wallet",
        pos_sale_id=f"pos-o-{mark}",
        idempotency_key=f"{mark}-o",
        paid_at=now,
        checkout=checkout,
        ship_name=f"{mark}-receiver",
        ship_address=f"{mark} road 1",
        tracking_no=f"SF{mark}",
        shipped_at=now,
    )
    line = OrderLine.objects.create(
        order=order,
        product=item,
        sku=sku,
        title=f"{mark}-tea",
        sku_label="大杯",
        quantity=1,
        unit_fen=3000,
        amount_fen=3000,
    )
    ShipmentEvent.objects.create(
        order=order, at=now, status="shipped", text=f"{mark}-left the store", source="merchant"
    )
    request = ReturnRequest.objects.create(
        number=f"RR{mark}",
        order=order,
        merchant=world.merchant,
        member=member,
        kind="refund_only",
        reason=f"{mark}-too sweet",
        photos=["a" * 64],
        idempotency_key=f"{mark}-r",
    )
    ReturnLine.objects.create(request=request, order_line=line, quantity=1)
    Review.objects.create(
        order_line=line, product=item, merchant=world.merchant, member=member, rating=4, text=f"{mark}-review"
    )
    # events
    event = Event.objects.create(
        mall_group=world.group,
        mall=world.mall,
        title=f"{mark}-event",
        place="L1 中庭",
        starts_at=now + dt.timedelta(days=3),
        ends_at=now + dt.timedelta(days=3, hours=2),
        capacity=20,
        status="published",
    )
    Registration.objects.create(
        mall_group=world.group,
        event=event,
        member=member,
        state="confirmed",
        idempotency_key=f"{mark}-e",
        code=f"{n + 50:08d}",
        confirmed_at=now,
    )
    # audience
    MemberProfile.objects.update_or_create(
        member=member,
        defaults={
            "mall_group": world.group,
            "joined_at": member.created_at,
            "last_sale_at": now,
            "sales_count": 3,
            "spend_fen": 88800 + n,
            "top_merchant_id": world.merchant.pk,
            "rfm": "champions",
            "lifecycle": "active",
            "computed_at": now,
        },
    )
    group, _ = TagGroup.objects.get_or_create(mall_group=world.group, name="习惯")
    tag = Tag.objects.create(mall_group=world.group, group=group, kind="manual", name=f"{mark}-tag")
    MemberTag.objects.create(tag=tag, member=member, source="staff", added_at=now, added_by=f"{mark}-staff")
    # campaigns: the member was in the group that received one
    segment, _ = Segment.objects.get_or_create(mall_group=world.group, name="证据分群", defaults={"definition": {}})
    campaign = Campaign.objects.create(
        mall_group=world.group,
        name=f"{mark}-campaign",
        segment=segment,
        title="t",
        body="b",
        scheduled_at=now,
        status="sent",
        started_at=now,
    )
    CampaignMember.objects.create(campaign=campaign, member=member, arm="treated", delivery="sent", done_at=now)
    # journeys: the member entered one and a step was done for them
    journey = Journey.objects.create(mall_group=world.group, name=f"{mark}-journey", trigger="joined")
    version = JourneyVersion.objects.create(journey=journey, number=1, definition={"steps": []}, published_at=now)
    enrollment = Enrollment.objects.create(
        journey=journey, version=version, member=member, key="once", wake_at=now, entered_at=now
    )
    StepRun.objects.create(enrollment=enrollment, version=version, step="m", outcome="done", at=now)
    # messaging: a notice and a sign-in code by SMS, an e-mail, a personal inbox message and a broadcast read
    SmsMessage.objects.create(phone=member.phone, template="marketing_notice", body=f"{mark}-sms notice")
    SmsMessage.objects.create(phone=member.phone, template="otp", body=f"code {n:06d}", params={"code": f"{n:06d}"})
    EmailMessage.objects.create(to=member.email, subject=f"{mark}-mail", body=f"{mark}-mail body")
    InboxMessage.objects.create(
        mall_group=world.group, audience="member", member_id=member.pk, title=f"{mark}-inbox", body="hi", sent_at=now
    )
    broadcast = InboxMessage.objects.create(
        mall_group=world.group, audience="all", title=f"{mark}-broadcast", body="all", sent_at=now
    )
    InboxRead.objects.create(message=broadcast, member_id=member.pk, read_at=now)
    # WeChat and web push: a subscribe message with the accept it used, a browser subscription and a push
    WechatSubscription.objects.create(
        member_id=member.pk, openid=f"o{mark}{n}", template_id="tpl-notice", remaining=1, accepted_at=now
    )
    WechatMessage.objects.create(
        member_id=member.pk,
        channel="subscribe",
        recipient=f"o{mark}{n}",
        template="marketing_notice",
        template_id="tpl-notice",
        data={"thing1": f"{mark}-wechat"},
        status="sent",
    )
    sub = PushSubscription.objects.create(
        member_id=member.pk, endpoint=f"https://push.example.com/{mark}/{n}", p256dh="B" * 87, auth="a" * 22
    )
    PushMessage.objects.create(member_id=member.pk, subscription=sub, title=f"{mark}-push", status="sent")
    # the member API: a device signed in with tokens (only their hashes are stored; none is exported)
    from galleria.apiauth.services import device_sign_in

    device_sign_in(member_id=member.pk, mall_group_id=world.group.pk, name=f"{mark}-phone", via="otp")


@pytest.fixture
def two_members(world):
    park = car_park(world)
    member = _register(world, f"135{next(_phones):08d}")
    other = _register(world, f"135{next(_phones):08d}")
    _data_everywhere(world, member, mark="MINE", plate="粤B12345", park=park)
    _data_everywhere(world, other, mark="THEIRS", plate="粤B67890", park=park)
    return member, other


def test_export_holds_every_area_of_the_member_and_nothing_of_another(world, two_members):
    member, other = two_members
    req = services.export_create(member_id=member.pk, mall_group_id=world.group.pk, actor=ACTOR, via="app")
    doc = req.data
    text = json.dumps(doc, ensure_ascii=False)  # plain JSON: no default= needed
    assert json.loads(text) == doc
    assert doc["format"] == selectors.EXPORT_FORMAT == "galleria.member-export/2"

    (parking_profile,) = doc["parking_profile"]
    assert parking_profile["auto_pay"] is True and parking_profile["auto_pay_since"]
    (stay,) = doc["parking_stays"]
    assert stay["plate"] == "粤B12345" and stay["car_park"] == "星河广场停车场"
    assert [p["amount_fen"] for p in stay["payments"]] == [stay["paid_fen"]]
    assert stay["merchant_grants"][0]["merchant"] == world.merchant.name
    (claim,) = doc["parking_plate_claims"]
    assert claim["plate"] == "粤B12345" and claim["status"] == "pending"

    (exchange,) = doc["points_mall_orders"]
    assert exchange["number"] == "PMMINE" and exchange["points"] == 500 and exchange["picked_up_at"]
    assert exchange["lines"][0]["title"] == "MINE-gift"
    (online,) = doc["online_orders"]
    assert online["number"] == "OOMINE" and online["checkout"] == "OCMINE" and online["cash_fen"] == 3000
    assert online["lines"][0]["option"] == "大杯"
    assert online["shipment_events"][0]["details"] == "MINE-left the store"
    assert doc["online_cart"][0]["product"] == "MINE-tea" and doc["online_cart"][0]["quantity"] == 2
    assert doc["online_checkouts"][0]["number"] == "OCMINE" and doc["online_checkouts"][0]["wallet_fen"] == 3000
    (ret,) = doc["after_sales_requests"]
    assert (
        ret["order"] == "OOMINE" and ret["photo_count"] == 1 and ret["lines"] == [{"title": "MINE-tea", "quantity": 1}]
    )
    assert doc["product_reviews"][0]["text"] == "MINE-review" and doc["product_reviews"][0]["rating"] == 4

    (reg,) = doc["event_registrations"]
    assert reg["event"] == "MINE-event" and reg["state"] == "confirmed" and reg["seats"] == 1

    (targeted,) = doc["marketing_campaigns"]
    assert targeted["campaign"] == "MINE-campaign" and targeted["group"] == "received"
    (walked,) = doc["marketing_journeys"]
    assert walked["journey"] == "MINE-journey" and walked["occurrence"] == "once"
    assert [s["step"] for s in walked["steps"]] == ["m"]

    (profile,) = doc["audience_profile"]
    assert profile["rfm_segment"] == "champions" and profile["lifecycle"] == "active"
    assert profile["top_merchant"] == world.merchant.name and isinstance(profile["spend_fen"], int)
    assert [(t["tag"], t["group"], t["source"]) for t in doc["audience_tags"]] == [("MINE-tag", "习惯", "staff")]

    assert [m["template"] for m in doc["sms_messages"]] == ["marketing_notice", "otp"]
    assert doc["sms_messages"][0]["text"] == "MINE-sms notice"
    assert doc["sms_messages"][1]["text"] is None  # a sign-in code is a credential: withheld
    assert [e["subject"] for e in doc["emails"]] == ["MINE-mail"]
    assert {m["title"]: bool(m["read_at"]) for m in doc["inbox_messages"]} == {
        "MINE-inbox": False,
        "MINE-broadcast": True,
    }

    assert [m["values"] for m in doc["wechat_messages"]] == [{"thing1": "MINE-wechat"}]
    assert [s["remaining"] for s in doc["wechat_subscriptions"]] == [1]
    assert doc["push_subscriptions"][0]["endpoint"].startswith("https://push.example.com/MINE/")
    assert "auth" not in doc["push_subscriptions"][0]  # the subscription's secret stays in
    assert [m["title"] for m in doc["push_messages"]] == ["MINE-push"]
    assert [(d["device"], d["signed_in_with"]) for d in doc["api_devices"]] == [("MINE-phone", "otp")]

    # nobody else's data, and no internal secrets or keys
    assert "THEIRS" not in text.upper() and other.phone[3:] not in text and "粤B67890" not in text
    for secret in ("MINE-pay", "MINE-x", "MINE-o", "MINE-c", "MINE-r", "MINE-e", "MINE-clerk", "MINE-staff"):
        assert f'"{secret}"' not in text, secret  # idempotency keys, staff names
    assert f'"{Order.objects.get(number="PMMINE").pickup_code}"' not in text  # one-time credentials
    assert f'"{Registration.objects.get(member=member).code}"' not in text
    assert "claims/MINE.jpg" not in text and "f" * 64 not in text and "a" * 64 not in text  # stored pictures
    assert "code 0" not in text  # the sign-in code's SMS text


def test_export_queries_do_not_grow_with_the_members_history(world, two_members, django_assert_max_num_queries):
    member, _ = two_members
    with CaptureQueriesContext(connection) as first:
        selectors.member_export_document(member=member)
    park = ParkingSession.objects.get(member=member).car_park
    _data_everywhere(world, member, mark="MORE", plate="粤B12345", park=park, claim_plate="粤B12346")  # more rows
    with django_assert_max_num_queries(len(first.captured_queries)):
        doc = selectors.member_export_document(member=member)
    assert len(doc["parking_stays"]) == 2 and len(doc["online_orders"]) == 2


def test_every_member_table_is_exported_or_left_out_with_a_reason(world):
    """A new table keyed by a member fails here until its area exports it (a function in
    GALLERIA_EXPORT_SECTIONS, or privacy's own reads) or LEFT_OUT says why not."""
    tables = _member_tables()
    both = set(EXPORTED) & set(LEFT_OUT)
    assert not both, f"both exported and left out: {both}"
    missing = tables - set(EXPORTED) - set(LEFT_OUT)
    assert not missing, f"tables keyed by a member, neither exported nor left out with a reason: {sorted(missing)}"
    stale = (set(EXPORTED) | set(LEFT_OUT)) - tables
    assert not stale, f"entries for tables that no longer refer to a member: {sorted(stale)}"
    assert all(reason.strip() for reason in LEFT_OUT.values())
    member = _register(world, f"135{next(_phones):08d}")
    sections = set(selectors.member_export_document(member=member))
    claimed = set().union(*EXPORTED.values())
    assert claimed <= sections, f"EXPORTED names sections the document lacks: {sorted(claimed - sections)}"
    areas = sections - CORE - BY_CONTACT
    assert areas <= claimed, f"sections no table claims in EXPORTED: {sorted(areas - claimed)}"
