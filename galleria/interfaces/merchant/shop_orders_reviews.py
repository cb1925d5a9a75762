"""Merchant portal: reviews of the shop's products (docs/design/online-mall.md §9 "Reviews"): newest first, the
stars, the text (the member's name never shown), and a reply the members read under the review (an empty reply
removes it). Reviews the mall hid are marked. `portal.products` (owners and managers)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from galleria.accounts import permissions as perms
from galleria.commerce import selectors_orders
from galleria.commerce import services_reviews as reviews
from galleria.core.errors import ApplicationError
from galleria.interfaces.common import actor_for

from .portal import portal_merchant, portal_render, portal_view

PAGE_SIZE = 20


@portal_view(perms.PORTAL_PRODUCTS)
def review_list(request: HttpRequest) -> HttpResponse:
    merchant = portal_merchant(request)
    page = Paginator(selectors_orders.merchant_reviews(merchant_id=merchant.pk), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    params = request.GET.copy()
    params.pop("page", None)
    rows = [{"r": r, "stars": "★" * r.rating + "☆" * (5 - r.rating)} for r in page]
    return portal_render(
        request,
        "merchant/shop/reviews.html",
        {"rows": rows, "page_obj": page, "query_string": params.urlencode()},
        nav="shop_reviews",
        merchant=merchant,
    )


@require_POST
@portal_view(perms.PORTAL_PRODUCTS)
def review_reply(request: HttpRequest, review_id: int) -> HttpResponse:
    merchant = portal_merchant(request)
    if not selectors_orders.merchant_reviews(merchant_id=merchant.pk).filter(pk=review_id).exists():
        raise Http404("review")
    try:
        reviews.review_reply(
            merchant_id=merchant.pk,
            review_id=review_id,
            text=str(request.POST.get("reply") or "")[:600],
            actor=actor_for(request),
        )
    except ApplicationError as exc:
        messages.error(request, str(next(iter(exc.fields.values()), exc.message)))
    else:
        messages.success(request, _("Reply saved."))
    return redirect(reverse("merchant:shop_reviews") + f"#review-{review_id}")
