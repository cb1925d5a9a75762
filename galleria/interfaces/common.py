"""What every interface shares: the acting user's scope and actor, permission gates, error rendering."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from galleria.accounts.models import User
from galleria.accounts.selectors import scope_for_user
from galleria.accounts.types import Scope
from galleria.audit.types import Actor

F = TypeVar("F", bound=Callable[..., HttpResponse])


def client_ip(request: HttpRequest) -> str | None:
    """The shopper's or staff member's address, for per-IP limits and the audit trail.

    Behind N reverse proxies (settings.GALLERIA_TRUSTED_PROXIES = N), REMOTE_ADDR is the nearest proxy and every
    proxy appended the address it saw to X-Forwarded-For, so the client is the N-th entry from the right; entries
    further left were written by the client and are not trusted. A missing or malformed entry falls back to
    REMOTE_ADDR (never a made-up address). With N = 0 (the default: Galleria faces the clients) the header is
    ignored, so nobody can choose the address their attempts are counted against.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.GALLERIA_TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def actor_for(request: HttpRequest) -> Actor:
    user = request.user
    if user.is_authenticated:
        label = user.get_username()
        return Actor(user_id=user.pk, label=label, ip=client_ip(request))
    return Actor(user_id=None, label="anonymous", ip=client_ip(request))


def scope_of(request: HttpRequest) -> Scope:
    scope = getattr(request, "_galleria_scope", None)
    if scope is None:
        scope = scope_for_user(cast(User, request.user))
        request._galleria_scope = scope  # type: ignore[attr-defined]
    return scope


def forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "galleria/403.html", status=403)


def staff_view(permission: str, *, login_url: str = "console:login") -> Callable[[F], F]:
    """Gate a view: signed-in staff whose role grants `permission`; others get the login page or a 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), login_url)
            if not scope_of(request).can(permission):
                return forbidden(request)
            return view(request, *args, **kwargs)

        return cast(F, wrapped)

    return decorator


def django_errors(exc: DjangoValidationError) -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {k: " ".join(str(m) for e in v for m in e.messages) for k, v in exc.error_dict.items()}
    return {"__all__": " ".join(exc.messages)}


# Spreadsheet formula injection: a text cell starting with one of these runs as a formula in Excel / WPS.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in a text cell of a CSV or XLSX export (names typed by someone)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
