"""Forms of the loyalty screens. Amounts are typed in yuan, shares in percent and multipliers as "2.0"; the forms
turn them into fen, basis points and integers, and check what the models' constraints will check (so every
mistake shows next to its field instead of failing the save)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.db.models import Model
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ValidationError as AppValidationError
from galleria.core.money import MAX_AMOUNT_FEN, yuan_to_fen
from galleria.malls.models import Mall
from galleria.merchants.models import Category, Merchant
from galleria.merchants.selectors import mall_list, merchant_options
from galleria.points.models import ExpiryPolicy, Funder, PointsCampaign, PointsPolicy, RuleScope
from galleria.sales.types import LineIn
from galleria.tiers.models import QualifyBy, TierLevel, TierSettings
from galleria.tiers.rules import add_months

from .forms import DateInput
from .loyalty import multiplier_input, percent_input, yuan_input

BP = 10000
MAX_POINTS = 100_000_000  # bounds every points figure a form accepts (the adjustment service uses the same)
SPLIT_RE = re.compile(r"[,，;；、\s]+")
WEEKDAYS = [
    (1, _("Mon")),
    (2, _("Tue")),
    (3, _("Wed")),
    (4, _("Thu")),
    (5, _("Fri")),
    (6, _("Sat")),
    (7, _("Sun")),
]


# ---------------------------------------------------------------------------------------------- fields


class YuanField(forms.CharField):
    """An amount typed in yuan ("128", "128.5", "¥1,280.00") → integer fen, exactly (no rounding)."""

    def __init__(self, *, min_fen: int = 0, max_fen: int = MAX_AMOUNT_FEN, **kwargs: Any) -> None:
        self.min_fen, self.max_fen = min_fen, max_fen
        super().__init__(**kwargs)  # no max_length: its validator would measure the integer
        self.widget.attrs.update(
            {"inputmode": "decimal", "autocomplete": "off", "class": "input-money", "maxlength": "20"}
        )

    def prepare_value(self, value: Any) -> Any:
        return yuan_input(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip().lstrip("¥￥").strip()
        if not text:
            return None
        if len(text) > 20:
            raise forms.ValidationError(_("This amount is too large."), code="max_value")
        try:
            fen = yuan_to_fen(text)
        except AppValidationError as exc:
            raise forms.ValidationError(
                _("Enter an amount in yuan with at most two decimals, e.g. 128.00."), code="invalid"
            ) from exc
        if fen < self.min_fen:
            if self.min_fen == 1:
                raise forms.ValidationError(_("Enter an amount greater than zero."), code="min_value")
            raise forms.ValidationError(
                _("Enter at least ¥%(min)s.") % {"min": yuan_input(self.min_fen)}, code="min_value"
            )
        if fen > self.max_fen:
            raise forms.ValidationError(_("This amount is too large."), code="max_value")
        return fen


class _DecimalBpField(forms.CharField):
    """A decimal typed by a person → integer basis points (`scale` basis points per unit typed)."""

    scale = 100
    places = 2
    min_bp = 0
    max_bp = BP
    messages: dict[str, Any] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # no max_length: its validator would measure the integer
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off", "maxlength": "12"})

    def display(self, bp: int) -> str:
        raise NotImplementedError

    def prepare_value(self, value: Any) -> Any:
        return self.display(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = str(super().to_python(value) or "").strip().lstrip("×xX").rstrip("%").strip()
        if not text:
            return None
        if len(text) > 12:
            raise forms.ValidationError(self.messages["range"], code="range")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise forms.ValidationError(self.messages["invalid"], code="invalid") from exc
        if not number.is_finite():
            raise forms.ValidationError(self.messages["invalid"], code="invalid")
        bp = number * self.scale
        if bp != bp.to_integral_value():
            raise forms.ValidationError(self.messages["precision"], code="invalid")
        result = int(bp)
        if result < self.min_bp or result > self.max_bp:
            raise forms.ValidationError(self.messages["range"], code="range")
        return result


class PercentField(_DecimalBpField):
    """ "12.5" (percent) → 1250 basis points; 0–100 with at most two decimals."""

    messages = {
        "invalid": _("Enter a percentage, e.g. 20 or 12.5."),
        "precision": _("Use at most two decimals."),
        "range": _("Enter a percentage between 0 and 100."),
    }

    def display(self, bp: int) -> str:
        return percent_input(bp)


class MultiplierField(_DecimalBpField):
    """ "2.0" → 20000 basis points of 1×; at least 1.0 (the models require it), at most 100."""

    scale = BP
    min_bp = BP
    max_bp = 100 * BP
    messages = {
        "invalid": _("Enter a multiplier, e.g. 2.0 for double points."),
        "precision": _("Use at most four decimals."),
        "range": _("Enter a multiplier between 1.0 and 100."),
    }

    def display(self, bp: int) -> str:
        return multiplier_input(bp)


class CommaListField(forms.CharField):
    """ "gift_card, tobacco" → ["gift_card", "tobacco"] (commas, Chinese commas, semicolons or new lines)."""

    def __init__(self, *, item_max: int, max_items: int, **kwargs: Any) -> None:
        self.item_max, self.max_items = item_max, max_items
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = str(super().to_python(value) or "")
        items: list[str] = []
        for part in SPLIT_RE.split(text):
            if part and part not in items:
                items.append(part)
        too_long = [item for item in items if len(item) > self.item_max]
        if too_long:
            raise forms.ValidationError(
                _("“%(item)s” is longer than %(n)s characters.") % {"item": too_long[0][:20] + "…", "n": self.item_max},
                code="max_length",
            )
        if len(items) > self.max_items:
            raise forms.ValidationError(_("At most %(n)s entries.") % {"n": self.max_items}, code="max_items")
        return items


class MonthDaysField(forms.CharField):
    """ "1, 15, 28" → [1, 15, 28]."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs["maxlength"] = "200"

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value

    def to_python(self, value: Any) -> list[int]:  # type: ignore[override]
        text = str(super().to_python(value) or "")
        days: set[int] = set()
        for part in SPLIT_RE.split(text):
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= 31:
                raise forms.ValidationError(_("Days of the month are numbers from 1 to 31."), code="invalid")
            days.add(int(part))
        return sorted(days)


def _group_merchants(group_id: int) -> Any:
    return merchant_options(mall_group_id=group_id)


class GroupMerchantField(forms.ModelChoiceField):
    def __init__(self, *, group_id: int, **kwargs: Any) -> None:
        super().__init__(queryset=_group_merchants(group_id), **kwargs)

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Merchant)
        return f"{obj.name} · {obj.mall.name}"


class GroupMerchantsField(forms.ModelMultipleChoiceField):
    def __init__(self, *, group_id: int, **kwargs: Any) -> None:
        super().__init__(queryset=_group_merchants(group_id), **kwargs)

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Merchant)
        return f"{obj.name} · {obj.mall.name}"


class GroupMallField(forms.ModelChoiceField):
    def __init__(self, *, group_id: int, **kwargs: Any) -> None:
        super().__init__(queryset=mall_list(mall_group_id=group_id), **kwargs)

    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Mall)
        return obj.name


def _points(label: Any, *, required: bool = True, min_value: int = 0, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=required, min_value=min_value, max_value=MAX_POINTS, **kwargs)


def _check_split(form: forms.Form, data: dict[str, Any]) -> None:
    """A split needs a share strictly between 0 and 100%; other funders carry no share."""
    funder, share = data.get("funder"), data.get("merchant_share_bp")
    if funder == Funder.SPLIT:
        if share is None or not 0 < share < BP:
            form.add_error("merchant_share_bp", _("A split needs a merchant share between 0 and 100%."))
    elif "merchant_share_bp" in data:
        data["merchant_share_bp"] = BP if funder == Funder.MERCHANT else 0


# ---------------------------------------------------------------------------------------------- points policy


class PointsPolicyForm(forms.Form):
    earn_points = _points(_("Points"), help_text=_("Base rate: points for every amount below."))
    earn_unit_fen = YuanField(label=_("Per amount paid (¥)"), min_fen=1, initial=100)
    min_spend_fen = YuanField(
        label=_("Minimum spend (¥)"), help_text=_("Sales below this earn no points. 0 = no minimum.")
    )
    per_sale_cap = _points(_("Cap per sale"), required=False, help_text=_("Empty = no cap."))
    daily_cap = _points(_("Cap per member per day"), required=False, help_text=_("Empty = no cap (mall-local day)."))
    excluded_categories = CommaListField(
        label=_("Excluded item categories"),
        item_max=40,
        max_items=100,
        help_text=_("Item categories as the POS sends them, separated by commas, e.g. gift_card, tobacco."),
    )
    excluded_skus = CommaListField(
        label=_("Excluded SKUs"), item_max=64, max_items=1000, help_text=_("Separated by commas.")
    )
    funder = forms.ChoiceField(label=_("Points funded by"), choices=Funder.choices)
    merchant_share_bp = PercentField(
        label=_("Merchant share (%)"), required=False, help_text=_("Only for split funding.")
    )
    redeem_points_per_yuan = _points(
        _("Points per ¥1 when paying"), min_value=1, help_text=_("e.g. 100 = 100 points pay ¥1.00.")
    )
    redeem_min_points = _points(_("Minimum points per payment"))
    redeem_multiple = _points(_("Points in whole multiples of"), min_value=1)
    redeem_max_share_bp = PercentField(
        label=_("Points pay at most (percent of a sale)"), help_text=_("100 = points may pay a whole sale.")
    )
    expiry_policy = forms.ChoiceField(label=_("Points expire"), choices=ExpiryPolicy.choices)
    expiry_days = forms.IntegerField(
        label=_("Expiry days"), min_value=1, max_value=3650, required=False, help_text=_("For “N days after earning”.")
    )
    adjustment_approval_threshold = _points(
        _("Adjustments above this need approval (points)"),
        help_text=_("A second person approves larger customer-service adjustments. 0 = every adjustment."),
    )

    def __init__(self, *args: Any, policy: PointsPolicy, **kwargs: Any) -> None:
        if "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(policy, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _check_split(self, data)
        if data.get("expiry_policy") == ExpiryPolicy.DAYS_AFTER_EARN and not data.get("expiry_days"):
            self.add_error("expiry_days", _("Enter after how many days points expire."))
        if not data.get("expiry_days"):
            data["expiry_days"] = 365
        if data.get("min_spend_fen") is None:
            data["min_spend_fen"] = 0
        rate, multiple = data.get("redeem_points_per_yuan"), data.get("redeem_multiple")
        if rate and multiple and (multiple * 100) % rate:
            step = rate // math.gcd(rate, 100)
            self.add_error(
                "redeem_multiple",
                _("At %(rate)s points per ¥1, %(multiple)s points are not worth whole fen: use a multiple of %(step)s.")
                % {"rate": rate, "multiple": multiple, "step": step},
            )
        if data.get("redeem_max_share_bp") is None and "redeem_max_share_bp" not in self.errors:
            self.add_error("redeem_max_share_bp", _("This field is required."))
        return data

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.base_fields}


# ---------------------------------------------------------------------------------------------- earn rules


class EarnRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    scope = forms.ChoiceField(label=_("Applies to"), choices=RuleScope.choices)
    mall = forms.ModelChoiceField(label=_("Mall"), queryset=Mall.objects.none(), required=False)
    category = forms.ChoiceField(label=_("Merchant category"), choices=[("", "—"), *Category.choices], required=False)
    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=Merchant.objects.none(), required=False)
    earn_points = _points(_("Points"))
    earn_unit_fen = YuanField(label=_("Per amount paid (¥)"), min_fen=1)
    funder = forms.ChoiceField(label=_("Points funded by"), choices=Funder.choices)
    merchant_share_bp = PercentField(
        label=_("Merchant share (%)"), required=False, help_text=_("Only for split funding.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)

    TARGETS = {RuleScope.MALL: "mall", RuleScope.CATEGORY: "category", RuleScope.MERCHANT: "merchant"}

    def __init__(self, *args: Any, group_id: int, rule: Any = None, **kwargs: Any) -> None:
        if "initial" not in kwargs:
            if rule is not None:
                kwargs["initial"] = {
                    "name": rule.name,
                    "scope": rule.scope,
                    "mall": rule.mall_id,
                    "category": rule.category,
                    "merchant": rule.merchant_id,
                    "earn_points": rule.earn_points,
                    "earn_unit_fen": rule.earn_unit_fen,
                    "funder": rule.funder,
                    "merchant_share_bp": rule.merchant_share_bp,
                    "is_active": rule.is_active,
                }
            else:
                kwargs["initial"] = {
                    "scope": RuleScope.MERCHANT,
                    "earn_points": 1,
                    "earn_unit_fen": 100,
                    "funder": Funder.MALL,
                    "is_active": True,
                }
        super().__init__(*args, **kwargs)
        self.fields["mall"] = GroupMallField(group_id=group_id, label=_("Mall"), required=False, empty_label="—")
        self.fields["merchant"] = GroupMerchantField(
            group_id=group_id, label=_("Merchant"), required=False, empty_label="—"
        )
        self.order_fields(list(self.base_fields))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        target = self.TARGETS.get(cast(RuleScope, scope)) if scope else None
        if target and not data.get(target) and target not in self.errors:
            message = {
                "mall": _("Choose the mall this rule applies to."),
                "category": _("Choose the merchant category this rule applies to."),
                "merchant": _("Choose the merchant this rule applies to."),
            }[target]
            self.add_error(target, message)
        for other in ("mall", "category", "merchant"):  # only the scope's own target is kept
            if other != target:
                data[other] = "" if other == "category" else None
        _check_split(self, data)
        return data

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"].strip(),
            "scope": d["scope"],
            "mall_id": d["mall"].pk if d.get("mall") else None,
            "category": d.get("category") or "",
            "merchant_id": d["merchant"].pk if d.get("merchant") else None,
            "earn_points": d["earn_points"],
            "earn_unit_fen": d["earn_unit_fen"],
            "funder": d["funder"],
            "merchant_share_bp": d.get("merchant_share_bp") or 0,
            "is_active": bool(d.get("is_active")),
        }


# ---------------------------------------------------------------------------------------------- campaigns


def _matching_day(starts: dt.date, ends: dt.date, weekdays: Sequence[int], month_days: Sequence[int]) -> dt.date | None:
    day = starts
    for _i in range(400):  # a year covers every weekday / day-of-month combination
        if day > ends:
            return None
        if (not weekdays or day.isoweekday() in weekdays) and (not month_days or day.day in month_days):
            return day
        day += dt.timedelta(days=1)
    return day


class PointsCampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    multiplier_bp = MultiplierField(label=_("Multiplier"), help_text=_("2.0 = double points, 1.5 = +50%."))
    starts_on = forms.DateField(label=_("From"), widget=DateInput())
    ends_on = forms.DateField(label=_("Until (inclusive)"), widget=DateInput())
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked = every day."),
    )
    month_days = MonthDaysField(
        label=_("Days of the month"), help_text=_("e.g. 8, 18, 28. Empty = every day."), widget=forms.TextInput()
    )
    categories = forms.MultipleChoiceField(
        label=_("Merchant categories"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked = all categories."),
    )
    merchants = forms.ModelMultipleChoiceField(label=_("Merchants"), queryset=Merchant.objects.none(), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args: Any, group_id: int, campaign: PointsCampaign | None = None, **kwargs: Any) -> None:
        if "initial" not in kwargs:
            if campaign is not None:
                kwargs["initial"] = {
                    "name": campaign.name,
                    "multiplier_bp": campaign.multiplier_bp,
                    "starts_on": campaign.starts_on,
                    "ends_on": campaign.ends_on,
                    "weekdays": campaign.weekdays,
                    "month_days": campaign.month_days,
                    "categories": campaign.categories,
                    "merchants": campaign.merchant_ids,
                    "is_active": campaign.is_active,
                }
            else:
                today = timezone.localdate()
                kwargs["initial"] = {
                    "multiplier_bp": 2 * BP,
                    "starts_on": today,
                    "ends_on": today + dt.timedelta(days=30),
                    "is_active": True,
                }
        super().__init__(*args, **kwargs)
        self.fields["merchants"] = GroupMerchantsField(
            group_id=group_id,
            label=_("Merchants"),
            required=False,
            help_text=_("None chosen = all merchants. Hold Ctrl (⌘) to choose several."),
            widget=forms.SelectMultiple(attrs={"size": 6}),
        )
        self.order_fields(list(self.base_fields))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends:
            if ends < starts:
                self.add_error("ends_on", _("The campaign cannot end before it starts."))
            elif (ends - starts).days > 3660:
                self.add_error("ends_on", _("A campaign lasts at most ten years."))
            elif (
                "weekdays" not in self.errors
                and "month_days" not in self.errors
                and _matching_day(starts, ends, data.get("weekdays") or [], data.get("month_days") or []) is None
            ):
                self.add_error(None, _("No day between these dates matches the weekdays and days of the month."))
        return data

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"].strip(),
            "multiplier_bp": d["multiplier_bp"],
            "starts_on": d["starts_on"],
            "ends_on": d["ends_on"],
            "weekdays": sorted(set(d.get("weekdays") or [])),
            "month_days": d.get("month_days") or [],
            "categories": list(d.get("categories") or []),
            "merchant_ids": sorted(m.pk for m in d.get("merchants") or []),
            "is_active": bool(d.get("is_active")),
        }


class BehaviourRuleForm(forms.Form):
    points = _points(_("Points"), help_text=_("0 = no points for this."))
    max_per_month = forms.IntegerField(
        label=_("At most per month"), min_value=0, max_value=1000, help_text=_("0 = no limit.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)


# ---------------------------------------------------------------------------------------------- tiers


class TierLevelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    threshold = forms.Field(label=_("Threshold"))
    points_multiplier_bp = MultiplierField(label=_("Points multiplier"))
    discount_bp = PercentField(label=_("Member discount (%)"), help_text=_("0 = none; 5 = 5 percent off."))
    free_parking_hours = forms.IntegerField(label=_("Free parking hours"), min_value=0, max_value=72)
    birthday_gift = forms.CharField(label=_("Birthday gift"), max_length=100, required=False)
    lounge_access = forms.BooleanField(label=_("Lounge access"), required=False)
    priority_registration = forms.BooleanField(label=_("Priority event registration"), required=False)

    def __init__(
        self,
        *args: Any,
        level: TierLevel,
        qualify_by: str,
        lower: int | None,
        upper: int | None,
        **kwargs: Any,
    ) -> None:
        if "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(level, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        self.level, self.lower, self.upper = level, lower, upper
        self.by_points = qualify_by == QualifyBy.POINTS
        if self.by_points:
            self.fields["threshold"] = _points(_("Threshold (qualifying points)"))
        else:
            self.fields["threshold"] = YuanField(label=_("Threshold (¥ spent in 12 months)"))
        if level.rank == 0:
            self.fields["threshold"].help_text = _("The entry tier: every member starts here.")
            self.fields["threshold"].widget.attrs["readonly"] = True
        self.order_fields(list(self.base_fields))

    def _amount(self, value: int) -> str:
        return f"{value:,}" if self.by_points else "¥" + yuan_input(value)

    def clean_threshold(self) -> int:
        value = self.cleaned_data.get("threshold")
        if value is None:
            raise forms.ValidationError(_("This field is required."))
        if self.level.rank == 0 and value != 0:
            raise forms.ValidationError(_("The entry tier starts at 0."))
        if self.lower is not None and value <= self.lower:
            raise forms.ValidationError(
                _("Must be above the tier below (%(amount)s).") % {"amount": self._amount(self.lower)}
            )
        if self.upper is not None and value >= self.upper:
            raise forms.ValidationError(
                _("Must be below the tier above (%(amount)s).") % {"amount": self._amount(self.upper)}
            )
        return cast(int, value)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.base_fields}


class TierSettingsForm(forms.Form):
    qualify_by = forms.ChoiceField(
        label=_("Qualify by"),
        choices=QualifyBy.choices,
        help_text=_("Thresholds are not converted when this changes: review them after saving."),
    )
    grace_months = forms.IntegerField(
        label=_("Grace period (months)"),
        min_value=0,
        max_value=24,
        help_text=_("How long a member keeps a tier after falling short. 0 = downgrade at the next review."),
    )
    downgrade_one_step = forms.BooleanField(label=_("Downgrade one step at a time"), required=False)

    def __init__(self, *args: Any, settings_row: TierSettings, **kwargs: Any) -> None:
        if "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(settings_row, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.base_fields}


class TierOverrideForm(forms.Form):
    level_code = forms.ChoiceField(label=_("Tier"))
    until = forms.DateField(label=_("Until (inclusive)"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, levels: Iterable[TierLevel], today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        cast(forms.ChoiceField, self.fields["level_code"]).choices = [(lv.code, lv.name) for lv in levels]
        self.fields["until"].widget.attrs["min"] = today.isoformat()

    def clean_until(self) -> dt.date:
        value = cast(dt.date, self.cleaned_data["until"])
        if value < self.today:
            raise forms.ValidationError(_("The end date cannot be in the past."))
        if value > add_months(self.today, 120):
            raise forms.ValidationError(_("An override lasts at most ten years."))
        return value


class PointsAdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MAX_POINTS,
        max_value=MAX_POINTS,
        help_text=_("Positive to credit, negative to debit."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_points(self) -> int:
        value = cast(int, self.cleaned_data["points"])
        if value == 0:
            raise forms.ValidationError(_("Enter a non-zero number of points."))
        return value


class AdjustmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


# ---------------------------------------------------------------------------------------------- simulator


class SimulatorForm(forms.Form):
    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=Merchant.objects.none())
    member = forms.CharField(
        label=_("Member"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": _("Card number or phone (optional)"), "autocomplete": "off"}),
    )
    at = forms.DateTimeField(
        label=_("Date and time"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    points_to_use = forms.IntegerField(label=_("Points to use"), required=False, min_value=0, max_value=MAX_POINTS)

    def __init__(self, *args: Any, group_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"] = GroupMerchantField(group_id=group_id, label=_("Merchant"), empty_label=None)
        self.order_fields(["merchant", "member", "at", "points_to_use"])


@dataclass
class BasketRow:
    sku: str = ""
    category: str = ""
    amount: str = ""
    error: str = ""


MAX_BASKET_LINES = 50


@dataclass
class Basket:
    """Basket lines typed into the simulator: parallel `sku`, `category` and `amount` (¥) inputs."""

    rows: list[BasketRow]
    lines: list[LineIn]
    error: str = ""

    @property
    def has_errors(self) -> bool:
        return bool(self.error) or any(row.error for row in self.rows)

    @classmethod
    def empty(cls, count: int = 2) -> Basket:
        return cls(rows=[BasketRow() for _i in range(count)], lines=[])

    @classmethod
    def parse(cls, data: QueryDict) -> Basket:
        skus, cats, amounts = data.getlist("sku"), data.getlist("category"), data.getlist("amount")
        count = max(len(skus), len(cats), len(amounts))
        rows: list[BasketRow] = []
        lines: list[LineIn] = []
        for i in range(min(count, MAX_BASKET_LINES)):
            row = BasketRow(
                sku=(skus[i] if i < len(skus) else "").strip()[:64],
                category=(cats[i] if i < len(cats) else "").strip()[:40],
                amount=(amounts[i] if i < len(amounts) else "").strip()[:20],
            )
            rows.append(row)
            if not (row.sku or row.category or row.amount):
                continue
            try:
                fen = yuan_to_fen(row.amount.lstrip("¥￥")) if row.amount else None
            except AppValidationError:
                fen = None
            if fen is None or fen <= 0:
                row.error = str(_("Enter the amount paid for this line in yuan, e.g. 128.00."))
                continue
            name = row.sku or row.category or str(_("Item"))
            lines.append(
                LineIn(sku=row.sku, name=name, quantity=1, unit_price_fen=fen, amount_fen=fen, category=row.category)
            )
        basket = cls(rows=rows or [BasketRow()], lines=lines)
        if count > MAX_BASKET_LINES:
            basket.error = str(_("At most %(n)s lines.") % {"n": MAX_BASKET_LINES})
        elif not lines and not basket.has_errors:
            basket.error = str(_("Add at least one line with an amount."))
        return basket
