"""Sign in and out, the 2-step code, password change, and the site root that sends staff to their area.

One sign-in for all staff (console, merchant portal, Django admin). The password step is limited per account and per
IP (`accounts.services.signin`). A user with 2-step sign-in on is not signed in after the password: the session only
remembers who passed it (for `SECOND_STEP_SECONDS`), and the code page finishes the sign-in.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from galleria.accounts.exceptions import SignInLockedError, TwoStepInvalidError, TwoStepStateError
from galleria.accounts.models import User
from galleria.accounts.selectors import scope_for_user, two_step_enabled
from galleria.accounts.services.signin import (
    METHOD_PASSWORD,
    METHOD_RECOVERY,
    signin_complete,
    signin_second_step,
)
from galleria.interfaces.common import client_ip, forbidden, scope_of

from ..auth_forms import CodeForm, StaffLoginForm
from .two_step import INVALID_CODE, area_context

PENDING = "_galleria_second_step"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _area_home(user: User) -> str:
    return reverse("merchant:home") if scope_for_user(user).is_merchant else reverse("console:home")


def complete_login(request: HttpRequest, user: User, *, method: str, backend: str | None = None) -> None:
    """Sign the user in (new session key; `user_logged_in` starts the staff session clocks), audit."""
    auth_login(request, user, backend=backend or getattr(user, "backend", None) or MODEL_BACKEND)
    signin_complete(user=user, ip=client_ip(request), method=method)


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        url = self.get_redirect_url()
        if url:
            return url
        return _area_home(self.request.user)  # type: ignore[arg-type]

    def form_valid(self, form: StaffLoginForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        if two_step_enabled(user_id=user.pk):
            self.request.session.cycle_key()
            self.request.session[PENDING] = {
                "user_id": user.pk,
                "at": int(time.time()),
                "next": self.get_redirect_url(),
                "backend": getattr(user, "backend", MODEL_BACKEND),
            }
            return redirect("console:login_verify")
        complete_login(self.request, user, method=METHOD_PASSWORD)
        return HttpResponseRedirect(self.get_success_url())


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user_id"), int):
        return None
    if int(time.time()) - int(pending.get("at", 0)) > int(settings.GALLERIA_SIGNIN["SECOND_STEP_SECONDS"]):
        request.session.pop(PENDING, None)
        return None
    return pending


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    if request.user.is_authenticated:
        return redirect(_area_home(request.user))
    pending = _pending(request)
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first() if pending else None
    if pending is None or user is None:
        messages.info(request, _("Please sign in again."))
        return redirect("console:login")
    form = CodeForm(request.POST or None)
    locked = ""
    if request.method == "POST" and form.is_valid():
        try:
            method = signin_second_step(user_id=user.pk, code=form.cleaned_data["code"], ip=client_ip(request))
        except SignInLockedError as exc:
            locked = str(exc.message)
        except TwoStepInvalidError:
            form.add_error("code", str(INVALID_CODE))
        except TwoStepStateError:
            request.session.pop(PENDING, None)
            return redirect("console:login")
        else:
            request.session.pop(PENDING, None)
            complete_login(request, user, method=method, backend=pending.get("backend"))
            if method == METHOD_RECOVERY:
                messages.warning(
                    request,
                    _("You signed in with a recovery code. It cannot be used again: check how many you have left."),
                )
            next_url = pending.get("next") or ""
            if next_url and url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return HttpResponseRedirect(next_url)
            return redirect(_area_home(user))
    status = 429 if locked else (400 if form.is_bound and form.errors else 200)
    return render(request, "console/login_verify.html", {"form": form, "locked": locked}, status=status)


class LogoutView(auth_views.LogoutView):
    next_page = "console:login"  # resolved by resolve_url()


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "console/password_change.html"
    success_url = reverse_lazy("console:home")

    def get_success_url(self) -> str:
        return _area_home(self.request.user)  # type: ignore[arg-type]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **area_context(self.request)}

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        messages.success(self.request, _("Your password was changed."))
        return super().form_valid(form)


def admin_login(request: HttpRequest) -> HttpResponse:
    """Django admin's sign-in goes through ours (limits, 2-step); admin then sees a signed-in staff user.

    A signed-in user sent here by the admin is not admin staff: a 403, not a redirect loop through our sign-in."""
    if request.user.is_authenticated:
        return forbidden(request)
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(next_url, reverse("console:login"))


def root(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("console:login")
    return redirect("merchant:home" if scope_of(request).is_merchant else "console:home")
