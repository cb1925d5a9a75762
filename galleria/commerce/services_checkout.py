"""Online checkouts (docs/design/online-mall.md §5.1, §5.7, §6, §10): placement, the gateway payment's start, the
member's cancel of an unpaid checkout and the expiry job.

**Placement** (`checkout_place`, one durable transaction). Outside it: every check that needs no lock (the mall and
shops open, each SKU on sale, one fulfilment and one store per merchant, the address) and the quote through the
pipeline's own read path (`sales.selectors.cart_quote`); the money the member confirmed must be what it says
(`commerce.price_changed` otherwise). Inside, in the app's lock order (§5.7, "placement pay-later: 2 → 3 → 5 → 8 →
9"): the `Checkout` row is inserted first — it claims (member, key), so a double tap waits on the unique index and
returns the first checkout — then its orders (one per merchant) and lines; the member's points account is locked and
the points held (`chk:<number>`); the coupons are locked, re-validated and held under the number; the stock is
allocated last, every (SKU, store) row in one statement in primary-key order (commerce/sql.py, "stock"). Nothing is
posted: no sale, no ledger transaction until the payment (services_online_gateway.py). **Pay now** (`pay_method`
`points` — nothing left to pay — or `wallet`, which pays the rest in full): instead of the holds the cart is
committed right there (`sales.services.cart_commit_in_tx`: accounts → tier → coupons), the sales recorded on the
orders (`services_online_gateway.paid_in_tx`), then the stock allocated last, as for pay later.

**Expiry** (`checkouts_expire`, the `online_checkouts_expire` command every minute) and the member's cancel: the
gateway attempts are settled first, outside any transaction (`payments.attempt_finish`: a late payment is applied
through the fulfiler; an unreachable gateway leaves the checkout for the next run), then one durable transaction
per checkout locks it (`SKIP LOCKED` for the job: a notification holding it wins), its orders, releases the points
hold, the coupon holds and the allocation, and marks everything cancelled. Both are exactly once: the checkout's
state under its lock decides."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ConflictError, ValidationError
from galleria.core.locking import lock_one, lock_rows
from galleria.coupons import services as coupon_services
from galleria.ledger import services as ledger
from galleria.ledger.exceptions import InsufficientBalanceError
from galleria.payments import selectors as payment_selectors
from galleria.payments.services import attempt_finish, purpose_pay_start
from galleria.payments.types import AttemptState, PaymentStarted, Purpose
from galleria.sales.selectors import cart_quote
from galleria.sales.services import cart_commit_in_tx
from galleria.sales.types import CartQuote

from . import exceptions, selectors_catalog, sql
from .checkout_prepare import (
    GATEWAYS,
    CheckoutLineIn,
    Part,
    PlaceIn,
    ShopChoiceIn,
    cart_in_of,
    fill,
    new_number,
    order_rows,
    part_coupons,
    prepare,
    rest_method,
    stock_ids,
    stock_of,
)
from .models import CartItem, Checkout, Order, OrderLine, SkuStock
from .selectors_checkout import checkout_by_key, checkout_get, checkout_orders, checkouts_due, order_lines
from .services_online_gateway import paid_in_tx
from .types import CheckoutState, Fulfilment, OrderState, PayMethod

POINTS_ACCOUNT = "member_points"
PAY_NOW = (PayMethod.WALLET, PayMethod.POINTS)
COUPON_HOLD_GRACE = dt.timedelta(minutes=30)  # a coupon hold outlives the checkout: a late payment still finds it
EXPIRE_BATCH = 200

__all__ = [
    "CheckoutLineIn",
    "PlaceIn",
    "ShopChoiceIn",
    "cart_in_of",
    "checkout_cancel",
    "checkout_pay_start",
    "checkout_place",
    "checkout_quote",
    "checkouts_expire",
]


# ------------------------------------------------------------------------------------------------- place


def _hold_points(data: PlaceIn, *, number: str, expires_at: dt.datetime) -> None:
    """Lock step 5: the member's points account, then the hold (one conditional statement)."""
    if not data.points:
        return
    accounts = ledger.lock_member_accounts(
        mall_group_id=data.mall_group_id, member_id=data.member_id, kinds=[POINTS_ACCOUNT]
    )
    account = accounts[POINTS_ACCOUNT]
    try:
        ledger.hold_place_in_tx(
            account_id=account.pk,
            key=f"chk:{number}",
            amount=data.points,
            reason="online checkout",
            expires_at=expires_at,
            locked={account.pk: account},
        )
    except InsufficientBalanceError as exc:
        raise ValidationError(
            _("You do not have enough points any more. Please choose again."),
            code="points.insufficient",
            extra=exc.extra,
        ) from exc


def _allocate(rows: list[tuple[Order, list[OrderLine]]], at: dt.datetime) -> None:
    """Lock step 9, last: every (SKU, store) row allocated in one statement, or none (out of stock)."""
    pairs = stock_of(rows)
    wanted = stock_ids(pairs)
    done = sql.stock_allocate(wanted=wanted, at=at)
    if done != set(wanted):
        short = SkuStock.objects.filter(pk__in=set(wanted) - done).values_list("sku_id", flat=True)
        raise exceptions.OutOfStockError(extra={"sku_ids": sorted(short)})


def _insert(
    data: PlaceIn, parts: list[Part], quote: CartQuote, *, number: str, key: str, at: dt.datetime
) -> tuple[Checkout, list[tuple[Order, list[OrderLine]]]]:
    """Lock steps 2 and 3: the checkout row claims (member, key) — a double tap waits on the unique index, then
    finds this one — and its orders and lines are inserted (new rows: nobody else can hold them)."""
    settings = selectors_catalog.online_settings_get(mall_group_id=data.mall_group_id)
    address = data.address if any(p.fulfilment == Fulfilment.DELIVERY for p in parts) else None
    checkout = Checkout.objects.create(
        mall_group_id=data.mall_group_id,
        member_id=data.member_id,
        number=number,
        idempotency_key=key,
        state=CheckoutState.PENDING_PAYMENT,
        placed_at=at,
        expires_at=at + dt.timedelta(minutes=settings.pay_minutes),
        goods_fen=quote.goods_fen,
        discount_fen=quote.discount_fen,
        points=quote.points,
        points_value_fen=quote.points_value_fen,
        gateway_fen=quote.rest_fen if data.pay_method in GATEWAYS else 0,
        wallet_fen=quote.rest_fen if data.pay_method == PayMethod.WALLET else 0,
        pay_method=data.pay_method,
        cart_coupon_id=data.cart_coupon_id,
        ship_name=address.name if address else "",
        ship_phone=address.phone if address else "",
        ship_address=address.address if address else "",
    )
    rows = order_rows(data, parts, key=key, at=at)
    fill(rows, quote)
    for order, _lines in rows:
        order.checkout = checkout
    Order.objects.bulk_create([order for order, _lines in rows])
    for order, lines in rows:
        for line in lines:
            line.order = order
    OrderLine.objects.bulk_create([line for _order, lines in rows for line in lines])
    return checkout, rows


def _hold_coupons(data: PlaceIn, parts: list[Part], *, number: str, expires_at: dt.datetime, at: dt.datetime) -> None:
    """Lock step 8: the chosen coupons locked, re-validated at placement time and held under the number."""
    coupons: dict[int, int | None] = {c: p.merchant_id for p in parts for c in p.coupon_ids}
    if data.cart_coupon_id is not None:
        coupons[data.cart_coupon_id] = None
    coupon_services.coupons_hold_in_tx(
        coupons=coupons,
        member_id=data.member_id,
        mall_group_id=data.mall_group_id,
        key=number,
        until=expires_at + COUPON_HOLD_GRACE,
        at=at,
    )


def _pay_now(
    data: PlaceIn, checkout: Checkout, rows: list[tuple[Order, list[OrderLine]]], *, actor: Actor, at: dt.datetime
) -> None:
    """Points and discounts (and the wallet) pay everything: the sales are made in the placement's transaction."""
    cart = cart_in_of(
        member_id=data.member_id,
        number=checkout.number,
        occurred_at=at,
        parts=rows,
        skus={line.sku_id: line.sku for _order, lines in rows for line in lines},
        cart_coupon_id=data.cart_coupon_id,
        points=data.points,
        rest_method=rest_method(data.pay_method),
        rest_fen=data.rest_fen,
        use_holds=False,
    )
    result = cart_commit_in_tx(data=cart, actor=actor)
    paid_in_tx(checkout=checkout, orders=[o for o, _lines in rows], result=result, at=at, reference="", actor=actor)


def _place_in_tx(
    data: PlaceIn, parts: list[Part], quote: CartQuote, *, number: str, key: str, actor: Actor, at: dt.datetime
) -> Checkout:
    """Placement's transaction, in the lock order 2 → 3 → 5 → 8 → 9 (§5.7)."""
    checkout, rows = _insert(data, parts, quote, number=number, key=key, at=at)
    if data.pay_method in PAY_NOW:  # 5 → 6 → 8 by the pipeline, then the sales recorded; stock last
        _pay_now(data, checkout, rows, actor=actor, at=at)
    else:
        _hold_points(data, number=number, expires_at=checkout.expires_at)
        _hold_coupons(data, parts, number=number, expires_at=checkout.expires_at, at=at)
    _allocate(rows, at)
    CartItem.objects.filter(member_id=data.member_id, sku_id__in=[s.pk for p in parts for s, _q in p.lines]).delete()
    audit_record(
        actor=actor,
        action="online_mall.place",
        target_type="online_checkout",
        target_id=checkout.pk,
        target_label=number,
        mall_group_id=data.mall_group_id,
        changes={
            "orders": [order.number for order, _lines in rows],
            "goods_fen": checkout.goods_fen,
            "discount_fen": checkout.discount_fen,
            "points": checkout.points,
            "gateway_fen": checkout.gateway_fen,
            "pay_method": checkout.pay_method,
        },
    )
    return checkout


def _cart_quote(data: PlaceIn, parts: list[Part], *, number: str, key: str, at: dt.datetime) -> CartQuote:
    rows = order_rows(data, parts, key=key, at=at)
    cart = cart_in_of(
        member_id=data.member_id,
        number=number,
        occurred_at=at,
        parts=rows,
        skus={s.pk: s for p in parts for s, _q in p.lines},
        cart_coupon_id=data.cart_coupon_id,
        points=data.points,
        rest_method=rest_method(data.pay_method),
        rest_fen=None,
        use_holds=False,
    )
    return cart_quote(data=cart)


def checkout_quote(data: PlaceIn, *, at: dt.datetime | None = None) -> CartQuote:
    """What placing `data` now would cost, per sub-order and in total (read-only; `data.rest_fen` is ignored): the
    figures the confirmation page shows and the member confirms. Raises what placement would (closed, not on
    sale, fulfilment, coupons, points)."""
    moment = at or timeutil.now()
    parts = prepare(data, moment)
    return _cart_quote(data, parts, number=new_number("OC", moment, parts[0].tz_name), key="quote", at=moment)


def _quote(data: PlaceIn, parts: list[Part], *, number: str, key: str, at: dt.datetime) -> CartQuote:
    quote = _cart_quote(data, parts, number=number, key=key, at=at)
    if quote.rest_fen != data.rest_fen or quote.points != data.points:
        raise exceptions.PriceChangedError(extra={"rest_fen": quote.rest_fen, "points": quote.points})
    return quote


def _body(units: dict[int, int], shops: set[tuple[int, str, tuple[int, ...]]], *more: object) -> tuple[object, ...]:
    return (dict(units), shops, *more)


def _same(found: Checkout, data: PlaceIn) -> Checkout:
    """The first checkout of a key, when the body is the same (lines, shops, coupons, points, payment)."""
    orders = checkout_orders(checkout_id=found.pk)
    lines = order_lines(order_ids=[o.pk for o in orders])
    had: dict[int, int] = defaultdict(int)
    for line in (line for o in orders for line in lines[o.pk]):
        had[line.sku_id] += line.quantity
    want: dict[int, int] = defaultdict(int)
    for wanted in data.lines:
        want[wanted.sku_id] += wanted.quantity
    had_shops = {(o.merchant_id, o.fulfilment, part_coupons(lines[o.pk])) for o in orders}
    want_shops = {(c.merchant_id, c.fulfilment, tuple(sorted(c.coupon_ids))) for c in data.shops}
    first = _body(had, had_shops, found.points, found.cart_coupon_id, found.pay_method)
    if first != _body(want, want_shops, data.points, data.cart_coupon_id, data.pay_method):
        raise exceptions.IdempotencyConflictError(extra={"checkout_id": found.pk})
    return found


def checkout_place(data: PlaceIn, *, key: str, actor: Actor, at: dt.datetime | None = None) -> Checkout:
    """Place a checkout that a gateway pays later (docs/design/online-mall.md §5.1): points, coupons and stock held
    until `expires_at` (the group's `pay_minutes`), nothing posted. Idempotent per (member, key): the same key
    returns the first checkout — also when two requests race — and with another body is
    IdempotencyConflictError. Raises the quote's errors (coupon, points), PriceChangedError when the money is not
    what the member confirmed, OutOfStockError (nothing held then)."""
    if not key or len(key) > 64:
        raise ConflictError(_("This form has expired. Please start again."), code="commerce.key_required")
    done = checkout_by_key(member_id=data.member_id, key=key)
    if done is not None:
        return _same(done, data)
    refused = data.pay_method not in (*GATEWAYS, *PAY_NOW) or (data.pay_method in GATEWAYS and data.rest_fen <= 0)
    if refused or (data.pay_method == PayMethod.POINTS and data.rest_fen != 0):
        raise ValidationError(_("Choose how to pay for this order."), code="commerce.pay_method_invalid")
    moment = at or timeutil.now()
    parts = prepare(data, moment)
    for _attempt in range(2):
        number = new_number("OC", moment, parts[0].tz_name)
        quote = _quote(data, parts, number=number, key=key, at=moment)
        try:
            with transaction.atomic(durable=True):
                return _place_in_tx(data, parts, quote, number=number, key=key, actor=actor, at=moment)
        except IntegrityError:  # the key was claimed by a concurrent request (or, once in 10¹⁰, a number)
            done = checkout_by_key(member_id=data.member_id, key=key)
            if done is not None:
                return _same(done, data)
    raise ConflictError(_("Please try again."), code="commerce.busy")


# ------------------------------------------------------------------------------------------------- pay


def checkout_pay_start(
    *,
    member_id: int,
    checkout_id: int,
    provider: str,
    kind: str,
    payer: str = "",
    client_ip: str = "",
    return_url: str = "",
) -> PaymentStarted:
    """Start (or resume) the one gateway payment of a pending checkout: Σ of its orders' rests, closed by the
    gateway at the checkout's expiry, WeChat Pay keeping it for 分账 per merchant (`split`). The same provider
    again resumes the same attempt; switching provider opens `<number>:<provider>` (if both get paid, the second
    finds the checkout paid and is refunded in full by payments)."""
    checkout = checkout_get(member_id=member_id, checkout_id=checkout_id)
    if checkout is None:
        raise exceptions.OrderNotFoundError()
    if checkout.state != CheckoutState.PENDING_PAYMENT or checkout.expires_at <= timeutil.now():
        raise exceptions.CheckoutNotPayableError(extra={"state": checkout.state})
    if provider not in GATEWAYS:
        raise ValidationError(_("Unknown payment method."), code="commerce.pay_method_invalid")
    orders = checkout_orders(checkout_id=checkout.pk)
    key = checkout.number if provider == checkout.pay_method else f"{checkout.number}:{provider}"
    return purpose_pay_start(
        purpose=Purpose.ONLINE,
        mall_group_id=checkout.mall_group_id,
        member_id=member_id,
        amount_fen=checkout.gateway_fen,
        order={"checkout": checkout.number, "split": {str(o.merchant_id): o.gateway_fen for o in orders}},
        provider=provider,
        kind=kind,
        idempotency_key=key,
        description=str(_("Online mall order %(number)s") % {"number": checkout.number}),
        payer=payer,
        client_ip=client_ip,
        return_url=return_url,
        match=("checkout",),
        expires_at=checkout.expires_at,
        profit_sharing=provider == PayMethod.WECHAT,
    )


def _attempts_settled(*, member_id: int, number: str, now: dt.datetime) -> bool:
    """Settle the checkout's gateway attempts (outside any transaction): False while one cannot be settled yet
    (the gateway unreachable: try again later). A late payment is applied here, through the fulfiler."""
    settled = True
    for key in (number, *(f"{number}:{p}" for p in GATEWAYS)):
        attempt = payment_selectors.member_attempt(member_id=member_id, key=key)
        if attempt is None:
            continue
        state = attempt_finish(out_trade_no=attempt.out_trade_no, now=now)
        if state in (AttemptState.CREATED, AttemptState.PAYING):
            settled = False
    return settled


# ------------------------------------------------------------------------------------------------- cancel unpaid


def _release_in_tx(checkout: Checkout, orders: list[Order], at: dt.datetime) -> None:
    """Lock steps 5 → 8 → 9: the points hold, the coupon holds, the allocation. Nothing was posted."""
    ledger.hold_release_in_tx(key=f"chk:{checkout.number}")
    coupon_services.coupons_release_hold_in_tx(key=checkout.number)
    lines = order_lines(order_ids=[o.pk for o in orders])
    rows = [(order, lines[order.pk]) for order in orders]
    wanted = stock_ids(stock_of(rows))
    if sql.stock_release(wanted=wanted, at=at) != set(wanted):
        raise ConflictError(code="commerce.stock_books", extra={"checkout": checkout.number})


def _cancel_unpaid(
    *, checkout_id: int, actor: Actor, reason: str, skip_locked: bool, at: dt.datetime
) -> Checkout | None:
    """One durable transaction: the checkout (still pending) locked, its orders, everything released. None when
    it is not pending any more (paid or cancelled meanwhile) or — `skip_locked` — another transaction holds it."""
    with transaction.atomic(durable=True):
        try:
            checkout = lock_one(
                Checkout.objects.filter(pk=checkout_id, state=CheckoutState.PENDING_PAYMENT), skip_locked=skip_locked
            )
        except Checkout.DoesNotExist:
            return None
        orders = lock_rows(Order.objects.filter(checkout_id=checkout.pk))
        _release_in_tx(checkout, orders, at)
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(
            state=OrderState.CANCELLED,
            cancelled_at=at,
            cancelled_by=actor.label[:100],
            cancel_reason=reason[:200],
            updated_at=at,
        )
        checkout.state = CheckoutState.CANCELLED
        checkout.cancelled_at, checkout.cancel_reason = at, reason[:200]
        checkout.save(update_fields=["state", "cancelled_at", "cancel_reason", "updated_at"])
        audit_record(
            actor=actor,
            action="online_mall.cancel_unpaid",
            target_type="online_checkout",
            target_id=checkout.pk,
            target_label=checkout.number,
            mall_group_id=checkout.mall_group_id,
            changes={
                "state": [CheckoutState.PENDING_PAYMENT, CheckoutState.CANCELLED],
                "orders": [o.number for o in orders],
                "points_released": checkout.points,
                "reason": reason,
            },
        )
        return checkout


def checkout_cancel(*, member_id: int, checkout_id: int, actor: Actor, reason: str = "") -> Checkout:
    """The member cancels a checkout not paid yet: its gateway payment is closed first (a payment that arrived
    meanwhile is applied, and then the checkout is paid: CancelNotAllowedError — a paid order is cancelled with a
    refund), then the points, coupons and stock are released. Cancelling a cancelled checkout returns it."""
    found = checkout_get(member_id=member_id, checkout_id=checkout_id)
    if found is None:
        raise exceptions.OrderNotFoundError()
    if found.state == CheckoutState.PENDING_PAYMENT:
        if not _attempts_settled(member_id=member_id, number=found.number, now=timeutil.now()):
            raise ConflictError(_("The payment service is busy. Please try again."), code="commerce.busy")
        _cancel_unpaid(
            checkout_id=found.pk,
            actor=actor,
            reason=reason.strip()[:200] or str(_("Cancelled by the member")),
            skip_locked=False,
            at=timeutil.now(),
        )
    found.refresh_from_db()
    if found.state != CheckoutState.CANCELLED:
        raise exceptions.CancelNotAllowedError(extra={"state": found.state})
    return found


def checkouts_expire(*, now: dt.datetime | None = None, limit: int = EXPIRE_BATCH) -> dict[str, int]:
    """Cancel checkouts not paid by their expiry (docs/design/online-mall.md §10), each in its own transaction,
    skipping one another worker or a notification holds. Returns counts: cancelled, paid (a late payment found),
    waiting (the gateway unreachable: next run), skipped (held elsewhere, or no longer pending)."""
    moment = now or timeutil.now()
    counts = {"cancelled": 0, "paid": 0, "waiting": 0, "skipped": 0}
    actor = Actor.system("online_checkouts_expire")
    for checkout_id, member_id, number in checkouts_due(now=moment, limit=limit):
        if not _attempts_settled(member_id=member_id, number=number, now=moment):
            counts["waiting"] += 1
            continue
        done = _cancel_unpaid(
            checkout_id=checkout_id,
            actor=actor,
            reason=str(_("Not paid in time")),
            skip_locked=True,
            at=timeutil.now(),
        )
        if done is not None:
            counts["cancelled"] += 1
        elif Checkout.objects.filter(pk=checkout_id, state=CheckoutState.PAID).exists():
            counts["paid"] += 1
        else:
            counts["skipped"] += 1
    return counts
