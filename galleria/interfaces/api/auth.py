"""API authentication: staff by Django session (+CSRF), members by their app session."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, SessionAuth

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


staff_auth = StaffSession()
member_auth = MemberSession()
