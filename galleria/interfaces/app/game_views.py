"""Games in the member app (docs/games.md, "Member app"): the games list, a game's page (a lucky wheel, a scratch
card or a blind box), playing, my prizes (a gift's pickup code with its QR for the desk) and the check-in calendar
with the streak and make-up check-ins. Everything is galleria.games' — these views show it.

The result of a play is decided by the server (games.services.draw) before anything moves: the page posts, gets
the result as JSON, then animates to it (without JavaScript the form posts and the prize page opens). Every form
carries a random key, so a double tap plays once. A prize that is not the member's looks like none."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import secrets
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.games import selectors, services
from galleria.games.types import DrawResult, GameStatus, PrizeKind
from galleria.points.selectors import points_balance

from .views import _base_context, member_view

KEY_PATTERN = r"^[A-Za-z0-9_-]{16,40}$"
BLIND_BOXES = 6


class PlayForm(forms.Form):
    key = forms.RegexField(regex=KEY_PATTERN, widget=forms.HiddenInput)
    client_seed = forms.CharField(max_length=32, required=False)


class MakeupForm(forms.Form):
    day = forms.DateField()


def _game_or_none(mall: Any, game_id: int) -> Any:
    game = selectors.game_get(mall_group_id=mall.group_id, game_id=game_id)
    return None if game is None or game.status == GameStatus.DRAFT else game


def _wheel(odds: Any, colour: str) -> list[dict[str, Any]]:
    """Equal segments (a wheel shows prizes, not their odds; the odds are listed under it), drawn as SVG paths."""
    rows = [r for r in odds.rows if r.prize.weight > 0]
    n = max(len(rows), 1)
    segments = []
    for i, row in enumerate(rows):
        a0, a1 = 2 * math.pi * i / n - math.pi / 2, 2 * math.pi * (i + 1) / n - math.pi / 2
        mid = (a0 + a1) / 2
        large = 1 if a1 - a0 > math.pi else 0
        turn = (math.degrees(mid) + 90) % 360
        if 90 < turn < 270:  # the lower half: turned round so no label is upside down
            turn -= 180
        path = (
            f"M100 100 L{100 + 96 * math.cos(a0):.2f} {100 + 96 * math.sin(a0):.2f} "
            f"A96 96 0 {large} 1 {100 + 96 * math.cos(a1):.2f} {100 + 96 * math.sin(a1):.2f} Z"
        )
        segments.append(
            {
                "path": path,
                "fill": colour if i % 2 == 0 else "#fff4e6",
                "text_fill": "#fff" if i % 2 == 0 else "#5c2b0a",
                "tx": f"{100 + 62 * math.cos(mid):.2f}",
                "ty": f"{100 + 62 * math.sin(mid):.2f}",
                "rotate": f"{turn:.2f}",
                "name": row.prize.name,
            }
        )
    return segments


@never_cache
@require_GET
@member_view
def games(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    now = timeutil.now()
    rows = [
        {"game": g, "open": selectors.is_open(g, now)}
        for g in selectors.games_open(mall_group_id=mall.group_id, now=now)
    ]
    return render(request, "app/games/list.html", {**_base_context(mall, member), "rows": rows})


def _allowance_text(a: Any) -> str:
    if a.blocked == "not_open":
        return _("This game is not open now.")
    if a.blocked:
        return _("You have no plays left for this game.")
    if a.free_left:
        return _("Free plays left today: %(n)s") % {"n": a.free_left}
    return _("Each play costs %(n)s points.") % {"n": a.entry_points}


def _game_page(request: HttpRequest, member: Any, mall: Any, game: Any, status: int = 200) -> HttpResponse:
    odds = selectors.odds(game_id=game.pk)
    allowed = selectors.allowance(game=game, member_id=member.pk, tz_name=mall.timezone, mall_id=mall.pk)
    mine = [d for d in selectors.member_draws(member_id=member.pk, mall_group_id=mall.group_id) if d.game_id == game.pk]
    return render(
        request,
        "app/games/detail.html",
        {
            **_base_context(mall, member),
            "game": game,
            "odds": odds,
            "segments": _wheel(odds, game.colour),
            "boxes": range(BLIND_BOXES),
            "allowance": allowed,
            "allowance_text": _allowance_text(allowed),
            "can_play": not allowed.blocked,
            "commitment": selectors.commitment_view(game=game),
            "mine": mine[:20],
            "balance": points_balance(member_id=member.pk) if game.entry_points else 0,
            "form_key": secrets.token_urlsafe(18),
        },
        status=status,
    )


@never_cache
@require_GET
@member_view
def game_detail(request: HttpRequest, member: Any, mall: Any, game_id: int) -> HttpResponse:
    game = _game_or_none(mall, game_id)
    if game is None:
        messages.error(request, _("No such game."))
        return redirect("app:games")
    return _game_page(request, member, mall, game)


def _result_message(r: DrawResult) -> str:
    if r.sold_out:
        return _("So close! That prize has run out. Thanks for playing.")
    if r.prize_kind == PrizeKind.THANKS:
        return _("Thanks for playing. Better luck next time!")
    if r.prize_kind == PrizeKind.POINTS:
        return _("You won %(n)s points!") % {"n": r.points}
    if r.prize_kind == PrizeKind.GIFT:
        return _("You won %(prize)s! Show the pickup code at the service desk.") % {"prize": r.prize_name}
    return _("You won %(prize)s! It is in My coupons.") % {"prize": r.prize_name}


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@never_cache
@require_POST
@member_view
def game_play(request: HttpRequest, member: Any, mall: Any, game_id: int) -> HttpResponse:
    """Play once: the result as JSON for the page's animation, or (no JavaScript) a redirect to the prize."""
    game = _game_or_none(mall, game_id)
    form = PlayForm(request.POST)
    if game is None or not form.is_valid():
        message = _("No such game.") if game is None else _("This page has expired. Please reload and try again.")
        if _wants_json(request):
            return JsonResponse({"code": "games.invalid", "message": message}, status=422)
        messages.error(request, message)
        return redirect("app:games")
    try:
        result = services.draw(
            member_id=member.pk,
            mall_group_id=mall.group_id,
            game_id=game.pk,
            idempotency_key=form.cleaned_data["key"],
            client_seed=form.cleaned_data["client_seed"],
            tz_name=mall.timezone,
            mall_id=mall.pk,
        )
    except ApplicationError as exc:
        if _wants_json(request):
            return JsonResponse({"code": exc.code, "message": str(exc.message)}, status=exc.status)
        messages.error(request, str(exc.message))
        return redirect("app:game", game_id=game.pk)
    url = reverse("app:game_prize", args=[result.draw_id])
    if not _wants_json(request):
        messages.success(request, _result_message(result))
        return redirect(url)
    allowed = selectors.allowance(game=game, member_id=member.pk, tz_name=mall.timezone, mall_id=mall.pk)
    return JsonResponse(
        {
            "draw_id": result.draw_id,
            "slot": result.slot,
            "prize_kind": result.prize_kind,
            "prize_name": result.prize_name,
            "sold_out": result.sold_out,
            "won": result.prize_kind != PrizeKind.THANKS and not result.sold_out,
            "message": _result_message(result),
            "seq": result.seq,
            "number": result.number,
            "url": url,
            "allowance": _allowance_text(allowed),
            "can_play": not allowed.blocked,
            "next_key": secrets.token_urlsafe(18),
        }
    )


@never_cache
@require_GET
@member_view
def prizes(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    rows = selectors.member_draws(member_id=member.pk, mall_group_id=mall.group_id)
    won = [d for d in rows if d.prize is not None and d.prize.kind != PrizeKind.THANKS]
    return render(request, "app/games/prizes.html", {**_base_context(mall, member), "rows": won})


def qr_svg(code: str) -> str:
    qr = segno.make(f"GP{code}", error="m", micro=False)
    return str(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr", dark="#1f2430", title=_("Pickup code")))


@never_cache
@require_GET
@member_view
def prize(request: HttpRequest, member: Any, mall: Any, draw_id: int) -> HttpResponse:
    d = selectors.member_draw(member_id=member.pk, draw_id=draw_id)
    if d is None:
        messages.error(request, _("This prize is not in your account."))
        return redirect("app:game_prizes")
    return render(
        request,
        "app/games/prize.html",
        {
            **_base_context(mall, member),
            "d": d,
            "message": _result_message(
                DrawResult(
                    draw_id=d.pk,
                    seq=d.seq,
                    number=d.number,
                    total_weight=d.total_weight,
                    prize_id=d.prize_id,
                    prize_kind=d.prize.kind if d.prize else PrizeKind.THANKS,
                    prize_name=d.prize.name if d.prize else "",
                    drawn_prize_id=d.drawn_prize_id,
                    sold_out=d.sold_out,
                    slot=0,
                    pickup_code=d.pickup_code,
                    coupon_id=d.coupon_id,
                    points=d.points,
                    entry_points=d.entry_points,
                    created=False,
                )
            ),
            "qr_svg": mark_safe(qr_svg(d.pickup_code)) if d.pickup_code and not d.picked_up_at else "",  # noqa: S308
        },
    )


# ------------------------------------------------------------------------------------------------ check-in calendar


def _month(value: str | None, today: dt.date) -> dt.date:
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


@never_cache
@member_view
def checkin_calendar(request: HttpRequest, member: Any, mall: Any) -> HttpResponse:
    """The month's calendar of check-ins, the streak and the next reward (GET); a make-up check-in (POST)."""
    today = timeutil.local_date(timeutil.now(), mall.timezone)
    status = 200
    if request.method == "POST":
        form = MakeupForm(request.POST)
        if form.is_valid():
            try:
                result = services.makeup_check_in(
                    member_id=member.pk,
                    mall_group_id=mall.group_id,
                    day=form.cleaned_data["day"],
                    tz_name=mall.timezone,
                )
            except ApplicationError as exc:
                messages.error(request, str(exc.message))
                status = 409
            else:
                text = _("Made up %(day)s. Your streak: %(n)s days.") % {
                    "day": result.day.isoformat(),
                    "n": result.streak,
                }
                if result.rewards:
                    text += " " + _("Streak reward earned!")
                messages.success(request, text)
                return redirect(f"{reverse('app:checkin_calendar')}?month={result.day:%Y-%m}")
        else:
            messages.error(request, _("Choose a past day."))
            status = 422
    month = _month(request.GET.get("month"), today)
    cal = selectors.calendar_month(member_id=member.pk, mall_group_id=mall.group_id, tz_name=mall.timezone, month=month)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=calendar.monthrange(month.year, month.month)[1])).replace(day=1)
    return render(
        request,
        "app/games/calendar.html",
        {
            **_base_context(mall, member),
            "cal": cal,
            "previous": f"{previous:%Y-%m}",
            "following": f"{following:%Y-%m}" if following <= today.replace(day=1) else "",
            "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
        },
        status=status,
    )
