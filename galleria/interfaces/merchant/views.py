"""Merchant portal: staff of one merchant (owner, manager, clerk).

The merchant is always the signed-in user's own (`scope.merchant_id`); no view takes a merchant id from the URL or a
form. Members are shown masked: merchants never see a full phone, an email or a birthday.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.accounts.models import Role, User
from galleria.accounts.selectors import staff_list
from galleria.accounts.services import staff_create, staff_update
from galleria.audit.services import audit_record
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, forbidden, scope_of
from galleria.interfaces.templatetags.galleria_rates import percent_bp
from galleria.members import rules as member_rules
from galleria.members.exceptions import MemberCodeStaleError, MemberNotFoundError
from galleria.members.models import IdentifierKind
from galleria.members.selectors import member_resolve
from galleria.merchants.models import Merchant, Store
from galleria.merchants.selectors import store_list
from galleria.merchants.services import merchant_update, store_save

from . import counter_flow
from .forms import ContactForm, LookupForm, StaffCreateForm, StorePhoneForm
from .portal import apply_form_error, portal_merchant, portal_render, portal_view

# ---------------------------------------------------------------- overview


@portal_view(perms.PORTAL_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    stores = list(store_list(merchant_id=merchant.pk))
    today = timeutil.local_date(timeutil.now(), merchant.mall.timezone)
    days_left = (merchant.contract_ends_on - today).days if merchant.contract_ends_on else None
    return portal_render(
        request,
        "merchant/home.html",
        {
            "stores_count": len(stores),
            "active_stores_count": sum(1 for s in stores if s.is_active),
            "contract_days_left": days_left,
            "today": counter_flow.today_figures(merchant=merchant),
        },
        nav="home",
        merchant=merchant,
    )


# ---------------------------------------------------------------- member lookup


def _matched_by_label(kind: str) -> str:
    labels = {
        "dynamic_code": _("Dynamic member code"),
        IdentifierKind.CARD.value: _("Member card number"),
        IdentifierKind.PHONE.value: _("Phone"),
        IdentifierKind.PLATE.value: _("Licence plate"),
    }
    return labels.get(kind, _("Other identifier"))


@portal_view(perms.PORTAL_MEMBER_LOOKUP)
def lookup(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    result: dict[str, Any] | None = None
    error = ""
    if request.method == "POST":
        form = LookupForm(request.POST)
        if form.is_valid():
            raw = form.cleaned_data["q"]
            group_id = merchant.mall.group_id
            resolution = member_resolve(mall_group_id=group_id, raw=raw)
            if resolution is None:
                compact = raw.strip().replace(" ", "")
                if member_rules.looks_like_dynamic_code(compact):
                    error = str(MemberCodeStaleError().message)
                else:
                    error = str(MemberNotFoundError().message)
            else:
                member = resolution.member
                audit_record(
                    actor=actor_for(request),
                    action="member.lookup",
                    target_type="member",
                    target_id=member.pk,
                    target_label=member.card_no,
                    mall_group_id=group_id,
                    changes={"merchant": [None, str(merchant.pk)], "matched_by": [None, resolution.kind]},
                )
                # Only masked fields leave this view: the template never sees the member object.
                panel = counter_flow.member_panel(merchant=merchant, member=member, at=timeutil.now())
                result = {
                    "name": panel.name,
                    "phone": panel.phone,
                    "card_no": member.card_no,
                    "joined_on": timeutil.local_date(member.created_at, merchant.mall.timezone),
                    "matched_by": _matched_by_label(resolution.kind),
                    "panel": panel,  # tier, points, usable coupons and the ticket that pre-fills the counter
                    # the member's top categories (never other merchants' names or amounts) and this shop's
                    # coupons to suggest; nothing when the member switched personalisation off
                    "suggest": counter_flow.shop_suggestions(merchant=merchant, member=member),
                }
                form = LookupForm()  # ready for the next scan; the typed identifier is not echoed back
    else:
        form = LookupForm()
    context = {"form": form, "result": result, "error": error, "submitted": request.method == "POST"}
    if getattr(request, "htmx", False):
        return render(request, "merchant/_lookup_result.html", context)
    return portal_render(request, "merchant/lookup.html", context, nav="lookup", merchant=merchant)


# ---------------------------------------------------------------- shop profile and stores


def _profile_page(
    request: HttpRequest,
    merchant: Merchant,
    *,
    contact_form: ContactForm | None = None,
    store_forms: dict[int, StorePhoneForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    stores: list[Store] = list(store_list(merchant_id=merchant.pk))
    bound = store_forms or {}
    rows = [
        {"store": s, "form": bound.get(s.pk) or StorePhoneForm(initial={"phone": s.phone}, prefix=f"store{s.pk}")}
        for s in stores
    ]
    contact_form = contact_form or ContactForm(
        initial={"contact_name": merchant.contact_name, "contact_phone": merchant.contact_phone}
    )
    commission = percent_bp(merchant.commission_bp)
    return portal_render(
        request,
        "merchant/profile.html",
        {"contact_form": contact_form, "store_rows": rows, "commission": commission},
        nav="profile",
        merchant=merchant,
        status=status,
    )


@portal_view(perms.PORTAL_VIEW)
def profile(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    if request.method != "POST":
        return _profile_page(request, merchant)
    if not scope_of(request).can(perms.PORTAL_PROFILE_EDIT):
        return forbidden(request)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            merchant_update(
                actor=actor_for(request),
                merchant_id=merchant.pk,
                values={
                    "contact_name": form.cleaned_data["contact_name"].strip(),
                    "contact_phone": form.cleaned_data["contact_phone"].strip(),
                },
            )
        except (ApplicationError, DjangoValidationError) as exc:
            apply_form_error(form, exc)
        else:
            messages.success(request, _("Contact details saved."))
            return redirect("merchant:profile")
    return _profile_page(request, merchant, contact_form=form, status=422)


@require_POST
@portal_view(perms.PORTAL_PROFILE_EDIT)
def store_phone(request: HttpRequest, store_id: int) -> HttpResponse:
    merchant = portal_merchant(request)
    store = store_list(merchant_id=merchant.pk).filter(pk=store_id).first()
    if store is None:
        raise Http404
    form = StorePhoneForm(request.POST, prefix=f"store{store.pk}")
    if form.is_valid():
        try:
            store_save(
                actor=actor_for(request),
                merchant_id=merchant.pk,
                store_id=store.pk,
                values={"phone": form.cleaned_data["phone"].strip()},
            )
        except (ApplicationError, DjangoValidationError) as exc:
            apply_form_error(form, exc)
        else:
            messages.success(request, _("Phone of %(store)s saved.") % {"store": store.name})
            return redirect("merchant:profile")
    return _profile_page(request, merchant, store_forms={store.pk: form}, status=422)


# ---------------------------------------------------------------- staff


def _staff_page(request: HttpRequest, form: StaffCreateForm, *, status: int = 200) -> HttpResponse:
    scope = scope_of(request)
    staff = list(staff_list(scope=scope))
    rows = [
        {
            "user": u,
            "role_label": Role(u.role).label,
            "is_self": u.pk == scope.user_id,
            "can_change": u.role != Role.MERCHANT_OWNER and u.pk != scope.user_id,
        }
        for u in staff
    ]
    return portal_render(request, "merchant/staff.html", {"rows": rows, "form": form}, nav="staff", status=status)


@portal_view(perms.PORTAL_STAFF_MANAGE)
def staff(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _staff_page(request, StaffCreateForm())
    scope = scope_of(request)
    form = StaffCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user = staff_create(
                scope=scope,
                actor=actor_for(request),
                username=data["username"],
                password=data["password"],
                role=data["role"],
                display_name=data["display_name"],
                merchant_id=scope.merchant_id,
            )
        except ApplicationError as exc:
            apply_form_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s can now sign in as %(role)s.") % {"name": user.username, "role": Role(user.role).label},
            )
            return redirect("merchant:staff")
    return _staff_page(request, form, status=422)


@require_POST
@portal_view(perms.PORTAL_STAFF_MANAGE)
def staff_active(request: HttpRequest, user_id: int) -> HttpResponse:
    scope = scope_of(request)
    user: User | None = staff_list(scope=scope).filter(pk=user_id).first()
    if user is None:
        raise Http404
    activate = request.POST.get("active") == "1"
    try:
        staff_update(
            scope=scope,
            actor=actor_for(request),
            user_id=user.pk,
            role=user.role,
            display_name=user.display_name,
            is_active=activate,
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        if activate:
            messages.success(request, _("%(name)s can sign in again.") % {"name": user.username})
        else:
            messages.success(
                request, _("%(name)s was deactivated and can no longer sign in.") % {"name": user.username}
            )
    return redirect("merchant:staff")
