"""WeChat Pay points (智慧商圈积分) in the member app: link WeChat, authorise 商圈 points, see what payments earned.

- **Link WeChat** (`mall_points_link` → WeChat → `mall_points_return`): web authorisation, scope snsapi_base. The
  `state` is random, kept in the member's session with the member and the time, and consumed on the way back —
  whatever the outcome — so a forged, replayed or stale return changes nothing; the code is traded once, by the
  payments service, for the openid, which becomes the member's `wechat_openid` identifier.
- **Authorise**: happens in WeChat's own UI (the sandbox gateway's page stands for it in the demo); the page then
  shows what WeChat reported, asking it (`user-authorizations`) while nothing is recorded.
- **Payments**: the member's 商圈 payments with the points each earned — or why none — and refunds.

Both hops to WeChat are plain links (GET), never form posts: a form's redirect to another origin is a
form-action the CSP forbids.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.members.exceptions import IdentifierTakenError
from galleria.payments import selectors_mall
from galleria.payments.services.wechat_link import (
    WechatLinkUnavailableError,
    mall_auth_url,
    mall_points_status,
    wechat_link_finish,
    wechat_link_start,
)

from .views import _actor, _base_context, member_view

SESSION_KEY = "mall_points_oauth"
STATE_TTL_S = 600


def _txn_rows(member_id: int) -> list[dict[str, Any]]:
    rows = []
    for t in selectors_mall.member_mall_txns(member_id=member_id):
        rows.append(
            {
                "id": t.pk,
                "shop": t.merchant.name if t.merchant else (t.shop_name or t.shop_number),
                "at": t.paid_at,
                "amount_text": format_cny(t.amount_fen),
                "points": t.points,
                "points_reversed": t.points_reversed,
                "credited": t.state == selectors_mall.MallTxnState.CREDITED,
                "reason": t.get_reason_display() if t.reason else "",
                "refunded_text": format_cny(t.refunded_fen) if t.refunded_fen else "",
                "sale_id": t.sale_id,
            }
        )
    return rows


@never_cache
@member_view
def mall_points(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    status = mall_points_status(mall_group_id=mall.group_id, member_id=member.pk)
    return_url = request.build_absolute_uri(reverse("app:mall_points"))
    ctx = {
        **_base_context(mall, member),
        "status": status,
        "openid_hint": f"{status.openid[:4]}…{status.openid[-4:]}" if status.openid else "",
        "auth_url": mall_auth_url(mall_group_id=mall.group_id, return_url=return_url) if status.openid else "",
        "rows": _txn_rows(member.pk),
    }
    return render(request, "app/mall_points/index.html", ctx)


@require_GET
@never_cache
@member_view
def mall_points_link(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """Off to WeChat's authorisation page, with a fresh state bound to this session."""
    redirect_uri = request.build_absolute_uri(reverse("app:mall_points_return"))
    try:
        start = wechat_link_start(mall_group_id=mall.group_id, redirect_uri=redirect_uri)
    except WechatLinkUnavailableError as exc:
        messages.error(request, str(exc.message))
        return redirect("app:mall_points")
    request.session[SESSION_KEY] = {"state": start.state, "member": member.pk, "at": int(time.time())}
    return redirect(start.url)


def _state_ok(request: HttpRequest, member: Any) -> bool:
    """The state WeChat echoed is the one this session was given, for this member, recently — used once."""
    kept = request.session.pop(SESSION_KEY, None)
    state = request.GET.get("state", "")
    if not isinstance(kept, dict) or not state or not isinstance(kept.get("state"), str):
        return False
    return (
        secrets.compare_digest(kept["state"].encode(), state.encode())
        and kept.get("member") == member.pk
        and 0 <= time.time() - int(kept.get("at", 0)) <= STATE_TTL_S
    )


@require_GET
@never_cache
@member_view
def mall_points_return(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """WeChat sends the member back here with `code` and `state` (no code: they did not allow it)."""
    if not _state_ok(request, member):
        messages.error(request, _("This WeChat link has expired or was not started here. Please try again."))
        return redirect("app:mall_points")
    code = request.GET.get("code", "")
    if not code:
        messages.info(request, _("WeChat was not linked: you did not allow it."))
        return redirect("app:mall_points")
    try:
        wechat_link_finish(mall_group_id=mall.group_id, member_id=member.pk, code=code, actor=_actor(request, member))
    except IdentifierTakenError:
        messages.error(request, _("This WeChat is already linked to another member."))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("WeChat linked."))
    return redirect("app:mall_points")
