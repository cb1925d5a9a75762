"""Console: duplicates report, pair review with merge preview, merge records and un-merge (members.merge)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.services import audit_record, pii_access_record
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.dedupe import rules as dedupe_rules
from galleria.dedupe import selectors as dedupe_selectors
from galleria.dedupe import services as dedupe_services
from galleria.dedupe.models import MergeRecord
from galleria.dedupe.types import CandidatePair
from galleria.interfaces.common import actor_for, forbidden, scope_of
from galleria.members.models import Member

from ..helpers import PAGE_SIZE, console_view, page_of
from ..loyalty import group_context

EVIDENCE_LABELS: dict[str, Any] = {
    dedupe_rules.PHONE: _("Same phone"),
    dedupe_rules.CARD: _("Same card number"),
    dedupe_rules.UNIONID: _("Same WeChat unionid"),
    dedupe_rules.PLATE: _("Same licence plate"),
    dedupe_rules.NAME_BIRTHDAY: _("Same name and birthday"),
    dedupe_rules.EMAIL: _("Same e-mail"),
    dedupe_rules.REPORTED: _("Reported as duplicate"),
}
# How the two profiles compare: (label, badge style). A different name or birthday lowers the score.
SIGNAL_LABELS: dict[str, tuple[Any, str]] = {
    dedupe_rules.SAME_NAME: (_("Same name"), "badge-ok"),
    dedupe_rules.DIFFERENT_NAME: (_("Different names"), "badge-danger"),
    dedupe_rules.DIFFERENT_BIRTHDAY: (_("Different birthdays"), "badge-danger"),
}
# What a merge moves, by model ("app_label.Model" as the preview and the merge record name them); a model not
# listed here shows its verbose name.
ROW_LABELS: dict[str, Any] = {
    "members.MemberIdentifier": _("Identifiers (phone, cards, plates, WeChat)"),
    "members.Consent": _("Consent records"),
    "wallet.TopUp": _("Wallet top-ups"),
    "wallet.WalletPayment": _("Wallet payments"),
    "tiers.TierChange": _("Tier history entries"),
    "tiers.TierSpend": _("Qualifying spend records"),
    "points.BehaviourAward": _("Behaviour points awards"),
    "points.PointsAdjustment": _("Points adjustments"),
    "points.ExpiryNotice": _("Points expiry reminders"),
    "coupons.CouponHolding": _("Coupon claim records"),
    "coupons.Coupon": _("Coupons"),
    "coupons.CouponRedemption": _("Coupon redemptions"),
    "sales.Sale": _("Sales"),
    "receipts.Receipt": _("Receipts for points"),
    "payments.PaymentAttempt": _("App payments"),
    "payments.MallTransaction": _("WeChat Pay points payments"),
    "parking.ParkingSession": _("Parking stays"),
    "parking.ParkingProfile": _("Frictionless exit choice"),
    "receipts.ReceiptBlock": _("Receipt-points blocks"),
    "parking.PlateClaim": _("Plate verification requests"),
    "commerce.Order": _("Points mall orders"),
    "commerce.MemberQuota": _("Points mall purchase limits used"),
    "commerce.Checkout": _("Online mall checkouts"),
    "commerce.CartItem": _("Online mall cart items"),
    "commerce.ReturnRequest": _("Online mall after-sales requests"),
    "commerce.Review": _("Online mall reviews"),
    "events.Registration": _("Event registrations"),
    "amenities.Booking": _("Service bookings"),
    "audience.MemberTag": _("Member tags"),
    "campaigns.MarketingSend": _("Marketing messages received"),
    "messaging.InboxMessage": _("Inbox messages addressed to the member"),
    "messaging.InboxRead": _("Inbox messages read"),
    "messaging.PushSubscription": _("Browser notification subscriptions"),
    "messaging.WechatSubscription": _("WeChat subscribe-message accepts"),
}

ERROR_TEXT: dict[str, Any] = {
    "dedupe.same_member": _("A member cannot be merged into itself."),
    "dedupe.different_groups": _("Only members of the same mall group can be merged."),
    "dedupe.member_not_active": _("One of the members is already merged or erased."),
    "dedupe.pending_topup": _(
        "A wallet top-up of this member is still waiting for payment. Try again when it is finished."
    ),
    "dedupe.pending_adjustment": _("A points adjustment of this member is waiting for approval. Decide it first."),
    "dedupe.key_conflict": _(
        "Both members have a top-up with the same request key; they cannot be merged automatically."
    ),
    "dedupe.undo_window_passed": _("This merge is too old to be undone."),
    "dedupe.undo_survivor_activity": _(
        "The surviving member has used points or wallet money since the merge; it cannot be undone."
    ),
    "dedupe.undo_coupon_changed": _(
        "A coupon that moved with the merge has been used or changed since; the merge cannot be undone."
    ),
    "dedupe.undo_tier_changed": _("The surviving member's tier changed since the merge; it cannot be undone."),
    "dedupe.undo_not_live": _("This merge was already undone, or one of its members has changed status since."),
    "dedupe.pair_invalid": _("Choose two different members of your mall group."),
}


def _error(exc: ApplicationError) -> str:
    return str(ERROR_TEXT.get(exc.code, exc.message))


def row_label(label: str) -> str:
    """The readable name of a kind of rows a merge moves ("points.BehaviourAward" → "Behaviour points awards")."""
    if label in ROW_LABELS:
        return str(ROW_LABELS[label])
    try:
        return capfirst(str(apps.get_model(label)._meta.verbose_name_plural))
    except (LookupError, ValueError):
        return label


def _signals(pair: CandidatePair | None) -> list[tuple[str, str]]:
    return [
        (str(SIGNAL_LABELS[s][0]), SIGNAL_LABELS[s][1]) for s in (pair.signals if pair else ()) if s in SIGNAL_LABELS
    ]


@console_view(perms.MEMBERS_MERGE)
def duplicates(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    scope = scope_of(request)
    kind = request.GET.get("kind", "")
    if kind not in dedupe_rules.WEIGHTS:
        kind = ""
    pairs = dedupe_selectors.duplicate_candidates(mall_group_id=g.id, kind=kind)
    page = Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    query = params.urlencode()
    ids = sorted({i for p in page.object_list for i in (p.low_id, p.high_id)})
    sides = dedupe_selectors.member_sides(
        mall_group_id=g.id, member_ids=ids, show_pii=scope.can(perms.MEMBERS_VIEW_PII)
    )
    rows = [
        {
            "pair": p,
            "low": sides.get(p.low_id),
            "high": sides.get(p.high_id),
            "evidence": [EVIDENCE_LABELS.get(k, k) for k in p.kinds],
            "signals": _signals(p),
        }
        for p in page.object_list
    ]
    return render(
        request,
        "console/dedupe/list.html",
        {
            "nav": "duplicates",
            "g": g,
            "page_obj": page,
            "query_string": query,
            "rows": rows,
            "kind": kind,
            "kinds": [(k, EVIDENCE_LABELS[k], w) for k, w in dedupe_rules.WEIGHTS.items()],
        },
    )


def _pair(request: HttpRequest, a_id: int, b_id: int) -> tuple[Member, Member]:
    scope = scope_of(request)
    try:
        a, b = dedupe_selectors.pair_members(mall_group_id=scope.mall_group_id, a_id=a_id, b_id=b_id)
    except Member.DoesNotExist as exc:
        raise Http404("member") from exc
    if a.pk == b.pk:
        raise Http404("pair")
    return a, b


def _pair_page(
    request: HttpRequest,
    a: Member,
    b: Member,
    *,
    error: str = "",
    status: int = 200,
    reveal_phones: bool = False,
) -> HttpResponse:
    """The pair side by side with the merge preview. Phones are masked until revealed (`duplicate_phones`); the
    unmasked birthdays and e-mails a viewer with members.view_pii is shown go to the access log, as on member 360."""
    scope = scope_of(request)
    with_pii = scope.can(perms.MEMBERS_VIEW_PII)
    low, high = (a, b) if a.pk < b.pk else (b, a)
    try:
        survivor_id = int(request.POST.get("survivor") or request.GET.get("survivor") or low.pk)
    except ValueError:
        survivor_id = low.pk
    survivor, absorbed = (low, high) if survivor_id != high.pk else (high, low)
    sides = dedupe_selectors.member_sides(
        mall_group_id=low.mall_group_id,
        member_ids=[low.pk, high.pk],
        show_pii=with_pii,
        reveal_phones=reveal_phones and with_pii,
    )
    if with_pii:
        for member in (low, high):
            shown = [name for name, value in (("birthday", member.birthday), ("email", member.email)) if value]
            if shown:
                pii_access_record(
                    actor=actor_for(request),
                    mall_group_id=member.mall_group_id,
                    member_ids=[member.pk],
                    fields=shown,
                    source="console:duplicate_pair",
                )
    pair = dedupe_selectors.pair_candidate(mall_group_id=low.mall_group_id, a_id=low.pk, b_id=high.pk)
    preview = dedupe_selectors.merge_preview(survivor=survivor, absorbed=absorbed)
    return render(
        request,
        "console/dedupe/pair.html",
        {
            "nav": "duplicates",
            "low": sides.get(low.pk),
            "high": sides.get(high.pk),
            "low_member": low,
            "high_member": high,
            "pair": pair,
            "evidence": [EVIDENCE_LABELS.get(k, k) for k in (pair.kinds if pair else ())],
            "signals": _signals(pair),
            "survivor": survivor,
            "absorbed": absorbed,
            "preview": preview,
            "preview_rows": [(row_label(label), n) for label, n in preview.rows],
            "problems": [ERROR_TEXT.get(code, code) for code in preview.problems],
            "principal": format_cny(preview.wallet_principal_fen),
            "bonus": format_cny(preview.wallet_bonus_fen),
            "error": error,
            "can_reveal": with_pii and not reveal_phones and bool(low.phone or high.phone),
            "revealed": reveal_phones and with_pii,
        },
        status=status,
    )


@console_view(perms.MEMBERS_MERGE)
def duplicate_pair(request: HttpRequest, a_id: int, b_id: int) -> HttpResponse:
    a, b = _pair(request, a_id, b_id)
    return _pair_page(request, a, b)


@require_POST
@console_view(perms.MEMBERS_MERGE)
def duplicate_phones(request: HttpRequest, a_id: int, b_id: int) -> HttpResponse:
    """Show both full phones of the pair (a deliberate act: audited per member and written to the access log, as
    member 360's "Show full phone"). Needs members.view_pii as well as members.merge."""
    a, b = _pair(request, a_id, b_id)
    if not scope_of(request).can(perms.MEMBERS_VIEW_PII):
        return forbidden(request)
    actor = actor_for(request)
    for member in sorted((a, b), key=lambda m: m.pk):
        audit_record(
            actor=actor,
            action="member.view_pii",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={"fields": "phone"},
        )
        if member.phone:
            pii_access_record(
                actor=actor,
                mall_group_id=member.mall_group_id,
                member_ids=[member.pk],
                fields=("phone",),
                source="console:duplicate_phones",
            )
    return _pair_page(request, a, b, reveal_phones=True)


@require_POST
@console_view(perms.MEMBERS_MERGE)
def duplicate_merge(request: HttpRequest, a_id: int, b_id: int) -> HttpResponse:
    a, b = _pair(request, a_id, b_id)
    try:
        survivor_id = int(request.POST.get("survivor", ""))
    except ValueError:
        survivor_id = 0
    if survivor_id not in (a.pk, b.pk):
        return _pair_page(request, a, b, error=str(_("Choose which member survives.")), status=422)
    absorbed_id = b.pk if survivor_id == a.pk else a.pk
    try:
        dedupe_services.member_merge(
            mall_group_id=scope_of(request).mall_group_id,
            survivor_id=survivor_id,
            absorbed_id=absorbed_id,
            actor=actor_for(request),
        )
    except ApplicationError as exc:
        return _pair_page(request, a, b, error=_error(exc), status=exc.status if exc.status >= 400 else 409)
    return redirect("console:member_detail", member_id=survivor_id)


@require_POST
@console_view(perms.MEMBERS_MERGE)
def duplicate_dismiss(request: HttpRequest, a_id: int, b_id: int) -> HttpResponse:
    a, b = _pair(request, a_id, b_id)
    try:
        dedupe_services.pair_dismiss(
            mall_group_id=scope_of(request).mall_group_id,
            a_id=a.pk,
            b_id=b.pk,
            note=request.POST.get("note", "")[:200],
            actor=actor_for(request),
        )
    except ApplicationError as exc:
        return _pair_page(request, a, b, error=_error(exc), status=exc.status if exc.status >= 400 else 409)
    return redirect(
        reverse("console:duplicates") + (f"?group={a.mall_group_id}" if scope_of(request).is_platform else "")
    )


@console_view(perms.MEMBERS_MERGE)
def merges(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    page, query = page_of(request, dedupe_selectors.merge_list(mall_group_id=g.id))
    return render(
        request, "console/dedupe/merges.html", {"nav": "duplicates", "g": g, "page_obj": page, "query_string": query}
    )


def _merge_or_404(request: HttpRequest, merge_id: int) -> MergeRecord:
    try:
        return dedupe_selectors.merge_get(mall_group_id=scope_of(request).mall_group_id, merge_id=merge_id)
    except MergeRecord.DoesNotExist as exc:
        raise Http404("merge") from exc


def _merge_page(request: HttpRequest, record: MergeRecord, *, error: str = "", status: int = 200) -> HttpResponse:
    rows = sorted((row_label(label), len(ids)) for label, ids in record.moved.get("rows", {}).items())
    return render(
        request,
        "console/dedupe/merge.html",
        {
            "nav": "duplicates",
            "record": record,
            "rows": rows,
            "lots": len(record.moved.get("lots", [])),
            "points": record.amounts.get("member_points", 0),
            "principal": format_cny(int(record.amounts.get("member_wallet", 0))),
            "bonus": format_cny(int(record.amounts.get("member_wallet_bonus", 0))),
            "error": error,
        },
        status=status,
    )


@console_view(perms.MEMBERS_MERGE)
def merge_detail(request: HttpRequest, merge_id: int) -> HttpResponse:
    return _merge_page(request, _merge_or_404(request, merge_id))


@require_POST
@console_view(perms.MEMBERS_MERGE)
def merge_undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    record = _merge_or_404(request, merge_id)
    try:
        record = dedupe_services.member_unmerge(
            mall_group_id=scope_of(request).mall_group_id, merge_id=record.pk, actor=actor_for(request)
        )
    except ApplicationError as exc:
        return _merge_page(request, record, error=_error(exc), status=exc.status if exc.status >= 400 else 409)
    return redirect("console:merge_detail", merge_id=record.pk)
