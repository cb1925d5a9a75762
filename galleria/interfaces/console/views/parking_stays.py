"""Console: parking stays (docs/parking.md, "Console (operators)") — live occupancy (refreshed by htmx polling), the
stays search with its CSV, a stay's page (the car-park system's events, the fee explained, payments, merchant grants,
history) and the exceptions queue with the two fixes `parking.manage` may make: close a stale stay, resolve an
unpaid exit (services in galleria/parking/services_admin.py; audited, no money moved).

Privacy: lists and exports show plates masked (粤B·****5); a stay's page shows the full plate to `parking.view` staff
and records that view in the audit log — and in the member's PII access log when the stay is a member's — like the
member 360 page. Member names follow the members' rule (masked without `members.view_pii`); phones are never shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.selectors import audit_list
from galleria.audit.services import audit_record
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import fen_to_yuan_str
from galleria.interfaces.common import actor_for, scope_of
from galleria.merchants.selectors import merchant_options
from galleria.parking import rules, selectors, selectors_console, services_admin
from galleria.parking.types import EventOutcome, SessionException, SessionState

from ..helpers import console_tz, console_view, page_of, trail
from ..loyalty import group_context
from ..parking_forms import CloseForm, ResolveForm, StayFilterForm, apply_errors
from .parking_common import (
    EXPORT_MAX,
    benefit_rows,
    csv_response,
    duration_text,
    explain_stored,
    explain_view,
    park_choices,
    stay_minutes,
)

DEFAULT_DAYS = 7
QUEUE_DAYS = (7, 30, 90)
STALE_HOURS = (12, 24, 48, 72)
HISTORY_LIMIT = 30
OUTCOME_BADGES: dict[str, str] = {
    EventOutcome.APPLIED: "badge-ok",
    EventOutcome.REPAIRED: "badge-primary",
    EventOutcome.EXCEPTION: "badge-danger",
    EventOutcome.DUPLICATE: "",
    EventOutcome.IGNORED: "badge-warn",
}


# ---------------------------------------------------------------------------------------------------- live


def _live_context(request: HttpRequest) -> dict[str, Any]:
    g = group_context(request)
    now = timeutil.now()
    return {
        "nav": "parking_live",
        "g": g,
        "parks": selectors_console.live_occupancy(mall_group_id=g.id, at=now),
        "now": now,
    }


@console_view(perms.PARKING_VIEW)
def live(request: HttpRequest) -> HttpResponse:
    return render(request, "console/parking/live.html", _live_context(request))


@console_view(perms.PARKING_VIEW)
def live_feed(request: HttpRequest) -> HttpResponse:
    """The live figures alone: what the page's htmx polling swaps in every few seconds."""
    return render(request, "console/parking/_live.html", _live_context(request))


# ---------------------------------------------------------------------------------------------------- stays


def _day_bounds(day: dt.date | None, tz_name: str | None, *, end: bool) -> dt.datetime | None:
    if day is None:
        return None
    start, stop = timeutil.local_day_bounds(day, tz_name)
    return stop if end else start


def _filters(request: HttpRequest, form: StayFilterForm, group_id: int) -> tuple[Any, str]:
    """The search as selector filters, and a note when the member was not found (then nothing matches)."""
    d = form.cleaned_data
    tz_name = console_tz(request)
    plate, exact = selectors_console.plate_query(d.get("plate") or "") or ("", False)
    member_id = None
    note = ""
    if d.get("member"):
        member_id = selectors_console.member_for_search(mall_group_id=group_id, text=d["member"])
        if member_id is None:
            note = _("No member has this card number or phone.")
            member_id = -1
    return (
        selectors_console.StayFilters(
            car_park_id=d.get("car_park"),
            plate=plate,
            plate_exact=exact,
            member_id=member_id,
            state=d.get("state") or "",
            exception=d.get("exception") or "",
            since=_day_bounds(d.get("since"), tz_name, end=False),
            until=_day_bounds(d.get("until"), tz_name, end=True),
        ),
        note,
    )


def _row(session: Any, now: dt.datetime) -> dict[str, Any]:
    until = session.exit_at or (now if session.state == SessionState.PARKED else None)
    return {
        "s": session,
        "plate": rules.mask_plate(session.plate),
        "duration": duration_text(stay_minutes(session.entry_at, until)),
        "due_fen": max((session.fee_fen or 0) - session.paid_fen, 0) if session.fee_fen is not None else None,
    }


@console_view(perms.PARKING_VIEW)
def stays(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    parks = selectors_console.car_parks(mall_group_id=g.id)
    data: Any = request.GET
    if not any(key in request.GET for key in StayFilterForm.base_fields):
        today = timeutil.local_date(timeutil.now(), console_tz(request))
        data = {**request.GET.dict(), "since": today - dt.timedelta(days=DEFAULT_DAYS - 1), "until": today}
    form = StayFilterForm(data, car_parks=park_choices(parks))
    note = ""
    rows_qs = None
    if form.is_valid():
        f, note = _filters(request, form, g.id)
        rows_qs = selectors_console.stay_search(mall_group_id=g.id, f=f)
        if request.GET.get("export") == "csv":
            return _export(request, rows_qs, g.id, form)
    page, query_string = page_of(
        request,
        rows_qs
        if rows_qs is not None
        else selectors_console.stay_search(mall_group_id=g.id, f=selectors_console.StayFilters(member_id=-1)),
    )
    now = timeutil.now()
    return render(
        request,
        "console/parking/stays.html",
        {
            "nav": "parking_stays",
            "g": g,
            "form": form,
            "note": note,
            "page_obj": page,
            "rows": [_row(s, now) for s in page],
            "query_string": query_string,
            "export_query": _export_query(form),
        },
    )


def _export_query(form: StayFilterForm) -> str:
    if not form.is_bound or not form.is_valid():
        return ""
    values = {k: v for k, v in form.data.items() if k in form.fields and v not in (None, "")}
    return urlencode({**{k: str(v) for k, v in values.items()}, "export": "csv"})


def _export(request: HttpRequest, rows_qs: Any, group_id: int, form: StayFilterForm) -> HttpResponse:
    audit_record(
        actor=actor_for(request),
        action="parking.export",
        target_type="parking_session",
        target_id="export",
        mall_group_id=group_id,
        changes={"filters": {k: str(v) for k, v in form.cleaned_data.items() if v not in (None, "")}},
    )
    tz = timeutil.zone(console_tz(request))

    def when(value: dt.datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    def lines() -> Any:
        for s in rows_qs[:EXPORT_MAX]:
            yield [
                s.pk,
                s.car_park.name,
                rules.mask_plate(s.plate),
                s.member.card_no if s.member else "",
                s.get_state_display(),
                s.get_exception_display() if s.exception else "",
                when(s.entry_at),
                when(s.exit_at),
                s.entry_gate,
                s.exit_gate,
                s.zone.code if s.zone else "",
                _yuan(s.fee_fen),
                _yuan(s.paid_fen),
            ]

    header = [
        _("Stay"),
        _("Car park"),
        _("Plate (masked)"),
        _("Member card"),
        _("State"),
        _("Exception"),
        _("Entered"),
        _("Left"),
        _("Entry gate"),
        _("Exit gate"),
        _("Zone"),
        _("Parking fee (¥)"),
        _("Paid (¥)"),
    ]
    return csv_response("parking-stays.csv", header, lines())


def _yuan(fen: int | None) -> str:
    return "" if fen is None else fen_to_yuan_str(fen)


def _detail(
    request: HttpRequest,
    session: Any,
    *,
    close_form: CloseForm | None = None,
    resolve_form: ResolveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    scope = scope_of(request)
    g = group_context(request, group_id=session.car_park.mall.group_id)
    tz = timeutil.zone(session.car_park.mall.timezone)
    services_admin.session_view_record(session=session, actor=actor_for(request), source="console:parking_stay")
    merchants = {str(pk): name for pk, name in merchant_options(mall_group_id=g.id).values_list("pk", "name")}
    now = timeutil.now()
    fee_now = None
    explained = None
    if session.state == SessionState.PARKED:
        view, _result = selectors.session_fee(session, at=now)
        fee_now = view
        explained = explain_view(view, tz, merchants=merchants)
    elif session.explanation:
        explained = explain_stored(
            session.explanation, tz, merchants=merchants, minutes=stay_minutes(session.entry_at, session.exit_at)
        )
    payments = selectors_console.stay_payments(session_id=session.pk)
    pay_rows = [
        {"p": p, "points_fen": p.amount_fen - p.wallet_fen - p.other_fen, "benefits": benefit_rows(p.benefits or ())}
        for p in payments
    ]
    events = selectors_console.stay_events(session_id=session.pk)
    can_manage = scope.can(perms.PARKING_MANAGE)
    with timezone.override(tz):
        return render(
            request,
            "console/parking/stay.html",
            {
                "nav": "parking_stays",
                "g": g,
                "s": session,
                "plate": rules.format_plate(session.plate) if _is_plate(session.plate) else session.plate,
                "plate_was": rules.format_plate(session.plate_was) if _is_plate(session.plate_was) else "",
                "duration": duration_text(
                    stay_minutes(session.entry_at, session.exit_at or (now if session.state == "parked" else None))
                ),
                "explained": explained,
                "fee_now": fee_now,
                "payments": pay_rows,
                "grants": selectors_console.stay_grants(session_id=session.pk),
                "events": [(e, OUTCOME_BADGES.get(e.outcome, "")) for e in events],
                "due_fen": max((session.fee_fen or 0) - session.paid_fen, 0) if session.fee_fen is not None else None,
                "can_manage": can_manage,
                "can_close": can_manage and session.state == SessionState.PARKED,
                "can_resolve": can_manage and session.exception == SessionException.UNPAID_EXIT,
                "close_form": close_form or CloseForm(),
                "resolve_form": resolve_form or ResolveForm(),
                "history": trail(
                    audit_list(mall_group_id=g.id, target_type="parking_session", target_id=session.pk)[:HISTORY_LIMIT],
                    scope,
                ),
            },
            status=status,
        )


def _is_plate(text: str) -> bool:
    try:
        rules.normalize_plate(text)
    except rules.PlateError:
        return False
    return bool(text)


def _stay_or_404(request: HttpRequest, session_id: int) -> Any:
    session = selectors_console.stay_one(session_id=session_id, mall_group_id=scope_of(request).mall_group_id)
    if session is None:
        raise Http404("stay")
    return session


@console_view(perms.PARKING_VIEW)
def stay_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    return _detail(request, _stay_or_404(request, session_id))


@require_POST
@console_view(perms.PARKING_MANAGE)
def stay_close(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _stay_or_404(request, session_id)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services_admin.session_close(
                mall_group_id=session.car_park.mall.group_id,
                session_id=session.pk,
                reason=form.cleaned_data["reason"],
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The stay was closed. Nothing was charged."))
            return redirect("console:parking_stay", session_id=session.pk)
    session = _stay_or_404(request, session_id)
    return _detail(request, session, close_form=form, status=422)


@require_POST
@console_view(perms.PARKING_MANAGE)
def stay_resolve(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _stay_or_404(request, session_id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services_admin.session_unpaid_resolve(
                mall_group_id=session.car_park.mall.group_id,
                session_id=session.pk,
                resolution=form.cleaned_data["resolution"],
                reason=form.cleaned_data["reason"],
                actor=actor_for(request),
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The unpaid exit was taken off the queue. No money moved."))
            return redirect("console:parking_stay", session_id=session.pk)
    session = _stay_or_404(request, session_id)
    return _detail(request, session, resolve_form=form, status=422)


# ---------------------------------------------------------------------------------------------------- exceptions


def _choice(request: HttpRequest, name: str, allowed: tuple[int, ...], default: int) -> int:
    value = request.GET.get(name) or ""
    return int(value) if value.isdigit() and int(value) in allowed else default


@console_view(perms.PARKING_VIEW)
def exceptions(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    parks = selectors_console.car_parks(mall_group_id=g.id)
    park_ids = {p.pk for p in parks}
    wanted = request.GET.get("car_park") or ""
    car_park_id = int(wanted) if wanted.isdigit() and int(wanted) in park_ids else None
    days = _choice(request, "days", QUEUE_DAYS, 30)
    hours = _choice(request, "hours", STALE_HOURS, 24)
    kinds = (selectors_console.STALE, *selectors_console.QUEUE_KINDS)
    kind = request.GET.get("kind") or selectors_console.STALE
    kind = kind if kind in kinds else selectors_console.STALE
    now = timeutil.now()
    tz_name = console_tz(request)
    since = timeutil.local_day_bounds(timeutil.local_date(now, tz_name) - dt.timedelta(days=days - 1), tz_name)[0]
    stale_before = now - dt.timedelta(hours=hours)
    counts = selectors_console.exception_counts(
        mall_group_id=g.id, car_park_id=car_park_id, since=since, stale_before=stale_before
    )
    page, query_string = page_of(
        request,
        selectors_console.exception_list(
            mall_group_id=g.id, car_park_id=car_park_id, kind=kind, since=since, stale_before=stale_before
        ),
    )
    labels = dict(SessionException.choices)
    tabs = [
        (k, _("Parked over %(n)s h") % {"n": hours} if k == selectors_console.STALE else labels[k], counts.get(k, 0))
        for k in kinds
    ]
    tab_params = request.GET.copy()
    for name in ("page", "kind"):
        tab_params.pop(name, None)
    return render(
        request,
        "console/parking/exceptions.html",
        {
            "nav": "parking_exceptions",
            "g": g,
            "kind": kind,
            "tabs": tabs,
            "tab_query": tab_params.urlencode(),
            "page_obj": page,
            "rows": [_row(s, now) for s in page],
            "query_string": query_string,
            "car_parks": park_choices(parks),
            "car_park_id": car_park_id,
            "days": days,
            "hours": hours,
            "day_options": QUEUE_DAYS,
            "hour_options": STALE_HOURS,
        },
    )
