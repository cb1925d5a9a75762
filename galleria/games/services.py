"""Games writes (docs/games.md): the console's games and prizes, publishing (the seed and its commitment) and
ending (the reveal), members' plays, the desk's gift hand-over, and check-ins with streak rewards and make-ups.

**A play** is one durable transaction. Lock order, the same in every play:

1. the member's `Player` row of the game (`lock_one`): it serialises one member's plays of one game — the
   idempotency key is checked after taking it (a double tap finds the first draw), and the sequence number and the
   daily counts are taken under it;
2. the drawn prize's row, by one conditional UPDATE (`won = won + 1 WHERE won < inventory`): concurrent plays of
   other members wait for each other only when they drew the same limited prize, and never give more than the stock;
3. the member's points account (`ledger.lock_member_accounts`): the entry charge (`points_spend_in_tx`, source
   `game:<draw id>`) and a points prize (`points_grant_in_tx`, source `game:<draw id>`);
4. a coupon prize's stock shard (`coupon_issue_in_tx`, source `game`, key `game:<draw id>`).

A coupon prize whose template cannot issue (its own stock out, paused) turns the play into "sold out" (the prize
counter is given back) rather than failing the member's play.

**A check-in** locks the member's points account first (it serialises a member's check-ins and pays make-ups),
then records the day (unique per member and day), the daily behaviour points (points' own rule, once per day) and
any streak reward now due (unique per member, milestone and run)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.locking import lock_one
from galleria.coupons import services as coupon_services
from galleria.coupons.selectors import template_get
from galleria.ledger import services as ledger
from galleria.points import services as points_services

from . import exceptions, rules, selectors
from .models import CheckInDay, Commitment, Draw, Game, Player, Prize, StreakReward, StreakRule
from .types import CheckInResult, DrawResult, GameIn, GameStatus, PrizeIn, PrizeKind, StreakRuleIn

MEMBER_POINTS = "member_points"  # ledger AccountKind.MEMBER_POINTS
CHECKIN_EVENT = "checkin"  # points BehaviourEvent.CHECKIN
COUPON_SOURCE = "game"  # coupons CouponSource.GAME
PARKING_KIND = "parking"  # coupons CouponKind.PARKING

__all__ = [
    "check_in",
    "draw",
    "game_end",
    "game_publish",
    "game_save",
    "gift_hand_over",
    "makeup_check_in",
    "member_erase_in_tx",
    "prize_delete",
    "prize_save",
    "streak_rule_save",
]

_GAME_FIELDS = (
    "kind",
    "title",
    "description",
    "colour",
    "starts_at",
    "ends_at",
    "entry_points",
    "free_per_day",
    "max_per_day",
    "max_per_game",
    "chances_per_checkin",
    "spend_fen_per_chance",
)


# ------------------------------------------------------------------------------------------------- console


def _game_problems(data: GameIn) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.title.strip():
        errors["title"] = _("Enter a title.")
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The end must be after the start.")
    if not 0 <= data.entry_points <= 1_000_000:
        errors["entry_points"] = _("Enter a number between %(lo)s and %(hi)s.") % {"lo": 0, "hi": 1_000_000}
    for name in ("free_per_day", "max_per_day", "chances_per_checkin"):
        if not 0 <= getattr(data, name) <= 100:
            errors[name] = _("Enter a number between %(lo)s and %(hi)s.") % {"lo": 0, "hi": 100}
    if not 0 <= data.max_per_game <= 100_000:
        errors["max_per_game"] = _("Enter a number between %(lo)s and %(hi)s.") % {"lo": 0, "hi": 100_000}
    if data.spend_fen_per_chance < 0:
        errors["spend_fen_per_chance"] = _("Enter 0 or more.")
    colour = data.colour.strip()
    if len(colour) != 7 or colour[0] != "#" or any(c not in "0123456789abcdefABCDEF" for c in colour[1:]):
        errors["colour"] = _("Enter a colour like #d9480f.")
    return errors


def _game_locked(mall_group_id: int, game_id: int) -> Game:
    found = selectors.game_get(mall_group_id=mall_group_id, game_id=game_id)
    if found is None:
        raise exceptions.GameNotFoundError()
    return lock_one(Game.objects.filter(pk=found.pk))


def game_save(*, mall_group_id: int, game_id: int | None, data: GameIn, actor: Actor) -> Game:
    """Create or edit a game. A published game keeps its kind (its prizes and odds are frozen with the seed)."""
    errors = _game_problems(data)
    if errors:
        raise exceptions.GameInvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        if game_id is None:
            game = Game(mall_group_id=mall_group_id)
            before: dict[str, object] = {}
        else:
            game = _game_locked(mall_group_id, game_id)
            before = {f: getattr(game, f) for f in _GAME_FIELDS}
            if game.status == GameStatus.ENDED:
                raise exceptions.GameLockedError(_("An ended game cannot change."))
            if game.status == GameStatus.PUBLISHED and data.kind != game.kind:
                raise exceptions.GameInvalidError(
                    _("Check the fields marked."), fields={"kind": _("A published game keeps its kind.")}
                )
        for name in _GAME_FIELDS:
            value = getattr(data, name)
            setattr(game, name, value.strip() if isinstance(value, str) else value)
        game.save()
        after = {f: getattr(game, f) for f in _GAME_FIELDS}
        audit_record(
            actor=actor,
            action="game.create" if game_id is None else "game.update",
            target_type="game",
            target_id=game.pk,
            target_label=game.title,
            mall_group_id=mall_group_id,
            changes={
                k: [_plain(before.get(k)), _plain(v)] for k, v in after.items() if before.get(k) != v or not before
            },
        )
        return game


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _prize_reference_problems(mall_group_id: int, data: PrizeIn) -> dict[str, str]:
    if data.kind not in (PrizeKind.COUPON, PrizeKind.PARKING) or data.coupon_template_id is None:
        return {}
    template = template_get(template_id=data.coupon_template_id, mall_group_id=mall_group_id)
    if template is None:
        return {"coupon_template": _("Choose a coupon of this mall group.")}
    if (template.kind == PARKING_KIND) != (data.kind == PrizeKind.PARKING):
        return {"coupon_template": _("Parking hours are a parking coupon; other coupons are the coupon kind.")}
    return {}


def prize_save(*, mall_group_id: int, game_id: int, prize_id: int | None, data: PrizeIn, actor: Actor) -> Prize:
    """Add or edit a prize of a draft game (a published game's prizes are its published odds)."""
    errors = rules.prize_problems(
        kind=data.kind,
        name=data.name,
        weight=data.weight,
        inventory=data.inventory,
        points=data.points,
        coupon_template_id=data.coupon_template_id,
    ) | _prize_reference_problems(mall_group_id, data)
    if errors:
        raise exceptions.GameInvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        game = _game_locked(mall_group_id, game_id)
        if game.status != GameStatus.DRAFT:
            raise exceptions.GameLockedError()
        if prize_id is None:
            last = Prize.objects.filter(game=game).order_by("-position").values_list("position", flat=True).first()
            prize = Prize(game=game, position=(last or 0) + 1)
        else:
            found = Prize.objects.filter(game=game, pk=prize_id).first()
            if found is None:
                raise exceptions.GameNotFoundError(_("No such prize."))
            prize = found
        prize.kind, prize.name, prize.weight = data.kind, data.name.strip(), data.weight
        prize.inventory, prize.cost_fen = data.inventory, max(0, data.cost_fen)
        prize.points = data.points if data.kind == PrizeKind.POINTS else 0
        uses_coupon = data.kind in (PrizeKind.COUPON, PrizeKind.PARKING)
        prize.coupon_template_id = data.coupon_template_id if uses_coupon else None
        prize.save()
        audit_record(
            actor=actor,
            action="game.prize_save",
            target_type="game",
            target_id=game.pk,
            target_label=game.title,
            mall_group_id=mall_group_id,
            changes={"prize": prize.name, "kind": prize.kind, "weight": prize.weight, "stock": prize.inventory},
        )
        return prize


def prize_delete(*, mall_group_id: int, game_id: int, prize_id: int, actor: Actor) -> None:
    with transaction.atomic(durable=True):
        game = _game_locked(mall_group_id, game_id)
        if game.status != GameStatus.DRAFT:
            raise exceptions.GameLockedError()
        prize = Prize.objects.filter(game=game, pk=prize_id).first()
        if prize is None:
            raise exceptions.GameNotFoundError(_("No such prize."))
        prize.delete()
        audit_record(
            actor=actor,
            action="game.prize_delete",
            target_type="game",
            target_id=game.pk,
            target_label=game.title,
            mall_group_id=mall_group_id,
            changes={"prize": prize.name},
        )


def game_publish(*, mall_group_id: int, game_id: int, actor: Actor) -> Game:
    """Publish a draft: its seed is drawn now and its SHA-256 published; the prizes and odds are frozen."""
    with transaction.atomic(durable=True):
        game = _game_locked(mall_group_id, game_id)
        if game.status != GameStatus.DRAFT:
            raise exceptions.GameLockedError(_("Only a draft can be published."))
        items = list(Prize.objects.filter(game=game))
        if not items or sum(p.weight for p in items) <= 0:
            raise exceptions.GameInvalidError(_("Add prizes with a weight above 0 first."))
        if sum(p.weight for p in items) > rules.MAX_TOTAL_WEIGHT:
            raise exceptions.GameInvalidError(_("The weights add up to more than 1,000,000,000."))
        seed = rules.new_server_seed()
        now = timeutil.now()
        Commitment.objects.create(game=game, server_seed=seed, seed_hash=rules.seed_commitment(seed), published_at=now)
        game.status = GameStatus.PUBLISHED
        game.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="game.publish",
            target_type="game",
            target_id=game.pk,
            target_label=game.title,
            mall_group_id=mall_group_id,
            changes={"seed_hash": rules.seed_commitment(seed)},
        )
        return game


def game_end(*, mall_group_id: int, game_id: int, actor: Actor) -> Game:
    """End a published game now and reveal its seed (a game also ends by itself at `ends_at`)."""
    with transaction.atomic(durable=True):
        game = _game_locked(mall_group_id, game_id)
        if game.status != GameStatus.PUBLISHED:
            raise exceptions.GameLockedError(_("Only a published game can be ended."))
        now = timeutil.now()
        game.status = GameStatus.ENDED
        game.save(update_fields=["status", "updated_at"])
        Commitment.objects.filter(game=game, revealed_at__isnull=True).update(revealed_at=now)
        audit_record(
            actor=actor,
            action="game.end",
            target_type="game",
            target_id=game.pk,
            target_label=game.title,
            mall_group_id=mall_group_id,
            changes={"status": ["published", "ended"]},
        )
        return game


# ------------------------------------------------------------------------------------------------- plays


def _result(d: Draw, *, slot: int, created: bool) -> DrawResult:
    prize = d.prize
    return DrawResult(
        draw_id=d.pk,
        seq=d.seq,
        number=d.number,
        total_weight=d.total_weight,
        prize_id=d.prize_id,
        prize_kind=prize.kind if prize is not None else PrizeKind.THANKS,
        prize_name=prize.name if prize is not None else "",
        drawn_prize_id=d.drawn_prize_id,
        sold_out=d.sold_out,
        slot=slot,
        pickup_code=d.pickup_code,
        coupon_id=d.coupon_id,
        points=d.points,
        entry_points=d.entry_points,
        created=created,
    )


def _new_pickup_code(mall_group_id: int) -> str:
    code = rules.pickup_code()
    while Draw.objects.filter(mall_group_id=mall_group_id, pickup_code=code).exists():
        code = rules.pickup_code()  # pragma: no cover - 1 in 8×10¹¹ per waiting gift
    return code


def _take(prize_id: int) -> bool:
    """One conditional UPDATE: a unit of the prize's stock, or False when it has run out."""
    return (
        Prize.objects.filter(pk=prize_id)
        .filter(Q(inventory__isnull=True) | Q(won__lt=F("inventory")))
        .update(won=F("won") + 1)
        == 1
    )


def _put_back(prize_id: int) -> None:
    Prize.objects.filter(pk=prize_id, won__gt=0).update(won=F("won") - 1)


def draw(
    *,
    member_id: int,
    mall_group_id: int,
    game_id: int,
    idempotency_key: str,
    tz_name: str,
    client_seed: str = "",
    mall_id: int | None = None,
) -> DrawResult:
    """Play once. The result is decided here, before any animation; the same key returns the first result
    (created=False); the same key for another game is IdempotencyConflictError."""
    key = idempotency_key.strip()[:80]
    client_seed = client_seed.strip()[:64]
    if not key:
        raise exceptions.GameInvalidError(_("A request key is required."))
    with transaction.atomic(durable=True):
        game = selectors.game_get(mall_group_id=mall_group_id, game_id=game_id)
        if game is None:
            raise exceptions.GameNotFoundError()
        Player.objects.bulk_create([Player(game=game, member_id=member_id)], ignore_conflicts=True)
        player = lock_one(Player.objects.filter(game=game, member_id=member_id))
        slots_prizes = [p for p in selectors.prizes(game_id=game.pk) if p.weight > 0]
        previous = Draw.objects.filter(member_id=member_id, idempotency_key=key).select_related("prize").first()
        if previous is not None:
            if previous.game_id != game.pk:
                raise exceptions.IdempotencyConflictError(extra={"draw_id": previous.pk})
            ids = [p.pk for p in slots_prizes]
            slot = ids.index(previous.drawn_prize_id) if previous.drawn_prize_id in ids else 0
            return _result(previous, slot=slot, created=False)
        now = timeutil.now()
        allowed = selectors.allowance_for(
            game=game, player=player, member_id=member_id, tz_name=tz_name, mall_id=mall_id, now=now
        )
        if allowed.blocked == "not_open":
            raise exceptions.GameNotOpenError()
        if allowed.blocked:
            raise exceptions.PlayLimitError(extra={"reason": allowed.blocked})
        is_free = allowed.free_left > 0
        account = None
        if not is_free:
            if allowed.paid_left is not None and allowed.paid_left <= 0:
                raise exceptions.PlayLimitError(extra={"reason": "day_limit"})
            account = ledger.lock_member_accounts(
                mall_group_id=mall_group_id, member_id=member_id, kinds=[MEMBER_POINTS]
            )[MEMBER_POINTS]
            available = (account.balance or 0) - account.held  # points held by a checkout or a deposit stay put
            if available < game.entry_points:
                raise exceptions.PointsInsufficientError(extra={"balance": available, "required": game.entry_points})
        commitment = Commitment.objects.get(game=game)
        slots = [rules.Slot(prize_id=p.pk, weight=p.weight) for p in slots_prizes]
        total = sum(s.weight for s in slots)
        seq = player.plays + 1
        number = rules.draw_number(
            server_seed=commitment.server_seed,
            game_id=game.pk,
            member_id=member_id,
            seq=seq,
            client_seed=client_seed,
            total_weight=total,
        )
        index = rules.pick(slots, number)
        drawn = slots_prizes[index]
        taken = _take(drawn.pk)
        row = Draw.objects.create(
            mall_group_id=mall_group_id,
            game=game,
            member_id=member_id,
            seq=seq,
            client_seed=client_seed,
            number=number,
            total_weight=total,
            drawn_prize=drawn,
            prize=drawn if taken else None,
            sold_out=not taken,
            idempotency_key=key,
            entry_points=0 if is_free else game.entry_points,
            is_free=is_free,
        )
        if not is_free and account is not None and game.entry_points:
            points_services.points_spend_in_tx(
                mall_group_id=mall_group_id,
                member_id=member_id,
                points_account=account,
                points=game.entry_points,
                merchant_id=None,
                occurred_at=now,
                source=f"game:{row.pk}",
                explanation={"game": game.pk, "draw": row.pk, "seq": seq},
            )
        if taken:
            _grant_in_tx(row, drawn, game=game, tz_name=tz_name, at=now)
        today = timeutil.local_date(now, tz_name)
        if player.day != today:
            player.day, player.day_plays, player.day_free = today, 0, 0
        player.plays = seq
        player.day_plays += 1
        player.day_free += 1 if is_free else 0
        player.save(update_fields=["plays", "day", "day_plays", "day_free"])
        return _result(row, slot=index, created=True)


def _grant_in_tx(row: Draw, prize: Prize, *, game: Game, tz_name: str, at: dt.datetime) -> None:
    """Give the won prize through its owner's service (see the module's lock order)."""
    source = f"game:{row.pk}"
    if prize.kind == PrizeKind.POINTS and prize.points:
        points_services.points_grant_in_tx(
            mall_group_id=row.mall_group_id,
            member_id=row.member_id,
            points=prize.points,
            source=source,
            memo=game.title,
            explanation={"game": game.pk, "draw": row.pk, "prize": prize.pk},
            at=at,
            tz_name=tz_name,
        )
        row.points = prize.points
        row.save(update_fields=["points", "updated_at"])
    elif prize.kind in (PrizeKind.COUPON, PrizeKind.PARKING) and prize.coupon_template_id:
        try:
            with transaction.atomic():  # a savepoint: a template that cannot issue leaves nothing behind
                issued = coupon_services.coupon_issue_in_tx(
                    mall_group_id=row.mall_group_id,
                    template_id=prize.coupon_template_id,
                    member_id=row.member_id,
                    source_key=source,
                    at=at,
                    source=COUPON_SOURCE,
                )
        except ApplicationError:
            _put_back(prize.pk)
            row.prize, row.sold_out = None, True
            row.save(update_fields=["prize", "sold_out", "updated_at"])
            return
        row.coupon_id = issued.coupon_id
        row.save(update_fields=["coupon_id", "updated_at"])
    elif prize.kind == PrizeKind.GIFT:
        row.pickup_code = _new_pickup_code(row.mall_group_id)
        row.save(update_fields=["pickup_code", "updated_at"])


def gift_hand_over(*, mall_group_id: int, code: str, actor: Actor) -> Draw:
    """The desk hands a won gift over: the code is spent (AlreadyPickedUpError the second time)."""
    with transaction.atomic(durable=True):
        found = selectors.draw_by_code(mall_group_id=mall_group_id, code=code)
        if found is None:
            raise exceptions.DrawNotFoundError()
        row = lock_one(Draw.objects.filter(pk=found.pk))
        if row.picked_up_at is not None:
            raise exceptions.AlreadyPickedUpError(extra={"picked_up_at": row.picked_up_at.isoformat()})
        row.picked_up_at, row.picked_up_by = timeutil.now(), actor.label[:100]
        row.save(update_fields=["picked_up_at", "picked_up_by", "updated_at"])
        audit_record(
            actor=actor,
            action="game.gift_pickup",
            target_type="game_draw",
            target_id=row.pk,
            target_label=row.pickup_code,
            mall_group_id=mall_group_id,
            changes={"game": found.game.title, "prize": found.prize.name if found.prize else ""},
        )
        return row


# ------------------------------------------------------------------------------------------------- streaks


def streak_rule_save(*, mall_group_id: int, data: StreakRuleIn, actor: Actor) -> StreakRule:
    errors: dict[str, str] = {}
    for name in ("reward_7_points", "reward_30_points", "makeup_points"):
        if not 0 <= getattr(data, name) <= 1_000_000:
            errors[name] = _("Enter a number between %(lo)s and %(hi)s.") % {"lo": 0, "hi": 1_000_000}
    if not 1 <= data.makeup_days_back <= 31:
        errors["makeup_days_back"] = _("Enter a number between %(lo)s and %(hi)s.") % {"lo": 1, "hi": 31}
    if not 0 <= data.makeup_per_month <= 31:
        errors["makeup_per_month"] = _("Enter a number between %(lo)s and %(hi)s.") % {"lo": 0, "hi": 31}
    for name in ("reward_7_template_id", "reward_30_template_id"):
        template_id = getattr(data, name)
        if template_id is not None and template_get(template_id=template_id, mall_group_id=mall_group_id) is None:
            errors[name.removesuffix("_id")] = _("Choose a coupon of this mall group.")
    if errors:
        raise exceptions.StreakRuleInvalidError(_("Check the fields marked."), fields=errors)
    with transaction.atomic(durable=True):
        StreakRule.objects.get_or_create(mall_group_id=mall_group_id)
        rule = lock_one(StreakRule.objects.filter(mall_group_id=mall_group_id))
        for name in StreakRuleIn.__dataclass_fields__:
            setattr(rule, name, getattr(data, name))
        rule.save()
        audit_record(
            actor=actor,
            action="game.streak_rule",
            target_type="streak_rule",
            target_id=mall_group_id,
            mall_group_id=mall_group_id,
            changes={
                "7": [data.reward_7_points, data.reward_7_template_id],
                "30": [data.reward_30_points, data.reward_30_template_id],
                "makeup": [data.makeup_enabled, data.makeup_points, data.makeup_days_back, data.makeup_per_month],
            },
        )
        return rule


def _rewards_in_tx(*, mall_group_id: int, member_id: int, day: dt.date, tz_name: str) -> tuple[str, ...]:
    """Pay the streak milestones the run holding `day` has reached and not been paid for (rules.milestones_due)."""
    rule = selectors.streak_rule(mall_group_id=mall_group_id)
    if rule is None or not rule.is_active:
        return ()
    days = selectors.checkin_days(member_id=member_id, since=day - dt.timedelta(days=400))
    run = rules.run_around(days, day)
    paid = []
    at = timeutil.now()
    for milestone, reached_on in rules.milestones_due(
        run=run, paid_on=selectors.streak_rewards_paid(member_id=member_id)
    ):
        points = rule.reward_7_points if milestone == 7 else rule.reward_30_points
        template_id = rule.reward_7_template_id if milestone == 7 else rule.reward_30_template_id
        if not points and template_id is None:
            continue
        reward = StreakReward.objects.create(
            mall_group_id=mall_group_id,
            member_id=member_id,
            milestone=milestone,
            run_start=run[0],
            reached_on=reached_on,
            points=points,
            created_at=at,
        )
        source = f"streak:{reward.pk}"
        if points:
            points_services.points_grant_in_tx(
                mall_group_id=mall_group_id,
                member_id=member_id,
                points=points,
                source=source,
                memo=_("%(n)s-day check-in streak") % {"n": milestone},
                explanation={"streak": milestone, "run_start": run[0].isoformat(), "reward": reward.pk},
                at=at,
                tz_name=tz_name,
            )
        if template_id is not None:
            try:
                with transaction.atomic():
                    issued = coupon_services.coupon_issue_in_tx(
                        mall_group_id=mall_group_id,
                        template_id=template_id,
                        member_id=member_id,
                        source_key=source,
                        at=at,
                        source=COUPON_SOURCE,
                    )
                reward.coupon_id = issued.coupon_id
                reward.save(update_fields=["coupon_id"])
            except ApplicationError:
                pass  # the coupon ran out: the points part (if any) still stands; the reward row says no coupon
        paid.append(str(milestone))
    return tuple(paid)


def check_in(*, member_id: int, mall_group_id: int, tz_name: str, at: dt.datetime | None = None) -> CheckInResult:
    """Today's check-in: the day on the calendar, the daily behaviour points (points' rule, BehaviourAward or None)
    and any streak reward now due. A second check-in the same day changes nothing (created=False). `awarded`: the
    daily points were credited now (points' rule active, not done today, under its monthly limit). `at`: the moment
    of the check-in (the demo's history; the app passes nothing: now)."""
    now = at or timeutil.now()
    today = timeutil.local_date(now, tz_name)
    with transaction.atomic(durable=True):
        account = ledger.lock_member_accounts(mall_group_id=mall_group_id, member_id=member_id, kinds=[MEMBER_POINTS])[
            MEMBER_POINTS
        ]
        _row, created = CheckInDay.objects.get_or_create(
            member_id=member_id, day=today, defaults={"mall_group_id": mall_group_id, "created_at": now}
        )
        award = points_services.behaviour_award_in_tx(
            mall_group_id=mall_group_id,
            member_id=member_id,
            event=CHECKIN_EVENT,
            occasion=today.isoformat(),
            at=now,
            tz_name=tz_name,
            points_account=account,
        )
        rewards = _rewards_in_tx(mall_group_id=mall_group_id, member_id=member_id, day=today, tz_name=tz_name)
        days = selectors.checkin_days(member_id=member_id, since=today - dt.timedelta(days=400))
        return CheckInResult(
            day=today,
            created=created,
            awarded=award is not None,
            points=award.points if award is not None else 0,
            streak=rules.current_streak(days, today),
            rewards=rewards,
        )


MAKEUP_MESSAGES = {
    "disabled": gettext_lazy("Make-up check-ins are not available."),
    "not_past": gettext_lazy("Choose a past day."),
    "too_old": gettext_lazy("That day is too long ago to make up."),
    "already": gettext_lazy("You checked in that day."),
    "month_limit": gettext_lazy("You have used this month's make-up check-ins."),
}


def makeup_check_in(*, member_id: int, mall_group_id: int, day: dt.date, tz_name: str) -> CheckInResult:
    """Check in for a missed day, paying the rule's points (spend, source `game:makeup:<id>`). No daily behaviour
    points for a made-up day; a streak reward it completes is paid unless the run already had it."""
    now = timeutil.now()
    today = timeutil.local_date(now, tz_name)
    rule = selectors.streak_rule(mall_group_id=mall_group_id)
    with transaction.atomic(durable=True):
        account = ledger.lock_member_accounts(mall_group_id=mall_group_id, member_id=member_id, kinds=[MEMBER_POINTS])[
            MEMBER_POINTS
        ]
        if rule is None or not rule.makeup_enabled:
            raise exceptions.MakeupNotAllowedError(MAKEUP_MESSAGES["disabled"], extra={"reason": "disabled"})
        problem = rules.makeup_problem(
            day=day,
            today=today,
            days_back=rule.makeup_days_back,
            done_this_month=selectors.makeups_this_month(member_id=member_id, today=today, tz_name=tz_name),
            per_month=rule.makeup_per_month,
            checked=CheckInDay.objects.filter(member_id=member_id, day=day).exists(),
        )
        if problem:
            raise exceptions.MakeupNotAllowedError(MAKEUP_MESSAGES[problem], extra={"reason": problem})
        available = (account.balance or 0) - account.held  # points held by a checkout or a deposit stay put
        if available < rule.makeup_points:
            raise exceptions.PointsInsufficientError(extra={"balance": available, "required": rule.makeup_points})
        try:
            with transaction.atomic():
                row = CheckInDay.objects.create(
                    mall_group_id=mall_group_id,
                    member_id=member_id,
                    day=day,
                    is_makeup=True,
                    points_paid=rule.makeup_points,
                    created_at=now,
                )
        except IntegrityError as exc:  # pragma: no cover - the points account lock serialises a member's check-ins
            raise exceptions.MakeupNotAllowedError(MAKEUP_MESSAGES["already"]) from exc
        if rule.makeup_points:
            points_services.points_spend_in_tx(
                mall_group_id=mall_group_id,
                member_id=member_id,
                points_account=account,
                points=rule.makeup_points,
                merchant_id=None,
                occurred_at=now,
                source=f"game:makeup:{row.pk}",
                explanation={"makeup": day.isoformat()},
            )
        rewards = _rewards_in_tx(mall_group_id=mall_group_id, member_id=member_id, day=day, tz_name=tz_name)
        days = selectors.checkin_days(member_id=member_id, since=today - dt.timedelta(days=400))
        return CheckInResult(
            day=day, created=True, awarded=False, points=0, streak=rules.current_streak(days, today), rewards=rewards
        )


# ------------------------------------------------------------------------------------------------- privacy


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: list[str]) -> int:
    """Erasure (settings.GALLERIA_ERASURE_HANDLERS): gifts the member has not picked up can no longer be claimed
    (their codes are cleared). Draws and check-in days hold no personal data and stay (the draw log stays
    verifiable)."""
    return (
        Draw.objects.filter(member_id=member_id, picked_up_at__isnull=True)
        .exclude(pickup_code="")
        .update(pickup_code="")
    )
