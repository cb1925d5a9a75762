"""Console: games (docs/games.md, "Console") — the list, the editor, a game's page (prizes with their odds in
percent and the expected cost of a play, statistics, publish and end), the draw log with the commitment and the
reveal, the gift desk (type or scan a pickup code → hand over once) and the check-in streak rewards.
`games.view` reads; `games.manage` edits, publishes and ends; `games.desk` hands gifts over. Everything is
galleria.games' (its services audit every change)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from galleria.accounts import permissions as perms
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.coupons.selectors import template_list
from galleria.games import selectors, services
from galleria.games.types import GameStatus
from galleria.interfaces.common import actor_for, scope_of
from galleria.members.rules import mask_phone

from ..game_forms import GameForm, GiftCodeForm, PrizeForm, StreakRuleForm, game_initial, streak_initial
from ..helpers import console_view, page_of
from ..loyalty import group_context


def _game_or_404(request: HttpRequest, game_id: int) -> tuple[Any, Any]:
    game = selectors.game_get(mall_group_id=scope_of(request).mall_group_id or 0, game_id=game_id)
    if game is None and scope_of(request).mall_group_id is None:
        game = selectors.game_by_id(game_id=game_id)
    if game is None:
        raise Http404("game")
    return game, group_context(request, group_id=game.mall_group_id)


def _add_errors(form: Any, exc: ApplicationError) -> None:
    for name, message in exc.fields.items():
        form.add_error(name if name in form.fields else None, str(message))
    if not exc.fields:
        form.add_error(None, str(exc.message))


@console_view(perms.GAMES_VIEW)
def games(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    status = request.GET.get("status") or ""
    qs = selectors.game_list(mall_group_id=g.id, status=status if status in GameStatus.values else None)
    page, query = page_of(request, qs)
    return render(
        request,
        "console/games/list.html",
        {"nav": "games", "g": g, "page_obj": page, "query": query, "status": status, "statuses": GameStatus.choices},
    )


def _editor(request: HttpRequest, g: Any, game: Any) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = GameForm(request.POST)
        if form.is_valid():
            try:
                saved = services.game_save(
                    mall_group_id=g.id,
                    game_id=game.pk if game is not None else None,
                    data=form.to_data(),
                    actor=actor_for(request),
                )
            except ApplicationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Game saved."))
                return redirect("console:game", game_id=saved.pk)
        status = 422
    else:
        form = GameForm(initial=game_initial(game) if game is not None else {})
    return render(
        request, "console/games/form.html", {"nav": "games", "g": g, "form": form, "game": game}, status=status
    )


@console_view(perms.GAMES_MANAGE)
def game_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, group_context(request), None)


@console_view(perms.GAMES_MANAGE)
def game_edit(request: HttpRequest, game_id: int) -> HttpResponse:
    game, g = _game_or_404(request, game_id)
    return _editor(request, g, game)


def _detail(
    request: HttpRequest, game: Any, g: Any, prize_form: PrizeForm | None = None, status: int = 200
) -> HttpResponse:
    templates = template_list(mall_group_id=g.id)
    return render(
        request,
        "console/games/detail.html",
        {
            "nav": "games",
            "g": g,
            "game": game,
            "odds": selectors.odds(game_id=game.pk),
            "stats": selectors.game_stats(game_id=game.pk),
            "commitment": selectors.commitment_view(game=game),
            "prize_form": prize_form or PrizeForm(templates=templates),
            "can_manage": scope_of(request).can(perms.GAMES_MANAGE),
            "is_draft": game.status == GameStatus.DRAFT,
            "is_open": selectors.is_open(game, timeutil.now()),
        },
        status=status,
    )


@console_view(perms.GAMES_VIEW)
def game_detail(request: HttpRequest, game_id: int) -> HttpResponse:
    game, g = _game_or_404(request, game_id)
    return _detail(request, game, g)


@require_POST
@console_view(perms.GAMES_MANAGE)
def prize_add(request: HttpRequest, game_id: int) -> HttpResponse:
    game, g = _game_or_404(request, game_id)
    form = PrizeForm(request.POST, templates=template_list(mall_group_id=g.id))
    if form.is_valid():
        try:
            services.prize_save(
                mall_group_id=g.id, game_id=game.pk, prize_id=None, data=form.to_data(), actor=actor_for(request)
            )
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Prize added."))
            return redirect("console:game", game_id=game.pk)
    return _detail(request, game, g, prize_form=form, status=422)


@require_POST
@console_view(perms.GAMES_MANAGE)
def prize_delete(request: HttpRequest, game_id: int, prize_id: int) -> HttpResponse:
    game, g = _game_or_404(request, game_id)
    try:
        services.prize_delete(mall_group_id=g.id, game_id=game.pk, prize_id=prize_id, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Prize removed."))
    return redirect("console:game", game_id=game.pk)


@require_POST
@console_view(perms.GAMES_MANAGE)
def game_publish(request: HttpRequest, game_id: int) -> HttpResponse:
    game, g = _game_or_404(request, game_id)
    try:
        services.game_publish(mall_group_id=g.id, game_id=game.pk, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Published. The seed's SHA-256 is now shown on the game page."))
    return redirect("console:game", game_id=game.pk)


@require_POST
@console_view(perms.GAMES_MANAGE)
def game_end(request: HttpRequest, game_id: int) -> HttpResponse:
    game, g = _game_or_404(request, game_id)
    try:
        services.game_end(mall_group_id=g.id, game_id=game.pk, actor=actor_for(request))
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The game ended and its seed was revealed."))
    return redirect("console:game", game_id=game.pk)


@console_view(perms.GAMES_VIEW)
def game_draws(request: HttpRequest, game_id: int) -> HttpResponse:
    game, g = _game_or_404(request, game_id)
    page, query = page_of(request, selectors.draw_list(game_id=game.pk).order_by("-pk"))
    return render(
        request,
        "console/games/draws.html",
        {
            "nav": "games",
            "g": g,
            "game": game,
            "page_obj": page,
            "query": query,
            "commitment": selectors.commitment_view(game=game),
            "report": selectors.verify(game=game) if request.GET.get("verify") else None,
        },
    )


@console_view(perms.GAMES_DESK)
def desk(request: HttpRequest) -> HttpResponse:
    """The gift desk: type or scan the member's pickup code; POST hands the gift over (once)."""
    g = group_context(request)
    source = request.POST if request.method == "POST" else request.GET
    form = GiftCodeForm(source if "code" in source else None)
    draw, error, status, done = None, "", 200, False
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["code"]
        draw = selectors.draw_by_code(mall_group_id=g.id, code=code)
        if request.method == "POST":
            try:
                services.gift_hand_over(mall_group_id=g.id, code=code, actor=actor_for(request))
            except ApplicationError as exc:
                error, status = str(exc.message), 404 if draw is None else 409
            else:
                done = True
                draw = selectors.draw_by_code(mall_group_id=g.id, code=code)
        elif draw is None:
            error, status = str(_("No prize with this code.")), 404
        elif draw.picked_up_at is not None:
            error = str(_("This gift was already handed over."))
    elif form.is_bound:
        error, status = str(_("No prize with this code.")), 422
    if error:
        form.add_error("code", error)
    return render(
        request,
        "console/games/desk.html",
        {
            "nav": "games_desk",
            "g": g,
            "form": GiftCodeForm() if done else form,
            "draw": draw,
            "done": done,
            "masked_phone": mask_phone(draw.member.phone) if draw is not None and draw.member.phone else "",
        },
        status=status,
    )


def _streaks_page(request: HttpRequest, g: Any, form: StreakRuleForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "console/games/streaks.html",
        {"nav": "games_streaks", "g": g, "form": form, "can_manage": scope_of(request).can(perms.GAMES_MANAGE)},
        status=status,
    )


@require_GET
@console_view(perms.GAMES_VIEW)
def streaks(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    rule = selectors.streak_rule(mall_group_id=g.id)
    form = StreakRuleForm(initial=streak_initial(rule), templates=template_list(mall_group_id=g.id))
    return _streaks_page(request, g, form)


@require_POST
@console_view(perms.GAMES_MANAGE)
def streaks_save(request: HttpRequest) -> HttpResponse:
    g = group_context(request)
    form = StreakRuleForm(request.POST, templates=template_list(mall_group_id=g.id))
    if form.is_valid():
        try:
            services.streak_rule_save(mall_group_id=g.id, data=form.to_data(), actor=actor_for(request))
        except ApplicationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Streak rewards saved."))
            return redirect("console:games_streaks")
    return _streaks_page(request, g, form, status=422)
