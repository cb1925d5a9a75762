"""Commerce writes (docs/points-mall.md): the console's items, stock and settings; the member's exchange through
the checkout pipeline; cancellation (a refund through the pipeline), shipping and the desk's handover.

**An exchange** (`points_mall_exchange`, and `exchange_in_tx` for a gateway's money in services_gateway.py) is one
durable transaction that takes its locks in this order — the same in every use case of this app, after whatever a
caller holds (payments: the payment attempt):

1. the order row, inserted first under the unique (member, idempotency key): a double tap or a concurrent resubmit
   waits on that index and then finds the first order (one order per key);
2. the (product, member) quota row — limits are counted from the member's orders under it;
3. what the checkout locks: the member's accounts (points, and the wallet's when it pays), then the tier row;
4. the SKU's stock, taken last with one conditional UPDATE (`stock >= quantity`): never oversold, and the hot row
   is held for the shortest time (out of stock rolls everything back);
5. a coupon template's stock shard, for coupon items (the coupons app).

**A cancellation** locks the order row, then what the pipeline's refund locks (the accounts, then the sale row),
then the issued coupons (voided if unused), then gives the stock back. Shipping and handover lock the order row
only. Every change is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import pictures, timeutil
from galleria.core.errors import ConflictError, ValidationError
from galleria.core.locking import lock_one
from galleria.core.tasks import enqueue
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons import services as coupon_services
from galleria.merchants.selectors import store_for_payments
from galleria.points import selectors as points_selectors
from galleria.sales.services import sale_commit_in_tx, sale_refund_in_tx
from galleria.sales.types import Channel, LineIn, PaymentIn, SaleIn
from galleria.tiers.selectors import member_tier, tier_level_options

from . import exceptions, rules, selectors
from .models import Category, MemberQuota, Order, OrderLine, Product, ShopSettings, Sku
from .types import (
    Address,
    Fulfilment,
    GatewayTender,
    OrderState,
    PayMethod,
    ProductIn,
    ProductKind,
    ShopChannel,
)

GATEWAY_REFUND_TASK = "galleria.commerce.tasks.order_gateway_refund_task"
LINE_CATEGORY = "points_mall"
IMAGE_PREFIX = "commerce"

__all__ = [
    "ExchangeIn",
    "category_save",
    "exchange_in_tx",
    "order_cancel",
    "order_hand_over",
    "order_ship",
    "points_mall_exchange",
    "product_image_set",
    "product_save",
    "settings_save",
    "stock_adjust",
]


# ------------------------------------------------------------------------------------------------- settings


def settings_save(
    *, mall_group_id: int, store_id: int | None, pickup_place: str, pickup_hours: str, is_open: bool, actor: Actor
) -> ShopSettings:
    """The points mall's store (an active store of the group: exchanges are its sales), pickup place and hours."""
    if store_id is not None and store_for_payments(store_id=store_id, mall_group_id=mall_group_id) is None:
        message = _("Choose an open store of this mall group.")
        raise ValidationError(message, code="commerce.store_invalid", fields={"store": message})
    with transaction.atomic(durable=True):
        ShopSettings.objects.get_or_create(mall_group_id=mall_group_id)
        row = lock_one(ShopSettings.objects.filter(mall_group_id=mall_group_id))
        before = {"store": row.store_id, "pickup_place": row.pickup_place, "is_open": row.is_open}
        row.store_id = store_id
        row.pickup_place = pickup_place.strip()[:120]
        row.pickup_hours = pickup_hours.strip()[:60]
        row.is_open = is_open
        row.save()
        after = {"store": row.store_id, "pickup_place": row.pickup_place, "is_open": row.is_open}
        audit_record(
            actor=actor,
            action="points_mall.settings_save",
            target_type="points_mall",
            target_id=mall_group_id,
            mall_group_id=mall_group_id,
            changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        )
        return row


def category_save(
    *, mall_group_id: int, category_id: int | None, name: str, sort_order: int, is_active: bool, actor: Actor
) -> Category:
    name = name.strip()
    if not name or len(name) > 30:
        message = _("Enter a name of at most 30 characters.")
        raise ValidationError(message, code="commerce.category_invalid", fields={"name": message})
    with transaction.atomic(durable=True):
        if category_id is None:
            category = Category(mall_group_id=mall_group_id, shop=ShopChannel.POINTS_MALL)
        else:
            found = selectors.category_get(mall_group_id=mall_group_id, category_id=category_id)
            if found is None:
                raise exceptions.ProductNotFoundError(code="commerce.category_not_found")
            category = lock_one(Category.objects.filter(pk=found.pk))
        category.name, category.sort_order, category.is_active = name, sort_order, is_active
        try:
            with transaction.atomic():
                category.save()
        except IntegrityError:
            message = _("A category with this name already exists.")
            raise ValidationError(message, code="commerce.category_taken", fields={"name": message}) from None
        audit_record(
            actor=actor,
            action="points_mall.category_save",
            target_type="points_mall_category",
            target_id=category.pk,
            target_label=category.name,
            mall_group_id=mall_group_id,
            changes={"name": category.name, "shown": is_active},
        )
        return category


# ------------------------------------------------------------------------------------------------- items


def _check_references(mall_group_id: int, data: ProductIn) -> dict[str, str]:
    errors: dict[str, str] = {}
    if (
        data.category_id is not None
        and selectors.category_get(mall_group_id=mall_group_id, category_id=data.category_id) is None
    ):
        errors["category"] = str(_("Choose a category of this points mall."))
    if data.kind == ProductKind.COUPON and data.coupon_template_id is not None:
        template = coupon_selectors.template_get(template_id=data.coupon_template_id, mall_group_id=mall_group_id)
        if template is None or template.status not in ("active", "paused", "draft"):
            errors["coupon_template"] = str(_("Choose a coupon of this mall group that is not ended."))
    levels = tier_level_options(mall_group_id=mall_group_id)
    if data.min_tier_id is not None and not levels.filter(pk=data.min_tier_id).exists():
        errors["min_tier"] = str(_("Choose a tier of this mall group."))
    return errors


_PRODUCT_FIELDS = (
    "title",
    "kind",
    "subtitle",
    "description",
    "category_id",
    "allow_pickup",
    "allow_delivery",
    "per_member_limit",
    "per_day_limit",
    "min_tier_id",
    "on_sale_from",
    "on_sale_until",
    "sort_order",
    "status",
    "member_cancellable",
)


def _snapshot(product: Product, sku: Sku | None) -> dict[str, object]:
    values: dict[str, object] = {f: getattr(product, f) for f in _PRODUCT_FIELDS}
    values["coupon_template_id"] = product.coupon_template_id
    values["price_points"] = sku.price_points if sku else None
    values["price_fen"] = sku.price_fen if sku else None
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in values.items()}


def product_save(*, mall_group_id: int, product_id: int | None, data: ProductIn, actor: Actor) -> Product:
    """Create or edit an item (and its one SKU: prices; the stock on create). Field errors: ProductInvalidError
    with `fields`. A points price the group's points rules cannot take is refused here, not at the exchange."""
    policy = points_selectors.policy_get(mall_group_id=mall_group_id)
    config = points_selectors.redeem_config(policy=policy)
    errors = dict(rules.product_problems(data, config=config, creating=product_id is None))
    errors.update(_check_references(mall_group_id, data))
    if errors:
        raise exceptions.ProductInvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        if product_id is None:
            product = Product(mall_group_id=mall_group_id, shop=ShopChannel.POINTS_MALL)
            sku = None
            before: dict[str, object] = {}
        else:
            found = selectors.product_get(mall_group_id=mall_group_id, product_id=product_id)
            if found is None:
                raise exceptions.ProductNotFoundError()
            product = lock_one(Product.objects.filter(pk=found.pk))
            sku = Sku.objects.filter(product=product).order_by("pk").first()
            before = _snapshot(product, sku)
        for name in _PRODUCT_FIELDS:
            value = getattr(data, name)
            setattr(product, name, value.strip() if isinstance(value, str) else value)
        product.coupon_template_id = data.coupon_template_id if data.kind == ProductKind.COUPON else None
        if data.kind == ProductKind.COUPON:
            product.allow_pickup = product.allow_delivery = False
        product.save()
        if sku is None:
            sku = Sku.objects.create(
                product=product,
                code=f"PM{product.pk}",
                price_points=data.price_points,
                price_fen=data.price_fen,
                stock=data.initial_stock if product_id is None else 0,
            )
        else:  # prices by a plain update: the stock column is only ever moved by conditional updates
            Sku.objects.filter(pk=sku.pk).update(price_points=data.price_points, price_fen=data.price_fen)
            sku.price_points, sku.price_fen = data.price_points, data.price_fen
        after = _snapshot(product, sku)
        audit_record(
            actor=actor,
            action="points_mall.item_create" if product_id is None else "points_mall.item_update",
            target_type="points_mall_item",
            target_id=product.pk,
            target_label=product.title,
            mall_group_id=mall_group_id,
            changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
            | ({"stock": [None, sku.stock]} if product_id is None else {}),
        )
        return product


def product_image_set(*, mall_group_id: int, product_id: int, data: bytes, actor: Actor) -> Product:
    """Store an item's picture (re-encoded: nothing of the original file is kept). The old file is deleted after
    the change commits."""
    clean = pictures.clean_picture(data, error=exceptions.ImageInvalidError)
    found = selectors.product_get(mall_group_id=mall_group_id, product_id=product_id)
    if found is None:
        raise exceptions.ProductNotFoundError()
    name = default_storage.save(f"{IMAGE_PREFIX}/{mall_group_id}/{uuid.uuid4().hex}.jpg", ContentFile(clean.data))
    try:
        with transaction.atomic(durable=True):
            product = lock_one(Product.objects.filter(pk=found.pk))
            old = product.image_name
            product.image_name, product.image_sha = name, clean.sha256
            product.save(update_fields=["image_name", "image_sha", "updated_at"])
            audit_record(
                actor=actor,
                action="points_mall.item_image",
                target_type="points_mall_item",
                target_id=product.pk,
                target_label=product.title,
                mall_group_id=mall_group_id,
                changes={"width": clean.width, "height": clean.height, "bytes": len(clean.data)},
            )
    except BaseException:
        default_storage.delete(name)
        raise
    if old:
        default_storage.delete(old)
    return product


def stock_adjust(*, mall_group_id: int, product_id: int, delta: int, reason: str, actor: Actor) -> Sku:
    """Add (delivery received) or remove (damaged, counted short) stock. One conditional UPDATE: a removal that
    would take the stock below zero — exchanges may have taken it meanwhile — changes nothing and says so."""
    reason = reason.strip()[:100]
    if delta == 0 or not reason:
        message = _("Enter a change other than 0 and a reason.")
        raise ValidationError(message, code="commerce.stock_invalid", fields={"delta": message})
    found = selectors.product_get(mall_group_id=mall_group_id, product_id=product_id)
    sku = selectors.sku_of(found) if found is not None else None
    if found is None or sku is None:
        raise exceptions.ProductNotFoundError()
    with transaction.atomic(durable=True):
        rows = Sku.objects.filter(pk=sku.pk, stock__gte=max(-delta, 0), stock__lte=rules.MAX_STOCK - max(delta, 0))
        if not rows.update(stock=F("stock") + delta):
            sku.refresh_from_db()
            refused = _("The stock is %(n)s now: it cannot go below 0 (or above 1,000,000).") % {"n": sku.stock}
            raise ValidationError(refused, code="commerce.stock_invalid", fields={"delta": refused})
        sku.refresh_from_db()
        audit_record(
            actor=actor,
            action="points_mall.stock_adjust",
            target_type="points_mall_item",
            target_id=found.pk,
            target_label=found.title,
            mall_group_id=mall_group_id,
            changes={"delta": delta, "stock": [sku.stock - delta, sku.stock], "reason": reason},
        )
        return sku


# ------------------------------------------------------------------------------------------------- exchange


@dataclass(frozen=True)
class ExchangeIn:
    """A member's exchange as the app sends it. `unit_points` / `unit_fen`: the price the member confirmed (a
    different price now is PriceChangedError, never a silent charge)."""

    member_id: int
    mall_group_id: int
    product_id: int
    quantity: int
    fulfilment: str
    unit_points: int
    unit_fen: int
    address: Address | None = None


@dataclass(frozen=True)
class Prepared:
    settings: ShopSettings
    product: Product
    sku: Sku
    tz_name: str | None
    points: int
    cash_fen: int
    unit_value_fen: int  # points value + cash of one unit: the sale line's unit price


def prepare(data: ExchangeIn, *, at: dt.datetime) -> Prepared:
    """Every check that needs no lock: the shop is open, the item on sale and visible to the member's tier, the
    way to receive it, the quantity, the price the member confirmed and that the group's points rules take it."""
    settings = selectors.settings_get(mall_group_id=data.mall_group_id)
    if not selectors.is_open(settings):
        raise exceptions.ShopClosedError()
    product = selectors.product_get(mall_group_id=data.mall_group_id, product_id=data.product_id)
    sku = selectors.sku_of(product) if product is not None else None
    if product is None or sku is None:
        raise exceptions.ProductNotFoundError()
    if not rules.on_sale(
        status=product.status, on_sale_from=product.on_sale_from, on_sale_until=product.on_sale_until, at=at
    ):
        raise exceptions.NotOnSaleError()
    if product.min_tier is not None:
        tier = member_tier(member_id=data.member_id, mall_group_id=data.mall_group_id)
        if not rules.tier_ok(member_rank=tier.rank, min_rank=product.min_tier.rank):
            raise exceptions.TierRequiredError(extra={"tier": product.min_tier.code})
    if data.fulfilment not in rules.fulfilments(
        kind=product.kind, allow_pickup=product.allow_pickup, allow_delivery=product.allow_delivery
    ):
        raise exceptions.FulfilmentInvalidError(fields={"fulfilment": exceptions.FulfilmentInvalidError().message})
    if data.fulfilment == Fulfilment.DELIVERY and data.address is None:
        raise exceptions.AddressRequiredError()
    if not 1 <= data.quantity <= rules.MAX_QUANTITY:
        raise exceptions.QuantityInvalidError(fields={"quantity": exceptions.QuantityInvalidError().message})
    if (sku.price_points, sku.price_fen) != (data.unit_points, data.unit_fen):
        raise exceptions.PriceChangedError(extra={"price_points": sku.price_points, "price_fen": sku.price_fen})
    config = points_selectors.redeem_config(policy=points_selectors.policy_get(mall_group_id=data.mall_group_id))
    problem = rules.price_problem(sku.price_points, config=config)
    if problem:  # the group's points rules changed after the item was priced
        raise exceptions.PriceInvalidError(problem)
    points, cash = rules.totals(quantity=data.quantity, price_points=sku.price_points, price_fen=sku.price_fen)
    return Prepared(
        settings=settings,
        product=product,
        sku=sku,
        tz_name=selectors.shop_tz(mall_group_id=data.mall_group_id, settings=settings),
        points=points,
        cash_fen=cash,
        unit_value_fen=rules.points_value_fen(sku.price_points, config=config) + sku.price_fen,
    )


def _check_limits(data: ExchangeIn, prep: Prepared, local_day: dt.date) -> None:
    """Under the (product, member) quota row's lock: the member's units so far, and the limits."""
    MemberQuota.objects.get_or_create(product_id=prep.product.pk, member_id=data.member_id)
    lock_one(MemberQuota.objects.filter(product_id=prep.product.pk, member_id=data.member_id))
    total, today = selectors.bought(member_id=data.member_id, product_id=prep.product.pk, local_day=local_day)
    problem = rules.limit_problem(
        quantity=data.quantity,
        bought_total=total,
        bought_today=today,
        per_member=prep.product.per_member_limit,
        per_day=prep.product.per_day_limit,
    )
    if problem == "commerce.limit_reached":
        raise exceptions.LimitReachedError(extra={"limit": prep.product.per_member_limit, "bought": total})
    if problem == "commerce.daily_limit_reached":
        raise exceptions.DailyLimitReachedError(extra={"limit": prep.product.per_day_limit, "bought_today": today})


def _new_order(data: ExchangeIn, prep: Prepared, *, key: str, at: dt.datetime, gateway: GatewayTender | None) -> Order:
    store = prep.settings.store
    assert store is not None
    local_day = timeutil.local_date(at, prep.tz_name)
    number = rules.new_order_number(local_day=local_day)
    pickup_code = ""
    if data.fulfilment == Fulfilment.PICKUP:
        pickup_code = rules.new_pickup_code()
        while Order.objects.filter(mall_group_id=data.mall_group_id, pickup_code=pickup_code).exists():
            pickup_code = rules.new_pickup_code()  # pragma: no cover - 1 in 10⁸ per open order
    address = data.address
    return Order.objects.create(
        mall_group_id=data.mall_group_id,
        shop=ShopChannel.POINTS_MALL,
        number=number,
        member_id=data.member_id,
        merchant_id=store.merchant_id,
        store_id=store.pk,
        state=OrderState.PENDING_PAYMENT,
        fulfilment=data.fulfilment,
        local_day=local_day,
        total_points=prep.points,
        cash_fen=prep.cash_fen,
        wallet_fen=0 if gateway is not None else prep.cash_fen,
        gateway_fen=gateway.amount_fen if gateway is not None else 0,
        pay_method=(gateway.method if gateway is not None else PayMethod.WALLET) if prep.cash_fen else PayMethod.POINTS,
        gateway_reference=gateway.reference if gateway is not None else "",
        pos_sale_id=f"pm:{number}",
        idempotency_key=key[:80],
        paid_at=at,
        pickup_code=pickup_code,
        ship_name=address.name if address else "",
        ship_phone=address.phone if address else "",
        ship_address=address.address if address else "",
    )


def exchange_in_tx(
    data: ExchangeIn, *, key: str, actor: Actor, at: dt.datetime, gateway: GatewayTender | None = None
) -> Order:
    """The exchange inside the caller's transaction (see the module's lock order). `gateway`: the cash part was
    paid at WeChat Pay / Alipay (its amount must be the cash due); otherwise the wallet pays it."""
    prep = prepare(data, at=at)
    if gateway is not None and gateway.amount_fen != prep.cash_fen:
        raise exceptions.PriceChangedError(extra={"cash_fen": prep.cash_fen, "paid_fen": gateway.amount_fen})
    order = _new_order(data, prep, key=key, at=at, gateway=gateway)  # 1. claims the key
    _check_limits(data, prep, order.local_day)  # 2. the quota row
    tenders: tuple[PaymentIn, ...] = ()
    if prep.cash_fen:
        tenders = (PaymentIn(gateway.method if gateway is not None else "wallet", prep.cash_fen),)
    sale = sale_commit_in_tx(  # 3. the member's accounts, the tier row; points spent soonest-expiring first
        data=SaleIn(
            merchant_id=order.merchant_id,
            store_id=order.store_id,
            terminal_id=None,
            pos_sale_id=order.pos_sale_id,
            occurred_at=at,
            lines=(
                LineIn(
                    sku=prep.sku.code,
                    name=prep.product.title[:120],
                    quantity=data.quantity,
                    unit_price_fen=prep.unit_value_fen,
                    amount_fen=prep.unit_value_fen * data.quantity,
                    category=LINE_CATEGORY,
                ),
            ),
            payments=tenders,
            member_id=data.member_id,
            points_to_use=prep.points,
            channel=Channel.POINTS_MALL,
        ),
        actor=actor,
    )
    taken = Sku.objects.filter(pk=prep.sku.pk, stock__gte=data.quantity).update(  # 4. the stock, last
        stock=F("stock") - data.quantity, sold=F("sold") + data.quantity
    )
    if not taken:
        raise exceptions.OutOfStockError(extra={"product_id": prep.product.pk})
    coupon_ids: list[int] = []
    if prep.product.kind == ProductKind.COUPON:  # 5. the coupon template's stock
        assert prep.product.coupon_template_id is not None
        for unit in range(data.quantity):
            coupon_ids.append(
                coupon_services.coupon_issue_in_tx(
                    mall_group_id=data.mall_group_id,
                    template_id=prep.product.coupon_template_id,
                    member_id=data.member_id,
                    source_key=f"exchange:{order.number}:{unit + 1}",
                    at=at,
                ).coupon_id
            )
    OrderLine.objects.create(
        order=order,
        line_no=1,
        product=prep.product,
        sku=prep.sku,
        title=prep.product.title,
        quantity=data.quantity,
        unit_points=prep.sku.price_points,
        unit_fen=prep.sku.price_fen,
        coupon_ids=coupon_ids,
    )
    order.sale_id = sale.sale_id
    order.state = rules.initial_state(data.fulfilment)
    order.save(update_fields=["sale_id", "state", "updated_at"])
    audit_record(
        actor=actor,
        action="points_mall.exchange",
        target_type="points_mall_order",
        target_id=order.pk,
        target_label=order.number,
        mall_group_id=data.mall_group_id,
        changes={
            "item": prep.product.title,
            "quantity": data.quantity,
            "points": prep.points,
            "cash_fen": prep.cash_fen,
            "paid_by": order.pay_method,
            "fulfilment": data.fulfilment,
        },
    )
    return order


def _same(order: Order, data: ExchangeIn) -> Order:
    line = order.lines.first()
    if line is None or line.product_id != data.product_id or line.quantity != data.quantity:
        raise exceptions.IdempotencyConflictError(extra={"order_id": order.pk})
    return order


def points_mall_exchange(data: ExchangeIn, *, key: str, actor: Actor, at: dt.datetime | None = None) -> Order:
    """A member exchanges points (+ wallet money) for an item. Idempotent per (member, key): the same key returns
    the first order, also when two requests race (the second waits on the key's unique index); the same key for
    another item or quantity is IdempotencyConflictError."""
    if not key or len(key) > 80:
        raise ConflictError(_("This form has expired. Please start again."), code="commerce.key_required")
    for _attempt in range(2):
        done = selectors.order_by_key(member_id=data.member_id, key=key)
        if done is not None:
            return _same(done, data)
        try:
            with transaction.atomic(durable=True):
                return exchange_in_tx(data, key=key, actor=actor, at=at or timeutil.now())
        except IntegrityError:  # the key was claimed by a concurrent request (or, once in 10¹⁰, the number)
            continue
    done = selectors.order_by_key(member_id=data.member_id, key=key)
    if done is not None:
        return _same(done, data)
    raise ConflictError(_("Please try again."), code="commerce.busy")


# ------------------------------------------------------------------------------------------------- after the exchange


def _locked_order(*, mall_group_id: int | None, order_id: int, member_id: int | None = None) -> Order:
    found = selectors.order_get(mall_group_id=mall_group_id, order_id=order_id)
    if found is None or (member_id is not None and found.member_id != member_id):
        raise exceptions.OrderNotFoundError()
    return lock_one(Order.objects.filter(pk=found.pk))


def order_cancel(
    *, order_id: int, actor: Actor, mall_group_id: int | None = None, member_id: int | None = None, reason: str = ""
) -> Order:
    """Cancel an exchange before pickup or shipping (a coupon exchange while its coupons are unused): the sale is
    refunded in full through the checkout pipeline — the points come back (a new lot, see docs), the wallet money
    too, the gateway's money is refunded at the gateway after commit — the stock is given back and the coupons
    voided. `member_id`: the member cancels (only items that allow it); otherwise staff of `mall_group_id`.
    Cancelling a cancelled order returns it unchanged."""
    at = timeutil.now()
    with transaction.atomic(durable=True):
        order = _locked_order(mall_group_id=mall_group_id, order_id=order_id, member_id=member_id)
        if order.state == OrderState.CANCELLED:
            return order
        lines = list(OrderLine.objects.filter(order=order).select_related("product").order_by("line_no"))
        cancellable = all(line.product.member_cancellable for line in lines)
        if not rules.can_cancel(
            state=order.state,
            fulfilment=order.fulfilment,
            by_member=member_id is not None,
            member_cancellable=cancellable,
        ):
            raise exceptions.CancelNotAllowedError(extra={"state": order.state})
        refund = sale_refund_in_tx(  # the accounts, then the sale row
            merchant_id=order.merchant_id,
            pos_sale_id=order.pos_sale_id,
            pos_refund_id=f"pmc:{order.number}",
            lines=None,
        )
        for line in lines:  # then the coupons: a used one stops the cancellation (everything rolls back)
            for coupon_id in line.coupon_ids:
                if not coupon_services.coupon_void_in_tx(
                    coupon_id=int(coupon_id), mall_group_id=order.mall_group_id, at=at
                ):
                    raise exceptions.CouponUsedError(extra={"coupon_id": coupon_id})
            Sku.objects.filter(pk=line.sku_id).update(stock=F("stock") + line.quantity, sold=F("sold") - line.quantity)
        order.state = OrderState.CANCELLED
        order.cancelled_at = at
        order.cancelled_by = actor.label[:100]
        order.cancel_reason = reason.strip()[:200]
        order.refund_id = refund.refund_id
        order.points_returned = refund.points_returned
        order.save()
        if order.gateway_fen:
            order_pk = order.pk
            transaction.on_commit(lambda: enqueue(GATEWAY_REFUND_TASK, order_id=order_pk))
        audit_record(
            actor=actor,
            action="points_mall.cancel",
            target_type="points_mall_order",
            target_id=order.pk,
            target_label=order.number,
            mall_group_id=order.mall_group_id,
            changes={
                "state": [OrderState.PAID, OrderState.CANCELLED],
                "points_returned": refund.points_returned,
                "wallet_fen": order.wallet_fen,
                "gateway_fen": order.gateway_fen,
                "by": "member" if member_id is not None else "staff",
                "reason": order.cancel_reason,
            },
        )
        return order


def order_ship(*, mall_group_id: int | None, order_id: int, carrier: str, tracking_no: str, actor: Actor) -> Order:
    carrier, tracking_no = carrier.strip()[:40], tracking_no.strip()[:60]
    if not carrier or not tracking_no:
        raise ValidationError(
            _("Enter the carrier and the tracking number."),
            code="commerce.tracking_required",
            fields={"carrier": _("Required."), "tracking_no": _("Required.")},
        )
    with transaction.atomic(durable=True):
        order = _locked_order(mall_group_id=mall_group_id, order_id=order_id)
        if not rules.can_ship(state=order.state, fulfilment=order.fulfilment):
            raise exceptions.OrderStateError(extra={"state": order.state})
        order.state = OrderState.SHIPPED
        order.carrier, order.tracking_no = carrier, tracking_no
        order.shipped_at, order.shipped_by = timeutil.now(), actor.label[:100]
        order.save()
        audit_record(
            actor=actor,
            action="points_mall.ship",
            target_type="points_mall_order",
            target_id=order.pk,
            target_label=order.number,
            mall_group_id=order.mall_group_id,
            changes={"state": [OrderState.PAID, OrderState.SHIPPED], "carrier": carrier, "tracking_no": tracking_no},
        )
        return order


def order_hand_over(*, mall_group_id: int, code: str, order_id: int, actor: Actor) -> Order:
    """The desk hands the gift over against its pickup code. The code works once: the order row's lock makes two
    clicks (or two desks) hand over once; a used code is PickupCodeUsedError, an unknown one PickupCodeInvalidError."""
    normalised = rules.normalise_code(code)
    with transaction.atomic(durable=True):
        found = selectors.order_by_pickup_code(mall_group_id=mall_group_id, code=normalised) if normalised else None
        if found is None or found.pk != order_id:
            raise exceptions.PickupCodeInvalidError(fields={"code": exceptions.PickupCodeInvalidError().message})
        order = lock_one(Order.objects.filter(pk=found.pk))
        if order.state == OrderState.COMPLETED:
            raise exceptions.PickupCodeUsedError(extra={"picked_up_at": order.picked_up_at})
        if order.state == OrderState.CANCELLED:
            raise exceptions.OrderStateError(_("This order was cancelled: nothing to hand over."))
        if not rules.can_hand_over(state=order.state, fulfilment=order.fulfilment):
            raise exceptions.OrderStateError(extra={"state": order.state})
        order.state = OrderState.COMPLETED
        order.picked_up_at, order.handed_over_by = timeutil.now(), actor.label[:100]
        order.save()
        audit_record(
            actor=actor,
            action="points_mall.hand_over",
            target_type="points_mall_order",
            target_id=order.pk,
            target_label=order.number,
            mall_group_id=order.mall_group_id,
            changes={"state": [OrderState.PAID, OrderState.COMPLETED]},
        )
        return order
