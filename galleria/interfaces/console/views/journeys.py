"""Console: journeys (docs/marketing.md, "Journeys") — the list, the editor (a trigger, who may enter, and the steps:
waits, messages, coupons, points, tags and branches, edited as a tree in the browser), publishing a version,
pausing, resuming and stopping, and a journey's flow with each step's statistics per version. `journeys.view`
reads, `journeys.manage` writes. Everything is galleria.journeys' (its services audit every change)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audience.selectors import segment_list, tag_list
from galleria.core.errors import ApplicationError
from galleria.coupons.selectors import template_list
from galleria.interfaces.common import actor_for, scope_of
from galleria.journeys import selectors, services
from galleria.journeys.rules import MAX_DEPTH, MAX_STEPS, canonical, points_total
from galleria.journeys.types import (
    TRIGGERS_WITH_DAYS,
    TRIGGERS_WITH_HOURS,
    JourneyStatus,
    Outcome,
    Reentry,
    StepKind,
    Test,
    Trigger,
)

from ..helpers import console_view, error_message, page_of
from ..loyalty import group_context


def _journey_or_404(request: HttpRequest, journey_id: int) -> tuple[Any, Any]:
    g = group_context(request)
    try:
        return selectors.journey_get(mall_group_id=g.id, journey_id=journey_id), g
    except ApplicationError as exc:
        raise Http404("journey") from exc


def _choices(g: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        "coupons": [
            {"id": t.pk, "name": t.name}
            for t in template_list(mall_group_id=g.id).filter(status__in=["active", "paused"])
        ],
        "segments": [{"id": s.pk, "name": s.name} for s in segment_list(mall_group_id=g.id)],
        "tags": [
            {"id": t.pk, "name": t.name} for t in tag_list(mall_group_id=g.id, kind="manual").filter(is_archived=False)
        ],
    }


def _editor_schema(g: Any) -> dict[str, Any]:
    return {
        **_choices(g),
        "kinds": [{"key": k.value, "label": str(k.label)} for k in StepKind],
        "tests": [{"key": t.value, "label": str(t.label)} for t in Test],
        "limits": {"steps": MAX_STEPS, "depth": MAX_DEPTH},
        "text": {
            "add": _("Add a step"),
            "up": _("Move up"),
            "down": _("Move down"),
            "remove": _("Remove"),
            "yes": _("Yes"),
            "no": _("No"),
            "then": _("Then"),
            "empty": _("No step yet: add the first one."),
            "minutes": pgettext("duration unit", "Minutes"),
            "hours": pgettext("duration unit", "Hours"),
            "days": pgettext("duration unit", "Days"),
            "wait_for": _("Wait for"),
            "inbox": _("App inbox"),
            "sms": _("SMS"),
            "email": pgettext("marketing channel", "E-mail"),
            "wechat": _("WeChat"),
            "push": _("Browser notification"),
            "title": _("Title"),
            "body": _("Message"),
            "sms_text": _("SMS text (fills the approved template, ≤ 60)"),
            "coupon": _("Coupon"),
            "points": _("Points"),
            "tag": _("Manual tag"),
            "segment": _("Segment"),
            "percent": _("Share down the yes branch (%)"),
            "choose": _("Choose…"),
            "asks": _("The branch asks"),
            "too_many": _("A journey has at most %(n)s steps.") % {"n": MAX_STEPS},
        },
    }


def _editor(request: HttpRequest, g: Any, journey: Any) -> HttpResponse:
    values: dict[str, Any] = {
        "name": journey.name if journey else "",
        "trigger": journey.trigger if journey else Trigger.JOINED,
        "trigger_days": journey.trigger_days if journey else 7,
        "trigger_hours": journey.trigger_hours if journey else 2,
        "entry_segment_id": journey.entry_segment_id if journey else None,
        "reentry": journey.reentry if journey else Reentry.ONCE,
    }
    draft: Any = journey.draft if journey else {"steps": []}
    errors: dict[str, str] = {}
    if request.method == "POST":
        p = request.POST
        days = p.get("trigger_days", "").strip()
        hours = p.get("trigger_hours", "").strip()
        segment = p.get("entry_segment", "").strip()
        values = {
            "name": p.get("name", ""),
            "trigger": p.get("trigger", ""),
            "trigger_days": int(days) if days.isdigit() and len(days) <= 4 else 0,
            "trigger_hours": int(hours) if hours.isdigit() and len(hours) <= 4 else 0,
            "entry_segment_id": int(segment) if segment.isdigit() and len(segment) <= 12 else None,
            "reentry": p.get("reentry", ""),
        }
        try:
            draft = json.loads(p.get("draft") or "{}")
        except ValueError:
            draft = {}
        try:
            saved = services.journey_save(
                mall_group_id=g.id,
                actor=actor_for(request),
                values={**values, "draft": draft},
                journey_id=journey.pk if journey else None,
            )
        except ApplicationError as exc:
            errors = {k: str(v) for k, v in exc.fields.items()} or {"": error_message(exc)}
        else:
            messages.success(request, _("Draft saved. Publish it to run it."))
            return redirect(reverse("console:journey", args=[saved.pk]) + g.query)
    return render(
        request,
        "console/journeys/editor.html",
        {
            "nav": "journeys",
            "g": g,
            "journey": journey,
            "values": values,
            "draft": draft,
            "errors": errors,
            "step_errors": {k[5:]: v for k, v in errors.items() if k.startswith("step:")},
            "form_error": errors.get("") or errors.get("steps"),
            "triggers": Trigger.choices,
            "with_days": sorted(TRIGGERS_WITH_DAYS),
            "with_hours": sorted(TRIGGERS_WITH_HOURS),
            "reentries": Reentry.choices,
            "segments": segment_list(mall_group_id=g.id),
            "schema": _editor_schema(g),
        },
        status=422 if errors else 200,
    )


@console_view(perms.JOURNEYS_VIEW)
def journeys(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    page, query = page_of(request, selectors.journey_list(mall_group_id=g.id))
    return render(
        request,
        "console/journeys/list.html",
        {
            "nav": "journeys",
            "g": g,
            "page_obj": page,
            "query": query,
            "can_manage": scope_of(request).can(perms.JOURNEYS_MANAGE),
        },
    )


@console_view(perms.JOURNEYS_MANAGE)
def journey_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, group_context(request), None)


@console_view(perms.JOURNEYS_MANAGE)
def journey_edit(request: HttpRequest, journey_id: int) -> HttpResponse:
    journey, g = _journey_or_404(request, journey_id)
    if journey.status == JourneyStatus.STOPPED:
        messages.error(request, _("A stopped journey cannot be edited."))
        return redirect(reverse("console:journey", args=[journey.pk]) + g.query)
    return _editor(request, g, journey)


def _describe(step: dict[str, Any], names: dict[str, dict[int, str]]) -> str:
    kind = step["kind"]
    if kind == StepKind.WAIT:
        minutes = int(step["minutes"])
        if minutes % 1440 == 0:
            return _("Wait %(n)s day(s)") % {"n": minutes // 1440}
        if minutes % 60 == 0:
            return _("Wait %(n)s hour(s)") % {"n": minutes // 60}
        return _("Wait %(n)s minute(s)") % {"n": minutes}
    if kind == StepKind.MESSAGE:
        flags = (
            (_("App inbox"), step["inbox"]),
            (_("SMS"), step["sms"]),
            (pgettext("marketing channel", "E-mail"), step.get("email")),
            (_("WeChat"), step.get("wechat")),
            (_("Browser notification"), step.get("push")),
        )
        channels = [str(c) for c, on in flags if on]
        return _("Send “%(title)s” (%(channels)s)") % {"title": step["title"], "channels": " + ".join(channels)}
    if kind == StepKind.COUPON:
        return _("Grant the coupon “%(name)s”") % {"name": names["coupons"].get(step["template_id"], "?")}
    if kind == StepKind.POINTS:
        return _("Grant %(n)s points") % {"n": step["points"]}
    if kind == StepKind.TAG:
        return _("Add the tag “%(name)s”") % {"name": names["tags"].get(step["tag_id"], "?")}
    if step["test"] == Test.SEGMENT:
        return _("In the segment “%(name)s”?") % {"name": names["segments"].get(step["segment_id"], "?")}
    if step["test"] == Test.PURCHASED:
        return _("Bought since entering?")
    return _("Random split: %(n)s %% yes") % {"n": step["percent"]}


def _flow(steps: list[dict[str, Any]], stats: dict[str, dict[str, int]], names: Any) -> list[dict[str, Any]]:
    """The version's steps for the page: what each does, and its counts (done/skipped/failed/yes/no/waiting)."""
    out = []
    for step in steps:
        counts = stats.get(step["id"], {})
        node = {
            "id": step["id"],
            "kind": step["kind"],
            "text": _describe(step, names),
            "counts": [(str(Outcome(k).label), n) for k, n in counts.items() if k != "waiting" and n],
            "waiting": counts.get("waiting", 0),
        }
        if step["kind"] == StepKind.BRANCH:
            node["yes"] = _flow(step["yes"], stats, names)
            node["no"] = _flow(step["no"], stats, names)
        out.append(node)
    return out


@console_view(perms.JOURNEYS_VIEW)
def journey_detail(request: HttpRequest, journey_id: int) -> HttpResponse:
    journey, g = _journey_or_404(request, journey_id)
    stats = selectors.journey_stats(journey=journey)
    choices = _choices(g)
    names = {key: {c["id"]: c["name"] for c in rows} for key, rows in choices.items()}
    versions = [
        {**v, "flow": _flow(v["definition"]["steps"], v["steps"], names), "is_current": v["id"] == journey.version_id}
        for v in stats["versions"]
    ]
    published = versions[0]["definition"] if versions else None
    draft = canonical(journey.draft)[0]
    return render(
        request,
        "console/journeys/detail.html",
        {
            "nav": "journeys",
            "g": g,
            "j": journey,
            "stats": stats,
            "versions": versions,
            "draft_flow": _flow(draft["steps"], {}, names),
            "draft_changed": draft != published,
            "points_max": points_total(draft),
            "with_days": journey.trigger in TRIGGERS_WITH_DAYS,
            "with_hours": journey.trigger in TRIGGERS_WITH_HOURS,
            "can_manage": scope_of(request).can(perms.JOURNEYS_MANAGE),
        },
    )


def _act(request: HttpRequest, journey_id: int, action: Any, done: str) -> HttpResponse:
    journey, g = _journey_or_404(request, journey_id)
    try:
        action(mall_group_id=g.id, journey_id=journey.pk, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, done)
    return redirect(reverse("console:journey", args=[journey.pk]) + g.query)


@require_POST
@console_view(perms.JOURNEYS_MANAGE)
def journey_publish(request: HttpRequest, journey_id: int) -> HttpResponse:
    return _act(
        request,
        journey_id,
        services.journey_publish,
        _("Published: members who enter from now on follow this version."),
    )


@require_POST
@console_view(perms.JOURNEYS_MANAGE)
def journey_pause(request: HttpRequest, journey_id: int) -> HttpResponse:
    return _act(request, journey_id, services.journey_pause, _("Paused: nobody enters or moves on until you resume."))


@require_POST
@console_view(perms.JOURNEYS_MANAGE)
def journey_resume(request: HttpRequest, journey_id: int) -> HttpResponse:
    return _act(request, journey_id, services.journey_resume, _("Running again."))


@require_POST
@console_view(perms.JOURNEYS_MANAGE)
def journey_stop(request: HttpRequest, journey_id: int) -> HttpResponse:
    return _act(request, journey_id, services.journey_stop, _("Stopped: members inside have left the journey."))
