"""Coupons in the console: templates (list, form with live preview, detail with stats and chart, status, XLSX
export), grants (one member, a pasted list or a segment as a background batch with progress) and promotions.

Permissions: coupons.view reads, coupons.manage writes templates, promotions and batch grants, coupons.grant
gives one coupon to one member. Objects of another mall group are 404s, like every console object.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audience.selectors import segment_all_member_ids, segment_get
from galleria.audit.services import audit_record
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.coupons import rules as coupon_rules
from galleria.coupons import selectors as coupon_selectors
from galleria.coupons import services as coupon_services
from galleria.coupons.exceptions import TemplateInvalidError, TemplateLockedFieldError
from galleria.coupons.models import (
    Coupon,
    CouponRedemption,
    CouponSource,
    CouponStatus,
    CouponTemplate,
    GrantBatch,
    GrantStatus,
    Promotion,
    TemplateStatus,
)
from galleria.coupons.services.issuance import MAX_GRANT_MEMBERS
from galleria.coupons.services.templates import TEMPLATE_FIELDS
from galleria.interfaces import coupon_text
from galleria.interfaces.common import actor_for, forbidden, scope_of, spreadsheet_cell
from galleria.members import rules as member_rules
from galleria.members.models import Member
from galleria.members.selectors import member_get, member_resolve
from galleria.merchants.selectors import merchant_options
from galleria.tiers.selectors import tier_ladder

from ...coupon_forms import PROBLEM_MESSAGES, CouponTemplateForm, PromotionForm, place_problems
from ..coupon_forms import GrantBatchForm, GrantOneForm, GrantToMemberForm, TemplateFilterForm, new_key
from ..helpers import console_view, is_htmx, page_of
from ..loyalty import GroupContext, group_context

EXPORT_MAX_ROWS = 200_000
STATUS_TONES = {"draft": "", "active": "badge-ok", "paused": "badge-warn", "ended": "badge-danger"}
BATCH_TONES = {"pending": "", "running": "badge-warn", "done": "badge-ok", "sold_out": "badge-danger"}
SESSION_FAILURES = "coupon_grant_failures"


# ---------------------------------------------------------------------------------------------- shared


def _template_or_404(request: HttpRequest, template_id: int) -> tuple[CouponTemplate, GroupContext]:
    template = coupon_selectors.template_get(template_id=template_id, mall_group_id=scope_of(request).mall_group_id)
    if template is None:
        raise Http404("coupon template")
    return template, group_context(request, group_id=template.mall_group_id)


def names_for(group_id: int) -> tuple[dict[int, str], dict[int, str]]:
    merchants = dict(merchant_options(mall_group_id=group_id).values_list("pk", "name"))
    tiers = {level.rank: level.name for level in tier_ladder(mall_group_id=group_id)}
    return merchants, tiers


def card_for(template: CouponTemplate | dict[str, Any], group_id: int) -> coupon_text.CouponCard:
    merchants, tiers = names_for(group_id)
    values = template if isinstance(template, dict) else {f: getattr(template, f) for f in _FIELDS}
    owner = merchants.get(int(values["merchant_id"]), "") if values.get("merchant_id") else ""
    return coupon_text.describe(values, merchant_names=merchants, tier_names=tiers, owner_name=owner)


_FIELDS = TEMPLATE_FIELDS


def _status_badge(status: str) -> dict[str, str]:
    return {"label": str(dict(TemplateStatus.choices).get(status, status)), "tone": STATUS_TONES.get(status, "")}


def _can(request: HttpRequest, permission: str) -> bool:
    return scope_of(request).can(permission)


# ---------------------------------------------------------------------------------------------- templates


@console_view(perms.COUPONS_VIEW)
def coupon_templates(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = TemplateFilterForm(request.GET or None)
    f = form.filters()
    qs = coupon_selectors.template_list(mall_group_id=g.id, status=f["status"] or None)
    if f["q"]:
        qs = qs.filter(name__icontains=f["q"])
    if f["kind"]:
        qs = qs.filter(kind=f["kind"])
    qs = qs.select_related("merchant").annotate(
        issued=Count("coupons"), used=Count("coupons", filter=Q(coupons__status=CouponStatus.USED))
    )
    page, query_string = page_of(request, qs)
    merchants, tiers = names_for(g.id)
    rows = []
    for t in page.object_list:
        values = {name: getattr(t, name) for name in TEMPLATE_FIELDS}
        card = coupon_text.describe(values, merchant_names=merchants, tier_names=tiers)
        remaining = None
        if t.total_quantity is not None:
            remaining = coupon_selectors.stock_remaining(template_id=t.pk) if t.status != "draft" else t.total_quantity
        rows.append({"t": t, "card": card, "status": _status_badge(t.status), "remaining": remaining})
    context = {
        "nav": "coupons",
        "g": g,
        "form": form,
        "page_obj": page,
        "rows": rows,
        "query_string": query_string,
        "filtered": any(f.values()),
        "can_manage": _can(request, perms.COUPONS_MANAGE),
    }
    template = "console/coupons/_results.html" if is_htmx(request) else "console/coupons/list.html"
    return render(request, template, context)


def _form_page(
    request: HttpRequest, g: GroupContext, form: CouponTemplateForm, template: CouponTemplate | None
) -> HttpResponse:
    values = form.preview_values() if form.is_bound else form._raw_values(form.initial)
    context = {
        "nav": "coupons",
        "g": g,
        "form": form,
        "template": template,
        "card": card_for(values, g.id),
        "problems": _problems(values),
        "locked": template is not None and template.status != "draft",
        "preview_url": reverse("console:coupon_preview"),
    }
    return render(request, "console/coupons/form.html", context, status=400 if form.is_bound else 200)


def _problems(values: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for _field, code in coupon_rules.template_problems(values):
        message = str(PROBLEM_MESSAGES.get(code, code))
        if message not in seen:
            seen.append(message)
    return seen


@console_view(perms.COUPONS_MANAGE)
def coupon_template_new(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = CouponTemplateForm(request.POST or None, group_id=g.id)
    if request.method == "POST" and form.is_valid():
        try:
            template = coupon_services.coupon_template_create(
                mall_group_id=g.id, values=form.values(), actor=actor_for(request)
            )
        except ApplicationError as exc:
            place_problems(form, exc)
        else:
            messages.success(request, _("Coupon “%(name)s” created as a draft.") % {"name": template.name})
            return redirect("console:coupon_template", template.pk)
    return _form_page(request, g, form, None)


@console_view(perms.COUPONS_MANAGE)
def coupon_template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template, g = _template_or_404(request, template_id)
    if template.status == TemplateStatus.ENDED:
        messages.error(request, _("An ended coupon cannot be changed."))
        return redirect("console:coupon_template", template.pk)
    form = CouponTemplateForm(request.POST or None, group_id=g.id, template=template)
    if request.method == "POST" and form.is_valid():
        try:
            template = coupon_services.coupon_template_update(
                template_id=template.pk, mall_group_id=g.id, values=form.values(), actor=actor_for(request)
            )
        except (TemplateInvalidError, TemplateLockedFieldError) as exc:
            place_problems(form, exc)
        except ApplicationError as exc:
            form.add_error(None, coupon_text.error_text(exc))
        else:
            messages.success(request, _("Coupon “%(name)s” saved.") % {"name": template.name})
            return redirect("console:coupon_template", template.pk)
    return _form_page(request, g, form, template)


@require_POST
@console_view(perms.COUPONS_MANAGE)
def coupon_preview(request: HttpRequest) -> HttpResponse:
    """The live preview (htmx): the coupon card as members will read it, and what is still missing."""
    template = None
    raw = request.POST.get("preview_template") or ""
    if raw.isdigit():
        template, g = _template_or_404(request, int(raw))
    else:
        g = group_context(request)
    form = CouponTemplateForm(request.POST, group_id=g.id, template=template)
    values = form.preview_values()
    return render(
        request, "console/coupons/_preview.html", {"card": card_for(values, g.id), "problems": _problems(values)}
    )


def _source_counts(template_id: int) -> dict[str, int]:
    return dict(
        Coupon.objects.filter(template_id=template_id)
        .values_list("source")
        .annotate(n=Count("pk"))
        .values_list("source", "n")
    )


@console_view(perms.COUPONS_VIEW)
def coupon_template(request: HttpRequest, template_id: int) -> HttpResponse:
    template, g = _template_or_404(request, template_id)
    stats = coupon_selectors.template_stats(template_id=template.pk)
    sources = _source_counts(template.pk)
    source_labels = dict(CouponSource.choices)
    claimed = sources.get(CouponSource.CLAIM, 0)
    granted = sources.get(CouponSource.GRANT, 0)
    automatic = stats.issued - claimed - granted
    charts = {
        "funnel": {
            "labels": [
                str(_("Issued")),
                str(_("Used")),
                str(_("Expired")),
                str(_("Still usable")),
                str(_("Cancelled")),
            ],
            "values": [stats.issued, stats.used, stats.expired, stats.available, stats.void],
        },
        "sources": {"items": [{"name": str(source_labels.get(k, k)), "value": n} for k, n in sorted(sources.items())]},
        "funding": {
            "items": [
                {"name": str(_("Mall")), "value": stats.mall_fen / 100},
                {"name": str(_("Merchant")), "value": stats.merchant_fen / 100},
            ]
        },
    }
    batches = list(GrantBatch.objects.filter(template=template).order_by("-pk")[:10])
    context = {
        "nav": "coupons",
        "g": g,
        "template": template,
        "card": card_for(template, g.id),
        "status": _status_badge(template.status),
        "stats": stats,
        "claimed": claimed,
        "granted": granted,
        "automatic": automatic,
        "rate": f"{stats.redemption_rate_bp // 100}.{stats.redemption_rate_bp % 100:02d}%",
        "discount": format_cny(stats.discount_fen),
        "mall_part": format_cny(stats.mall_fen),
        "merchant_part": format_cny(stats.merchant_fen),
        "charts": charts,
        "batches": [{"b": b, "tone": BATCH_TONES.get(b.status, "")} for b in batches],
        "can_manage": _can(request, perms.COUPONS_MANAGE),
        "can_grant": _can(request, perms.COUPONS_GRANT) and template.status in ("active", "paused"),
        "grant_form": GrantOneForm(initial={"key": new_key()}),
        "transitions": _transitions(template.status),
    }
    return render(request, "console/coupons/detail.html", context)


def _transitions(status: str) -> list[tuple[str, str, str]]:
    """(action, label, button class) the template's status allows."""
    out = []
    if status in ("draft", "paused"):
        out.append(("activate", _("Activate"), "btn-primary"))
    if status == "active":
        out.append(("pause", _("Pause"), ""))
    if status != "ended":
        out.append(("end", _("End"), "btn-danger"))
    return out


@require_POST
@console_view(perms.COUPONS_MANAGE)
def coupon_template_status(request: HttpRequest, template_id: int) -> HttpResponse:
    template, g = _template_or_404(request, template_id)
    action = request.POST.get("action")
    service = {
        "activate": coupon_services.coupon_template_activate,
        "pause": coupon_services.coupon_template_pause,
        "end": coupon_services.coupon_template_end,
    }.get(str(action))
    if service is None:
        messages.error(request, _("Choose what to do."))
        return redirect("console:coupon_template", template.pk)
    try:
        template = service(template_id=template.pk, mall_group_id=g.id, actor=actor_for(request))
    except TemplateInvalidError as exc:
        problems = [str(p) for p in _problems({f: getattr(template, f) for f in _FIELDS})]
        messages.error(request, " ".join([coupon_text.error_text(exc), *problems]))
    except ApplicationError as exc:
        messages.error(request, coupon_text.error_text(exc))
    else:
        messages.success(
            request,
            _("“%(name)s” is now %(status)s.")
            % {"name": template.name, "status": dict(TemplateStatus.choices)[template.status]},
        )
    return redirect("console:coupon_template", template.pk)


# ---------------------------------------------------------------------------------------------- export


cell = spreadsheet_cell


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@console_view(perms.COUPONS_VIEW)
def coupon_template_export(request: HttpRequest, template_id: int) -> HttpResponse:
    """The template's coupons and redemptions as an XLSX workbook (two sheets). Members appear by card number."""
    from openpyxl import Workbook

    template, g = _template_or_404(request, template_id)
    statuses, sources = dict(CouponStatus.choices), dict(CouponSource.choices)
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet(str(_("Coupons")))
    sheet.append([cell(template.name)])
    sheet.append(
        [
            str(_("Code")),
            str(_("Card number")),
            str(_("Status")),
            str(_("Source")),
            str(_("Issued at")),
            str(_("Valid until")),
            str(_("Used at")),
        ]
    )
    coupons = (
        Coupon.objects.filter(template=template)
        .select_related("member")
        .order_by("pk")
        .values_list("code", "member__card_no", "status", "source", "issued_at", "valid_until", "used_at")
    )
    count = 0
    for code, card_no, status, source, issued_at, valid_until, used_at in coupons[:EXPORT_MAX_ROWS].iterator(
        chunk_size=2000
    ):
        sheet.append(
            [
                coupon_text.masked_code(code),
                cell(card_no),
                str(statuses.get(status, status)),
                str(sources.get(source, source)),
                _local(issued_at),
                _local(valid_until),
                _local(used_at),
            ]
        )
        count += 1
    red = wb.create_sheet(str(_("Redemptions")))
    red.append(
        [
            str(_("Redeemed at")),
            str(_("Code")),
            str(_("Merchant")),
            str(_("Sale")),
            str(_("Discount (¥)")),
            str(_("Mall funded (¥)")),
            str(_("Merchant funded (¥)")),
            str(_("Refunded (¥)")),
            str(_("By")),
        ]
    )
    redemptions = (
        CouponRedemption.objects.filter(template=template)
        .order_by("pk")
        .values_list(
            "redeemed_at",
            "coupon__code",
            "merchant__name",
            "sale_id",
            "discount_fen",
            "mall_fen",
            "merchant_fen",
            "refunded_fen",
            "actor_label",
        )
    )
    for at, code, merchant, sale_id, discount, mall, merchant_fen, refunded, by in redemptions[
        :EXPORT_MAX_ROWS
    ].iterator(chunk_size=2000):
        red.append(
            [
                _local(at),
                coupon_text.masked_code(code or ""),
                cell(merchant or ""),
                sale_id or "",
                discount / 100,
                mall / 100,
                merchant_fen / 100,
                refunded / 100,
                cell(by or ""),
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    audit_record(
        actor=actor_for(request),
        action="coupon.export",
        target_type="coupontemplate",
        target_id=template.pk,
        target_label=template.name,
        mall_group_id=g.id,
        changes={"count": [None, str(count)]},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="coupons-{template.pk}-{stamp}.xlsx"'
    return response


# ---------------------------------------------------------------------------------------------- grants


@require_POST
@console_view(perms.COUPONS_GRANT)
def coupon_template_grant(request: HttpRequest, template_id: int) -> HttpResponse:
    """Give one coupon of this template to one member (by phone, card number or member code)."""
    template, g = _template_or_404(request, template_id)
    form = GrantOneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the member's phone, card number or member code."))
        return redirect("console:coupon_template", template.pk)
    found = member_resolve(mall_group_id=g.id, raw=form.cleaned_data["member"])
    if found is None:
        messages.error(request, _("No member found for “%(q)s”.") % {"q": form.cleaned_data["member"][:30]})
        return redirect("console:coupon_template", template.pk)
    _grant_one(request, g, template, found.member, form.cleaned_data["key"], form.cleaned_data.get("note") or "")
    return redirect("console:coupon_template", template.pk)


def _grant_one(
    request: HttpRequest, g: GroupContext, template: CouponTemplate, member: Member, key: str, note: str
) -> bool:
    try:
        issued = coupon_services.coupon_grant(
            mall_group_id=g.id,
            template_id=template.pk,
            member_id=member.pk,
            idempotency_key=key,
            actor=actor_for(request),
            note=note,
        )
    except ApplicationError as exc:
        messages.error(request, coupon_text.error_text(exc))
        return False
    label = member.name or member.card_no
    if issued.created:
        messages.success(request, _("“%(coupon)s” given to %(member)s.") % {"coupon": template.name, "member": label})
    else:
        messages.info(request, _("This grant was already done."))
    return True


@console_view(perms.COUPONS_MANAGE)
def coupon_grant_batch_new(request: HttpRequest, template_id: int) -> HttpResponse:
    template, g = _template_or_404(request, template_id)
    form = GrantBatchForm(request.POST or None, group_id=g.id, initial={"key": new_key(), "target": "list"})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        failures: list[dict[str, str]] = []
        member_ids: list[int] | None = None
        segment: dict[str, Any] | None = None
        if d["target"] == "list":
            member_ids = []
            for line in d["lines"]:
                found = member_resolve(mall_group_id=g.id, raw=line)
                if found is None:
                    failures.append({"line": line[:40], "reason": str(_("No active member found"))})
                else:
                    member_ids.append(found.member.pk)
        elif d["target"] == "saved":  # a saved audience segment, resolved now (docs/marketing.md)
            saved = segment_get(mall_group_id=g.id, segment_id=d["saved_segment"])
            member_ids = segment_all_member_ids(mall_group_id=g.id, definition=saved.definition, cap=MAX_GRANT_MEMBERS)
        else:
            segment = form.segment()
        try:
            batch = coupon_services.coupon_grant_batch_create(
                mall_group_id=g.id,
                template_id=template.pk,
                idempotency_key=d["key"],
                actor=actor_for(request),
                member_ids=member_ids,
                segment=segment,
                note=d.get("note") or "",
            )
        except ApplicationError as exc:
            form.add_error(None, coupon_text.error_text(exc))
        else:
            stored = request.session.get(SESSION_FAILURES) or {}
            stored = {k: v for k, v in stored.items() if k != str(batch.pk)}
            stored[str(batch.pk)] = failures[:500]
            request.session[SESSION_FAILURES] = dict(list(stored.items())[-10:])
            return redirect("console:coupon_grant_batch", batch.pk)
    context = {"nav": "coupons", "g": g, "template": template, "card": card_for(template, g.id), "form": form}
    return render(request, "console/coupons/grant_batch_form.html", context, status=400 if form.is_bound else 200)


@console_view(perms.COUPONS_VIEW)
def coupon_grant_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A batch's progress; while it runs the page polls this URL (htmx) for the progress fragment."""
    scope = scope_of(request)
    qs = GrantBatch.objects.select_related("template").filter(pk=batch_id)
    if scope.mall_group_id is not None:
        qs = qs.filter(mall_group_id=scope.mall_group_id)
    batch = qs.first()
    if batch is None:
        raise Http404("grant batch")
    g = group_context(request, group_id=batch.mall_group_id)
    failures = (request.session.get(SESSION_FAILURES) or {}).get(str(batch.pk), [])
    done = batch.status in (GrantStatus.DONE, GrantStatus.SOLD_OUT)
    context = {
        "nav": "coupons",
        "g": g,
        "batch": batch,
        "template": batch.template,
        "tone": BATCH_TONES.get(batch.status, ""),
        "percent": (batch.processed * 100 // batch.total) if batch.total else 100,
        "done": done,
        "failures": failures,
    }
    if is_htmx(request):
        return render(request, "console/coupons/_batch_progress.html", context)
    return render(request, "console/coupons/grant_batch.html", context)


@console_view(perms.COUPONS_VIEW)
def member_coupons(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member's coupons, and (customer service) giving them one."""
    scope = scope_of(request)
    try:
        member = member_get(mall_group_id=scope.mall_group_id, member_id=member_id)
    except Member.DoesNotExist as exc:
        raise Http404("member") from exc
    g = group_context(request, group_id=member.mall_group_id)
    grantable = [
        (t.pk, t.name)
        for t in CouponTemplate.objects.filter(
            mall_group_id=g.id, status__in=[TemplateStatus.ACTIVE, TemplateStatus.PAUSED]
        ).order_by("name")[:500]
    ]
    can_grant = scope.can(perms.COUPONS_GRANT)
    form = GrantToMemberForm(
        request.POST if request.method == "POST" else None, templates=grantable, initial={"key": new_key()}
    )
    if request.method == "POST":
        if not can_grant:
            return forbidden(request)
        if form.is_valid():
            template = next(
                (t for t in CouponTemplate.objects.filter(pk=form.cleaned_data["template"], mall_group_id=g.id)), None
            )
            if template is not None:
                _grant_one(request, g, template, member, form.cleaned_data["key"], form.cleaned_data.get("note") or "")
                return redirect("console:member_coupons", member.pk)
    coupons = list(coupon_selectors.coupon_list(member_id=member.pk)[:200])
    now = timezone.now()
    statuses = dict(CouponStatus.choices)
    rows = []
    for c in coupons:
        status = c.status
        if status == CouponStatus.AVAILABLE and c.valid_until <= now:
            status = CouponStatus.EXPIRED
        rows.append(
            {
                "c": c,
                "code": coupon_text.masked_code(c.code),
                "status": statuses.get(status, status),
                "usable": status == CouponStatus.AVAILABLE,
            }
        )
    context = {
        "nav": "members",
        "g": g,
        "member": member,
        "masked_phone": member_rules.mask_phone(member.phone) if member.phone else "",
        "rows": rows,
        "form": form,
        "can_grant": can_grant and bool(grantable),
    }
    return render(request, "console/coupons/member_coupons.html", context, status=400 if form.errors else 200)


# ---------------------------------------------------------------------------------------------- promotions


def _promotion_rows(g: GroupContext) -> list[dict[str, Any]]:
    merchants = dict(merchant_options(mall_group_id=g.id).values_list("pk", "name"))
    kinds = dict(Promotion.Kind.choices)
    rows = []
    for p in Promotion.objects.filter(mall_group_id=g.id).order_by("-pk")[:200]:
        if p.kind == Promotion.Kind.SPEND_THRESHOLD:
            amounts = {"value": coupon_text.yuan(p.value_fen), "threshold": coupon_text.yuan(p.threshold_fen)}
            if p.is_per_step:
                what = _("¥%(value)s off every ¥%(threshold)s") % amounts
            else:
                what = _("¥%(value)s off when you spend ¥%(threshold)s") % amounts
        elif p.kind == Promotion.Kind.N_ITEMS:
            what = _("%(rate)s when you buy %(n)s items") % {
                "rate": coupon_text.rate_words(p.percent_off_bp),
                "n": p.min_items,
            }
        elif p.kind in (Promotion.Kind.PER_ITEM, Promotion.Kind.UNIT_PRICE):
            what = coupon_text.describe(
                {"kind": p.kind, "value_fen": p.value_fen, "unit_price_fen": p.unit_price_fen, "max_units": p.max_units}
            ).headline
            if p.max_units:
                what += " · " + ngettext(
                    "Up to %(n)s item per purchase", "Up to %(n)s items per purchase", p.max_units
                ) % {"n": p.max_units}
        elif p.percent_off_bp:
            what = coupon_text.rate_words(p.percent_off_bp)
        else:
            what = _("The member's tier discount")
        rows.append(
            {
                "p": p,
                "kind": kinds.get(p.kind, p.kind),
                "what": what,
                "where": merchants.get(p.merchant_id or 0, "") or _("Whole mall"),
                "status": _status_badge(p.status),
                "transitions": _transitions(p.status),
            }
        )
    return rows


@console_view(perms.COUPONS_VIEW)
def promotions(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    context = {
        "nav": "promotions",
        "g": g,
        "rows": _promotion_rows(g),
        "can_manage": _can(request, perms.COUPONS_MANAGE),
    }
    return render(request, "console/coupons/promotions.html", context)


@console_view(perms.COUPONS_MANAGE)
def promotion_new(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = PromotionForm(request.POST or None, group_id=g.id)
    if request.method == "POST" and form.is_valid():
        try:
            promo = coupon_services.promotion_create(mall_group_id=g.id, values=form.values(), actor=actor_for(request))
        except ApplicationError as exc:
            place_problems(form, exc)
        else:
            messages.success(request, _("Promotion “%(name)s” created as a draft.") % {"name": promo.name})
            return redirect(reverse("console:promotions") + g.query)
    return render(
        request,
        "console/coupons/promotion_form.html",
        {"nav": "promotions", "g": g, "form": form},
        status=400 if form.is_bound else 200,
    )


@require_POST
@console_view(perms.COUPONS_MANAGE)
def promotion_status(request: HttpRequest, promotion_id: int) -> HttpResponse:
    scope = scope_of(request)
    qs = Promotion.objects.filter(pk=promotion_id)
    if scope.mall_group_id is not None:
        qs = qs.filter(mall_group_id=scope.mall_group_id)
    promo = qs.first()
    if promo is None:
        raise Http404("promotion")
    g = group_context(request, group_id=promo.mall_group_id)
    status = {"activate": "active", "pause": "paused", "end": "ended"}.get(str(request.POST.get("action")))
    if status is None:
        messages.error(request, _("Choose what to do."))
    else:
        try:
            promo = coupon_services.promotion_set_status(
                promotion_id=promo.pk, mall_group_id=g.id, status=status, actor=actor_for(request)
            )
        except ApplicationError as exc:
            messages.error(request, coupon_text.error_text(exc))
        else:
            messages.success(
                request,
                _("“%(name)s” is now %(status)s.")
                % {"name": promo.name, "status": dict(TemplateStatus.choices)[promo.status]},
            )
    return redirect(reverse("console:promotions") + g.query)
