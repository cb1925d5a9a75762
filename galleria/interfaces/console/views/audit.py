"""The audit log of the scope: who did what, and who looked at personal data.

One compact row per event (time, actor, labelled action, object, a one-line summary of the changes with the full
field diff folded), filtered by mall-local dates, actor, action (or a whole area) and object, 50 per page."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from galleria.accounts import permissions as perms
from galleria.audit.models import AuditEvent
from galleria.audit.selectors import audit_action_names, audit_search, audit_target_types
from galleria.core import timeutil
from galleria.interfaces.common import scope_of

from ..audit_text import object_label
from ..forms import AuditFilterForm
from ..helpers import (
    ACTION_GROUPS,
    action_label,
    audit_labels,
    change_rows,
    console_tz,
    console_view,
    page_of,
    target_type_labels,
)

AUDIT_PAGE_SIZE = 50
TARGET_VIEWS = {"member": "console:member_detail", "merchant": "console:merchant_detail"}
SUMMARY_FIELDS = 3  # field names listed in a folded row's summary
INLINE_CHARS = 60  # changes that fit in this many characters stay on the row, not folded


class AuditRow(NamedTuple):
    event: AuditEvent
    label: str  # the action as a person reads it
    changes: list[tuple[str, str]]  # (field, "before → after" or value)
    url: str  # the object's page, when it has one
    type_label: str
    object: str  # the object's label ("12 members" for an export)
    summary: str  # one line: the changes when short ("Sign-in method: Password"), else "3 changes: Name, Phone …"
    folded: bool  # the changes sit in a <details> under the summary


def _target_url(event: AuditEvent) -> str:
    view = TARGET_VIEWS.get(event.target_type)
    return reverse(view, args=[int(event.target_id)]) if view and event.target_id.isdigit() else ""


def action_choices(actions: list[str]) -> list[tuple[Any, Any]]:
    """The action menu: one group per area ("Members"), each starting with "All member actions" (prefix.*)."""
    areas: dict[str, list[str]] = {}
    for action in actions:
        areas.setdefault(action.split(".", 1)[0], []).append(action)
    out: list[tuple[Any, Any]] = []
    order = list(ACTION_GROUPS)
    for area in sorted(areas, key=lambda a: (order.index(a) if a in order else len(order), a)):
        title = str(ACTION_GROUPS.get(area, area))
        items = sorted(((a, action_label(a)) for a in areas[area]), key=lambda item: item[1])
        everything = (f"{area}.*", _("All: %(area)s") % {"area": title})
        out.append((title, [everything, *items]))
    return out


def _summary(changes: list[tuple[str, str]]) -> tuple[str, bool]:
    if not changes:
        return "", False
    inline = " · ".join(f"{name}: {text}" for name, text in changes)
    if len(inline) <= INLINE_CHARS:
        return inline, False
    names = ", ".join(name for name, _text in changes[:SUMMARY_FIELDS])
    more = " …" if len(changes) > SUMMARY_FIELDS else ""
    return _("%(n)s changes: %(fields)s") % {"n": len(changes), "fields": names + more}, True


@console_view(perms.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    types = target_type_labels()
    recorded_types = audit_target_types(mall_group_id=scope.mall_group_id)
    form = AuditFilterForm(
        request.GET or None,
        actions=action_choices(audit_action_names(mall_group_id=scope.mall_group_id)),
        target_types=sorted(((t, types.get(t, t)) for t in recorded_types), key=lambda item: item[1]),
    )
    filters = form.filters()
    tz = console_tz(request)
    start, end = filters.pop("date_from", None), filters.pop("date_to", None)
    events = audit_search(
        mall_group_id=scope.mall_group_id,
        since=timeutil.local_day_bounds(start, tz)[0] if start else None,
        until=timeutil.local_day_bounds(end, tz)[1] if end else None,
        **filters,
    )
    page, query_string = page_of(request, events, AUDIT_PAGE_SIZE)
    labels = audit_labels()
    rows = []
    for event in page.object_list:
        changes = change_rows(event.changes, scope, labels, target_type=event.target_type)
        summary, folded = _summary(changes)
        rows.append(
            AuditRow(
                event=event,
                label=action_label(event.action),
                changes=changes,
                url=_target_url(event),
                type_label=types.get(event.target_type, event.target_type),
                object=object_label(event),
                summary=summary,
                folded=folded,
            )
        )
    return render(
        request,
        "console/audit/list.html",
        {
            "nav": "audit",
            "form": form,
            "page_obj": page,
            "rows": rows,
            "query_string": query_string,
            "filtered": bool(any(filters.values()) or start or end),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
