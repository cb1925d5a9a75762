"""Console: staff API tokens (docs/api.md, "Tokens") — for back-office systems (ERP, BI) calling the console and
merchant APIs without a browser session. An admin (`staff.manage`) creates a token that acts as themself with the
permissions chosen (scopes: a subset of their own role's), valid 1–366 days; the token is shown once. The list shows
every token of the group with its scopes, expiry and last use; any may be revoked. Created and revoked tokens are
audited; only SHA-256 hashes are stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.apiauth import exceptions, selectors, services
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of

from ..helpers import console_view
from ..loyalty import group_context


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name (which system uses it)"), max_length=60)
    scopes = forms.MultipleChoiceField(label=gettext_lazy("Permissions"), widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, max_value=366, initial=90)

    def __init__(self, *args: Any, allowed: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["scopes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(p, p) for p in sorted(allowed)]


def _allowed(request: HttpRequest) -> frozenset[str]:
    return frozenset(p for p in scope_of(request).permissions if not p.startswith("portal."))


@console_view(perms.STAFF_MANAGE)
def api_tokens(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    allowed = _allowed(request)
    status = 200
    if request.method == "POST":
        form = TokenForm(request.POST, allowed=allowed)
        if form.is_valid():
            try:
                created = services.staff_token_create(
                    user_id=int(request.user.pk or 0),
                    mall_group_id=g.id,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    allowed=allowed,
                    days=form.cleaned_data["days"],
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                for name, message in exc.fields.items():
                    form.add_error(name if name in form.fields else None, str(message))
            else:
                response = render(
                    request,
                    "console/api_tokens/created.html",
                    {"nav": "api_tokens", "g": g, "token": created.token},
                )
                response["Cache-Control"] = "no-store"
                return response
        status = 422
    else:
        form = TokenForm(allowed=allowed)
    rows = list(selectors.staff_tokens(mall_group_id=g.id)[:200])
    return render(
        request,
        "console/api_tokens/list.html",
        {"nav": "api_tokens", "g": g, "form": form, "rows": rows, "now": timezone.now()},
        status=status,
    )


@require_POST
@console_view(perms.STAFF_MANAGE)
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    g = group_context(request)
    try:
        services.staff_token_revoke(mall_group_id=g.id, token_id=token_id, actor=actor_for(request))
    except exceptions.StaffTokenNotFoundError as exc:
        raise Http404("token") from exc
    messages.success(request, _("Token revoked: it stops working at once."))
    return redirect(reverse("console:api_tokens") + g.query)
