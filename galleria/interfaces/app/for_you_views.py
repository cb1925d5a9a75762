"""Member app: "为你推荐" (docs/recommendations.md) — the /app/for-you/ page (merchants to visit with a reason,
coupons to claim at them, events the member's tier may join) and the one-tap personalisation switch (PIPL art. 24),
recorded as a consent like every other choice on the privacy page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.core.errors import ApplicationError
from galleria.members.services import consent_record
from galleria.members.types import ConsentPurpose, JoinChannel

from .presenters import for_you as presenters
from .views import _actor, _base_context, member_view


@never_cache
@require_GET
@member_view
def for_you(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    ctx = {**_base_context(mall, member), **presenters.page(member=member, mall_group_id=mall.group_id)}
    return render(request, "app/for_you.html", ctx)


@require_POST
@member_view
def for_you_switch(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    choice = request.POST.get("on")
    if choice not in ("0", "1"):  # a stale or hand-made form: nothing changes
        messages.error(request, _("Your choice could not be saved. Please try again."))
        return redirect("app:for_you")
    granted = choice == "1"
    try:
        consent_record(
            member_id=member.pk,
            purpose=ConsentPurpose.RECOMMENDATIONS,
            is_granted=granted,
            channel=JoinChannel.APP,
            actor=_actor(request, member),
            mall_group_id=member.mall_group_id,
        )
    except (ApplicationError, ObjectDoesNotExist):
        messages.error(request, _("Your choice could not be saved. Please try again."))
    else:
        if granted:
            messages.success(request, _("Personalised recommendations are on."))
        else:
            messages.success(
                request, _("Personalised recommendations are off: you now see what is popular, not based on you.")
            )
    return redirect("app:for_you")
