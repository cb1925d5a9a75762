"""Sign in and out, password change, and the site root that sends staff to their area."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _

from galleria.interfaces.common import scope_of


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        url = self.get_redirect_url()
        if url:
            return url
        scope = scope_of(self.request)
        return reverse("merchant:home") if scope.is_merchant else reverse("console:home")


class LogoutView(auth_views.LogoutView):
    next_page = "console:login"  # resolved by resolve_url()


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "console/password_change.html"
    success_url = reverse_lazy("console:home")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        messages.success(self.request, _("Your password was changed."))
        return super().form_valid(form)


def root(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("console:login")
    return redirect("merchant:home" if scope_of(request).is_merchant else "console:home")
