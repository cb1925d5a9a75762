"""Member app: bills (账单), the merchant directory and merchant pages, the inbox, and banner images.

Like every member-app view these read the member from the session only (`member_view`); an id in the URL that is
not the member's own (a sale, a message) looks exactly like an unknown one.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.content.selectors import image_exists, image_get
from galleria.core import timeutil
from galleria.malls.models import Mall
from galleria.members.models import Member
from galleria.merchants.models import Category
from galleria.messaging import selectors as inbox_selectors
from galleria.messaging import services as inbox_services
from galleria.messaging.exceptions import InboxMessageNotFoundError
from galleria.tiers.models import MemberTier

from . import presenters
from .coupon_views import card_of, names
from .presenters import bills as bill_presenters
from .presenters import merchants as merchant_presenters
from .presenters.common import paging_of
from .views import _base_context, member_view

MAX_PAGE = 10_000
INBOX_PAGE = 20
IMAGE_MAX_AGE = 365 * 24 * 3600


def _page(request: HttpRequest) -> int:
    try:
        return max(1, min(MAX_PAGE, int(request.GET.get("page") or 1)))
    except ValueError:
        return 1


def reader_of(member: Member) -> inbox_selectors.Reader:
    """The member as an inbox reader: their current tier level decides which tier messages they see."""
    level_id = MemberTier.objects.filter(member_id=member.pk).values_list("level_id", flat=True).first()
    return inbox_selectors.Reader(
        mall_group_id=member.mall_group_id, member_id=member.pk, tier_level_id=level_id, joined_at=member.created_at
    )


# ---------------------------------------------------------------- bills


@never_cache
@member_view
def bills(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    rows, paging = presenters.purchases(member=member, tz_name=mall.timezone, page=_page(request))
    ctx = {**_base_context(mall, member), "rows": rows, "paging": paging}
    return render(request, "app/bills.html", ctx)


def purchases_moved(request: HttpRequest) -> HttpResponse:
    """The old "purchases" address: bills replaced it (bookmarks keep working, page number kept)."""
    target = "/app/bills/"
    page = request.GET.get("page")
    if page and page.isdigit():
        target += f"?page={int(page)}"
    return redirect(target, permanent=True)


@never_cache
@member_view
def bill_detail(request: HttpRequest, member: Member, mall: Mall, sale_id: int) -> HttpResponse:
    bill = bill_presenters.bill_detail(member=member, sale_id=sale_id, tz_name=mall.timezone)
    if bill is None:
        messages.error(request, _("This bill is not in your account."))
        return redirect("app:bills")
    return render(request, "app/bill_detail.html", {**_base_context(mall, member), "bill": bill})


# ---------------------------------------------------------------- merchants


@never_cache
@member_view
def merchants(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    query = (request.GET.get("q") or "")[:100]
    category = request.GET.get("category") or ""
    floor = (request.GET.get("floor") or "")[:10]
    groups, floors = merchant_presenters.directory(mall=mall, query=query, category=category, floor=floor)
    ctx = {
        **_base_context(mall, member),
        "groups": groups,
        "floors": floors,
        "categories": Category.choices,
        "q": " ".join(query.split())[: merchant_presenters.SEARCH_MAX],
        "category": category if category in Category.values else "",
        "floor": floor if floor in floors else "",
        "count": sum(len(g.entries) for g in groups),
    }
    return render(request, "app/merchants.html", ctx)


@never_cache
@member_view
def merchant(request: HttpRequest, member: Member, mall: Mall, merchant_id: int) -> HttpResponse:
    page = merchant_presenters.merchant_page(mall=mall, merchant_id=merchant_id)
    if page is None:
        messages.error(request, _("This merchant is not in the mall's directory."))
        return redirect("app:merchants")
    merchant_names, tiers = names(mall)
    ctx = {
        **_base_context(mall, member),
        "p": page,
        "cards": [{"template_id": t.pk, "card": card_of(t, merchant_names, tiers)} for t in page.coupon_templates],
    }
    return render(request, "app/merchant.html", ctx)


# ---------------------------------------------------------------- inbox


@never_cache
@member_view
def inbox(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    reader = reader_of(member)
    page_obj = Paginator(inbox_selectors.inbox_list(reader=reader), INBOX_PAGE).get_page(_page(request))
    ctx = {
        **_base_context(mall, member),
        "rows": list(page_obj.object_list),
        "paging": paging_of(page_obj),
        "unread": inbox_selectors.inbox_unread_count(reader=reader),
    }
    with timezone.override(timeutil.zone(mall.timezone)):  # times read as the mall's wall clock
        return render(request, "app/inbox.html", ctx)


@never_cache
@member_view
def inbox_message(request: HttpRequest, member: Member, mall: Mall, message_id: int) -> HttpResponse:
    """Opening a message marks it read (a GET with a side effect the member expects; idempotent)."""
    try:
        message = inbox_services.inbox_mark_read(reader=reader_of(member), message_id=message_id)
    except InboxMessageNotFoundError as exc:
        messages.error(request, str(exc.message))
        return redirect("app:inbox")
    with timezone.override(timeutil.zone(mall.timezone)):
        return render(request, "app/inbox_message.html", {**_base_context(mall, member), "m": message})


@require_POST
@member_view
def inbox_read_all(request: HttpRequest, member: Member, mall: Mall) -> HttpResponse:
    count = inbox_services.inbox_mark_all_read(reader=reader_of(member))
    if count:
        messages.success(request, _("All messages are marked read."))
    return redirect("app:inbox")


# ---------------------------------------------------------------- banner images


@require_GET
def image(request: HttpRequest, image_id: int, sha256: str) -> HttpResponse:
    """A banner image. Public (banners are public), addressed by id *and* SHA-256 so ids cannot be walked; the
    bytes never change, so browsers and CDNs keep them a year. Served with the type sniffed at upload and
    `nosniff`, under a CSP sandbox, so an uploaded file can never run as a page."""
    if request.headers.get("If-None-Match") == f'"{sha256}"' and image_exists(image_id=image_id, sha256=sha256):
        response: HttpResponse = HttpResponseNotModified()
    else:
        row = image_get(image_id=image_id, sha256=sha256)
        if row is None:
            raise Http404
        response = HttpResponse(bytes(row.data), content_type=row.content_type)
        response["Content-Length"] = str(row.size_bytes)
    response["ETag"] = f'"{sha256}"'
    response["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
