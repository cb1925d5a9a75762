"""Resolve: settle who, where and when before any lock is taken.

The merchant and store (with mall and group; the POS API passes the terminal's, already loaded), the sale time
against the group's accepted window (sales.rules.check_sale_time), the member — registered now for 'pay = join' —
and the checks that need no lock: the lines, and that points, wallet and coupons are only used by a member.
Raises the input's error; writes nothing but the joining member (inside the sale's transaction)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.audit.types import Actor
from galleria.core import sql
from galleria.core.errors import NotFoundError, ValidationError
from galleria.members import services as member_services
from galleria.members.models import IdentifierKind, JoinChannel, MemberIdentifier
from galleria.members.selectors import active_member_q
from galleria.merchants.models import Merchant, Store

from .. import rules
from ..models import PaymentMethod
from ..types import Channel, SaleIn
from .types import CheckoutContext


def merchant_store(*, data: SaleIn, merchant: Merchant | None, store: Store | None) -> tuple[Merchant, Store]:
    """The given merchant and store when they are the sale's, else read them (with mall and group)."""
    if (
        merchant is not None
        and store is not None
        and store.pk == data.store_id
        and merchant.pk == data.merchant_id
        and store.merchant_id == merchant.pk
    ):
        return merchant, store
    # Store.objects.select_related("merchant__mall__group").filter(pk=…, merchant_id=…).first() as one fixed
    # statement (core.sql builds it from the models): the ORM spent more CPU building this query than the rest of
    # the resolve step; the row is read on every sale, so the group's config token it carries is current
    found = sql.row_with_chain(Store, ("merchant", "mall", "group"), id=data.store_id, merchant_id=data.merchant_id)
    if found is None:
        raise NotFoundError(_("Unknown store for this merchant."), code="sale.store_unknown")
    return found.merchant, found


def join_member(*, merchant: Merchant, phone: str, actor: Actor) -> tuple[int, str | None]:
    """'Pay = join': the member with this phone, registered now if new (inside the sale's transaction), and the
    new member's card number (None for a known member)."""
    e164 = member_services.phone_normalize(phone)
    row = MemberIdentifier.objects.filter(
        active_member_q(), mall_group_id=merchant.mall.group_id, kind=IdentifierKind.PHONE, value=e164
    ).first()
    if row is not None:
        return row.member_id, None
    member = member_services.member_register_in_tx(
        mall=merchant.mall, phone=e164, channel=JoinChannel.POS, actor=actor, merchant_id=merchant.pk
    )
    return member.pk, member.card_no


def _check_member_uses(data: SaleIn, *, member_id: int | None, wallet_fen: int) -> None:
    if member_id is not None:
        return
    if data.points_to_use:
        raise ValidationError(_("Points can only be used by a member."), code="points.member_required")
    if wallet_fen:
        raise ValidationError(_("Only a member can pay from a wallet."), code="wallet.member_required")
    if data.coupon_ids:
        raise ValidationError(_("Coupons can only be used by a member."), code="coupon.member_required")


def resolve_sale(
    *, data: SaleIn, actor: Actor, merchant: Merchant | None = None, store: Store | None = None
) -> CheckoutContext:
    """Everything the later steps need that takes no lock."""
    if data.channel not in Channel.values:
        raise ValidationError(_("Unknown sales channel."), code="sale.channel_unknown", fields={"channel": "unknown"})
    merchant, store = merchant_store(data=data, merchant=merchant, store=store)
    group = merchant.mall.group
    now = timezone.now()
    rules.check_sale_time(
        occurred_at=data.occurred_at,
        now=now,
        live_minutes=group.sale_live_window_minutes,
        offline_days=group.sale_offline_window_days,
        offline=data.is_offline,
        client_dated=data.client_dated,
    )
    member_id, card_no = data.member_id, None
    if member_id is None and data.join_phone:
        member_id, card_no = join_member(merchant=merchant, phone=data.join_phone, actor=actor)
    wallet_fen = sum(p.amount_fen for p in data.payments if p.method == PaymentMethod.WALLET)
    _check_member_uses(data, member_id=member_id, wallet_fen=wallet_fen)
    total = rules.validate_lines(data.lines)
    return CheckoutContext(
        data=data,
        merchant=merchant,
        store=store,
        token=group.config_token,  # configuration comes from the per-process cache while this is current
        now=now,
        member_id=member_id,
        joined=card_no is not None,
        joined_card_no=card_no,
        total_fen=total,
        wallet_fen=wallet_fen,
    )
