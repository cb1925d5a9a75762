"""Forms of the coupon screens (console and merchant portal): every field of a coupon template, and promotions.

Amounts are typed in yuan, shares and discounts in percent; the forms turn them into fen and basis points. What
a template must hold to make sense (a 满减 needs both amounts, a split needs a share…) is decided by the coupons
app (`rules.template_problems`, raised by the services as TemplateInvalidError); the forms place those problems
next to their fields with the messages below, and the live preview lists them while the form is being filled in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ApplicationError
from galleria.coupons.models import (
    Channel,
    ClaimMethod,
    CouponKind,
    Funder,
    Promotion,
    ScopeKind,
    ThresholdLossPolicy,
    Trigger,
    ValidityKind,
)
from galleria.coupons.services.templates import MUTABLE_AFTER_ACTIVATION, TEMPLATE_FIELDS
from galleria.merchants.models import Category, Merchant
from galleria.tiers.selectors import tier_ladder

from .console.loyalty_forms import (
    MAX_POINTS,
    WEEKDAYS,
    CommaListField,
    GroupMallField,
    GroupMerchantField,
    GroupMerchantsField,
    PercentField,
    YuanField,
)

PROBLEM_MESSAGES: dict[str, Promise] = {
    "coupon_template.value_required": _("Enter the amount off."),
    "coupon_template.threshold_required": _("Enter the minimum spend."),
    "coupon_template.value_over_threshold": _("The amount off cannot be more than the minimum spend."),
    "coupon_template.percent_out_of_range": _("Enter a discount between 0 and 100%."),
    "coupon_template.min_items_required": _("A “buy N items” coupon needs at least 2 items."),
    "coupon_template.exchange_item_required": _("Name the item the coupon is exchanged for."),
    "coupon_template.unit_price_required": _("Enter the special price of one item."),
    "coupon_template.max_units_invalid": _("Enter at least 1 item, or leave it empty for no limit."),
    "coupon_template.parking_hours_required": _("Enter the free parking hours."),
    "coupon_template.scope_empty": _("Choose at least one."),
    "coupon_template.validity_required": _("Set when the coupon is valid."),
    "coupon_template.validity_order": _("The end must be after the start."),
    "coupon_template.share_out_of_range": _("A shared cost needs a merchant share between 0 and 100%."),
    "coupon_template.merchant_funder_needs_merchant": _(
        "A merchant-funded coupon needs an owning merchant or selected merchants."
    ),
    "coupon_template.claim_points_required": _("Enter the points price."),
    "coupon_template.claim_price_required": _("Enter the price."),
    "coupon_template.days_invalid": _("Choose days from the list."),
    "coupon_template.merchant_unknown": _("Choose merchants of this mall group."),
    "coupon_template.mall_unknown": _("Choose a mall of this mall group."),
    "coupon_template.unknown_field": _("This setting is not known."),
    "promotion.value_required": _("Enter the amount off."),
    "promotion.threshold_required": _("Enter the minimum spend."),
    "promotion.percent_out_of_range": _("Enter a discount between 0 and 100%."),
    "promotion.min_items_required": _("A “buy N items” promotion needs at least 2 items."),
    "promotion.unit_price_required": _("Enter the special price of one item."),
    "promotion.max_units_invalid": _("Enter at least 1 item, or leave it empty for no limit."),
    "promotion.tier_required": _("Choose the minimum tier, or a fixed discount."),
    "promotion.window_invalid": _("The end must be after the start."),
    "promotion.share_out_of_range": _("A shared cost needs a merchant share between 0 and 100%."),
}

# The value fields each kind uses (the form shows only these; the others are sent as 0).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    CouponKind.CASH_OFF: ("value_fen", "threshold_fen"),
    CouponKind.PERCENT: ("percent_off_bp", "max_discount_fen", "threshold_fen"),
    CouponKind.THRESHOLD: ("value_fen", "threshold_fen"),
    CouponKind.PER_THRESHOLD: ("value_fen", "threshold_fen", "max_discount_fen"),
    CouponKind.N_ITEMS: ("percent_off_bp", "min_items", "max_discount_fen"),
    CouponKind.PER_ITEM: ("value_fen", "max_units"),
    CouponKind.UNIT_PRICE: ("unit_price_fen", "max_units"),
    CouponKind.EXCHANGE: ("exchange_item", "value_fen"),
    CouponKind.PARKING: ("parking_hours", "value_fen"),
    CouponKind.SHIPPING: ("value_fen",),
}
VALUE_FIELDS: tuple[str, ...] = (
    "value_fen",
    "percent_off_bp",
    "max_discount_fen",
    "threshold_fen",
    "min_items",
    "unit_price_fen",
    "max_units",
    "exchange_item",
    "parking_hours",
)
NULL_VALUE_FIELDS = frozenset({"max_discount_fen", "max_units"})  # empty = no limit
ZERO_DEFAULTS: dict[str, Any] = {
    "value_fen": 0,
    "percent_off_bp": 0,
    "threshold_fen": 0,
    "min_items": 0,
    "unit_price_fen": 0,
    "exchange_item": "",
    "parking_hours": 0,
    "valid_days": 0,
    "min_tier_rank": 0,
    "new_member_days": 30,
    "merchant_share_bp": 0,
    "claim_points": 0,
    "claim_price_fen": 0,
    "trigger_tier_rank": 0,
    "trigger_spend_fen": 0,
    "max_per_sale": 1,
    "description": "",
    "stacking_group": "",
}


class MerchantChecklist(forms.CheckboxSelectMultiple):
    """A long list of merchants (a mall has ~90) as scrolling checkboxes with a filter box, instead of a
    ctrl-click multi-select. `static/galleria/js/coupons.js` reveals the filter and the count of ticked ones and
    sorts the ticked ones first (no inline script: CSP); without script it is a plain scrolling list. The field's
    label points at the filter box."""

    template_name = "galleria/coupons/_merchant_checklist.html"

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        if index is None:
            return f"{id_}_filter" if id_ else ""
        return super().id_for_label(id_, index)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%H:%M")


def _dt(label: Any, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=False, widget=DateTimeLocalInput(), **kwargs)


def _count(label: Any, *, min_value: int = 1, max_value: int = 10_000_000, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=min_value, max_value=max_value, **kwargs)


def tier_choices(group_id: int, *, everyone: Any) -> list[tuple[int, str]]:
    return [(0, str(everyone))] + [
        (level.rank, level.name) for level in tier_ladder(mall_group_id=group_id) if level.rank > 0
    ]


def place_problems(form: forms.Form, exc: ApplicationError, *, aliases: Mapping[str, str] | None = None) -> None:
    """Put a TemplateInvalidError's problems (or any service error's fields) next to the form's fields."""
    aliases = aliases or {}
    placed = False
    for problem in exc.extra.get("problems") or []:
        name = aliases.get(problem.get("field", ""), problem.get("field", ""))
        message: Any = PROBLEM_MESSAGES.get(problem.get("code", ""))
        if name in form.fields and not form.fields[name].disabled:
            form.add_error(name, str(message or exc.fields.get(problem.get("field", ""), exc.message)))
            placed = True
    if not placed:
        for name, message in exc.fields.items():
            name = aliases.get(name, name)
            if name in form.fields and not form.fields[name].disabled:
                form.add_error(name, str(message))
                placed = True
    if not placed:
        form.add_error(None, str(exc.message))


# ---------------------------------------------------------------------------------------------- templates


class CouponTemplateForm(forms.Form):
    """Every field of a coupon template. With `merchant`, the merchant portal's version: owned by and funded by
    that merchant, usable only there (no mall-wide scope, funder or triggers)."""

    # what
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("Members see this name."))
    description = forms.CharField(
        label=_("Description"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=CouponKind.choices)
    mall_id = forms.IntegerField(required=False)  # replaced in __init__
    merchant_id = forms.IntegerField(required=False)  # replaced in __init__
    # value
    value_fen = YuanField(label=_("Amount off (¥)"), required=False)
    percent_off_bp = PercentField(
        label=_("Discount (percent off)"), required=False, help_text=_("Enter 15 for 15 percent off (8.5折).")
    )
    max_discount_fen = YuanField(label=_("Maximum discount (¥)"), required=False, min_fen=1)
    threshold_fen = YuanField(label=_("Minimum spend (¥)"), required=False)
    min_items = _count(_("Minimum items"), min_value=0, max_value=999)
    unit_price_fen = YuanField(label=_("Special price per item (¥)"), required=False)
    max_units = _count(_("Discounted items per purchase"), max_value=9999, help_text=_("Empty = every eligible item."))
    exchange_item = forms.CharField(label=_("Exchange item"), max_length=100, required=False)
    parking_hours = _count(_("Parking hours"), min_value=0, max_value=72)
    # where
    scope_kind = forms.ChoiceField(label=_("Usable at"), choices=ScopeKind.choices)
    scope_categories = forms.MultipleChoiceField(
        label=_("Merchant categories"), choices=Category.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    scope_merchant_ids = forms.MultipleChoiceField(required=False)  # replaced in __init__
    scope_skus = CommaListField(label=_("Products (SKU)"), item_max=64, max_items=1000)
    excluded_merchant_ids = forms.MultipleChoiceField(required=False)  # replaced in __init__
    excluded_skus = CommaListField(label=_("Excluded products (SKU)"), item_max=64, max_items=1000)
    excluded_line_categories = CommaListField(
        label=_("Excluded item categories"),
        item_max=40,
        max_items=100,
        help_text=_("As the POS sends them, e.g. tobacco, gift_card."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    # when
    validity_kind = forms.ChoiceField(label=_("Validity"), choices=ValidityKind.choices, widget=forms.RadioSelect)
    valid_from = _dt(_("Valid from"))
    valid_until = _dt(_("Valid until"))
    valid_days = _count(_("Valid days after claim"), min_value=0, max_value=3650)
    claim_starts_at = _dt(_("Claims open"), help_text=_("Empty = as soon as it is active."))
    claim_ends_at = _dt(_("Claims close"), help_text=_("Empty = until it ends."))
    days_of_week = forms.TypedMultipleChoiceField(
        label=_("Usable on"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked = every day."),
    )
    hours_from = forms.TimeField(label=_("Usable from (mall time)"), required=False, widget=TimeInput())
    hours_until = forms.TimeField(label=_("Usable until (mall time)"), required=False, widget=TimeInput())
    # limits
    total_quantity = _count(_("Total quantity"), help_text=_("Empty = unlimited."))
    per_member_limit = _count(_("Per member"), max_value=1000, help_text=_("Empty = no limit."))
    per_member_daily_limit = _count(_("Per member per day"), max_value=1000, help_text=_("Empty = no limit."))
    min_tier_rank = forms.TypedChoiceField(label=_("Minimum tier"), coerce=int, required=False, choices=[])
    new_members_only = forms.BooleanField(label=_("New members only"), required=False)
    new_member_days = _count(_("New member = joined within (days)"), min_value=0, max_value=3650)
    # funding and stacking
    funder = forms.ChoiceField(label=_("Discount funded by"), choices=Funder.choices)
    merchant_share_bp = PercentField(
        label=_("Merchant share (%)"), required=False, help_text=_("Only for shared funding.")
    )
    stacking_group = forms.CharField(
        label=_("Stacking group"),
        max_length=30,
        required=False,
        help_text=_("Offers of one group are never combined. Empty = no group."),
    )
    is_exclusive = forms.BooleanField(label=_("Cannot be combined with anything"), required=False)
    max_per_sale = _count(_("At most per purchase"), max_value=20)
    # distribution
    is_claimable = forms.BooleanField(label=_("Show in the claim centre"), required=False)
    claim_method = forms.ChoiceField(label=_("Members claim it"), choices=ClaimMethod.choices)
    claim_points = _count(_("Points price"), min_value=0, max_value=MAX_POINTS)
    claim_price_fen = YuanField(label=_("Price (¥)"), required=False, help_text=_("Paid from the member's wallet."))
    trigger = forms.ChoiceField(label=_("Also issued automatically"), choices=Trigger.choices)
    trigger_tier_rank = forms.TypedChoiceField(label=_("On reaching tier"), coerce=int, required=False, choices=[])
    trigger_spend_fen = YuanField(label=_("On spending at least (¥)"), required=False)
    # refunds
    on_threshold_loss = forms.ChoiceField(
        label=_("When a partial refund breaks the minimum"), choices=ThresholdLossPolicy.choices
    )
    restore_on_refund = forms.BooleanField(label=_("Give the coupon back on a full refund"), required=False)

    MERCHANT_HIDDEN = (
        "mall_id",
        "merchant_id",
        "funder",
        "merchant_share_bp",
        "scope_categories",
        "scope_merchant_ids",
        "excluded_merchant_ids",
        "trigger",
        "trigger_tier_rank",
        "trigger_spend_fen",
    )

    def __init__(
        self,
        *args: Any,
        group_id: int,
        template: Any = None,
        merchant: Merchant | None = None,
        **kwargs: Any,
    ) -> None:
        if "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(template)
        super().__init__(*args, **kwargs)
        self.group_id, self.template, self.merchant = group_id, template, merchant
        self.fields["mall_id"] = GroupMallField(
            group_id=group_id,
            label=_("Mall"),
            required=False,
            empty_label=_("All malls of the group"),
            help_text=_("Its time zone counts the daily limits."),
        )
        self.fields["merchant_id"] = GroupMerchantField(
            group_id=group_id,
            label=_("Owned by merchant"),
            required=False,
            empty_label=_("None (a mall coupon)"),
            help_text=_("A merchant's coupon is usable only there."),
        )
        for name, label in (("scope_merchant_ids", _("Merchants")), ("excluded_merchant_ids", _("Excluded merchants"))):
            self.fields[name] = GroupMerchantsField(
                group_id=group_id, label=label, required=False, widget=MerchantChecklist()
            )
        ranks = tier_choices(group_id, everyone=_("Everyone"))
        cast(forms.TypedChoiceField, self.fields["min_tier_rank"]).choices = ranks
        cast(forms.TypedChoiceField, self.fields["trigger_tier_rank"]).choices = [(0, "—"), *ranks[1:]]
        if merchant is not None:
            for name in self.MERCHANT_HIDDEN:
                del self.fields[name]
            scope = self.fields["scope_kind"]
            assert isinstance(scope, forms.ChoiceField)
            scope.choices = [(ScopeKind.ALL, _("All our products")), (ScopeKind.SKUS, _("Selected products"))]
        if template is not None and template.status != "draft":
            for name, f in self.fields.items():
                if name not in MUTABLE_AFTER_ACTIVATION:
                    f.disabled = True
        self.order_fields(list(self.base_fields))

    @staticmethod
    def initial_for(template: Any) -> dict[str, Any]:
        if template is None:
            return {
                "kind": CouponKind.THRESHOLD,
                "scope_kind": ScopeKind.ALL,
                "channel": Channel.BOTH,
                "validity_kind": ValidityKind.RELATIVE,
                "valid_days": 30,
                "new_member_days": 30,
                "funder": Funder.MALL,
                "max_per_sale": 1,
                "is_claimable": True,
                "claim_method": ClaimMethod.FREE,
                "trigger": Trigger.NONE,
                "on_threshold_loss": ThresholdLossPolicy.DEDUCT,
                "restore_on_refund": True,
                "per_member_limit": 1,
            }
        initial = {name: getattr(template, name) for name in TEMPLATE_FIELDS}
        initial["scope_merchant_ids"] = [int(i) for i in template.scope_merchant_ids or []]
        initial["excluded_merchant_ids"] = [int(i) for i in template.excluded_merchant_ids or []]
        return initial

    # -------------------------------------------------------------------------------- values

    def _raw_values(self, data: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in TEMPLATE_FIELDS:
            if name not in self.fields:
                continue
            value = data.get(name)
            if name in ("mall_id", "merchant_id"):
                value = value.pk if value is not None and hasattr(value, "pk") else value
            elif name in ("scope_merchant_ids", "excluded_merchant_ids"):
                value = sorted(int(getattr(m, "pk", m)) for m in value or [])
            elif name in ("scope_categories", "scope_skus", "excluded_skus", "excluded_line_categories"):
                value = list(value or [])
            elif name == "days_of_week":
                value = sorted(int(d) for d in value or [])
            elif name in ZERO_DEFAULTS and value in (None, ""):
                value = ZERO_DEFAULTS[name]
            values[name] = value
        kind = values.get("kind") or ""
        used = KIND_FIELDS.get(kind, VALUE_FIELDS)
        for name in VALUE_FIELDS:  # a value typed for another kind is not kept
            if name not in used and name in values:
                values[name] = None if name in NULL_VALUE_FIELDS else ZERO_DEFAULTS[name]
        if values.get("validity_kind") == ValidityKind.RELATIVE:
            values["valid_from"] = values["valid_until"] = None
        elif "valid_days" in values:
            values["valid_days"] = 0
        if values.get("funder") != Funder.SPLIT and "merchant_share_bp" in values:
            values["merchant_share_bp"] = 0
        if values.get("claim_method") != ClaimMethod.POINTS:
            values["claim_points"] = 0
        if values.get("claim_method") != ClaimMethod.PRICE:
            values["claim_price_fen"] = 0
        if self.merchant is not None:
            values.update(
                merchant_id=self.merchant.pk,
                mall_id=self.merchant.mall_id,
                funder=Funder.MERCHANT,
                merchant_share_bp=0,
                scope_categories=[],
                scope_merchant_ids=[],
                excluded_merchant_ids=[],
            )
            if self.template is None:
                values["trigger"] = Trigger.NONE
        return values

    def values(self) -> dict[str, Any]:
        """What the service gets: all fields for a draft, only the changeable ones once activated."""
        values = self._raw_values(self.cleaned_data)
        if self.template is not None and self.template.status != "draft":
            values = {k: v for k, v in values.items() if k in MUTABLE_AFTER_ACTIVATION}
        return values

    def preview_values(self) -> dict[str, Any]:
        """The values for the live preview: whatever parses (an invalid field reads as empty)."""
        self.is_valid()
        data = dict(getattr(self, "cleaned_data", {}))
        if self.template is not None:
            for name in TEMPLATE_FIELDS:
                f = self.fields.get(name)
                if f is not None and f.disabled:
                    data[name] = self.initial.get(name)
        values = self._raw_values(data)
        if self.template is not None and self.merchant is not None:
            values["trigger"] = self.template.trigger
        return values


# ---------------------------------------------------------------------------------------------- promotions


class PromotionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=Promotion.Kind.choices)
    merchant_id = forms.IntegerField(required=False)  # replaced in __init__
    value_fen = YuanField(label=_("Amount off (¥)"), required=False)
    is_per_step = forms.BooleanField(label=_("For every step (每满减)"), required=False)
    threshold_fen = YuanField(label=_("Minimum spend / step (¥)"), required=False)
    percent_off_bp = PercentField(label=_("Discount (percent off)"), required=False)
    max_discount_fen = YuanField(label=_("Maximum discount (¥)"), required=False, min_fen=1)
    min_items = _count(_("Minimum items"), min_value=0, max_value=999)
    unit_price_fen = YuanField(label=_("Special price per item (¥)"), required=False)
    max_units = _count(_("Discounted items per purchase"), max_value=9999, help_text=_("Empty = every eligible item."))
    members_only = forms.BooleanField(label=_("Members only"), required=False)
    min_tier_rank = forms.TypedChoiceField(label=_("Minimum tier"), coerce=int, required=False, choices=[])
    scope_kind = forms.ChoiceField(label=_("Applies at"), choices=ScopeKind.choices)
    scope_categories = forms.MultipleChoiceField(
        label=_("Merchant categories"), choices=Category.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    scope_merchant_ids = forms.MultipleChoiceField(required=False)  # replaced in __init__
    scope_skus = CommaListField(label=_("Products (SKU)"), item_max=64, max_items=1000)
    excluded_line_categories = CommaListField(label=_("Excluded item categories"), item_max=40, max_items=100)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeLocalInput())
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeLocalInput())
    days_of_week = forms.TypedMultipleChoiceField(
        label=_("Days of the week"), choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    days_of_month = forms.CharField(
        label=_("Days of the month"), required=False, max_length=100, help_text=_("e.g. 8, 18, 28 for member days.")
    )
    hours_from = forms.TimeField(label=_("From (mall time)"), required=False, widget=TimeInput())
    hours_until = forms.TimeField(label=_("Until (mall time)"), required=False, widget=TimeInput())
    funder = forms.ChoiceField(label=_("Discount funded by"), choices=Funder.choices)
    merchant_share_bp = PercentField(label=_("Merchant share (%)"), required=False)
    stacking_group = forms.CharField(label=_("Stacking group"), max_length=30, required=False)
    is_exclusive = forms.BooleanField(label=_("Cannot be combined with anything"), required=False)

    def __init__(self, *args: Any, group_id: int, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "kind": Promotion.Kind.SPEND_THRESHOLD,
                "members_only": True,
                "scope_kind": ScopeKind.ALL,
                "channel": Channel.BOTH,
                "funder": Funder.MALL,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["merchant_id"] = GroupMerchantField(
            group_id=group_id, label=_("Merchant"), required=False, empty_label=_("None (a mall promotion)")
        )
        self.fields["scope_merchant_ids"] = GroupMerchantsField(
            group_id=group_id, label=_("Merchants"), required=False, widget=MerchantChecklist()
        )
        cast(forms.TypedChoiceField, self.fields["min_tier_rank"]).choices = tier_choices(
            group_id, everyone=_("Everyone")
        )
        self.order_fields(list(self.base_fields))

    def clean_days_of_month(self) -> list[int]:
        text = str(self.cleaned_data.get("days_of_month") or "")
        days: set[int] = set()
        for part in text.replace("，", ",").replace(" ", ",").split(","):
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= 31:
                raise forms.ValidationError(_("Days of the month are numbers from 1 to 31."))
            days.add(int(part))
        return sorted(days)

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        merchant = d.get("merchant_id")
        per_unit = d["kind"] in (Promotion.Kind.PER_ITEM, Promotion.Kind.UNIT_PRICE)
        return {
            "merchant_id": merchant.pk if merchant is not None else None,
            "name": d["name"].strip(),
            "kind": d["kind"],
            "value_fen": d.get("value_fen") or 0,
            "is_per_step": bool(d.get("is_per_step")),
            "percent_off_bp": d.get("percent_off_bp") or 0,
            "max_discount_fen": None if per_unit else d.get("max_discount_fen"),
            "threshold_fen": d.get("threshold_fen") or 0,
            "min_items": d.get("min_items") or 0,
            "unit_price_fen": (d.get("unit_price_fen") or 0) if d["kind"] == Promotion.Kind.UNIT_PRICE else 0,
            "max_units": d.get("max_units") if per_unit else None,
            "members_only": bool(d.get("members_only")),
            "min_tier_rank": d.get("min_tier_rank") or 0,
            "scope_kind": d["scope_kind"],
            "scope_categories": list(d.get("scope_categories") or []),
            "scope_merchant_ids": sorted(m.pk for m in d.get("scope_merchant_ids") or []),
            "scope_skus": list(d.get("scope_skus") or []),
            "excluded_line_categories": list(d.get("excluded_line_categories") or []),
            "channel": d["channel"],
            "starts_at": d.get("starts_at"),
            "ends_at": d.get("ends_at"),
            "days_of_week": sorted(int(x) for x in d.get("days_of_week") or []),
            "days_of_month": d.get("days_of_month") or [],
            "hours_from": d.get("hours_from"),
            "hours_until": d.get("hours_until"),
            "funder": d["funder"],
            "merchant_share_bp": (d.get("merchant_share_bp") or 0) if d["funder"] == Funder.SPLIT else 0,
            "stacking_group": (d.get("stacking_group") or "").strip(),
            "is_exclusive": bool(d.get("is_exclusive")),
        }


def is_dt(value: Any) -> bool:
    return isinstance(value, dt.datetime)
