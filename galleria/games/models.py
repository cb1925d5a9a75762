"""Games tables (docs/games.md): lotteries (wheel, scratch card, blind box) with their prizes, a commitment per
game (the seed whose SHA-256 is published), members' play counters and draws; check-in streaks (the group's rule,
the days checked, the rewards paid).

`Prize.won` counts the prizes given and never passes `inventory` (a CHECK; NULL inventory: unlimited); it grows only
by one conditional UPDATE (games/sql.py), so concurrent draws cannot give more than the stock. `Player` is a
member's counter per game, locked by every play of that member (their sequence number and daily counts)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from galleria.core.models import TimeStampedModel
from galleria.coupons.models import CouponTemplate
from galleria.malls.models import MallGroup
from galleria.members.models import Member

from .types import GameKind, GameStatus, PrizeKind

__all__ = ["CheckInDay", "Commitment", "Draw", "Game", "Player", "Prize", "StreakReward", "StreakRule"]


class Game(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=GameKind.choices)
    title = models.CharField(_("title"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    colour = models.CharField(_("colour"), max_length=7, default="#d9480f")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=10, choices=GameStatus.choices, default=GameStatus.DRAFT)
    entry_points = models.BigIntegerField(_("points per paid play"), default=0)
    free_per_day = models.PositiveSmallIntegerField(_("free plays per day"), default=1)
    max_per_day = models.PositiveSmallIntegerField(_("plays per day at most (0: no limit)"), default=0)
    max_per_game = models.PositiveIntegerField(_("plays per member at most (0: no limit)"), default=0)
    chances_per_checkin = models.PositiveSmallIntegerField(_("extra free plays for checking in today"), default=0)
    spend_fen_per_chance = models.BigIntegerField(_("one extra free play per amount spent today (0: off)"), default=0)

    class Meta:
        verbose_name = _("game")
        verbose_name_plural = _("games")
        indexes = [models.Index(fields=["mall_group", "status", "starts_at"], name="games_game_list")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="games_game_ends_after_start"),
            models.CheckConstraint(condition=Q(entry_points__gte=0), name="games_game_entry_non_negative"),
            models.CheckConstraint(condition=Q(spend_fen_per_chance__gte=0), name="games_game_spend_non_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class Commitment(models.Model):
    """The game's seed: generated at publish; its hash is public from then on, the seed itself after the end."""

    game = models.OneToOneField(Game, on_delete=models.CASCADE, related_name="commitment")
    seed_hash = models.CharField(max_length=64)
    server_seed = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    revealed_at = models.DateTimeField(null=True, blank=True)


class Prize(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="prizes")
    position = models.PositiveSmallIntegerField(default=0)  # published order: the ranges of the draw
    kind = models.CharField(_("kind"), max_length=16, choices=PrizeKind.choices)
    name = models.CharField(_("name"), max_length=40)
    weight = models.PositiveIntegerField(_("weight"))
    inventory = models.PositiveIntegerField(_("stock"), null=True, blank=True)  # NULL: unlimited
    won = models.PositiveIntegerField(default=0)
    points = models.BigIntegerField(_("points"), default=0)
    coupon_template = models.ForeignKey(
        CouponTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cost_fen = models.BigIntegerField(_("cost to the mall (fen)"), default=0)

    class Meta:
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")
        constraints = [
            models.CheckConstraint(
                condition=Q(inventory__isnull=True) | Q(won__lte=F("inventory")), name="games_prize_won_le_inventory"
            ),
            models.CheckConstraint(condition=Q(points__gte=0), name="games_prize_points_non_negative"),
            models.CheckConstraint(condition=Q(cost_fen__gte=0), name="games_prize_cost_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Player(models.Model):
    """A member's plays of one game: the lock row of their plays, their sequence number and today's counts."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    plays = models.PositiveIntegerField(default=0)  # = the last draw's seq
    day = models.DateField(null=True, blank=True)
    day_plays = models.PositiveIntegerField(default=0)
    day_free = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["game", "member"], name="games_player_unique")]


class Draw(TimeStampedModel):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    game = models.ForeignKey(Game, on_delete=models.PROTECT, related_name="draws")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField()
    client_seed = models.CharField(max_length=64, blank=True)
    number = models.BigIntegerField()
    total_weight = models.BigIntegerField()
    drawn_prize = models.ForeignKey(Prize, on_delete=models.PROTECT, related_name="+")
    prize = models.ForeignKey(Prize, null=True, blank=True, on_delete=models.PROTECT, related_name="draws")
    sold_out = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=80)
    entry_points = models.BigIntegerField(default=0)
    is_free = models.BooleanField(default=True)
    points = models.BigIntegerField(default=0)  # points won
    coupon_id = models.BigIntegerField(null=True, blank=True)
    pickup_code = models.CharField(_("pickup code"), max_length=8, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    picked_up_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        indexes = [
            models.Index(fields=["game", "created_at"], name="games_draw_game"),
            models.Index(fields=["member", "created_at"], name="games_draw_member"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "idempotency_key"], name="games_draw_key_unique"),
            models.UniqueConstraint(fields=["game", "member", "seq"], name="games_draw_seq_unique"),
            models.UniqueConstraint(
                fields=["mall_group", "pickup_code"], condition=~Q(pickup_code=""), name="games_draw_code_unique"
            ),
        ]


class StreakRule(TimeStampedModel):
    """A group's check-in streak rewards and make-up check-ins."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    is_active = models.BooleanField(_("streak rewards on"), default=True)
    reward_7_points = models.BigIntegerField(_("points for a 7-day streak"), default=0)
    reward_7_template = models.ForeignKey(
        CouponTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reward_30_points = models.BigIntegerField(_("points for a 30-day streak"), default=0)
    reward_30_template = models.ForeignKey(
        CouponTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    makeup_enabled = models.BooleanField(_("make-up check-ins"), default=False)
    makeup_points = models.BigIntegerField(_("points per make-up check-in"), default=0)
    makeup_days_back = models.PositiveSmallIntegerField(_("make up at most days back"), default=3)
    makeup_per_month = models.PositiveSmallIntegerField(_("make-ups per month"), default=2)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(reward_7_points__gte=0, reward_30_points__gte=0, makeup_points__gte=0),
                name="games_streak_points_non_negative",
            )
        ]


class CheckInDay(models.Model):
    """A day the member checked in (in the mall's time zone), or made up for later."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    is_makeup = models.BooleanField(default=False)
    points_paid = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "day"], name="games_checkin_day_unique")]
        indexes = [models.Index(fields=["member", "is_makeup", "created_at"], name="games_checkin_makeups")]


class StreakReward(models.Model):
    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    milestone = models.PositiveSmallIntegerField()
    run_start = models.DateField()
    reached_on = models.DateField()
    points = models.BigIntegerField(default=0)
    coupon_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "milestone", "run_start"], name="games_streak_reward_unique")
        ]
