"""Console: the online mall's reviews (docs/design/online-mall.md §9 "review moderation"): every shop's reviews,
newest first, filtered shown / hidden; hide one (members no longer see it and the product's rating leaves it out)
or show it again, with a reason in the audit log. Read `online_mall.view`, change `online_mall.manage`."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.commerce import selectors_orders
from galleria.commerce import services_reviews as reviews
from galleria.commerce.types import ReviewStatus
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for, scope_of

from ..helpers import console_view, page_of
from ..loyalty import group_context


@console_view(perms.ONLINE_MALL_VIEW)
def online_reviews(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    status = str(request.GET.get("status") or "")
    page, query = page_of(request, selectors_orders.group_reviews(mall_group_id=g.id, status=status))
    rows = [{"r": r, "stars": "★" * r.rating + "☆" * (5 - r.rating)} for r in page]
    return render(
        request,
        "console/online_mall/reviews.html",
        {
            "nav": "online_reviews",
            "g": g,
            "rows": rows,
            "page_obj": page,
            "query": query,
            "status": status,
            "statuses": ReviewStatus.choices,
            "can_manage": scope_of(request).can(perms.ONLINE_MALL_MANAGE),
        },
    )


@require_POST
@console_view(perms.ONLINE_MALL_MANAGE)
def online_review_hide(request: HttpRequest, review_id: int) -> HttpResponse:
    """`hidden` = 1 hides, 0 shows again."""
    group_id = selectors_orders.review_group_id(review_id=review_id)
    if group_id is None:
        raise Http404("review")
    g = group_context(request, group_id=group_id)
    hidden = request.POST.get("hidden") == "1"
    try:
        reviews.review_hide(
            mall_group_id=g.id,
            review_id=review_id,
            hidden=hidden,
            actor=actor_for(request),
            reason=str(request.POST.get("reason") or "")[:200],
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The review is hidden.") if hidden else _("The review is shown again."))
    return redirect(reverse("console:online_reviews") + g.query)
