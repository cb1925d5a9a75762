from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from galleria.accounts.models import Role

from .common import scope_of


def staff(request: HttpRequest) -> dict[str, Any]:
    """`scope` and `role_label` for the shell templates of signed-in staff."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_of(request)
    return {"scope": scope, "role_label": Role(scope.role).label}
