"""Console: audience (docs/marketing.md) — the RFM and lifecycle overview, the segment builder with a live count,
a segment's persona and members (CSV export, masked per role), tags (automatic and manual; create, import, give in
bulk) and the lifecycle settings. `audience.view` reads; `audience.manage` builds and tags in bulk;
`audience.export` exports; `audience.tag` gives and takes a manual tag on one member's page.

Everything is galleria.audience's: the count is its one SQL statement, the services audit every change."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audience import rules, selectors, services
from galleria.audience.exceptions import SEGMENT_REASONS, SegmentInvalidError
from galleria.audience.types import AUTO_TAG_GROUP_NAMES, AUTO_TAG_NAMES, LIFECYCLE_NAMES, RFM_NAMES
from galleria.audit.services import audit_record
from galleria.campaigns.selectors import member_marketing
from galleria.core import tasks, timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.coupons.selectors import template_list
from galleria.events.selectors import event_list
from galleria.interfaces.common import actor_for, scope_of
from galleria.journeys.selectors import member_journeys
from galleria.malls.selectors import mall_list
from galleria.members.rules import mask_phone
from galleria.members.selectors import members_active
from galleria.members.types import Gender, JoinChannel
from galleria.merchants.selectors import merchant_categories, merchant_options
from galleria.tiers.selectors import tier_level_options

from ..helpers import console_view, error_message, page_of
from ..loyalty import group_context
from .parking_common import csv_response

EXPORT_MAX = 200_000
REBUILD_TASK = "galleria.audience.tasks.rebuild_task"


def tag_label(tag: Any) -> str:
    """What staff read for a tag: a manual tag's name; an automatic tag's translated name by its code."""
    if tag.kind != "auto":
        return str(tag.name)
    kind, _sep, value = tag.code.partition(":")
    if kind == "lifecycle":
        return str(LIFECYCLE_NAMES.get(value, value))
    if kind == "favourite":
        return _("Likes %(category)s") % {"category": dict(merchant_categories()).get(value, value)}
    return str(AUTO_TAG_NAMES.get(tag.code, tag.code))


def _can(request: HttpRequest, permission: str) -> bool:
    return scope_of(request).can(permission)


# ------------------------------------------------------------------------------------------------------- overview


@console_view(perms.AUDIENCE_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    rfm = selectors.rfm_distribution(mall_group_id=g.id)
    stages = selectors.lifecycle_distribution(mall_group_id=g.id)
    cuts = selectors.rfm_cuts(mall_group_id=g.id)
    settings_row = selectors.settings_for(mall_group_id=g.id)
    charts = {
        "rfm": {"labels": [str(r["name"]) for r in rfm], "values": [r["members"] for r in rfm]},
        "stages": {"items": [{"name": str(s["name"]), "value": s["members"]} for s in stages]},
    }
    return render(
        request,
        "console/audience/overview.html",
        {
            "nav": "audience",
            "g": g,
            "rfm": rfm,
            "stages": stages,
            "cuts": cuts,
            "scored": sum(r["members"] for r in rfm),
            "settings_row": settings_row,
            "charts": charts,
            "can_manage": _can(request, perms.AUDIENCE_MANAGE),
        },
    )


@require_POST
@console_view(perms.AUDIENCE_MANAGE)
def settings_save(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    values: dict[str, int] = {}
    try:
        for key in ("new_days", "active_days", "at_risk_days", "lost_days", "rfm_window_days"):
            values[key] = int(request.POST.get(key, ""))
        services.settings_update(mall_group_id=g.id, actor=actor_for(request), **values)
    except ValueError:
        messages.error(request, _("Enter whole numbers of days."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Saved. The next nightly pass applies the new days to every member."))
    return redirect(reverse("console:audience") + g.query)


@require_POST
@console_view(perms.AUDIENCE_MANAGE)
def rebuild(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    tasks.enqueue(REBUILD_TASK, mall_group_id=g.id)
    audit_record(
        actor=actor_for(request),
        action="audience.rebuild",
        target_type="mallgroup",
        target_id=g.id,
        target_label=g.group.name,
        mall_group_id=g.id,
    )
    messages.success(request, _("The profiles are being recomputed in the background; refresh this page in a while."))
    return redirect(reverse("console:audience") + g.query)


# ------------------------------------------------------------------------------------------------------- segments


def builder_schema(mall_group_id: int) -> dict[str, Any]:
    """What the segment builder offers: every field with its inputs and the group's choices (JSON for the page)."""

    def opts(pairs: Any) -> list[list[Any]]:
        return [[v, str(label)] for v, label in pairs]

    tags = selectors.tag_list(mall_group_id=mall_group_id)
    return {
        "choices": {
            "gender": opts(Gender.choices),
            "join_channel": opts(JoinChannel.choices),
            "join_mall": opts((m.pk, m.name) for m in mall_list(mall_group_id=mall_group_id)),
            "tier": opts((t.pk, t.name) for t in tier_level_options(mall_group_id=mall_group_id)),
            "tag": opts((t.pk, tag_label(t)) for t in tags),
            "rfm": opts(RFM_NAMES.items()),
            "lifecycle": opts(LIFECYCLE_NAMES.items()),
            "category": opts(merchant_categories()),
            "merchant": opts((m.pk, m.name) for m in merchant_options(mall_group_id=mall_group_id)),
            "coupon": opts((t.pk, t.name) for t in template_list(mall_group_id=mall_group_id)[:300]),
            "event": opts((e.pk, e.title) for e in event_list(mall_group_id=mall_group_id)[:300]),
            "month": [[i, str(i)] for i in range(1, 13)],
            "coupon_state": [
                ["holding", pgettext("segment coupon", "holds, usable now")],
                ["used", pgettext("segment coupon", "has used")],
                ["expired_unused", pgettext("segment coupon", "let expire unused")],
            ],
            "event_state": [
                ["registered", pgettext("segment event", "registered")],
                ["attended", pgettext("segment event", "attended")],
                ["no_show", pgettext("segment event", "did not come")],
            ],
            "channel": [["sms", _("SMS")], ["wechat", _("WeChat")], ["email", _("E-mail")]],
        },
        "fields": [
            {"key": "gender", "group": _("Profile"), "label": _("Gender"), "inputs": [["in", "multi", "gender"]]},
            {
                "key": "age",
                "group": _("Profile"),
                "label": _("Age"),
                "inputs": [["min", "number", _("from")], ["max", "number", _("to")]],
            },
            {
                "key": "birthday_month",
                "group": _("Profile"),
                "label": _("Birthday month"),
                "inputs": [["in", "multi", "month"]],
            },
            {
                "key": "joined",
                "group": _("Profile"),
                "label": _("Joined"),
                "inputs": [
                    ["within_days", "number", _("within the last … days")],
                    ["before_days", "number", _("more than … days ago")],
                ],
            },
            {
                "key": "join_mall",
                "group": _("Profile"),
                "label": _("Joined at mall"),
                "inputs": [["in", "multi", "join_mall"]],
            },
            {
                "key": "join_channel",
                "group": _("Profile"),
                "label": _("Joined through"),
                "inputs": [["in", "multi", "join_channel"]],
            },
            {"key": "tier", "group": _("Loyalty"), "label": _("Tier"), "inputs": [["in", "multi", "tier"]]},
            {
                "key": "points",
                "group": _("Loyalty"),
                "label": _("Points balance"),
                "inputs": [["min", "number", _("at least")], ["max", "number", _("at most")]],
            },
            {
                "key": "wallet",
                "group": _("Loyalty"),
                "label": _("Wallet balance"),
                "inputs": [["min", "money", _("at least (¥)")], ["max", "money", _("at most (¥)")]],
            },
            {
                "key": "tag",
                "group": _("Tags and scores"),
                "label": _("Tags"),
                "inputs": [
                    ["any", "multi", "tag", _("has any of")],
                    ["all", "multi", "tag", _("has all of")],
                    ["none", "multi", "tag", _("has none of")],
                ],
            },
            {
                "key": "rfm",
                "group": _("Tags and scores"),
                "label": _("RFM segment"),
                "inputs": [["in", "multi", "rfm"]],
            },
            {
                "key": "lifecycle",
                "group": _("Tags and scores"),
                "label": _("Lifecycle stage"),
                "inputs": [["in", "multi", "lifecycle"]],
            },
            {
                "key": "r_score",
                "group": _("Tags and scores"),
                "label": _("Recency score (1–5)"),
                "inputs": [["min", "number", _("from")], ["max", "number", _("to")]],
            },
            {
                "key": "f_score",
                "group": _("Tags and scores"),
                "label": _("Frequency score (1–5)"),
                "inputs": [["min", "number", _("from")], ["max", "number", _("to")]],
            },
            {
                "key": "m_score",
                "group": _("Tags and scores"),
                "label": _("Monetary score (1–5)"),
                "inputs": [["min", "number", _("from")], ["max", "number", _("to")]],
            },
            {
                "key": "spend",
                "group": _("Shopping"),
                "label": _("Spend in the last … days"),
                "inputs": [
                    ["days", "number", _("days")],
                    ["merchants", "multi", "merchant", _("at merchants")],
                    ["categories", "multi", "category", _("in categories")],
                    ["min", "money", _("at least (¥)")],
                    ["max", "money", _("at most (¥)")],
                ],
            },
            {
                "key": "visits",
                "group": _("Shopping"),
                "label": _("Purchases in the last … days"),
                "inputs": [
                    ["days", "number", _("days")],
                    ["merchants", "multi", "merchant", _("at merchants")],
                    ["categories", "multi", "category", _("in categories")],
                    ["min", "number", _("at least")],
                    ["max", "number", _("at most")],
                ],
            },
            {
                "key": "coupon",
                "group": _("Shopping"),
                "label": _("Coupons"),
                "inputs": [["state", "one", "coupon_state"], ["templates", "multi", "coupon"]],
            },
            {
                "key": "parking",
                "group": _("Parking and events"),
                "label": _("Parked in the last … days"),
                "inputs": [["days", "number", _("days")], ["min", "number", _("at least … times")]],
            },
            {
                "key": "plate",
                "group": _("Parking and events"),
                "label": _("Has a plate bound"),
                "inputs": [["verified", "check", _("verified only")]],
            },
            {
                "key": "event",
                "group": _("Parking and events"),
                "label": _("Events"),
                "inputs": [["state", "one", "event_state"], ["events", "multi", "event"]],
            },
            {
                "key": "consent",
                "group": _("Consent"),
                "label": _("Marketing consent"),
                "inputs": [["channel", "one", "channel"], ["granted", "check", _("granted")]],
            },
        ],
        "reasons": {k: str(v) for k, v in SEGMENT_REASONS.items()},
        "text": {
            "all": _("all of"),
            "any": _("any of"),
            "match": _("Members matching"),
            "add": _("Add condition"),
            "add_group": _("Add group"),
            "remove": _("Remove"),
            "choose": _("Choose…"),
        },
    }


@console_view(perms.AUDIENCE_VIEW)
def segments(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    page, query = page_of(request, selectors.segment_list(mall_group_id=g.id))
    return render(
        request,
        "console/audience/segments.html",
        {
            "nav": "audience_segments",
            "g": g,
            "page_obj": page,
            "query": query,
            "can_manage": _can(request, perms.AUDIENCE_MANAGE),
        },
    )


def _definition_from(request: HttpRequest) -> Any:
    raw = request.POST.get("definition") or "{}"
    try:
        return json.loads(raw)
    except ValueError:
        raise SegmentInvalidError(reason="not_a_segment", path="definition") from None


def _builder(request: HttpRequest, g: Any, segment: Any) -> HttpResponse:
    error: dict[str, str] | None = None
    definition = segment.definition if segment else {"match": "all", "conditions": []}
    if segment is None and request.GET.get("rfm") in rules.RFM_CODES:  # "build a segment" from the RFM table
        definition = {"match": "all", "conditions": [{"field": "rfm", "in": [request.GET["rfm"]]}]}
    name = segment.name if segment else ""
    description = segment.description if segment else ""
    if request.method == "POST":
        name, description = request.POST.get("name", ""), request.POST.get("description", "")
        try:
            definition = _definition_from(request)
            saved = services.segment_save(
                mall_group_id=g.id,
                name=name,
                description=description,
                definition=definition,
                actor=actor_for(request),
                segment_id=segment.pk if segment else None,
            )
        except ApplicationError as exc:
            error = {"message": error_message(exc), "path": str(exc.extra.get("path", "")), "field": ""}
            if exc.fields:
                error["field"] = next(iter(exc.fields))
        else:
            messages.success(request, _("Segment saved: %(n)s members now.") % {"n": f"{saved.last_count:,}"})
            return redirect(reverse("console:audience_segment", args=[saved.pk]) + g.query)
    return render(
        request,
        "console/audience/builder.html",
        {
            "nav": "audience_segments",
            "g": g,
            "segment": segment,
            "name": name,
            "description": description,
            "definition": definition,
            "schema": builder_schema(g.id),
            "error": error,
        },
        status=422 if error else 200,
    )


@console_view(perms.AUDIENCE_MANAGE)
def segment_new(request: HttpRequest) -> HttpResponse:
    return _builder(request, group_context(request), None)


@console_view(perms.AUDIENCE_MANAGE)
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment, g = _segment_or_404(request, segment_id)
    return _builder(request, g, segment)


@require_POST
@console_view(perms.AUDIENCE_VIEW)
def segment_count(request: HttpRequest) -> HttpResponse:
    """The builder's live count: {"count": n} or {"error": message, "path": where} (JSON, never a 500)."""
    g = group_context(request)
    try:
        count = selectors.segment_count(mall_group_id=g.id, definition=_definition_from(request))
    except ApplicationError as exc:
        return JsonResponse({"error": error_message(exc), "path": exc.extra.get("path", "")}, status=422)
    total = members_active(mall_group_id=g.id).count() if count else 0
    return JsonResponse({"count": count, "total": total})


def _segment_or_404(request: HttpRequest, segment_id: int) -> tuple[Any, Any]:
    g = group_context(request)
    try:
        return selectors.segment_get(mall_group_id=g.id, segment_id=segment_id), g
    except ApplicationError as exc:
        raise Http404("segment") from exc


@console_view(perms.AUDIENCE_VIEW)
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment, g = _segment_or_404(request, segment_id)
    persona = selectors.persona(mall_group_id=g.id, definition=segment.definition)
    categories = dict(merchant_categories())
    merchants = {m.pk: m.name for m in merchant_options(mall_group_id=g.id)}
    weekday_names = [_("Sun"), _("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat")]
    hours = dict(persona["hours"])
    days = dict(persona["weekdays"])
    genders = dict(Gender.choices)
    charts = {
        "hours": {"labels": [f"{h:02d}" for h in range(24)], "values": [hours.get(h, 0) for h in range(24)]},
        "weekdays": {"labels": [str(d) for d in weekday_names], "values": [days.get(i, 0) for i in range(7)]},
        "gender": {"items": [{"name": str(genders.get(k, k)), "value": n} for k, n in persona["gender"]]},
        "tiers": {"items": [{"name": name, "value": n} for name, n in persona["tiers"]]},
        "categories": {
            "labels": [str(categories.get(k, k)) for k, _n, _f in persona["categories"]],
            "values": [round(f / 100) for _k, _n, f in persona["categories"]],
        },
        "lifecycle": {
            "items": [{"name": str(LIFECYCLE_NAMES.get(k, k)), "value": n} for k, n in persona["lifecycle"] if k]
        },
        "rfm": {
            "labels": [str(RFM_NAMES.get(k, k)) for k, _n in persona["rfm"] if k],
            "values": [n for k, n in persona["rfm"] if k],
        },
        "decades": {"labels": [f"{d}s" for d, _n in persona["decades"]], "values": [n for _d, n in persona["decades"]]},
    }
    sample = selectors.segment_member_ids(mall_group_id=g.id, definition=segment.definition, limit=20)
    members = list(members_active(mall_group_id=g.id).filter(pk__in=sample).order_by("pk"))
    return render(
        request,
        "console/audience/segment.html",
        {
            "nav": "audience_segments",
            "g": g,
            "segment": segment,
            "persona": persona,
            "charts": {f"chart-{k}": v for k, v in charts.items()},
            "top_merchants": [(merchants.get(int(k), k), n, f) for k, n, f in persona["merchants"]],
            "members": [(m, mask_phone(m.phone)) for m in members],
            "conditions": describe(segment.definition, builder_schema(g.id)),
            "can_manage": _can(request, perms.AUDIENCE_MANAGE),
            "can_export": _can(request, perms.AUDIENCE_EXPORT),
            "manual_tags": [t for t in selectors.tag_list(mall_group_id=g.id, kind="manual")],
            "avg_fen": persona["spend_fen"] // persona["buyers"] if persona["buyers"] else 0,
        },
    )


def describe(definition: Any, schema: dict[str, Any]) -> list[str]:
    """A readable line per condition ("Tier: 金卡, 铂金卡"), groups in brackets."""
    fields = {f["key"]: f for f in schema["fields"]}
    choices = schema["choices"]
    lines = []
    for item in definition.get("conditions", []):
        if "conditions" in item:
            inner = describe(item, schema)
            joiner = f" {schema['text']['any' if item['match'] == 'any' else 'all']} "
            lines.append(f"({joiner.join(inner)})")
            continue
        spec = fields[item["field"]]
        parts = []
        for key, kind, *rest in spec["inputs"]:
            if key not in item:
                continue
            value = item[key]
            label = rest[-1] if kind != "multi" or len(rest) > 1 else ""
            if kind in ("multi", "one"):
                names = dict((str(v), n) for v, n in choices[rest[0]])
                values = value if isinstance(value, list) else [value]
                text = ", ".join(names.get(str(v), str(v)) for v in values)
            elif kind == "check":
                text = _("yes") if value else _("no")
            elif kind == "money":
                text = format_cny(int(value))
                label = label.replace("(¥)", "").strip()
            else:
                text = f"{value:,}" if isinstance(value, int) else str(value)
            parts.append(f"{label} {text}".strip() if kind != "one" else text)
        lines.append(f"{spec['label']}: {'; '.join(parts)}")
    return lines


@console_view(perms.AUDIENCE_EXPORT)
def segment_export(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment, g = _segment_or_404(request, segment_id)
    ids = selectors.segment_all_member_ids(mall_group_id=g.id, definition=segment.definition, cap=EXPORT_MAX)
    if len(ids) > EXPORT_MAX:
        messages.error(
            request, _("This segment has more than %(n)s members: narrow it to export.") % {"n": f"{EXPORT_MAX:,}"}
        )
        return redirect(reverse("console:audience_segment", args=[segment.pk]) + g.query)
    pii = _can(request, perms.MEMBERS_VIEW_PII)
    audit_record(
        actor=actor_for(request),
        action="audience.segment_export",
        target_type="segment",
        target_id=segment.pk,
        target_label=segment.name,
        mall_group_id=g.id,
        changes={"members": [None, len(ids)], "unmasked": [None, pii]},
    )

    def rows() -> Any:
        for i in range(0, len(ids), 2000):
            chunk = members_active(mall_group_id=g.id).filter(pk__in=ids[i : i + 2000]).order_by("pk")
            for m in chunk.values_list("pk", "card_no", "phone", "name", "created_at"):
                yield [
                    m[0],
                    m[1],
                    m[2] if pii else mask_phone(m[2]),
                    m[3] if pii else (m[3][:1] + "*" if m[3] else ""),
                    timeutil.local(m[4], None).strftime("%Y-%m-%d"),
                ]

    stamp = timeutil.now().strftime("%Y%m%d-%H%M")
    return csv_response(
        f"segment-{segment.pk}-{stamp}.csv",
        [_("Member ID"), _("Card number"), _("Phone"), _("Name"), _("Joined")],
        rows(),
    )


@require_POST
@console_view(perms.AUDIENCE_MANAGE)
def segment_archive(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment, g = _segment_or_404(request, segment_id)
    services.segment_archive(mall_group_id=g.id, segment_id=segment.pk, actor=actor_for(request))
    messages.success(request, _("Segment archived."))
    return redirect(reverse("console:audience_segments") + g.query)


@require_POST
@console_view(perms.AUDIENCE_MANAGE)
def segment_tag(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment, g = _segment_or_404(request, segment_id)
    try:
        n = services.tag_members_from_segment(
            mall_group_id=g.id,
            tag_id=int(request.POST.get("tag") or 0),
            definition=segment.definition,
            actor=actor_for(request),
        )
    except (ValueError, ApplicationError) as exc:
        messages.error(request, error_message(exc) if isinstance(exc, ApplicationError) else _("Choose a tag."))
    else:
        messages.success(request, _("%(n)s members got the tag.") % {"n": f"{n:,}"})
    return redirect(reverse("console:audience_segment", args=[segment.pk]) + g.query)


# ----------------------------------------------------------------------------------------------------------- tags


@console_view(perms.AUDIENCE_VIEW)
def tags(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    if request.method == "POST":
        if not _can(request, perms.AUDIENCE_MANAGE):
            raise PermissionDenied("audience.manage")
        try:
            group_id = int(request.POST["group_id"]) if request.POST.get("group_id") else None
            tag = services.tag_save(
                mall_group_id=g.id,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
                group_id=group_id,
                actor=actor_for(request),
            )
        except (ValueError, ApplicationError) as exc:
            messages.error(request, error_message(exc) if isinstance(exc, ApplicationError) else _("Choose a group."))
        else:
            messages.success(request, _("Tag “%(name)s” created.") % {"name": tag.name})
            return redirect(reverse("console:audience_tag", args=[tag.pk]) + g.query)
    all_tags = list(selectors.tag_list(mall_group_id=g.id))
    auto_groups: dict[str, list[tuple[Any, str]]] = {}
    for t in all_tags:
        if t.kind == "auto":
            auto_groups.setdefault(str(AUTO_TAG_GROUP_NAMES.get(t.code.partition(":")[0], "")), []).append(
                (t, tag_label(t))
            )
    return render(
        request,
        "console/audience/tags.html",
        {
            "nav": "audience_tags",
            "g": g,
            "manual": [t for t in all_tags if t.kind == "manual"],
            "auto_groups": auto_groups,
            "groups": list(selectors.tag_groups(mall_group_id=g.id)),
            "can_manage": _can(request, perms.AUDIENCE_MANAGE),
        },
    )


@console_view(perms.AUDIENCE_VIEW)
def tag_detail(request: HttpRequest, tag_id: int) -> HttpResponse:
    g = group_context(request)
    try:
        tag = selectors.tag_get(mall_group_id=g.id, tag_id=tag_id)
    except ApplicationError as exc:
        raise Http404("tag") from exc
    report = None
    if request.method == "POST":
        if not _can(request, perms.AUDIENCE_MANAGE):
            raise PermissionDenied("audience.manage")
        upload = request.FILES.get("file")
        text = request.POST.get("lines", "")
        if upload is not None:
            text = upload.read(2_000_000).decode("utf-8-sig", errors="replace")
        try:
            report = services.tag_import(mall_group_id=g.id, tag_id=tag.pk, text=text, actor=actor_for(request))
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
        tag.refresh_from_db()
    definition = {"match": "all", "conditions": [{"field": "tag", "any": [tag.pk]}]}
    ids = selectors.segment_member_ids(mall_group_id=g.id, definition=definition, limit=50)
    members = list(members_active(mall_group_id=g.id).filter(pk__in=ids).order_by("pk"))
    return render(
        request,
        "console/audience/tag.html",
        {
            "nav": "audience_tags",
            "g": g,
            "tag": tag,
            "label": tag_label(tag),
            "members": [(m, mask_phone(m.phone)) for m in members],
            "report": report,
            "can_manage": _can(request, perms.AUDIENCE_MANAGE) and tag.kind == "manual",
            "segment_definition": json.dumps(definition),
        },
    )


@require_POST
@console_view(perms.AUDIENCE_MANAGE)
def tag_archive(request: HttpRequest, tag_id: int) -> HttpResponse:
    g = group_context(request)
    try:
        selectors.tag_get(mall_group_id=g.id, tag_id=tag_id)
    except ApplicationError as exc:
        raise Http404("tag") from exc
    try:
        services.tag_archive(mall_group_id=g.id, tag_id=tag_id, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect(reverse("console:audience_tag", args=[tag_id]) + g.query)
    messages.success(request, _("Tag archived: it left every member."))
    return redirect(reverse("console:audience_tags") + g.query)


@require_POST
@console_view(perms.AUDIENCE_MANAGE)
def tag_group_new(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    try:
        services.tag_group_save(mall_group_id=g.id, name=request.POST.get("name", ""), actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Tag group created."))
    return redirect(reverse("console:audience_tags") + g.query)


# ------------------------------------------------------------------------------------- one member's manual tags


@require_POST
@console_view(perms.AUDIENCE_TAG)
def member_tag(request: HttpRequest, member_id: int) -> HttpResponse:
    member = members_active().filter(pk=member_id).first()
    if member is None:
        raise Http404("member")
    g = group_context(request, group_id=member.mall_group_id)
    try:
        tag_id = int(request.POST.get("tag") or 0)
        if request.POST.get("action") == "remove":
            services.tag_member_remove(mall_group_id=g.id, tag_id=tag_id, member_id=member.pk, actor=actor_for(request))
        else:
            services.tag_members_add(
                mall_group_id=g.id, tag_id=tag_id, member_ids=[member.pk], actor=actor_for(request)
            )
    except ValueError:
        messages.error(request, _("Choose a tag."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return redirect(reverse("console:member_detail", args=[member.pk]) + "#audience")


def member_panel(request: HttpRequest, member: Any) -> dict[str, Any]:
    """The member page's audience panel (members.view sees it; audience.tag changes manual tags)."""
    panel = selectors.member_audience(member_id=member.pk)
    held = {i for i, _n, _k in panel.tags}
    tags = {t.pk: t for t in selectors.tag_list(mall_group_id=member.mall_group_id)}
    return {
        "profile": panel.profile,
        "rfm_name": panel.rfm_name,
        "lifecycle_name": panel.lifecycle_name,
        "tags": [(i, tag_label(tags[i]) if i in tags else n, k) for i, n, k in panel.tags],
        "can_tag": _can(request, perms.AUDIENCE_TAG),
        "addable": [(t.pk, t.name) for t in tags.values() if t.kind == "manual" and t.pk not in held],
        "rfm_codes": rules.RFM_CODES,
        "marketing": [(send, _journey_of(send.origin)) for send in member_marketing(member_id=member.pk, limit=10)]
        if _can(request, perms.CAMPAIGNS_VIEW)
        else [],
        "journeys": member_journeys(member_id=member.pk, limit=10) if _can(request, perms.JOURNEYS_VIEW) else [],
    }


def _journey_of(origin: str) -> int | None:
    """The journey a marketing message came from ("journey:<id>:<step>"), for the link."""
    parts = origin.split(":")
    return int(parts[1]) if len(parts) == 3 and parts[0] == "journey" and parts[1].isdigit() else None
