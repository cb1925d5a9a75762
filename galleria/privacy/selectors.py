"""Reads of the privacy area: the member's data export document, privacy requests, the personal-data access log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from galleria.audit.selectors import pii_access_search
from galleria.coupons.models import Coupon
from galleria.ledger.models import Account, AccountKind, Entry
from galleria.members.models import Consent, Member, MemberIdentifier
from galleria.messaging.selectors_privacy import (
    emails_to_address,
    inbox_of_member,
    push_messages_of_member,
    push_subscriptions_of_member,
    sms_to_phone,
    wechat_messages_of_member,
    wechat_subscriptions_of_member,
)
from galleria.messaging.templates import SMS_TEMPLATES
from galleria.points.models import PointsLot
from galleria.sales.models import Refund, Sale
from galleria.tiers.models import MemberTier, TierChange
from galleria.wallet.selectors import payment_list, topup_list, wallet_balance

from . import conf
from .models import PrivacyRequest, RequestKind, RequestStatus

# /2: the sections of parking, commerce, events, audience (settings.GALLERIA_EXPORT_SECTIONS) and messaging
EXPORT_FORMAT = "galleria.member-export/2"

ExportSections = Callable[..., dict[str, list[dict[str, Any]]]]


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def member_export_document(*, member: Member, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything Galleria holds about one member, as a JSON-ready document (format EXPORT_FORMAT, described in
    docs/privacy.md). Every query filters by this member's id, so nobody else's data can appear. Bounded by the
    member's own history: a handful of queries, one per section.

    The areas above privacy in the layering (parking, commerce, events, audience) add their sections through the
    functions named in settings.GALLERIA_EXPORT_SECTIONS; messaging's are read here. Section names are unique
    (a second use is ImproperlyConfigured)."""
    member_id = member.pk
    profile = {
        "member_id": member_id,
        "card_no": member.card_no,
        "phone": member.phone,
        "name": member.name,
        "gender": member.gender,
        "birthday": _iso(member.birthday),
        "email": member.email,
        "status": member.status,
        "join_channel": member.join_channel,
        "join_mall": member.join_mall.name,
        "joined_at": _iso(member.created_at),
        "last_active_at": _iso(member.last_active_at),
    }
    identifiers = [
        {"kind": kind, "value": value, "added_at": _iso(at)}
        for kind, value, at in MemberIdentifier.objects.filter(member_id=member_id)
        .order_by("kind", "created_at", "id")
        .values_list("kind", "value", "created_at")
    ]
    consents = [
        {
            "purpose": c.purpose,
            "granted": c.is_granted,
            "policy_version": c.policy_version,
            "channel": c.channel,
            "recorded_at": _iso(c.recorded_at),
            "recorded_by": "staff" if c.recorded_by_id else "member",
            "reason": c.reason,
        }
        for c in Consent.objects.filter(member_id=member_id).order_by("recorded_at", "id")
    ]
    points_history = [
        {
            "at": _iso(e.occurred_at),
            "points": e.amount,
            "kind": e.transaction.kind,
            "source": e.transaction.source,
            "memo": e.transaction.memo,
            "explanation": e.transaction.explanation,
        }
        for e in Entry.objects.filter(account__member_id=member_id, account__kind=AccountKind.MEMBER_POINTS)
        .select_related("transaction")
        .order_by("occurred_at", "id")
    ]
    lots = [
        {
            "earned_at": _iso(lot.earned_at),
            "points": lot.points,
            "remaining": lot.remaining,
            "expires_on": _iso(lot.expires_on),
        }
        for lot in PointsLot.objects.filter(member_id=member_id).order_by("earned_at", "id")
    ]
    tier_row = MemberTier.objects.filter(member_id=member_id).select_related("level").first()
    tier = (
        None
        if tier_row is None
        else {"code": tier_row.level.code, "name": tier_row.level.name, "since": _iso(tier_row.since)}
    )
    tier_history = [
        {
            "at": _iso(ch.at),
            "from": ch.from_level.name if ch.from_level else None,
            "to": ch.to_level.name,
            "reason": ch.reason,
            "note": ch.note,
        }
        for ch in TierChange.objects.filter(member_id=member_id)
        .select_related("from_level", "to_level")
        .order_by("at", "id")
    ]
    balances = wallet_balance(member_id=member_id)
    points_account = Account.objects.filter(member_id=member_id, kind=AccountKind.MEMBER_POINTS).first()
    topups = [
        {
            "at": _iso(t.created_at),
            "amount_fen": t.amount_fen,
            "bonus_fen": t.bonus_fen,
            "status": t.status,
            "paid_at": _iso(t.paid_at),
            "refunded_fen": t.refunded_fen,
        }
        for t in topup_list(member_id=member_id).order_by("created_at", "id")
    ]
    wallet_payments = [
        {
            "at": _iso(p.occurred_at),
            "amount_fen": p.amount_fen,
            "principal_fen": p.principal_fen,
            "bonus_fen": p.bonus_fen,
            "refunded_fen": p.refunded_principal_fen + p.refunded_bonus_fen,
            "merchant": p.merchant.name if p.merchant else None,
        }
        for p in payment_list(member_id=member_id).select_related("merchant").order_by("occurred_at")
    ]
    sales_qs = (
        Sale.objects.filter(member_id=member_id)
        .select_related("merchant", "mall")
        .prefetch_related("lines", "payments")
        .order_by("occurred_at", "id")
    )
    sales = [
        {
            "id": s.pk,
            "at": _iso(s.occurred_at),
            "mall": s.mall.name,
            "merchant": s.merchant.name,
            "receipt_no": s.pos_sale_id,
            "status": s.status,
            "total_fen": s.total_fen,
            "paid_fen": s.paid_fen,
            "discount_fen": s.discount_fen,
            "points_used": s.points_used,
            "points_earned": s.points_earned,
            "refunded_fen": s.refunded_fen,
            "earn_explanation": s.earn_explanation,
            "lines": [
                {"sku": ln.sku, "name": ln.name, "quantity": ln.quantity, "amount_fen": ln.amount_fen}
                for ln in s.lines.all()
            ],
            "payments": [{"method": p.method, "amount_fen": p.amount_fen} for p in s.payments.all()],
        }
        for s in sales_qs
    ]
    refunds = [
        {
            "sale_id": r.sale_id,
            "at": _iso(r.occurred_at),
            "amount_fen": r.amount_fen,
            "money_fen": r.money_fen,
            "points_clawed_back": r.points_clawed_back,
            "points_returned": r.points_returned,
        }
        for r in Refund.objects.filter(sale__member_id=member_id).order_by("occurred_at", "id")
    ]
    coupons = [
        {
            "name": c.template.name,
            "kind": c.template.kind,
            "status": c.status,
            "source": c.source,
            "issued_at": _iso(c.issued_at),
            "valid_until": _iso(c.valid_until),
            "used_at": _iso(c.used_at),
        }
        for c in Coupon.objects.filter(member_id=member_id).select_related("template").order_by("issued_at", "id")
    ]
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "generated_at": _iso(now or timezone.now()),
        "mall_group": member.mall_group.name,
        "profile": profile,
        "identifiers": identifiers,
        "consents": consents,
        "points": {
            "balance": int(points_account.balance or 0) if points_account else 0,
            "history": points_history,
            "lots": lots,
        },
        "tier": {"current": tier, "history": tier_history},
        "wallet": {
            "principal_fen": balances.principal_fen,
            "bonus_fen": balances.bonus_fen,
            "topups": topups,
            "payments": wallet_payments,
        },
        "sales": sales,
        "refunds": refunds,
        "coupons": coupons,
    }
    _merge_sections(document, messaging_export_sections(member=member), source="privacy (messaging)")
    for path in conf.export_section_paths():
        sections = export_sections_function(path)(member_id=member_id, mall_group_id=member.mall_group_id)
        _merge_sections(document, sections, source=path)
    return document


def export_sections_function(path: str) -> ExportSections:
    """The export function a dotted path of settings.GALLERIA_EXPORT_SECTIONS names."""
    function: ExportSections = import_string(path)
    return function


def _merge_sections(document: dict[str, Any], sections: dict[str, list[dict[str, Any]]], *, source: str) -> None:
    """Add an area's sections to the document: a name already there (the core's or another area's) is a
    configuration error, never a silent overwrite."""
    if not isinstance(sections, dict):
        raise ImproperlyConfigured(f"export sections of {source} must be a dict, not {type(sections).__name__}")
    for name, rows in sections.items():
        if name in document:
            raise ImproperlyConfigured(f"export section {name!r} of {source} is already in the document")
        if not isinstance(rows, list):
            raise ImproperlyConfigured(f"export section {name!r} of {source} must be a list of rows")
        document[name] = rows


def messaging_export_sections(*, member: Member) -> dict[str, list[dict[str, Any]]]:
    """What messaging holds about the member: SMS sent to their phone and e-mails to their address since they
    joined, their inbox messages (addressed to them, or broadcasts they opened), their WeChat messages and
    subscribe-message accepts, their browser push subscriptions and push messages. Seven queries. The text of an
    SMS whose template carries a one-time secret (a sign-in code) is withheld; provider references, attempt logs
    and template parameters are internal."""
    since = member.created_at
    sms = [
        {
            "at": _iso(m.created_at),
            "template": m.template,
            "text": None if _sms_text_secret(m.template) else m.body,
            "status": m.status,
            "sent_at": _iso(m.sent_at),
            "delivered_at": _iso(m.delivered_at),
        }
        for m in sms_to_phone(phone=member.phone, since=since)
    ]
    emails = [
        {
            "at": _iso(m.created_at),
            "to": m.to,
            "subject": m.subject,
            "text": m.body,
            "status": m.status,
            "sent_at": _iso(m.sent_at),
        }
        for m in emails_to_address(address=member.email, since=since)
    ]
    inbox = [
        {
            "sent_at": _iso(m.sent_at),
            "audience": m.audience,
            "title": m.title,
            "text": m.body,
            "read_at": _iso(m.read_at),  # type: ignore[attr-defined]  # annotated by the selector
        }
        for m in inbox_of_member(mall_group_id=member.mall_group_id, member_id=member.pk)
    ]
    wechat = [
        {
            "at": _iso(m.created_at),
            "channel": m.channel,
            "template": m.template,
            "to": m.recipient,
            "values": m.data or m.params,
            "status": m.status,
            "sent_at": _iso(m.sent_at),
            "delivered_at": _iso(m.delivered_at),
        }
        for m in wechat_messages_of_member(member_id=member.pk)
    ]
    wechat_subscriptions = [
        {"openid": s.openid, "template_id": s.template_id, "remaining": s.remaining, "accepted_at": _iso(s.accepted_at)}
        for s in wechat_subscriptions_of_member(member_id=member.pk)
    ]
    push_subscriptions = [
        {
            "endpoint": s.endpoint,
            "browser": s.user_agent,
            "created_at": _iso(s.created_at),
            "last_success_at": _iso(s.last_success_at),
        }
        for s in push_subscriptions_of_member(member_id=member.pk)
    ]
    push = [
        {"at": _iso(m.created_at), "title": m.title, "text": m.body, "url": m.url, "status": m.status}
        for m in push_messages_of_member(member_id=member.pk)
    ]
    return {
        "sms_messages": sms,
        "emails": emails,
        "inbox_messages": inbox,
        "wechat_messages": wechat,
        "wechat_subscriptions": wechat_subscriptions,
        "push_subscriptions": push_subscriptions,
        "push_messages": push,
    }


def _sms_text_secret(template: str) -> bool:
    found = SMS_TEMPLATES.get(template)
    return found is not None and bool(found.secret_params)


# ---------------------------------------------------------------- requests


def erasure_pending(*, member_id: int) -> PrivacyRequest | None:
    return PrivacyRequest.objects.filter(
        member_id=member_id, kind=RequestKind.ERASURE, status=RequestStatus.PENDING
    ).first()


def member_requests(*, member_id: int, kind: str | None = None) -> QuerySet[PrivacyRequest]:
    """A member's requests, newest first, without the export document (deferred: it can be large)."""
    qs = PrivacyRequest.objects.filter(member_id=member_id).defer("data").order_by("-requested_at", "-id")
    return qs.filter(kind=kind) if kind else qs


def member_exports_available(*, member_id: int, now: dt.datetime | None = None) -> QuerySet[PrivacyRequest]:
    moment = now or timezone.now()
    return member_requests(member_id=member_id, kind=RequestKind.EXPORT).filter(
        status=RequestStatus.READY, expires_at__gt=moment
    )


def member_export_get(*, member_id: int, export_id: int, now: dt.datetime | None = None) -> PrivacyRequest | None:
    """The member's own ready export, or None (another member's export, an expired one or an unknown id)."""
    moment = now or timezone.now()
    return PrivacyRequest.objects.filter(
        pk=export_id, member_id=member_id, kind=RequestKind.EXPORT, status=RequestStatus.READY, expires_at__gt=moment
    ).first()


def request_list(*, mall_group_id: int | None, kind: str = "", status: str = "") -> QuerySet[PrivacyRequest]:
    """The console's privacy requests of a group (None = every group), without export documents."""
    qs = PrivacyRequest.objects.select_related("member", "requested_by").defer("data")
    if mall_group_id is not None:
        qs = qs.filter(mall_group_id=mall_group_id)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-requested_at", "-id")


# ---------------------------------------------------------------- access log


# the personal-data access log is the audit app's table; the privacy screens search it through audit's selector
access_log_search = pii_access_search
