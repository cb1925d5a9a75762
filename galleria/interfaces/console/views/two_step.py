"""2-step sign-in page of the signed-in staff member (set up, turn off, new recovery codes) and a colleague's reset.

Any signed-in staff member reaches their own page (console or merchant portal shell). The QR code is an SVG data URI
(`img-src data:` in the CSP; no script). The secret is shown only until a code confirms the set-up; recovery codes
only in the response that created them (never stored in the session, never redirected to).
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.accounts import rules
from galleria.accounts.exceptions import SignInLockedError, TwoStepInvalidError, TwoStepStateError
from galleria.accounts.models import TwoStepDevice, User
from galleria.accounts.selectors import recovery_codes_left, two_step_pending_secret, two_step_required
from galleria.accounts.services.two_step import (
    recovery_codes_renew,
    two_step_begin,
    two_step_confirm,
    two_step_disable,
    two_step_reset,
)
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of, staff_view
from galleria.interfaces.merchant.portal import portal_merchant

from ..auth_forms import CodeForm

INVALID_CODE = gettext_lazy("This code is not valid. Enter the current code from your authenticator app.")


def area_context(request: HttpRequest) -> dict[str, Any]:
    """The shell of the user's own area: merchant staff see the portal's, everyone else the console's."""
    scope = scope_of(request)
    if not scope.is_merchant:
        return {"shell": "console/shell.html"}
    return {
        "shell": "merchant/shell.html",
        "merchant": portal_merchant(request),
        "can_edit_profile": scope.can(perms.PORTAL_PROFILE_EDIT),
        "can_manage_staff": scope.can(perms.PORTAL_STAFF_MANAGE),
        "can_lookup": scope.can(perms.PORTAL_MEMBER_LOOKUP),
        "can_manage_pos": scope.can(perms.PORTAL_POS_MANAGE),
    }


def _qr_data_uri(user: User, secret: str) -> str:
    uri = rules.totp_uri(secret=secret, account=user.get_username(), issuer=settings.GALLERIA_TWO_STEP_ISSUER)
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#1f2430")


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _page(request: HttpRequest, **context: Any) -> HttpResponse:
    user = cast(User, request.user)
    device = TwoStepDevice.objects.filter(user_id=user.pk).first()
    status = context.pop("status", 200)
    ctx: dict[str, Any] = {
        **area_context(request),
        "nav": "two_step",
        "device": device,
        "enabled": device is not None and device.confirmed_at is not None,
        "required": two_step_required(user),
        "codes_left": recovery_codes_left(user_id=user.pk),
        **context,
    }
    secret = two_step_pending_secret(user_id=user.pk) if device is not None and device.confirmed_at is None else None
    if secret:
        ctx.update(qr=_qr_data_uri(user, secret), secret_grouped=_grouped(secret))
        ctx.setdefault("confirm_form", CodeForm(allow_recovery=False))
    ctx.setdefault("disable_form", CodeForm(prefix="off"))
    ctx.setdefault("renew_form", CodeForm(prefix="renew"))
    return render(request, "console/two_step.html", ctx, status=status)


def _codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    ctx = {**area_context(request), "nav": "two_step", "codes": codes}
    response = render(request, "console/two_step_codes.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


def _code_error(form: CodeForm, exc: ApplicationError) -> None:
    if isinstance(exc, SignInLockedError):
        form.add_error(None, str(exc.message))
    else:
        form.add_error("code", str(INVALID_CODE))


@sensitive_post_parameters()
@never_cache
@login_required
def two_step(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if request.method != "POST":
        return _page(request)
    action = request.POST.get("action", "")
    actor = actor_for(request)
    if action == "start":
        with contextlib.suppress(TwoStepStateError):  # already on: the page says so
            two_step_begin(user=user)
        return redirect("console:two_step")
    if action == "confirm":
        form = CodeForm(request.POST, allow_recovery=False)
        if form.is_valid():
            try:
                codes = two_step_confirm(user=user, code=form.cleaned_data["code"], actor=actor)
            except TwoStepInvalidError as exc:
                _code_error(form, exc)
            except TwoStepStateError:
                return redirect("console:two_step")
            else:
                messages.success(request, _("2-step sign-in is on."))
                return _codes_page(request, codes)
        return _page(request, confirm_form=form, status=400)
    if action in ("disable", "renew"):
        form = CodeForm(request.POST, prefix="off" if action == "disable" else "renew")
        if form.is_valid():
            try:
                if action == "disable":
                    two_step_disable(user=user, code=form.cleaned_data["code"], actor=actor)
                else:
                    codes = recovery_codes_renew(user=user, code=form.cleaned_data["code"], actor=actor)
            except (TwoStepInvalidError, SignInLockedError) as exc:
                _code_error(form, exc)
            except TwoStepStateError:
                return redirect("console:two_step")
            else:
                if action == "renew":
                    return _codes_page(request, codes)
                messages.success(request, _("2-step sign-in is off."))
                return redirect("console:two_step")
        key = "disable_form" if action == "disable" else "renew_form"
        return _page(request, **{key: form, "status": 400})
    return redirect("console:two_step")


@require_POST
@staff_view(perms.STAFF_MANAGE)
def staff_two_step_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    """A group or platform admin turns off a colleague's 2-step sign-in (lost phone); audited."""
    try:
        user = two_step_reset(scope=scope_of(request), actor=actor_for(request), user_id=user_id)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404("staff") from exc
        messages.error(request, str(exc.message))
        return redirect("console:staff_edit", user_id=user_id)
    messages.success(
        request,
        _("2-step sign-in of “%(username)s” was reset: they sign in with their password and set it up again.")
        % {"username": user.username},
    )
    return redirect("console:staff_edit", user_id=user_id)
