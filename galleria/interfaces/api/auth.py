"""API authentication: staff by Django session (+CSRF) or a staff API token; members by their app session (+CSRF)
or a bearer access token of a signed-in device (no CSRF: docs/api.md, "Tokens")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer, SessionAuth

from galleria.accounts.selectors import scope_for_user
from galleria.accounts.types import Scope
from galleria.apiauth import selectors as token_selectors
from galleria.apiauth import services as token_services
from galleria.members.models import Member
from galleria.members.selectors import members_active

MEMBER_SESSION_KEY = "member_id"


class StaffSession(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        user = request.user
        return user if user.is_authenticated and user.is_active else None


class MemberSession(APIKeyCookie):
    """The member app's session cookie (members are not Django users)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Member | None:
        member_id = request.session.get(MEMBER_SESSION_KEY)
        if not member_id:
            return None
        return members_active().filter(pk=member_id).first()


class MemberBearer(HttpBearer):
    """`Authorization: Bearer gat_…`: a member device's access token (docs/api.md, "Tokens"). The device is put on
    the request (`galleria_device_id`) for sign-out."""

    def authenticate(self, request: HttpRequest, token: str) -> Member | None:
        device = token_selectors.device_for_access(token=token)
        if device is None:
            return None
        member = members_active().filter(pk=device.member_id).first()
        if member is None:
            return None
        token_services.device_touch(device=device)
        request.galleria_device_id = device.pk  # type: ignore[attr-defined]
        return member


class StaffToken(HttpBearer):
    """`Authorization: Bearer gst_…`: a staff API token (console → API tokens). It acts as its user with only the
    permissions it was given (its scopes, never more than the user's role has now)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        found = token_selectors.staff_token_auth(token=token)
        if found is None:
            return None
        user = get_user_model().objects.filter(pk=found.user_id, is_active=True).first()
        if user is None:
            return None
        scope = scope_for_user(user)
        request.user = user
        request._galleria_scope = replace(scope, permissions=scope.permissions & found.scopes)  # type: ignore[attr-defined]
        request.galleria_api_token_id = found.token_id  # type: ignore[attr-defined]
        token_services.staff_token_used(token_id=found.token_id)
        return user


def api_scope(request: HttpRequest, user: Any) -> Scope:
    """The staff caller's scope: a staff API token's (only its scopes), else the user's role's."""
    scope = getattr(request, "_galleria_scope", None)
    return scope if isinstance(scope, Scope) and scope.user_id == user.pk else scope_for_user(user)


staff_auth = [StaffToken(), StaffSession()]
# every /api/v1/app/ operation takes either: a bearer token first (no CSRF), else the session cookie (+CSRF)
member_auth = [MemberBearer(), MemberSession()]
