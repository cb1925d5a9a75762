"""Fulfilment of paid online orders (docs/design/online-mall.md §6, §10; build step O3): ready → hand-over by the
pickup code (once), ship with a tracking number → timeline → delivered (merchant, integration, member or the job),
completion after the return window releasing the earn hold, and an uncollected pickup cancelled with a full refund."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from galleria.commerce import rules_orders, selectors_orders
from galleria.commerce import services_orders as orders
from galleria.commerce.models import Order, ShipmentEvent, SkuStock
from galleria.core.errors import ApplicationError
from galleria.ledger.models import AccountHold
from galleria.ledger.selectors import ledger_check
from galleria.points.selectors import points_available, points_balance
from galleria.wallet.selectors import wallet_balance

from .checkout_helpers import Shops, place
from .helpers import ACTOR, member

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def _paid(world, *, wallet_fen=50000, lines=None):
    s = Shops(world)
    m = member(world, wallet_fen=wallet_fen)
    placed = place(world, m, lines or [(s.tea_m, 2), (s.shirt_m, 1)], s.choices(s.a, s.b), pay_method="wallet")
    found = list(Order.objects.filter(checkout=placed).order_by("pk"))
    return s, m, found


def _stock(sku, store):
    row = SkuStock.objects.get(sku=sku, store=store)
    return row.on_hand, row.allocated, row.sold


def _code_of(exc_info):
    return exc_info.value.code


def test_ready_then_hand_over_by_the_code_once(world):
    s, _m, (tea, _shirt) = _paid(world)
    assert tea.pickup_code and tea.state == "paid"
    ready = orders.order_ready(order_id=tea.pk, merchant_id=s.a.pk, actor=ACTOR)
    assert ready.state == "ready_for_pickup" and ready.ready_at is not None
    assert orders.order_ready(order_id=tea.pk, merchant_id=s.a.pk, actor=ACTOR).ready_at == ready.ready_at
    with pytest.raises(ApplicationError) as err:  # another merchant's code reads as unknown
        orders.order_hand_over(merchant_id=s.b.pk, code=tea.pickup_code, actor=ACTOR)
    assert _code_of(err) == "commerce.pickup_code_invalid"

    typed = f"{tea.pickup_code[:4]} {tea.pickup_code[4:]}"  # spaced as read aloud
    done = orders.order_hand_over(merchant_id=s.a.pk, code=typed, actor=ACTOR)

    assert done.state == "delivered" and done.picked_up_at is not None
    assert done.return_until == done.delivered_at + 7 * DAY
    assert _stock(s.tea_m, s.a_store) == (8, 0, 2)
    with pytest.raises(ApplicationError) as err:
        orders.order_hand_over(merchant_id=s.a.pk, code=tea.pickup_code, actor=ACTOR)
    assert _code_of(err) == "commerce.pickup_code_used" and "handed over" in str(err.value.message)
    assert _stock(s.tea_m, s.a_store) == (8, 0, 2)
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_a_paid_pickup_is_handed_over_without_ready_but_a_cancelled_one_is_not(world):
    s, m, (tea, _shirt) = _paid(world)
    from galleria.commerce.services_online_gateway import online_order_cancel

    online_order_cancel(order_id=tea.pk, member_id=m.pk, actor=ACTOR)
    with pytest.raises(ApplicationError) as err:
        orders.order_hand_over(merchant_id=s.a.pk, code=tea.pickup_code, actor=ACTOR)
    assert _code_of(err) == "commerce.wrong_state"
    assert _stock(s.tea_m, s.a_store) == (10, 0, 0)


def test_ship_with_tracking_then_timeline_then_delivered_by_the_integration(world):
    s, _m, (_tea, shirt) = _paid(world)
    with pytest.raises(ApplicationError) as err:
        orders.order_ship(order_id=shirt.pk, merchant_id=s.b.pk, carrier="XX", tracking_no="1", actor=ACTOR)
    assert set(err.value.fields) == {"carrier", "tracking_no"}
    with pytest.raises(ApplicationError) as err:  # a pickup order is not shipped
        orders.order_ship(order_id=_tea.pk, merchant_id=s.a.pk, carrier="SF", tracking_no="SF123456789", actor=ACTOR)
    assert _code_of(err) == "commerce.wrong_state"
    with pytest.raises(ApplicationError):  # not B's order for A
        orders.order_ship(order_id=shirt.pk, merchant_id=s.a.pk, carrier="SF", tracking_no="SF123456789", actor=ACTOR)

    shipped = orders.order_ship(
        order_id=shirt.pk, merchant_id=s.b.pk, carrier="SF", tracking_no=" sf 1234 5678 90 ", actor=ACTOR
    )

    assert (shipped.state, shipped.carrier, shipped.tracking_no) == ("shipped", "SF", "SF1234567890")
    assert _stock(s.shirt_m, s.b_store) == (9, 0, 1)
    with pytest.raises(ApplicationError) as err:
        orders.order_ship(order_id=shirt.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF123456789", actor=ACTOR)
    assert _code_of(err) == "commerce.wrong_state"
    orders.order_event_add(order_id=shirt.pk, merchant_id=s.b.pk, status="in_transit", location="深圳", actor=ACTOR)
    with pytest.raises(ApplicationError):
        orders.order_event_add(order_id=shirt.pk, merchant_id=s.b.pk, status="bogus", actor=ACTOR)
    from django.db import transaction

    for _ in range(2):  # the integration's event, twice with one external id
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=shirt.pk)
            orders.order_event_add_in_tx(
                locked, status="delivered", at=shipped.shipped_at + DAY, source="api", external_id="e-1", actor=ACTOR
            )
    shirt.refresh_from_db()
    assert shirt.state == "delivered" and shirt.return_until == shirt.delivered_at + 7 * DAY
    detail = selectors_orders.order_detail(shirt)
    assert [e.status for e in detail.timeline] == ["delivered", "in_transit", "shipped"]
    assert ShipmentEvent.objects.filter(order=shirt, external_id="e-1").count() == 1
    assert detail.member_actions == () and "ship" not in detail.merchant_actions


def test_the_member_confirms_receipt_and_the_job_auto_receives(world):
    s, m, (_tea, shirt) = _paid(world)
    orders.order_ship(order_id=shirt.pk, merchant_id=s.b.pk, carrier="ZTO", tracking_no="ZT0000001", actor=ACTOR)
    with pytest.raises(ApplicationError):
        orders.order_receive(order_id=shirt.pk, member_id=member(world).pk, actor=ACTOR)
    got = orders.order_receive(order_id=shirt.pk, member_id=m.pk, actor=ACTOR)
    assert got.state == "delivered"
    assert orders.order_receive(order_id=shirt.pk, member_id=m.pk, actor=ACTOR).delivered_at == got.delivered_at

    s2_member = member(world, wallet_fen=10000)
    placed = place(world, s2_member, [(s.shirt_m, 1)], s.choices(s.b), pay_method="wallet")
    second = Order.objects.get(checkout=placed)
    orders.order_ship(order_id=second.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF99999999", actor=ACTOR)
    second.refresh_from_db()
    assert orders.orders_progress(now=second.shipped_at + 9 * DAY)["received"] == 0
    assert orders.orders_progress(now=second.shipped_at + 10 * DAY)["received"] == 1
    second.refresh_from_db()
    assert second.state == "delivered" and second.delivered_at == second.shipped_at + 10 * DAY
    assert orders.orders_progress(now=second.shipped_at + 10 * DAY)["received"] == 0  # idempotent


def test_completion_after_the_return_window_releases_the_earn_hold(world):
    s, m, (tea, _shirt) = _paid(world)
    earned = tea.points_earned
    assert earned > 0 and tea.earn_hold_open
    before = points_available(member_id=m.pk)
    done = orders.order_hand_over(merchant_id=s.a.pk, code=tea.pickup_code, actor=ACTOR)
    assert orders.orders_progress(now=done.return_until - dt.timedelta(seconds=1))["completed"] == 0
    assert points_available(member_id=m.pk) == before

    counts = orders.orders_progress(now=done.return_until)

    assert counts["completed"] == 1
    tea.refresh_from_db()
    assert tea.state == "completed" and not tea.earn_hold_open and tea.completed_at is not None
    assert AccountHold.objects.get(key=f"earn:{tea.pk}").released_at is not None
    assert points_available(member_id=m.pk) == before + earned
    assert orders.orders_progress(now=done.return_until)["completed"] == 0
    call_command("online_orders_progress")  # the command runs (nothing due now)
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_an_uncollected_pickup_is_cancelled_with_a_full_refund(world):
    s, m, (tea, _shirt) = _paid(world, wallet_fen=20000)
    wallet_before = wallet_balance(member_id=m.pk).total_fen
    points_before = points_balance(member_id=m.pk)
    assert orders.orders_progress(now=tea.paid_at + 30 * DAY)["uncollected"] == 0  # never marked ready: not due
    ready = orders.order_ready(order_id=tea.pk, merchant_id=s.a.pk, actor=ACTOR)
    assert orders.orders_progress(now=ready.ready_at + 6 * DAY)["uncollected"] == 0

    counts = orders.orders_progress(now=ready.ready_at + 7 * DAY)

    assert counts["uncollected"] == 1
    tea.refresh_from_db()
    assert tea.state == "cancelled" and tea.refunded_fen == tea.goods_fen
    assert wallet_balance(member_id=m.pk).total_fen == wallet_before + tea.wallet_fen
    assert points_balance(member_id=m.pk) == points_before - tea.points_earned
    assert _stock(s.tea_m, s.a_store) == (10, 0, 0)
    assert orders.orders_progress(now=ready.ready_at + 8 * DAY)["uncollected"] == 0
    with pytest.raises(ApplicationError) as err:
        orders.order_hand_over(merchant_id=s.a.pk, code=tea.pickup_code, actor=ACTOR)
    assert _code_of(err) == "commerce.wrong_state"
    assert ledger_check(mall_group_id=world.group.pk).ok


def test_the_transition_table_refuses_by_actor_and_fulfilment():
    t = rules_orders.transition
    assert t(state="paid", action="ready", fulfilment="pickup", actor="merchant") == "ready_for_pickup"
    assert t(state="paid", action="ready", fulfilment="delivery", actor="merchant") == ""
    assert t(state="paid", action="ready", fulfilment="pickup", actor="member") == ""
    assert t(state="paid", action="ship", fulfilment="delivery", actor="merchant") == "shipped"
    assert t(state="shipped", action="deliver", fulfilment="delivery", actor="member") == "delivered"
    assert t(state="shipped", action="deliver", fulfilment="delivery", actor="system") == "delivered"
    assert t(state="ready_for_pickup", action="cancel", fulfilment="pickup", actor="member") == ""
    assert t(state="ready_for_pickup", action="cancel", fulfilment="pickup", actor="system") == "cancelled"
    assert t(state="delivered", action="complete", fulfilment="pickup", actor="merchant") == ""
    assert t(state="completed", action="hand_over", fulfilment="pickup", actor="merchant") == ""
    assert rules_orders.actions(state="paid", fulfilment="pickup", actor="merchant") == ["ready", "hand_over", "cancel"]
    assert rules_orders.clean_tracking("ｓｆ 1234-5678") == "SF1234-5678" and rules_orders.clean_tracking("1") == ""


def test_the_member_is_told_after_commit(world, django_capture_on_commit_callbacks):
    from galleria.messaging.models import InboxMessage

    s, m, (tea, shirt) = _paid(world)
    with django_capture_on_commit_callbacks(execute=True):
        orders.order_ready(order_id=tea.pk, merchant_id=s.a.pk, actor=ACTOR)
        orders.order_ship(order_id=shirt.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF5550001", actor=ACTOR)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError):  # refused: no message
        orders.order_ship(order_id=shirt.pk, merchant_id=s.b.pk, carrier="SF", tracking_no="SF5550001", actor=ACTOR)
    messages = list(InboxMessage.objects.filter(member_id=m.pk).order_by("pk"))
    assert len(messages) == 2
    assert tea.number in messages[0].title and f"{tea.pickup_code[:4]} {tea.pickup_code[4:]}" in messages[0].body
    assert "SF5550001" in messages[1].body
