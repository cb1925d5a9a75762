"""The audit log of the scope: who did what, and who looked at personal data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from galleria.accounts import permissions as perms
from galleria.audit.models import AuditEvent
from galleria.audit.selectors import audit_action_names, audit_search
from galleria.interfaces.common import scope_of

from ..forms import AuditFilterForm
from ..helpers import action_label, audit_labels, change_rows, console_view, page_of, target_type_labels

AUDIT_PAGE_SIZE = 50
TARGET_VIEWS = {"member": "console:member_detail", "merchant": "console:merchant_detail"}


def _target_url(event: AuditEvent) -> str:
    view = TARGET_VIEWS.get(event.target_type)
    return reverse(view, args=[int(event.target_id)]) if view and event.target_id.isdigit() else ""


@console_view(perms.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    form = AuditFilterForm(request.GET or None, actions=audit_action_names(mall_group_id=scope.mall_group_id))
    filters = form.filters()
    page, query_string = page_of(request, audit_search(mall_group_id=scope.mall_group_id, **filters), AUDIT_PAGE_SIZE)
    labels = audit_labels()
    types = target_type_labels()
    rows = [
        (
            event,
            action_label(event.action),
            change_rows(event.changes, scope, labels),
            _target_url(event),
            types.get(event.target_type, event.target_type),
        )
        for event in page.object_list
    ]
    return render(
        request,
        "console/audit/list.html",
        {
            "nav": "audit",
            "form": form,
            "page_obj": page,
            "rows": rows,
            "query_string": query_string,
        },
    )
