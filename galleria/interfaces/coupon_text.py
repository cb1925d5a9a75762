"""Coupons in plain words: what a coupon gives, when and where it can be used, and its limits — the coupon card
that members see in the app, merchants at the till, and staff in the console's live preview.

Works on a mapping of template values (the keys of `coupons.services.templates.TEMPLATE_FIELDS`), so the console
can describe a template that is not saved yet. Headlines follow the way Chinese shoppers read coupons (满200减30,
8.5折). A rate is a locale convention rather than a phrase to translate — Chinese states what is paid in tenths
(15% off = 8.5折), English the percentage off — so `rate_words` / `rate_figure` write it for the active language
and the translated sentences carry it as `%(rate)s`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from galleria.core import timeutil
from galleria.core.errors import ApplicationError
from galleria.core.money import format_cny
from galleria.coupons import exceptions as coupon_errors
from galleria.coupons.models import Channel, ClaimMethod, CouponKind, Funder, ScopeKind, ThresholdLossPolicy
from galleria.merchants.models import Category

BP = 10_000
WEEKDAY_NAMES = {
    1: gettext_lazy("Mon"),
    2: gettext_lazy("Tue"),
    3: gettext_lazy("Wed"),
    4: gettext_lazy("Thu"),
    5: gettext_lazy("Fri"),
    6: gettext_lazy("Sat"),
    7: gettext_lazy("Sun"),
}


def yuan(fen: int) -> str:
    """20000 → "200", 19950 → "199.5", 1 → "0.01" (the way coupons print amounts)."""
    text = format(Decimal(int(fen)) / 100, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _trim(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent_off(bp: int) -> str:
    """1500 → "15" (percent off)."""
    return _trim(Decimal(int(bp)) / 100)


def zhe(bp: int) -> str:
    """1500 off → "8.5" (the 折 figure: what is paid, in tenths)."""
    return _trim(Decimal(BP - int(bp)) / 1000)


def _zh() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


def rate_words(bp: int) -> str:
    """1500 → "8.5折" in Chinese, "15% off" otherwise."""
    return f"{zhe(bp)}折" if _zh() else f"{percent_off(bp)}% off"


def rate_figure(bp: int) -> str:
    """The card's big figure for a rate: "8.5" (with the unit 折) in Chinese, "15%" (with "off") otherwise."""
    return zhe(bp) if _zh() else f"{percent_off(bp)}%"


def _int(values: Mapping[str, Any], name: str) -> int:
    value: Any = values.get(name)
    if value in (None, "") or isinstance(value, bool):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _opt_int(values: Mapping[str, Any], name: str) -> int | None:
    value: Any = values.get(name)
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _list(values: Mapping[str, Any], name: str) -> list[Any]:
    value = values.get(name)
    return list(value) if isinstance(value, list | tuple) else []


def _when(moment: dt.datetime | None, *, with_time: bool = True) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def _hm(value: dt.time | None) -> str:
    return value.strftime("%H:%M") if isinstance(value, dt.time) else ""


@dataclass(frozen=True)
class CouponCard:
    """A coupon as a person reads it. `amount` + `amount_unit` is the big figure on the card's left."""

    kind: str
    kind_label: str
    title: str
    description: str
    headline: str
    amount: str
    amount_unit: str
    amount_prefix: str
    condition: str
    validity: str
    usable_when: str
    scope: str
    channel: str
    rules: list[str] = field(default_factory=list)
    claim: str = ""
    funding: str = ""
    is_standalone: bool = False


# ---------------------------------------------------------------------------------------------- value


def _value_parts(v: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    """(headline, amount, amount_prefix, amount_unit, condition)."""
    kind = str(v.get("kind") or "")
    value, threshold = _int(v, "value_fen"), _int(v, "threshold_fen")
    bp, cap, n = _int(v, "percent_off_bp"), _opt_int(v, "max_discount_fen"), _int(v, "min_items")
    if kind == CouponKind.CASH_OFF:
        headline = _("¥%(value)s voucher") % {"value": yuan(value)}
        condition = (
            _("Spend ¥%(threshold)s or more") % {"threshold": yuan(threshold)} if threshold else _("No minimum spend")
        )
        return headline, yuan(value), "¥", "", condition
    if kind == CouponKind.THRESHOLD:
        headline = _("¥%(value)s off when you spend ¥%(threshold)s") % {
            "value": yuan(value),
            "threshold": yuan(threshold),
        }
        return headline, yuan(value), "¥", "", _("Spend ¥%(threshold)s or more") % {"threshold": yuan(threshold)}
    if kind == CouponKind.PER_THRESHOLD:
        headline = _("¥%(value)s off every ¥%(threshold)s") % {"value": yuan(value), "threshold": yuan(threshold)}
        condition = _("Up to ¥%(cap)s off") % {"cap": yuan(cap)} if cap else _("No upper limit")
        return headline, yuan(value), "¥", "", condition
    if kind == CouponKind.PERCENT:
        headline = rate_words(bp)
        condition = _("Up to ¥%(cap)s off") % {"cap": yuan(cap)} if cap else _("No upper limit")
        if threshold:
            condition = _("Spend ¥%(threshold)s or more") % {"threshold": yuan(threshold)} + " · " + condition
        return headline, rate_figure(bp), "", _("off"), condition  # zh: "8.5" "折"
    if kind == CouponKind.N_ITEMS:
        headline = _("%(rate)s when you buy %(n)s items") % {"rate": rate_words(bp), "n": n}
        condition = ngettext("Buy %(n)s item or more", "Buy %(n)s items or more", n) % {"n": n}
        if cap:
            condition += " · " + _("Up to ¥%(cap)s off") % {"cap": yuan(cap)}
        return headline, rate_figure(bp), "", _("off"), condition
    if kind in (CouponKind.PER_ITEM, CouponKind.UNIT_PRICE):
        units = _opt_int(v, "max_units")
        if units:
            condition = ngettext("Up to %(n)s item per purchase", "Up to %(n)s items per purchase", units) % {
                "n": units
            }
        else:
            condition = _("On every eligible item")
        if kind == CouponKind.PER_ITEM:
            headline = _("¥%(value)s off each item") % {"value": yuan(value)}
            return headline, yuan(value), "¥", pgettext("coupon amount unit", "off each"), condition
        price = _int(v, "unit_price_fen")
        headline = _("Special price ¥%(price)s each") % {"price": yuan(price)}
        return headline, yuan(price), "¥", pgettext("coupon amount unit", "each"), condition
    if kind == CouponKind.EXCHANGE:
        item = str(v.get("exchange_item") or "").strip() or _("(item not set)")
        return _("Exchange for %(item)s") % {"item": item}, _("Gift"), "", "", item
    if kind == CouponKind.PARKING:
        hours = _int(v, "parking_hours")
        headline = ngettext("%(n)s hour of free parking", "%(n)s hours of free parking", hours) % {"n": hours}
        return headline, str(hours), "", _("h"), _("Free parking")
    if kind == CouponKind.SHIPPING:
        condition = _("Shipping up to ¥%(value)s") % {"value": yuan(value)} if value else ""
        return _("Free shipping"), _("Free"), "", "", condition
    return _("Coupon"), "", "", "", ""


# ---------------------------------------------------------------------------------------------- when


def validity_text(v: Mapping[str, Any]) -> str:
    if v.get("validity_kind") == "relative":
        days = _int(v, "valid_days")
        return ngettext("Valid for %(n)s day after you get it", "Valid for %(n)s days after you get it", days) % {
            "n": days
        }
    start, end = v.get("valid_from"), v.get("valid_until")
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        return _("Valid %(start)s – %(end)s") % {"start": _when(start), "end": _when(end)}
    if isinstance(end, dt.datetime):
        return _("Valid until %(end)s") % {"end": _when(end)}
    return _("Validity not set")


def usable_when_text(v: Mapping[str, Any]) -> str:
    days = sorted({d for d in _list(v, "days_of_week") if isinstance(d, int) and 1 <= d <= 7})
    hours_from, hours_until = v.get("hours_from"), v.get("hours_until")
    parts = []
    if days and len(days) < 7:
        parts.append(_("Only on %(days)s") % {"days": ", ".join(str(WEEKDAY_NAMES[d]) for d in days)})
    if isinstance(hours_from, dt.time) and isinstance(hours_until, dt.time):
        parts.append(_("%(start)s–%(end)s (mall time)") % {"start": _hm(hours_from), "end": _hm(hours_until)})
    return " · ".join(parts)


# ---------------------------------------------------------------------------------------------- where


def scope_text(v: Mapping[str, Any], *, merchant_names: Mapping[int, str], owner_name: str = "") -> str:
    scope = v.get("scope_kind") or ScopeKind.ALL
    categories = dict(Category.choices)
    if scope == ScopeKind.CATEGORIES:
        names = [str(categories.get(c, c)) for c in _list(v, "scope_categories")]
        text = _("At %(categories)s merchants") % {"categories": ", ".join(names) or "—"}
    elif scope == ScopeKind.MERCHANTS:
        names = [merchant_names.get(int(i), f"#{i}") for i in _list(v, "scope_merchant_ids") if str(i).isdigit()]
        text = _("At %(merchants)s") % {"merchants": ", ".join(names) or "—"}
    elif scope == ScopeKind.SKUS:
        n = len(_list(v, "scope_skus"))
        text = ngettext("On %(n)s selected product", "On %(n)s selected products", n) % {"n": n}
    else:
        text = _("At every merchant in the mall")
    if owner_name:
        text = _("At %(merchant)s only") % {"merchant": owner_name} if scope == ScopeKind.ALL else text
    excluded = [merchant_names.get(int(i), f"#{i}") for i in _list(v, "excluded_merchant_ids") if str(i).isdigit()]
    if excluded:
        text += " · " + _("not at %(merchants)s") % {"merchants": ", ".join(excluded)}
    return text


# ---------------------------------------------------------------------------------------------- limits


def rule_lines(v: Mapping[str, Any], *, tier_names: Mapping[int, str]) -> list[str]:
    lines: list[str] = []
    excluded_lines = _list(v, "excluded_line_categories")
    excluded_skus = _list(v, "excluded_skus")
    if excluded_lines:
        lines.append(_("Not valid on: %(categories)s") % {"categories": ", ".join(str(c) for c in excluded_lines)})
    if excluded_skus:
        lines.append(
            ngettext("%(n)s product is excluded", "%(n)s products are excluded", len(excluded_skus))
            % {"n": len(excluded_skus)}
        )
    total = _opt_int(v, "total_quantity")
    if total is not None:
        lines.append(ngettext("%(n)s coupon in total", "%(n)s coupons in total", total) % {"n": total})
    per_member, per_day = _opt_int(v, "per_member_limit"), _opt_int(v, "per_member_daily_limit")
    if per_member is not None:
        lines.append(ngettext("At most %(n)s per member", "At most %(n)s per member", per_member) % {"n": per_member})
    if per_day is not None:
        lines.append(
            ngettext("At most %(n)s per member per day", "At most %(n)s per member per day", per_day) % {"n": per_day}
        )
    rank = _int(v, "min_tier_rank")
    if rank:
        lines.append(_("For %(tier)s members and above") % {"tier": tier_names.get(rank, _("tier %s") % rank)})
    if v.get("new_members_only"):
        days = _int(v, "new_member_days")
        lines.append(
            ngettext("For new members (joined within %(n)s day)", "For new members (joined within %(n)s days)", days)
            % {"n": days}
        )
    if v.get("is_exclusive"):
        lines.append(_("Cannot be combined with other coupons or promotions"))
    elif v.get("stacking_group"):
        lines.append(_("Cannot be combined with other “%(group)s” offers") % {"group": v.get("stacking_group")})
    max_per_sale = _int(v, "max_per_sale") or 1
    if str(v.get("kind") or "") not in ("exchange", "parking", "shipping"):
        lines.append(
            ngettext("Use %(n)s per purchase", "Use up to %(n)s per purchase", max_per_sale) % {"n": max_per_sale}
        )
    else:
        lines.append(_("Show the code to the merchant staff, who redeem it"))
    if v.get("kind") == CouponKind.UNIT_PRICE:
        lines.append(
            _("Items already priced at ¥%(price)s or less are not discounted further")
            % {"price": yuan(_int(v, "unit_price_fen"))}
        )
    if v.get("kind") in (CouponKind.PER_ITEM, CouponKind.UNIT_PRICE):
        lines.append(_("A refunded item takes its own discount back with it"))
    elif v.get("kind") in ("threshold", "per_threshold", "n_items") or _int(v, "threshold_fen"):
        if v.get("on_threshold_loss") == ThresholdLossPolicy.KEEP:
            lines.append(_("A partial refund keeps the discount"))
        else:
            lines.append(_("If a partial refund takes the purchase below the minimum, the discount is deducted"))
    return lines


def claim_text(v: Mapping[str, Any]) -> str:
    method = v.get("claim_method") or ClaimMethod.FREE
    if method == ClaimMethod.POINTS:
        n = _int(v, "claim_points")
        return ngettext("%(n)s point", "%(n)s points", n) % {"n": f"{n:,}"}
    if method == ClaimMethod.PRICE:
        return format_cny(_int(v, "claim_price_fen"))
    return _("Free")


def funding_text(v: Mapping[str, Any]) -> str:
    funder = v.get("funder") or Funder.MALL
    if funder == Funder.SPLIT:
        share = _int(v, "merchant_share_bp")
        return _("Shared: merchant %(merchant)s%%, mall %(mall)s%%") % {
            "merchant": percent_off(share),
            "mall": percent_off(BP - share),
        }
    return str(dict(Funder.choices).get(str(funder), funder))


def describe(
    values: Mapping[str, Any],
    *,
    merchant_names: Mapping[int, str] | None = None,
    tier_names: Mapping[int, str] | None = None,
    owner_name: str = "",
) -> CouponCard:
    """The card of a template (saved or not): values keyed like the template's fields."""
    kind = str(values.get("kind") or "")
    headline, amount, prefix, unit, condition = _value_parts(values)
    channel = values.get("channel") or Channel.BOTH
    return CouponCard(
        kind=kind,
        kind_label=str(dict(CouponKind.choices).get(kind, kind)),
        title=str(values.get("name") or "").strip() or headline,
        description=str(values.get("description") or ""),
        headline=headline,
        amount=amount,
        amount_prefix=prefix,
        amount_unit=unit,
        condition=condition,
        validity=validity_text(values),
        usable_when=usable_when_text(values),
        scope=scope_text(values, merchant_names=merchant_names or {}, owner_name=owner_name),
        channel=str(dict(Channel.choices).get(str(channel), channel)),
        rules=rule_lines(values, tier_names=tier_names or {}),
        claim=claim_text(values),
        funding=funding_text(values),
        is_standalone=kind in ("exchange", "parking", "shipping"),
    )


def held_validity(valid_from: dt.datetime, valid_until: dt.datetime, tz_name: str | None) -> str:
    """A held coupon's own validity, mall-local."""
    start, end = timeutil.local(valid_from, tz_name), timeutil.local(valid_until, tz_name)
    if end.time() == dt.time(0, 0):  # valid until midnight reads as the last minute of the day before
        end -= dt.timedelta(minutes=1)
    return _("Valid %(start)s – %(end)s") % {
        "start": start.strftime("%Y-%m-%d %H:%M"),
        "end": end.strftime("%Y-%m-%d %H:%M"),
    }


def spaced_code(code: str) -> str:
    """ "ABCD2345EFGH6789" → "ABCD 2345 EFGH 6789" (read aloud, typed at the till)."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def date_text(moment: dt.datetime | None, tz_name: str | None) -> str:
    if moment is None:
        return ""
    return formats.date_format(timeutil.local(moment, tz_name), "Y-m-d H:i")


def _error_classes() -> dict[str, type[ApplicationError]]:
    out: dict[str, type[ApplicationError]] = {}
    for obj in vars(coupon_errors).values():
        if isinstance(obj, type) and issubclass(obj, ApplicationError) and obj.__module__ == coupon_errors.__name__:
            out[obj.code] = obj
    return out


REASON_CLASSES = _error_classes()
EXTRA_REASONS = {
    "coupon.member_invalid": gettext_lazy("There is no such active member."),
    "coupon.grant_target": gettext_lazy("Choose the members to give the coupon to."),
    "coupon.grant_too_large": gettext_lazy("Too many members for one grant."),
}


def reason_message(code: str) -> str:
    """The translated sentence for a coupon reason code (claim centre, code check, service errors)."""
    if not code:
        return ""
    cls = REASON_CLASSES.get(code)
    if cls is not None:
        return str(cls().message)
    return str(EXTRA_REASONS.get(code, _("This coupon cannot be used now.")))


def error_text(exc: ApplicationError) -> str:
    """A service error as a sentence: the coupon reason's message, else the error's own (never a bare code)."""
    if exc.code in REASON_CLASSES or exc.code in EXTRA_REASONS:
        return reason_message(exc.code)
    message = str(exc.message)
    if message == exc.code:
        return str(_("This could not be done. Please check and try again."))
    return message


def masked_code(code: str) -> str:
    """Staff screens and exports never show a whole code (it is what redeems the coupon): "ABCD…6789"."""
    return f"{code[:4]}…{code[-4:]}" if len(code) > 8 else "…"
