"""Console: events (docs/events.md, "Console") — the list, the editor with a preview and the poster, an event's page
with attendance, its registrations (search, state filter, CSV export, audited) and waiting list, cancelling a
registration, the check-in desk (type or scan the ticket code → check in; a second scan is refused politely) and
attendance across events with the no-show rule. `events.view` reads; `events.manage` edits and cancels;
`events.check_in` runs the desk. Everything is galleria.events' (services audit every change)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.services import audit_record
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str
from galleria.events import exceptions, rules, selectors, services
from galleria.events.selectors_conversion import conversion
from galleria.events.types import NoShowPolicy, RegistrationState
from galleria.interfaces.common import actor_for, scope_of
from galleria.malls.selectors import mall_list
from galleria.members.rules import mask_phone
from galleria.merchants.selectors import stores_for_payments
from galleria.tiers.selectors import tier_level_options

from ..event_forms import (
    CheckInForm,
    EventFilterForm,
    EventForm,
    PolicyForm,
    QuestionForm,
    RegistrationFilterForm,
    initial_of,
)
from ..helpers import console_tz, console_view, page_of
from ..loyalty import group_context
from .parking_common import csv_response

EXPORT_MAX = 50_000


def _event_or_404(request: HttpRequest, event_id: int) -> tuple[Any, Any]:
    event = selectors.event_get(mall_group_id=scope_of(request).mall_group_id, event_id=event_id)
    if event is None:
        raise Http404("event")
    return event, group_context(request, group_id=event.mall_group_id)


@console_view(perms.EVENTS_VIEW)
def events(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = EventFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.event_list(mall_group_id=g.id, query=data.get("q") or "", status=data.get("status") or "")
    page, query = page_of(request, qs)
    now = timeutil.now()
    rows = [{"event": e, "stats": selectors.attendance(event=e, at=now)} for e in page]
    return render(
        request,
        "console/events/list.html",
        {"nav": "events", "g": g, "form": form, "rows": rows, "page_obj": page, "query": query, "now": now},
    )


def _form(g: Any, *args: Any, **kwargs: Any) -> EventForm:
    return EventForm(
        *args,
        malls=mall_list(mall_group_id=g.id),
        tiers=tier_level_options(mall_group_id=g.id),
        stores=stores_for_payments(mall_group_id=g.id),
        **kwargs,
    )


def _preview(form: EventForm, event: Any) -> dict[str, Any]:
    """What the member card shows, from the form's current values (or the saved event)."""
    data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    source = data or (initial_of(event) if event is not None else {})
    return {
        "title": source.get("title") or _("Event title"),
        "place": source.get("place") or "",
        "starts_at": source.get("starts_at"),
        "ends_at": source.get("ends_at"),
        "description": source.get("description") or "",
        "capacity": source.get("capacity") or 0,
        "price_points": source.get("price_points") or 0,
        "price_fen": source.get("price_fen") or 0,
        "poster": (
            reverse("app:event_poster", args=[event.pk, event.poster_sha])
            if event is not None and event.poster_sha
            else ""
        ),
    }


def _editor(request: HttpRequest, g: Any, event: Any) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = _form(g, request.POST, request.FILES)
        if form.is_valid() and "preview" not in request.POST:
            try:
                saved = services.event_save(
                    mall_group_id=g.id,
                    event_id=event.pk if event is not None else None,
                    data=form.to_data(),
                    actor=actor_for(request),
                )
                upload = form.cleaned_data.get("poster")
                if upload is not None:
                    services.event_poster_set(
                        mall_group_id=g.id, event_id=saved.pk, data=upload.read(), actor=actor_for(request)
                    )
            except ApplicationError as exc:
                for name, message in exc.fields.items():
                    form.add_error(name if name in form.fields else None, str(message))
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Event saved."))
                return redirect("console:event", event_id=saved.pk)
        status = 200 if "preview" in request.POST and form.is_valid() else 422
    else:
        form = _form(g, initial=initial_of(event) if event is not None else {"per_member_limit": 1})
    return render(
        request,
        "console/events/form.html",
        {"nav": "events", "g": g, "form": form, "event": event, "preview": _preview(form, event)},
        status=status,
    )


@console_view(perms.EVENTS_MANAGE)
def event_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, group_context(request), None)


@console_view(perms.EVENTS_MANAGE)
def event_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    event, g = _event_or_404(request, event_id)
    return _editor(request, g, event)


def _row(reg: Any) -> dict[str, Any]:
    return {
        "reg": reg,
        "answers": [
            {"label": a.get("label", ""), "text": rules.answer_text(a.get("value"))} for a in reg.answers or []
        ],
        "masked_phone": mask_phone(reg.member.phone) if reg.member.phone else "",
        "position": selectors.waiting_position(registration=reg) if reg.state == RegistrationState.WAITING else 0,
    }


@console_view(perms.EVENTS_VIEW)
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event, g = _event_or_404(request, event_id)
    return _detail_page(request, g, event)


def _detail_page(
    request: HttpRequest, g: Any, event: Any, question_form: QuestionForm | None = None, status: int = 200
) -> HttpResponse:
    form = RegistrationFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.registration_list(event_id=event.pk, query=data.get("q") or "", state=data.get("state") or "")
    if request.GET.get("export") == "csv":
        return _export(request, g.id, event, qs)
    page, query = page_of(request, qs)
    return render(
        request,
        "console/events/detail.html",
        {
            "nav": "events",
            "g": g,
            "event": event,
            "form": form,
            "rows": [_row(r) for r in page],
            "page_obj": page,
            "query": query,
            "export_query": (query + "&" if query else "") + "export=csv",
            "stats": selectors.attendance(event=event, at=timeutil.now()),
            "waiting": [_row(r) for r in selectors.waiting(event_id=event.pk)[:50]],
            "can_manage": scope_of(request).can(perms.EVENTS_MANAGE),
            "cancellable": {
                RegistrationState.CONFIRMED,
                RegistrationState.WAITING,
                RegistrationState.OFFERED,
                RegistrationState.PAYING,
            },
            "questions": list(selectors.questions(event_id=event.pk)),
            "has_answers": any(r.answers for r in page),
            "question_form": question_form or QuestionForm(),
        },
        status=status,
    )


def _export(request: HttpRequest, group_id: int, event: Any, qs: Any) -> HttpResponse:
    rows = list(qs[:EXPORT_MAX])
    audit_record(
        actor=actor_for(request),
        action="event.export",
        target_type="event",
        target_id=event.pk,
        target_label=event.title,
        mall_group_id=group_id,
        changes={"rows": len(rows), "filters": request.GET.urlencode()[:200]},
    )
    tz = console_tz(request)

    questions = list(selectors.questions(event_id=event.pk))
    labels = [q.label for q in questions]
    extra = sorted({str(a.get("label")) for r in rows for a in r.answers or []} - set(labels))  # removed questions
    columns = labels + extra

    def answers_of(r: Any) -> list[str]:
        given = {str(a.get("label")): rules.answer_text(a.get("value")) for a in r.answers or []}
        return [given.get(label, "") for label in columns]

    def line(r: Any) -> list[Any]:
        return [
            r.queue_no,
            r.member.card_no,
            r.member.name,
            r.seats,
            r.get_state_display(),
            timeutil.local(r.created_at, tz).strftime("%Y-%m-%d %H:%M"),
            timeutil.local(r.checked_in_at, tz).strftime("%Y-%m-%d %H:%M") if r.checked_in_at else "",
            r.points,
            fen_to_yuan_str(r.paid_fen) if r.paid_fen else "",
            *answers_of(r),
        ]

    return csv_response(
        f"event-{event.pk}-registrations.csv",
        [
            _("No."),
            _("Member card"),
            _("Name"),
            _("Seats"),
            _("State"),
            _("Registered at"),
            _("Checked in at"),
            _("Points"),
            _("Paid (¥)"),
            *columns,
        ],
        (line(r) for r in rows),
    )


@require_POST
@console_view(perms.EVENTS_MANAGE)
def question_add(request: HttpRequest, event_id: int) -> HttpResponse:
    event, g = _event_or_404(request, event_id)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_save(
                mall_group_id=g.id, event_id=event.pk, data=form.to_input(), actor=actor_for(request)
            )
        except ApplicationError as exc:
            for name, message in exc.fields.items():
                form.add_error(name if name in form.fields else None, str(message))
            if not exc.fields:
                form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Question added."))
            return redirect("console:event", event_id=event.pk)
    return _detail_page(request, g, event, question_form=form, status=422)


@require_POST
@console_view(perms.EVENTS_MANAGE)
def question_delete(request: HttpRequest, event_id: int, question_id: int) -> HttpResponse:
    event, g = _event_or_404(request, event_id)
    try:
        services.question_delete(
            mall_group_id=g.id, event_id=event.pk, question_id=question_id, actor=actor_for(request)
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Question removed."))
    return redirect("console:event", event_id=event.pk)


@require_POST
@console_view(perms.EVENTS_MANAGE)
def registration_cancel(request: HttpRequest, event_id: int, registration_id: int) -> HttpResponse:
    event, g = _event_or_404(request, event_id)
    found = selectors.registration_get(registration_id=registration_id, mall_group_id=g.id)
    if found is None or found.event_id != event.pk:
        raise Http404("registration")
    try:
        services.registration_cancel(registration_id=found.pk, mall_group_id=g.id, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Registration cancelled; the seat went to the waiting list."))
    return redirect("console:event", event_id=event.pk)


# ---------------------------------------------------------------------------------------------------- the desk


@console_view(perms.EVENTS_CHECK_IN)
def check_in(request: HttpRequest) -> HttpResponse:
    """The check-in desk: type or scan the member's ticket code; POST checks in. A second scan is refused politely
    and says when the ticket was checked in."""
    g = group_context(request)
    source = request.POST if request.method == "POST" else request.GET
    form = CheckInForm(source if "code" in source else None)
    reg, error, status, done = None, "", 200, False
    if form.is_bound and form.is_valid():
        code = rules.normalise_code(form.cleaned_data["code"])
        reg = selectors.registration_by_code(mall_group_id=g.id, code=code)
        if request.method == "POST":
            try:
                reg = services.check_in(mall_group_id=g.id, code=code, actor=actor_for(request))
            except ApplicationError as exc:
                error, status = str(exc.message), 422 if reg is None else 409
            else:
                done = True
        elif reg is None:
            error, status = str(_("No ticket with this code. Check the digits and try again.")), 404
        elif reg.state == RegistrationState.CHECKED_IN:  # a second scan: said politely, nothing to do
            error = str(exceptions.AlreadyCheckedInError().message)
        elif reg.state != RegistrationState.CONFIRMED:
            error = str(exceptions.TicketNotValidError().message)
    elif form.is_bound:
        error, status = str(_("No ticket with this code. Check the digits and try again.")), 422
    if error:
        form.add_error("code", error)
    return render(
        request,
        "console/events/check_in.html",
        {
            "nav": "events_check_in",
            "g": g,
            "form": CheckInForm() if done else form,
            "reg": reg,
            "done": done,
            "masked_phone": mask_phone(reg.member.phone) if reg is not None and reg.member.phone else "",
            "code_spaced": rules.spaced_code(reg.code) if reg is not None else "",
            "can_check_in": reg is not None and reg.state == RegistrationState.CONFIRMED,
        },
        status=status,
    )


# ---------------------------------------------------------------------------------------------------- attendance


@console_view(perms.EVENTS_VIEW)
def attendance(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    policy = selectors.policy_of(mall_group_id=g.id)
    form = PolicyForm(
        initial={
            "limit": policy.limit,
            "window_days": policy.window_days,
            "block_days": policy.block_days,
            "offer_hours": policy.offer_hours,
        }
    )
    return _attendance_page(request, g, form)


def _attendance_page(request: HttpRequest, g: Any, form: PolicyForm, status: int = 200) -> HttpResponse:
    rows = selectors.no_show_stats(mall_group_id=g.id, at=timeutil.now())
    totals = {
        "registered": sum(r.registered for r in rows),
        "checked_in": sum(r.checked_in for r in rows),
        "no_shows": sum(r.no_shows for r in rows),
    }
    report, report_event = None, None
    chosen = request.GET.get("event") or ""
    if chosen.isdigit() and len(chosen) < 12:  # the conversion report of one ended event
        report_event = selectors.event_get(mall_group_id=g.id, event_id=int(chosen))
        if report_event is not None and report_event.ends_at <= timeutil.now():
            report = conversion(event=report_event)
        else:
            report_event = None
    return render(
        request,
        "console/events/attendance.html",
        {
            "nav": "events_attendance",
            "g": g,
            "rows": rows,
            "totals": totals,
            "report": report,
            "report_event": report_event,
            "difference_fen": (
                report.attendee_average_fen - report.peer_average_fen
                if report is not None
                and report.attendee_average_fen is not None
                and report.peer_average_fen is not None
                else None
            ),
            "form": form,
            "can_manage": scope_of(request).can(perms.EVENTS_MANAGE),
        },
        status=status,
    )


@require_POST
@console_view(perms.EVENTS_MANAGE)
def policy(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            services.policy_save(mall_group_id=g.id, policy=NoShowPolicy(**form.cleaned_data), actor=actor_for(request))
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("No-show rule saved."))
            return redirect(reverse("console:events_attendance") + g.query)
    return _attendance_page(request, g, form, status=422)
