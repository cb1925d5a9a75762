"""Members: search and list, CSV export, the member 360 view, profile and identifiers, desk registration."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.audit.selectors import audit_list
from galleria.audit.services import audit_record, pii_access_record
from galleria.core.errors import ApplicationError
from galleria.core.listing import Runs
from galleria.interfaces.common import actor_for, scope_of, spreadsheet_cell
from galleria.ledger.selectors import member_points_balances, members_by_points, members_with_points
from galleria.members import exceptions as member_errors
from galleria.members import rules
from galleria.members.models import (
    ConsentPurpose,
    Gender,
    IdentifierKind,
    JoinChannel,
    Member,
    MemberIdentifier,
)
from galleria.members.selectors import (
    MemberOrder,
    member_consent_history,
    member_current_consents,
    member_get,
    member_identifiers,
    member_order_runs,
    member_resolve,
    member_search,
)
from galleria.members.services import (
    member_identifier_add,
    member_identifier_remove,
    member_profile_update,
    member_register,
)
from galleria.parking.services_plates import plate_verify_at_desk
from galleria.tiers.selectors import member_tier_names, members_at_tier

from ..forms import IdentifierAddForm, MemberFilterForm, MemberOrderChoice, MemberProfileForm, MemberRegisterForm
from ..helpers import PAGE_SIZE, add_application_error, console_view, error_message, is_htmx, trail
from .member_loyalty import loyalty_context
from .privacy import privacy_context

AUDIT_TRAIL_LIMIT = 30
FIXED_KINDS = (IdentifierKind.PHONE, IdentifierKind.CARD)


def _member_or_404(request: HttpRequest, member_id: int) -> Member:
    try:
        return member_get(mall_group_id=scope_of(request).mall_group_id, member_id=member_id)
    except Member.DoesNotExist as exc:
        raise Http404("member") from exc


def _mask_email(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


# ---------------------------------------------------------------- list, search, export


@dataclass(frozen=True)
class MemberRow:
    member: Member
    phone: str  # masked
    tier: str
    points: int


def member_listing(*, mall_group_id: int | None, filters: dict[str, Any]) -> Runs[Member]:
    """The console list of members: search (members), tier (tiers) and points (ledger) filters composed over one
    queryset, in the chosen order as index-walking runs, with a capped count (docs/performance.md)."""
    members = member_search(
        mall_group_id=mall_group_id, query=filters["query"], channel=filters["channel"], mall_id=filters["mall_id"]
    )
    if filters.get("tier") is not None:
        members = members_at_tier(members, level=filters["tier"])
    if filters.get("min_points") is not None or filters.get("max_points") is not None:
        members = members_with_points(members, min_points=filters["min_points"], max_points=filters["max_points"])
    order = filters.get("order") or MemberOrderChoice.JOINED_DESC
    if order in (MemberOrderChoice.POINTS_DESC, MemberOrderChoice.POINTS_ASC):
        runs = members_by_points(members, descending=order == MemberOrderChoice.POINTS_DESC)
    else:
        runs = member_order_runs(members, order=MemberOrder(order))
    return Runs(total=members, runs=runs)


def member_rows(members: Sequence[Member]) -> list[MemberRow]:
    """A page of members with their tier and points: two or three queries whatever the page size."""
    tiers = member_tier_names(members=[(m.pk, m.mall_group_id) for m in members])
    points = member_points_balances(member_ids=[m.pk for m in members])
    return [
        MemberRow(
            member=m,
            phone=rules.mask_phone(m.phone) if m.phone else "",
            tier=tiers.get(m.pk, ""),
            points=points.get(m.pk, 0),
        )
        for m in members
    ]


@console_view(perms.MEMBERS_VIEW)
def member_list(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request)
    form = MemberFilterForm(request.GET or None, scope=scope)
    filters = form.filters()
    listing = member_listing(mall_group_id=scope.mall_group_id, filters=filters)
    page: Page[Member] = Paginator(listing, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    query_string = params.urlencode()
    params.pop("order", None)
    context = {
        "nav": "members",
        "form": form,
        "page_obj": page,
        "rows": member_rows(list(page.object_list)),
        "query_string": query_string,
        "order": filters["order"],
        "order_query": params.urlencode(),
        "count_capped": listing.is_capped,
        "filtered": any(v for k, v in filters.items() if k != "order"),
    }
    template = "console/members/_results.html" if is_htmx(request) else "console/members/list.html"
    return render(request, template, context)


_cell = spreadsheet_cell


def _csv_rows(members: Any, *, with_pii: bool) -> Iterator[list[str]]:
    yield [
        _("Card number"),
        _("Phone"),
        _("Name"),
        _("Gender"),
        _("Join channel"),
        _("Join mall"),
        _("Joined at"),
        _("Last active"),
    ]
    genders, channels = dict(Gender.choices), dict(JoinChannel.choices)
    for m in members:
        phone = rules.national_phone(m.phone) if with_pii else rules.mask_phone(m.phone) if m.phone else ""
        yield [
            m.card_no,
            phone,
            _cell(m.name if with_pii else rules.mask_name(m.name)),
            str(genders.get(m.gender, m.gender)),
            str(channels.get(m.join_channel, m.join_channel)),
            _cell(m.join_mall.name),
            timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M"),
            timezone.localtime(m.last_active_at).strftime("%Y-%m-%d %H:%M") if m.last_active_at else "",
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


@console_view(perms.MEMBERS_VIEW)
def member_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV (UTF-8 with BOM for Excel). Phones are masked unless the role may see them."""
    scope = scope_of(request)
    filters = MemberFilterForm(request.GET or None, scope=scope).filters()
    listing = member_listing(mall_group_id=scope.mall_group_id, filters=filters)
    members = listing.total
    with_pii = scope.can(perms.MEMBERS_VIEW_PII)
    count = members.count()
    audit_record(
        actor=actor_for(request),
        action="member.export",
        target_type="member",
        target_id="export",
        target_label=f"{count} members",
        mall_group_id=scope.mall_group_id,
        changes={
            "count": count,
            "phones": "full" if with_pii else "masked",
            "filters": {k: getattr(v, "pk", v) for k, v in filters.items() if v not in (None, "")},
        },
    )
    if with_pii and count:
        # the access log: one row per member whose full phone leaves in the file (bulk INSERTs)
        pii_access_record(
            actor=actor_for(request),
            mall_group_id=scope.mall_group_id,
            member_ids=members.values_list("pk", flat=True).iterator(chunk_size=2000),
            fields=("phone", "name"),
            source="console:members_export",
        )
    tz = timezone.get_current_timezone()
    writer = csv.writer(_Echo())

    def stream() -> Iterator[str]:
        yield "\ufeff"
        with timezone.override(tz):  # the body is produced after the view returns
            for row in _csv_rows(listing.iterator(chunk_size=1000), with_pii=with_pii):
                yield writer.writerow(row)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="members-{stamp}.csv"'
    return response


# ---------------------------------------------------------------- member 360


def _detail(
    request: HttpRequest,
    member: Member,
    *,
    identifier_form: IdentifierAddForm | None = None,
    revealed_phone: str = "",
    loyalty: dict[str, Any] | None = None,
    privacy: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the 360 view. Every rendering shows personal data, so every rendering is audited.
    `loyalty` carries bound forms of the loyalty section (tier override, points adjustment) to show their errors."""
    scope = scope_of(request)
    with_pii = scope.can(perms.MEMBERS_VIEW_PII)
    actor = actor_for(request)
    if not revealed_phone:
        audit_record(
            actor=actor,
            action="member.view",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
        )
    shown = [name for name, value in (("birthday", member.birthday), ("email", member.email)) if value]
    if with_pii and shown:  # unmasked birthday / email on the page: the access log
        pii_access_record(
            actor=actor,
            mall_group_id=member.mall_group_id,
            member_ids=[member.pk],
            fields=shown,
            source="console:member_detail",
        )
    identifiers = [
        (row, rules.mask_phone(row.value) if row.kind == IdentifierKind.PHONE else row.value, row.kind in FIXED_KINDS)
        for row in member_identifiers(member_id=member.pk)
    ]
    current = member_current_consents(member=member)
    consents = [(p.label, current.get(p.value)) for p in ConsentPurpose]
    events = audit_list(mall_group_id=scope.mall_group_id, target_type="member", target_id=member.pk)
    history = trail(events[:AUDIT_TRAIL_LIMIT], scope)
    can_edit = scope.can(perms.MEMBERS_EDIT) and member.is_active
    context = {
        "nav": "members",
        "member": member,
        "masked_phone": rules.mask_phone(member.phone) if member.phone else "",
        "revealed_phone": revealed_phone,
        "birthday": member.birthday if with_pii else None,
        "birthday_masked": bool(member.birthday and not with_pii),
        "email": member.email if with_pii else _mask_email(member.email) if member.email else "",
        "identifiers": identifiers,
        "consents": consents,
        "consent_history": member_consent_history(member_id=member.pk)[:50],
        "trail": history,
        "can_edit": can_edit,
        "can_verify_plates": scope.can(perms.PARKING_PLATES) and member.is_active,
        "can_view_pii": with_pii,
        "identifier_form": identifier_form or IdentifierAddForm(),
    }
    if scope.can(perms.LOYALTY_VIEW):
        context.update(loyalty_context(request, member, **(loyalty or {})))
    if scope.can(perms.PRIVACY_MANAGE):
        context.update(privacy_context(member, **(privacy or {})))
    if scope.can(perms.AUDIENCE_VIEW):
        from .audience import member_panel  # the audience area's panel (tags, RFM, lifecycle)

        context["audience"] = member_panel(request, member)
    return render(request, "console/members/detail.html", context, status=status)


@console_view(perms.MEMBERS_VIEW)
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    if member.pk != member_id:  # a merged member's page: its survivor's, at the survivor's address
        return redirect("console:member_detail", member_id=member.pk)
    return _detail(request, member)


@require_POST
@console_view(perms.MEMBERS_VIEW_PII)
def member_phone(request: HttpRequest, member_id: int) -> HttpResponse:
    """Reveal the full phone (a deliberate, audited act; the 360 page shows it masked)."""
    member = _member_or_404(request, member_id)
    audit_record(
        actor=actor_for(request),
        action="member.view_pii",
        target_type="member",
        target_id=member.pk,
        target_label=member.card_no,
        mall_group_id=member.mall_group_id,
        changes={"fields": "phone"},
    )
    if member.phone:
        pii_access_record(
            actor=actor_for(request),
            mall_group_id=member.mall_group_id,
            member_ids=[member.pk],
            fields=("phone",),
            source="console:member_phone",
        )
    phone = rules.national_phone(member.phone) if member.phone else ""
    if is_htmx(request):
        return render(request, "console/members/_phone.html", {"member": member, "revealed_phone": phone})
    return _detail(request, member, revealed_phone=phone or "—")


@require_POST
@console_view(perms.MEMBERS_EDIT)
def member_identifier_add_view(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    form = IdentifierAddForm(request.POST)
    if form.is_valid():
        verify = form.cleaned_data["licence_seen"] and form.cleaned_data["kind"] == IdentifierKind.PLATE
        try:
            if verify and scope_of(request).can(perms.PARKING_PLATES):
                plate_verify_at_desk(
                    mall_group_id=member.mall_group_id,
                    member_id=member.pk,
                    plate=form.cleaned_data["value"],
                    actor=actor_for(request),
                )
            else:
                member_identifier_add(
                    member_id=member.pk,
                    actor=actor_for(request),
                    kind=form.cleaned_data["kind"],
                    value=form.cleaned_data["value"],
                )
        except Member.DoesNotExist:
            form.add_error(None, _("This member is no longer active."))
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("Identifier added."))
            return redirect(reverse("console:member_detail", args=[member.pk]) + "#identifiers")
    return _detail(request, member, identifier_form=form, status=400)


@require_POST
@console_view(perms.MEMBERS_EDIT)
def member_identifier_remove_view(request: HttpRequest, member_id: int, identifier_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    try:
        member_identifier_remove(member_id=member.pk, actor=actor_for(request), identifier_id=identifier_id)
    except (Member.DoesNotExist, MemberIdentifier.DoesNotExist):
        messages.error(request, _("This identifier is no longer on this member."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, _("Identifier removed."))
    return redirect(reverse("console:member_detail", args=[member.pk]) + "#identifiers")


@console_view(perms.MEMBERS_EDIT)
def member_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    scope = scope_of(request)
    member = _member_or_404(request, member_id)
    if not member.is_active:
        messages.error(request, _("Only active members can be edited."))
        return redirect("console:member_detail", member.pk)
    with_pii = scope.can(perms.MEMBERS_VIEW_PII)
    initial = {"name": member.name, "gender": member.gender, "birthday": member.birthday, "email": member.email}
    shown = [name for name in ("birthday", "email") if initial[name]]
    if with_pii and shown and request.method != "POST":  # the form shows them unmasked
        pii_access_record(
            actor=actor_for(request),
            mall_group_id=member.mall_group_id,
            member_ids=[member.pk],
            fields=shown,
            source="console:member_edit",
        )
    form = MemberProfileForm(request.POST or None, initial=initial, with_pii=with_pii)
    if request.method == "POST" and form.is_valid():
        try:
            member_profile_update(member_id=member.pk, actor=actor_for(request), values=form.cleaned_data)
        except Member.DoesNotExist:
            form.add_error(None, _("This member is no longer active."))
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("console:member_detail", member.pk)
    return render(
        request,
        "console/members/edit.html",
        {"nav": "members", "member": member, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@console_view(perms.MEMBERS_EDIT)
def member_new(request: HttpRequest) -> HttpResponse:
    """Register a member at the service desk (channel "desk")."""
    scope = scope_of(request)
    form = MemberRegisterForm(request.POST or None, scope=scope)
    existing: Member | None = None
    if request.method == "POST" and form.is_valid():
        mall, phone = form.cleaned_data["join_mall"], form.cleaned_data["phone"]
        profile = {k: form.cleaned_data.get(k) for k in ("name", "gender", "birthday", "email")}
        try:
            member = member_register(
                mall=mall,
                phone=phone,
                channel=JoinChannel.DESK,
                actor=actor_for(request),
                profile=profile,
                consents=form.consents(),
            )
        except member_errors.PhoneTakenError as exc:
            form.add_error("phone", error_message(exc))
            hit = member_resolve(mall_group_id=mall.group_id, raw=phone)
            existing = hit.member if hit else None
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("Member registered. Card number %(card)s.") % {"card": member.card_no})
            return redirect("console:member_detail", member.pk)
    return render(
        request,
        "console/members/new.html",
        {"nav": "members", "form": form, "existing": existing},
        status=400 if form.is_bound and form.errors else 200,
    )
