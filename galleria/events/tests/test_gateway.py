"""Money-priced events (services_gateway.py) against the sandbox gateway process: the seat is held while the member
pays; the money arriving confirms it with a sale of channel `event` (points + the gateway's money) through the
fulfilment registry (payments never imports events); a hold that lapsed first is refunded in full; cancelling a paid
seat within the rules books the gateway refund; an offered seat is paid the same way."""

from __future__ import annotations

import datetime as dt

import pytest

from galleria.core import timeutil
from galleria.events import exceptions, services, services_gateway
from galleria.events.models import Event, Registration
from galleria.ledger.selectors import ledger_check
from galleria.payments import services as payments
from galleria.payments.models import AttemptState, Fulfilment, PaymentAttempt, PaymentRefund
from galleria.points.selectors import points_balance
from galleria.sales.models import Sale, SalePayment

from .helpers import ACTOR, desk, event, member, register

pytestmark = pytest.mark.django_db(transaction=False)


def priced(world, **kw):
    return event(world, price_fen=kw.pop("price_fen", 3900), store_id=desk(world).pk, **kw)


def pay_start(reg, m, provider="wechat"):
    return services_gateway.registration_pay_start(
        registration_id=reg.pk,
        member_id=m.pk,
        provider=provider,
        kind="h5" if provider == "wechat" else "wap",
        actor=ACTOR,
        client_ip="127.0.0.1",
    )


def test_a_held_seat_is_confirmed_when_wechat_pay_money_arrives_and_a_sale_records_it(world, gateways):
    ev = priced(world, capacity=5)
    m = member(world)
    reg = register(world, m, ev, seats=1)
    assert reg.state == "paying" and reg.pay_expires_at is not None
    assert Event.objects.get(pk=ev.pk).seats_taken == 1  # held while paying
    assert reg.code and not Sale.objects.exists()

    started = pay_start(reg, m)
    assert started.amount_fen == 3900
    assert pay_start(reg, m).attempt_id == started.attempt_id  # the same button again
    with pytest.raises(exceptions.PaymentRequiredError):  # nothing confirms it but the money
        services.offer_confirm(registration_id=reg.pk, member_id=m.pk, actor=ACTOR)

    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    assert payments.attempt_sync(attempt_id=started.attempt_id) == AttemptState.PAID
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.purpose, attempt.fulfilment) == ("event", Fulfilment.DONE)
    reg.refresh_from_db()
    assert reg.state == "confirmed" and reg.paid_fen == 3900 and reg.out_trade_no == started.out_trade_no
    sale = Sale.objects.get(pk=reg.sale_id)
    assert sale.pk == attempt.sale_id and (sale.channel, sale.points_earned) == ("event", 0)
    assert list(SalePayment.objects.filter(sale=sale).values_list("method", "amount_fen")) == [("wechat", 3900)]
    assert ledger_check().ok


def test_points_and_alipay_pay_two_seats_and_cancelling_refunds_both(
    world, gateways, django_capture_on_commit_callbacks
):
    ev = priced(world, capacity=5, per_member_limit=2, price_points=500, price_fen=2000, cancel_hours_before=24)
    m = member(world, points=2000)
    reg = register(world, m, ev, seats=2)
    started = pay_start(reg, m, provider="alipay")
    assert started.amount_fen == 4000 and points_balance(member_id=m.pk) == 2000  # nothing taken yet
    gateways.control.pay(provider="alipay", out_trade_no=started.out_trade_no, url=started.payload["url"])
    payments.attempt_sync(attempt_id=started.attempt_id)
    reg.refresh_from_db()
    assert reg.state == "confirmed" and reg.points == 1000 and points_balance(member_id=m.pk) == 1000
    sale = Sale.objects.get(pk=reg.sale_id)
    assert sale.points_used == 1000
    assert list(SalePayment.objects.filter(sale=sale).values_list("method", "amount_fen")) == [("alipay", 4000)]

    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(registration_id=reg.pk, member_id=m.pk, actor=ACTOR)
    reg.refresh_from_db()
    assert reg.state == "cancelled" and reg.points_returned == 1000 and reg.gateway_refund_id is not None
    refund = PaymentRefund.objects.get(pk=reg.gateway_refund_id)
    assert (refund.amount_fen, refund.out_refund_no) == (4000, f"REV{reg.pk}")
    assert points_balance(member_id=m.pk) == 2000 and Event.objects.get(pk=ev.pk).seats_taken == 0
    assert gateways.control.trade(provider="alipay", out_trade_no=started.out_trade_no)["refunded_fen"] == 4000
    assert ledger_check().ok


def test_a_paid_seat_cannot_be_cancelled_by_the_member_after_the_rule_and_nothing_is_refunded(world, gateways):
    start = timeutil.now() + dt.timedelta(hours=5)
    ev = priced(world, starts_at=start, ends_at=start + dt.timedelta(hours=2), cancel_hours_before=24)
    m = member(world)
    reg = register(world, m, ev)
    started = pay_start(reg, m)
    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    payments.attempt_sync(attempt_id=started.attempt_id)
    with pytest.raises(exceptions.CancelNotAllowedError):
        services.registration_cancel(registration_id=reg.pk, member_id=m.pk, actor=ACTOR)
    assert not PaymentRefund.objects.exists()
    # staff may, any time before check-in: the gateway refund is booked
    services.registration_cancel(registration_id=reg.pk, mall_group_id=world.group.pk, actor=ACTOR)
    assert PaymentRefund.objects.get().amount_fen == 3900


def test_an_unpaid_hold_lapses_to_the_waiting_list_and_money_arriving_later_is_refunded_in_full(world, gateways):
    ev = priced(world, capacity=1)
    first, second = member(world), member(world)
    r1 = register(world, first, ev)
    r2 = register(world, second, ev)
    assert (r1.state, r2.state) == ("paying", "waiting")
    started = pay_start(r1, first)
    assert r1.pay_expires_at is not None
    assert services.offers_lapse(at=r1.pay_expires_at + dt.timedelta(seconds=1)) == 1
    r1.refresh_from_db()
    r2.refresh_from_db()
    assert r1.state == "lapsed" and r2.state == "offered"  # the next in line gets the seat

    gateways.control.pay(provider="wechat", out_trade_no=started.out_trade_no)
    payments.attempt_sync(attempt_id=started.attempt_id)
    attempt = PaymentAttempt.objects.get(pk=started.attempt_id)
    assert (attempt.fulfilment, attempt.failure) == (Fulfilment.REFUNDED, "events.payment_not_open")
    assert PaymentRefund.objects.get(attempt=attempt).amount_fen == 3900
    assert Registration.objects.get(pk=r1.pk).state == "lapsed" and not Sale.objects.exists()
    with pytest.raises(exceptions.PaymentNotOpenError):
        pay_start(r1, first, provider="alipay")

    # the offered member pays the same way
    offer = pay_start(r2, second)
    gateways.control.pay(provider="wechat", out_trade_no=offer.out_trade_no)
    payments.attempt_sync(attempt_id=offer.attempt_id)
    r2.refresh_from_db()
    assert r2.state == "confirmed" and r2.paid_fen == 3900 and r2.offer_expires_at is None


def test_another_members_registration_cannot_be_paid_and_free_events_have_nothing_to_pay(world, gateways):
    ev = priced(world)
    m, other = member(world), member(world)
    reg = register(world, m, ev)
    with pytest.raises(exceptions.RegistrationNotFoundError):
        pay_start(reg, other)
    free = register(world, m, event(world, title="免费讲座"))
    with pytest.raises(Exception) as err:
        pay_start(free, m)
    assert getattr(err.value, "code", "") == "events.nothing_to_pay"


def test_a_priced_event_needs_a_store(world):
    with pytest.raises(exceptions.EventInvalidError) as err:
        event(world, price_fen=1000)
    assert "store" in err.value.fields


def test_a_seat_needing_points_is_not_held_for_a_member_without_them(world, gateways):
    ev = priced(world, price_points=500, price_fen=1000)
    with pytest.raises(Exception) as err:
        register(world, member(world, points=100), ev)
    assert getattr(err.value, "code", "") == "points.insufficient"
    assert not Registration.objects.exists() and Event.objects.get(pk=ev.pk).seats_taken == 0
