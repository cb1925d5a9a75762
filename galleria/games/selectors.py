"""Games reads (docs/games.md): games and their odds, a member's allowance and prizes, the draw log with the
commitment and its reveal, statistics, the desk's gift lookup, and a member's check-in calendar and streak."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from galleria.core import timeutil
from galleria.sales.selectors import member_spend_between

from . import rules
from .models import CheckInDay, Commitment, Draw, Game, Player, Prize, StreakReward, StreakRule
from .types import Allowance, GameStatus, PrizeKind

__all__ = [
    "allowance",
    "calendar_month",
    "commitment_view",
    "draw_by_code",
    "draw_list",
    "game_get",
    "game_list",
    "game_stats",
    "games_open",
    "member_draws",
    "odds",
    "prize_get",
    "prizes",
    "streak_rule",
    "verify",
]


def game_list(*, mall_group_id: int, status: str | None = None) -> QuerySet[Game]:
    qs = Game.objects.filter(mall_group_id=mall_group_id).order_by("-starts_at", "-pk")
    return qs.filter(status=status) if status else qs


def game_get(*, mall_group_id: int, game_id: int) -> Game | None:
    return Game.objects.filter(mall_group_id=mall_group_id, pk=game_id).first()


def games_open(*, mall_group_id: int, now: dt.datetime | None = None) -> list[Game]:
    """Published games a member can see: open now or ended in the last 30 days (their draw log is checkable)."""
    now = now or timeutil.now()
    return list(
        Game.objects.filter(
            mall_group_id=mall_group_id,
            status__in=[GameStatus.PUBLISHED, GameStatus.ENDED],
            ends_at__gt=now - dt.timedelta(days=30),
        )
        .exclude(status=GameStatus.PUBLISHED, starts_at__gt=now + dt.timedelta(days=7))
        .order_by("ends_at", "pk")
    )


def is_open(game: Game, now: dt.datetime) -> bool:
    return game.status == GameStatus.PUBLISHED and game.starts_at <= now < game.ends_at


def prizes(*, game_id: int) -> list[Prize]:
    """In published order: the ranges of the draw."""
    return list(Prize.objects.filter(game_id=game_id).select_related("coupon_template").order_by("position", "pk"))


def prize_get(*, game_id: int, prize_id: int) -> Prize | None:
    return Prize.objects.filter(game_id=game_id, pk=prize_id).first()


@dataclass(frozen=True)
class OddsRow:
    prize: Prize
    percent: str
    left: int | None  # None: unlimited


@dataclass(frozen=True)
class Odds:
    rows: tuple[OddsRow, ...]
    total_weight: int
    expected_cost_fen: int  # per play


def odds(*, game_id: int) -> Odds:
    items = prizes(game_id=game_id)
    total = sum(p.weight for p in items)
    return Odds(
        rows=tuple(
            OddsRow(
                prize=p,
                percent=rules.percent_text(p.weight, total),
                left=None if p.inventory is None else p.inventory - p.won,
            )
            for p in items
        ),
        total_weight=total,
        expected_cost_fen=rules.expected_cost_fen([(p.weight, p.cost_fen) for p in items], total),
    )


@dataclass(frozen=True)
class CommitmentView:
    seed_hash: str
    published_at: dt.datetime
    server_seed: str  # "" until revealed
    revealed: bool


def seed_revealed(game: Game, commitment: Commitment, now: dt.datetime) -> bool:
    """The seed is public once no draw can be made with it: the game ended (by time or by staff)."""
    return commitment.revealed_at is not None or now >= game.ends_at or game.status == GameStatus.ENDED


def commitment_view(*, game: Game, now: dt.datetime | None = None) -> CommitmentView | None:
    commitment = Commitment.objects.filter(game=game).first()
    if commitment is None:
        return None
    revealed = seed_revealed(game, commitment, now or timeutil.now())
    return CommitmentView(
        seed_hash=commitment.seed_hash,
        published_at=commitment.published_at,
        server_seed=commitment.server_seed if revealed else "",
        revealed=revealed,
    )


def _day_counts(player: Player | None, today: dt.date) -> tuple[int, int, int]:
    if player is None:
        return 0, 0, 0
    if player.day != today:
        return player.plays, 0, 0
    return player.plays, player.day_plays, player.day_free


def checked_in_on(*, member_id: int, day: dt.date) -> bool:
    return CheckInDay.objects.filter(member_id=member_id, day=day, is_makeup=False).exists()


def allowance_for(
    *, game: Game, player: Player | None, member_id: int, tz_name: str, mall_id: int | None, now: dt.datetime
) -> Allowance:
    """A member's plays of `game` today (the play service calls it with the player row locked)."""
    today = timeutil.local_date(now, tz_name)
    total, day_plays, day_free = _day_counts(player, today)
    spent = 0
    if game.spend_fen_per_chance and mall_id is not None:
        since, until = timeutil.local_day_bounds(today, tz_name)
        spent = member_spend_between(member_id=member_id, mall_id=mall_id, since=since, until=until)
    free_total, earned = rules.free_plays(
        free_per_day=game.free_per_day,
        chances_per_checkin=game.chances_per_checkin,
        checked_in=bool(game.chances_per_checkin) and checked_in_on(member_id=member_id, day=today),
        spend_fen_per_chance=game.spend_fen_per_chance,
        spent_fen=spent,
    )
    caps = []
    if game.max_per_day:
        caps.append(game.max_per_day - day_plays)
    if game.max_per_game:
        caps.append(game.max_per_game - total)
    cap = min(caps) if caps else None
    free_left = max(0, free_total - day_free)
    if cap is not None:
        free_left = min(free_left, max(0, cap))
    paid_left = None if cap is None else max(0, cap - free_left)
    blocked = ""
    if not is_open(game, now):
        blocked = "not_open"
    elif cap is not None and cap <= 0:
        blocked = "day_limit" if game.max_per_day and game.max_per_day - day_plays <= 0 else "game_limit"
    elif free_left == 0 and not game.entry_points:
        blocked = "no_free_plays"
    return Allowance(
        plays_today=day_plays,
        plays_total=total,
        free_left=free_left,
        earned_today=earned,
        paid_left=paid_left if game.entry_points else 0,
        entry_points=game.entry_points,
        blocked=blocked,
    )


def allowance(*, game: Game, member_id: int, tz_name: str, mall_id: int | None = None) -> Allowance:
    player = Player.objects.filter(game=game, member_id=member_id).first()
    return allowance_for(
        game=game, player=player, member_id=member_id, tz_name=tz_name, mall_id=mall_id, now=timeutil.now()
    )


def member_draws(*, member_id: int, mall_group_id: int, limit: int = 100) -> list[Draw]:
    """The member's plays, newest first, with their prizes (gifts carry the pickup code)."""
    return list(
        Draw.objects.filter(member_id=member_id, mall_group_id=mall_group_id)
        .select_related("game", "prize")
        .order_by("-created_at", "-pk")[:limit]
    )


def member_draw(*, member_id: int, draw_id: int) -> Draw | None:
    return Draw.objects.filter(member_id=member_id, pk=draw_id).select_related("game", "prize").first()


def draw_list(*, game_id: int) -> QuerySet[Draw]:
    return Draw.objects.filter(game_id=game_id).select_related("prize", "drawn_prize").order_by("pk")


def draw_by_code(*, mall_group_id: int, code: str) -> Draw | None:
    code = code.strip().upper()
    if not code:
        return None
    return (
        Draw.objects.filter(mall_group_id=mall_group_id, pickup_code=code)
        .select_related("game", "prize", "member")
        .first()
    )


@dataclass(frozen=True)
class PrizeStat:
    prize: Prize
    given: int
    cost_fen: int


@dataclass(frozen=True)
class GameStats:
    plays: int
    players: int
    paid_plays: int
    points_charged: int
    points_given: int
    sold_out_draws: int
    gifts_waiting: int
    cost_fen: int
    prizes: tuple[PrizeStat, ...]


def game_stats(*, game_id: int) -> GameStats:
    draws = Draw.objects.filter(game_id=game_id)
    totals = draws.aggregate(
        plays=Count("pk"),
        players=Count("member_id", distinct=True),
        paid=Count("pk", filter=Q(is_free=False)),
        charged=Sum("entry_points"),
        given=Sum("points"),
        sold_out=Count("pk", filter=Q(sold_out=True)),
        waiting=Count("pk", filter=~Q(pickup_code="") & Q(picked_up_at__isnull=True)),
    )
    by_prize = dict(draws.filter(prize__isnull=False).values_list("prize_id").annotate(n=Count("pk")))
    rows = tuple(
        PrizeStat(prize=p, given=by_prize.get(p.pk, 0), cost_fen=by_prize.get(p.pk, 0) * p.cost_fen)
        for p in prizes(game_id=game_id)
    )
    return GameStats(
        plays=totals["plays"] or 0,
        players=totals["players"] or 0,
        paid_plays=totals["paid"] or 0,
        points_charged=totals["charged"] or 0,
        points_given=totals["given"] or 0,
        sold_out_draws=totals["sold_out"] or 0,
        gifts_waiting=totals["waiting"] or 0,
        cost_fen=sum(r.cost_fen for r in rows),
        prizes=rows,
    )


@dataclass(frozen=True)
class VerifyReport:
    seed_hash: str
    seed_ok: bool
    draws: int
    problems: tuple[str, ...]


def verify(*, game: Game, server_seed: str | None = None) -> VerifyReport:
    """Recompute every draw of the game from the seed: hash, number, the prize it lands on, and a sold-out outcome
    only where the prize's stock was used up by earlier draws. `server_seed` defaults to the stored one."""
    commitment = Commitment.objects.filter(game=game).first()
    if commitment is None:
        return VerifyReport(seed_hash="", seed_ok=False, draws=0, problems=("not published",))
    seed = server_seed if server_seed is not None else commitment.server_seed
    seed_ok = rules.seed_commitment(seed) == commitment.seed_hash
    items = prizes(game_id=game.pk)
    slots = [rules.Slot(prize_id=p.pk, weight=p.weight) for p in items if p.weight > 0]
    by_id = {p.pk: p for p in items}
    total = sum(s.weight for s in slots)
    problems: list[str] = []
    given: dict[int, int] = {}
    count = 0
    for d in draw_list(game_id=game.pk).iterator():
        count += 1
        number = rules.draw_number(
            server_seed=seed,
            game_id=game.pk,
            member_id=d.member_id,
            seq=d.seq,
            client_seed=d.client_seed,
            total_weight=total,
        )
        landed = slots[rules.pick(slots, number)].prize_id
        if d.total_weight != total or number != d.number:
            problems.append(f"draw {d.pk}: number {d.number} ≠ {number}")
        if landed != d.drawn_prize_id:
            problems.append(f"draw {d.pk}: landed on prize {landed}, recorded {d.drawn_prize_id}")
        stock = by_id[landed].inventory if landed in by_id else None
        if d.sold_out:
            if d.prize_id is not None or stock is None or given.get(landed, 0) < stock:
                problems.append(f"draw {d.pk}: sold out while prize {landed} had stock")
        elif d.prize_id != landed:
            problems.append(f"draw {d.pk}: gave prize {d.prize_id}, drew {landed}")
        else:
            given[landed] = given.get(landed, 0) + 1
    return VerifyReport(seed_hash=commitment.seed_hash, seed_ok=seed_ok, draws=count, problems=tuple(problems))


# ------------------------------------------------------------------------------------------------ streaks


def streak_rule(*, mall_group_id: int) -> StreakRule | None:
    return StreakRule.objects.filter(mall_group_id=mall_group_id).first()


def checkin_days(*, member_id: int, since: dt.date | None = None) -> set[dt.date]:
    qs = CheckInDay.objects.filter(member_id=member_id)
    if since is not None:
        qs = qs.filter(day__gte=since)
    return set(qs.values_list("day", flat=True))


def streak_rewards_paid(*, member_id: int) -> list[tuple[int, dt.date]]:
    return list(StreakReward.objects.filter(member_id=member_id).values_list("milestone", "reached_on"))


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date | None  # None: a blank cell before the 1st
    checked: bool
    makeup: bool
    today: bool
    can_make_up: bool


@dataclass(frozen=True)
class StreakCalendar:
    month: dt.date  # the 1st
    weeks: tuple[tuple[CalendarDay, ...], ...]
    streak: int
    next_milestone: int | None
    days_to_next: int
    checked_today: bool
    makeup_enabled: bool
    makeup_points: int
    makeups_left: int
    rewards: tuple[tuple[int, int, str], ...]  # (milestone, points, coupon name)


def makeups_this_month(*, member_id: int, today: dt.date, tz_name: str) -> int:
    since, _until = timeutil.local_day_bounds(today.replace(day=1), tz_name)
    return CheckInDay.objects.filter(member_id=member_id, is_makeup=True, created_at__gte=since).count()


def calendar_month(*, member_id: int, mall_group_id: int, tz_name: str, month: dt.date | None = None) -> StreakCalendar:
    today = timeutil.local_date(timeutil.now(), tz_name)
    first = (month or today).replace(day=1)
    days = checkin_days(member_id=member_id, since=min(first, today) - dt.timedelta(days=400))
    makeups = set(
        CheckInDay.objects.filter(member_id=member_id, is_makeup=True, day__gte=first).values_list("day", flat=True)
    )
    rule = streak_rule(mall_group_id=mall_group_id)
    enabled = bool(rule and rule.makeup_enabled)
    used = makeups_this_month(member_id=member_id, today=today, tz_name=tz_name) if enabled else 0
    left = max(0, rule.makeup_per_month - used) if rule and enabled else 0
    cells: list[CalendarDay] = [CalendarDay(None, False, False, False, False)] * first.weekday()
    for n in range(1, calendar.monthrange(first.year, first.month)[1] + 1):
        day = first.replace(day=n)
        can = bool(
            rule
            and enabled
            and left
            and not rules.makeup_problem(
                day=day,
                today=today,
                days_back=rule.makeup_days_back,
                done_this_month=used,
                per_month=rule.makeup_per_month,
                checked=day in days,
            )
        )
        cells.append(CalendarDay(day, day in days, day in makeups, day == today, can))
    while len(cells) % 7:
        cells.append(CalendarDay(None, False, False, False, False))
    streak = rules.current_streak(days, today)
    rewards: list[tuple[int, int, str]] = []
    if rule and rule.is_active:
        for m, points, template in (
            (7, rule.reward_7_points, rule.reward_7_template),
            (30, rule.reward_30_points, rule.reward_30_template),
        ):
            if points or template:
                rewards.append((m, points, template.name if template else ""))
    nxt = next((m for m, _points, _coupon in rewards if m > streak), None)  # the next reward configured
    return StreakCalendar(
        month=first,
        weeks=tuple(tuple(cells[i : i + 7]) for i in range(0, len(cells), 7)),
        streak=streak,
        next_milestone=nxt,
        days_to_next=(nxt - streak) if nxt else 0,
        checked_today=today in days,
        makeup_enabled=enabled,
        makeup_points=rule.makeup_points if rule else 0,
        makeups_left=left,
        rewards=tuple(rewards),
    )


def prize_is_gift(prize: Prize | None) -> bool:
    return prize is not None and prize.kind == PrizeKind.GIFT


def game_by_id(*, game_id: int) -> Game | None:
    """Any group's game (the verify command and the public draw log, which anyone may check)."""
    return Game.objects.filter(pk=game_id).first()


def public_draw_log(*, game_id: int, limit: int = 500) -> list[Draw]:
    """What anyone can recompute: seq, member id, client seed, number, prize (newest first)."""
    return list(Draw.objects.filter(game_id=game_id).select_related("prize", "drawn_prize").order_by("-pk")[:limit])
