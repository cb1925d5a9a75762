"""Console forms of games (docs/games.md): the game editor, a prize, the gift desk and the streak rewards. Times are
entered mall-local; money in yuan (converted to fen exactly by core.money)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from galleria.games.types import GameIn, GameKind, PrizeIn, PrizeKind, StreakRuleIn


def _dt_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class GameForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=GameKind.choices, initial=GameKind.WHEEL)
    title = forms.CharField(label=_("Title"), max_length=60)
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    colour = forms.CharField(
        label=_("Colour"), max_length=7, initial="#d9480f", widget=forms.TextInput(attrs={"type": "color"})
    )
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=_dt_widget())
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=_dt_widget())
    free_per_day = forms.IntegerField(label=_("Free plays per member per day"), min_value=0, max_value=100, initial=1)
    entry_points = forms.IntegerField(
        label=_("Points per extra play"), min_value=0, max_value=1_000_000, initial=0, help_text=_("0: no paid plays.")
    )
    max_per_day = forms.IntegerField(
        label=_("Plays per member per day at most"), min_value=0, max_value=100, initial=0, help_text=_("0: no limit.")
    )
    max_per_game = forms.IntegerField(
        label=_("Plays per member in this game at most"),
        min_value=0,
        max_value=100_000,
        initial=0,
        help_text=_("0: no limit."),
    )
    chances_per_checkin = forms.IntegerField(
        label=_("Extra free plays for checking in today"), min_value=0, max_value=100, initial=0
    )
    spend_yuan_per_chance = forms.IntegerField(
        label=_("One extra free play per yuan spent today"),
        min_value=0,
        max_value=1_000_000,
        initial=0,
        help_text=_("Spent in the mall the member plays from, today (mall-local). 0: off."),
    )

    def to_data(self) -> GameIn:
        d = self.cleaned_data
        return GameIn(
            kind=d["kind"],
            title=d["title"],
            description=d["description"],
            colour=d["colour"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            entry_points=d["entry_points"],
            free_per_day=d["free_per_day"],
            max_per_day=d["max_per_day"],
            max_per_game=d["max_per_game"],
            chances_per_checkin=d["chances_per_checkin"],
            spend_fen_per_chance=d["spend_yuan_per_chance"] * 100,
        )


def game_initial(game: Any) -> dict[str, Any]:
    return {
        "kind": game.kind,
        "title": game.title,
        "description": game.description,
        "colour": game.colour,
        "starts_at": game.starts_at,
        "ends_at": game.ends_at,
        "free_per_day": game.free_per_day,
        "entry_points": game.entry_points,
        "max_per_day": game.max_per_day,
        "max_per_game": game.max_per_game,
        "chances_per_checkin": game.chances_per_checkin,
        "spend_yuan_per_chance": game.spend_fen_per_chance // 100,
    }


class PrizeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Prize kind"), choices=PrizeKind.choices)
    name = forms.CharField(label=_("Name"), max_length=40)
    weight = forms.IntegerField(
        label=_("Weight"), min_value=0, max_value=1_000_000_000, help_text=_("Odds = weight ÷ the sum of weights.")
    )
    inventory = forms.IntegerField(
        label=_("Stock"), min_value=0, max_value=10_000_000, required=False, help_text=_("Empty: unlimited.")
    )
    points = forms.IntegerField(label=_("Points"), min_value=0, max_value=1_000_000, required=False)
    coupon_template = forms.TypedChoiceField(
        label=_("Coupon"), coerce=int, required=False, empty_value=None, help_text=_("Coupon and parking prizes.")
    )
    cost = forms.DecimalField(
        label=_("Cost to the mall (yuan)"),
        min_value=0,
        max_value=1_000_000,
        decimal_places=2,
        required=False,
        help_text=_("For the expected cost of a play and the statistics."),
    )

    def __init__(self, *args: Any, templates: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coupon_template"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (t.pk, t.name) for t in templates
        ]

    def to_data(self) -> PrizeIn:
        d = self.cleaned_data
        return PrizeIn(
            kind=d["kind"],
            name=d["name"],
            weight=d["weight"],
            inventory=d["inventory"],
            points=d["points"] or 0,
            coupon_template_id=d["coupon_template"],
            cost_fen=int(d["cost"] * 100) if d["cost"] is not None else 0,
        )


class GiftCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "inputmode": "latin"}),
    )


class StreakRuleForm(forms.Form):
    is_active = forms.BooleanField(label=_("Streak rewards on"), required=False, initial=True)
    reward_7_points = forms.IntegerField(label=_("Points for a 7-day streak"), min_value=0, max_value=1_000_000)
    reward_7_template = forms.TypedChoiceField(
        label=_("Coupon for a 7-day streak"), coerce=int, required=False, empty_value=None
    )
    reward_30_points = forms.IntegerField(label=_("Points for a 30-day streak"), min_value=0, max_value=1_000_000)
    reward_30_template = forms.TypedChoiceField(
        label=_("Coupon for a 30-day streak"), coerce=int, required=False, empty_value=None
    )
    makeup_enabled = forms.BooleanField(label=_("Members may make up a missed day"), required=False)
    makeup_points = forms.IntegerField(label=_("Points per make-up"), min_value=0, max_value=1_000_000, initial=0)
    makeup_days_back = forms.IntegerField(label=_("Make up at most days back"), min_value=1, max_value=31, initial=3)
    makeup_per_month = forms.IntegerField(label=_("Make-ups per month"), min_value=0, max_value=31, initial=2)

    def __init__(self, *args: Any, templates: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(t.pk, t.name) for t in templates]
        self.fields["reward_7_template"].choices = choices  # type: ignore[attr-defined]
        self.fields["reward_30_template"].choices = choices  # type: ignore[attr-defined]

    def to_data(self) -> StreakRuleIn:
        d = self.cleaned_data
        return StreakRuleIn(
            is_active=d["is_active"],
            reward_7_points=d["reward_7_points"],
            reward_7_template_id=d["reward_7_template"],
            reward_30_points=d["reward_30_points"],
            reward_30_template_id=d["reward_30_template"],
            makeup_enabled=d["makeup_enabled"],
            makeup_points=d["makeup_points"],
            makeup_days_back=d["makeup_days_back"],
            makeup_per_month=d["makeup_per_month"],
        )


def streak_initial(rule: Any) -> dict[str, Any]:
    if rule is None:
        return {"is_active": True, "reward_7_points": 0, "reward_30_points": 0}
    return {
        "is_active": rule.is_active,
        "reward_7_points": rule.reward_7_points,
        "reward_7_template": rule.reward_7_template_id,
        "reward_30_points": rule.reward_30_points,
        "reward_30_template": rule.reward_30_template_id,
        "makeup_enabled": rule.makeup_enabled,
        "makeup_points": rule.makeup_points,
        "makeup_days_back": rule.makeup_days_back,
        "makeup_per_month": rule.makeup_per_month,
    }
