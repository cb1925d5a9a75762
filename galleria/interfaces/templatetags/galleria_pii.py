"""Template filters for personal data in staff screens.

`{{ member.name|person_name:request }}`: the name as it is for staff whose role may see personal data
(members.view_pii), masked (张*, 欧**娜) for the others — the minimum a marketing or finance user needs to tell two
rows apart."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

from galleria.accounts import permissions as perms
from galleria.members.rules import mask_name

from ..common import scope_of

register = template.Library()


def pii_allowed(request: HttpRequest | None) -> bool:
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return False
    return scope_of(request).can(perms.MEMBERS_VIEW_PII)


@register.filter
def person_name(name: str | None, request: HttpRequest | None) -> str:
    if not name:
        return ""
    return name if pii_allowed(request) else mask_name(name)
