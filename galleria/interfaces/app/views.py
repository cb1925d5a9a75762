"""Member app (mobile web). Members are not Django users: the signed-in member's id lives in the session.

Which mall the app is for: `?mall=<code>` (remembered in the session), else the first mall. A member belongs to the
mall's group; every view reads the member from the session only, never from the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import client_ip
from galleria.malls.models import Mall
from galleria.members import rules as member_rules
from galleria.members.exceptions import OtpInvalidError
from galleria.members.models import Member
from galleria.members.selectors import member_code_current, member_get, member_identifiers
from galleria.members.services import (
    MAX_PLATES,
    member_identifier_add,
    member_identifier_remove,
    member_login_or_join,
    member_profile_update,
    otp_request,
)
from galleria.members.types import IdentifierKind
from galleria.privacy.selectors import erasure_pending

from .barcode import code128_svg
from .forms import LoginForm, PlateForm, ProfileForm

SESSION_MEMBER = "member_id"
SESSION_MALL = "app_mall_id"
MEMBER_SESSION_SECONDS = 30 * 24 * 3600  # members stay signed in on their phone for a month

MemberView = Callable[..., HttpResponse]


# ---------------------------------------------------------------- mall and member of the request


def current_mall(request: HttpRequest) -> Mall | None:
    """`?mall=<code>` (remembered), else the mall remembered in the session, else the first mall."""
    code = (request.GET.get("mall") or "").strip()[:40]
    if code:
        mall = Mall.objects.select_related("group").filter(code=code).order_by("id").first()
        if mall is not None:
            request.session[SESSION_MALL] = mall.pk
            return mall
    mall_id = request.session.get(SESSION_MALL)
    if isinstance(mall_id, int):
        mall = Mall.objects.select_related("group").filter(pk=mall_id).first()
        if mall is not None:
            return mall
    return Mall.objects.select_related("group").order_by("id").first()


def signed_in_member(request: HttpRequest, mall: Mall) -> Member | None:
    member_id = request.session.get(SESSION_MEMBER)
    if not isinstance(member_id, int):
        return None
    try:
        member = member_get(mall_group_id=mall.group_id, member_id=member_id)
    except Member.DoesNotExist:
        member = None
    if member is None or not member.is_active:
        request.session.pop(SESSION_MEMBER, None)  # erased, merged or another group's mall: sign out
        return None
    return member


def _unavailable(request: HttpRequest) -> HttpResponse:
    return render(request, "app/unavailable.html", {}, status=503)


def member_view(view: MemberView) -> MemberView:
    """Views of a signed-in member: called as view(request, member, mall, ...); others go to the sign-in page.

    The view runs (and renders) in the mall's time zone, so every time a member reads is mall time."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        mall = current_mall(request)
        if mall is None:
            return _unavailable(request)
        member = signed_in_member(request, mall)
        if member is None:
            login_url = reverse("app:login")
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(login_url)
            return redirect(login_url)
        with timezone.override(timeutil.zone(mall.timezone)):
            return view(request, member, mall, *args, **kwargs)

    return wrapped


def _actor(request: HttpRequest, member: Member) -> Actor:
    return Actor(user_id=None, label=f"member:{member.pk}", ip=client_ip(request))


def _apply_error(form: forms.Form, exc: ApplicationError, *, default_field: str | None = None) -> None:
    """Show a service error next to the field it names, or above the form."""
    placed = False
    for field in exc.fields:
        if field in form.fields:
            form.add_error(field, str(exc.message))
            placed = True
    if not placed:
        form.add_error(default_field if default_field in form.fields else None, str(exc.message))


def _base_context(mall: Mall, member: Member | None = None, *, tab: str = "") -> dict[str, Any]:
    """What every app page shows. `tab` lights up a tab of the bottom bar (home, points, wallet, profile) only on
    that tab's own screens; screens opened from the home page's entries (tier, bills, coupons, merchants, inbox)
    light none, so the bar never claims the member is somewhere they are not."""
    ctx: dict[str, Any] = {"mall": mall, "tab": tab}
    if member is not None:
        ctx["member"] = {
            "display_name": member.name or _("Member"),
            "has_name": bool(member.name),
            "phone": member_rules.mask_phone(member.phone) if member.phone else "",
            "card_no": member.card_no,
            "card_no_spaced": " ".join(member.card_no[i : i + 4] for i in range(0, len(member.card_no), 4)),
            "joined_on": timeutil.local_date(member.created_at, mall.timezone),
        }
    return ctx


# ---------------------------------------------------------------- sign in / join


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    mall = current_mall(request)
    if mall is None:
        return _unavailable(request)
    if signed_in_member(request, mall) is not None:
        return redirect("app:home")
    sent_to = ""
    resend_in = 0
    if request.method == "POST":
        form = LoginForm(request.POST)
        # Two buttons share the form: "send code" and "sign in"; Enter decides by whether a code was typed.
        action = request.POST.get("action") or ("verify" if (request.POST.get("code") or "").strip() else "send")
        ip = client_ip(request)
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            code = form.cleaned_data["code"]
            if action == "send":
                try:
                    challenge = otp_request(mall_group_id=mall.group_id, phone=phone, ip=ip)
                except ApplicationError as exc:
                    _apply_error(form, exc)
                else:
                    sent_to = member_rules.mask_phone(challenge.phone)
                    resend_in = int(settings.GALLERIA_OTP["RESEND_INTERVAL_SECONDS"])
            elif not code:
                form.add_error("code", _("Enter the 6-digit code from the SMS."))
            elif not form.cleaned_data["agree"]:
                form.add_error("agree", _("Please agree to the membership terms and privacy policy to continue."))
            else:
                try:
                    member, joined = member_login_or_join(mall=mall, phone=phone, code=code, ip=ip)
                except ApplicationError as exc:
                    _apply_error(form, exc, default_field="code" if isinstance(exc, OtpInvalidError) else None)
                else:
                    request.session.cycle_key()
                    request.session[SESSION_MEMBER] = member.pk
                    request.session[SESSION_MALL] = mall.pk
                    request.session.set_expiry(MEMBER_SESSION_SECONDS)
                    if joined:
                        messages.success(
                            request, _("Welcome to %(mall)s! Your member card is ready.") % {"mall": mall.name}
                        )
                    elif erasure_pending(member_id=member.pk):  # signing in during the cooling-off: offer to cancel
                        messages.warning(
                            request,
                            _("Your account is due to be deleted. To keep it, cancel the deletion request below."),
                        )
                        return redirect("app:privacy")
                    return redirect("app:home")
        status = 200 if sent_to else 422
    else:
        form = LoginForm()
        status = 200
    ctx = {
        **_base_context(mall),
        "form": form,
        "sent_to": sent_to,
        "resend_in": resend_in,
        "ttl_minutes": int(settings.GALLERIA_OTP["TTL_SECONDS"]) // 60,
    }
    return render(request, "app/login.html", ctx, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    mall_id = request.session.get(SESSION_MALL)
    request.session.flush()
    if mall_id is not None:
        request.session[SESSION_MALL] = mall_id
    return redirect("app:login")


# ---------------------------------------------------------------- home and member code


def _code_context(member: Member) -> dict[str, Any]:
    current = member_code_current(member=member)
    qr = segno.make(current.code, error="m", micro=False)
    svg = qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", dark="#1f2430", title=_("Member code"))
    code = current.code
    return {
        "code": code,
        "code_spaced": " ".join(code[i : i + 4] for i in range(0, len(code), 4)),
        "qr_svg": mark_safe(svg),  # noqa: S308 - generated by segno from digits only
        # the same code as a Code 128 barcode for tills whose laser scanners read no QR codes; rotates with it
        "barcode_svg": mark_safe(code128_svg(code, title=_("Member barcode"))),  # noqa: S308 - our own SVG, escaped
        "expires_in": current.expires_in,
        "refresh_after": current.expires_in + 1,  # a second late, so the server is surely in the next step
        "step_seconds": int(settings.GALLERIA_MEMBER_CODE_STEP_SECONDS),
    }


# ---------------------------------------------------------------- profile and plates


def _profile_page(
    request: HttpRequest,
    member: Member,
    mall: Mall,
    *,
    profile_form: ProfileForm | None = None,
    plate_form: PlateForm | None = None,
    plate_taken: str = "",
    status: int = 200,
) -> HttpResponse:
    plates = [i for i in member_identifiers(member_id=member.pk) if i.kind == IdentifierKind.PLATE]
    profile_form = profile_form or ProfileForm(
        initial={"name": member.name, "gender": member.gender, "birthday": member.birthday, "email": member.email}
    )
    ctx = {
        **_base_context(mall, member, tab="profile"),
        "profile_form": profile_form,
        "plate_form": plate_form or PlateForm(),
        "plates": [
            {
                "id": p.pk,
                "value": p.value,
                "is_nev": member_rules.is_new_energy_plate(p.value),
                "is_verified": p.verified_at is not None,
            }
            for p in plates
        ],
        "plate_taken": plate_taken,
        "max_plates": MAX_PLATES,
        "can_add_plate": len(plates) < MAX_PLATES,
    }
    return render(request, "app/profile.html", ctx, status=status)


@never_cache
@member_view
def profile(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    if request.method != "POST":
        return _profile_page(request, member, mall)
    form = ProfileForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            member_profile_update(
                member_id=member.pk,
                actor=_actor(request, member),
                values={
                    "name": data["name"],
                    "gender": data["gender"] or "unknown",
                    "birthday": data["birthday"],
                    "email": data["email"],
                },
            )
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Your profile was saved."))
            return redirect("app:profile")
    return _profile_page(request, member, mall, profile_form=form, status=422)


@require_POST
@member_view
def plate_add(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    form = PlateForm(request.POST)
    if form.is_valid():
        try:
            row = member_identifier_add(
                member_id=member.pk,
                actor=_actor(request, member),
                kind=IdentifierKind.PLATE,
                value=form.cleaned_data["plate"],
            )
        except ApplicationError as exc:
            typed = member_rules.normalize_plate(form.cleaned_data["plate"]) or ""
            _apply_error(form, exc, default_field="plate")
            if exc.code == "members.plate_taken":
                return _profile_page(request, member, mall, plate_form=form, plate_taken=typed, status=422)
        else:
            messages.success(request, _("Plate %(plate)s is bound to your membership.") % {"plate": row.value})
            return redirect(reverse("app:profile") + "#plates")
    return _profile_page(request, member, mall, plate_form=form, status=422)


@require_POST
@member_view
def plate_remove(request: HttpRequest, member: Member, mall: Mall, identifier_id: int) -> HttpResponse:
    plates = {i.pk: i.value for i in member_identifiers(member_id=member.pk) if i.kind == IdentifierKind.PLATE}
    if identifier_id not in plates:  # not this member's plate: say nothing about whose it is
        messages.error(request, _("This plate is not bound to your membership."))
        return redirect(reverse("app:profile") + "#plates")
    try:
        member_identifier_remove(member_id=member.pk, actor=_actor(request, member), identifier_id=identifier_id)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Plate %(plate)s was removed.") % {"plate": plates[identifier_id]})
    return redirect(reverse("app:profile") + "#plates")
