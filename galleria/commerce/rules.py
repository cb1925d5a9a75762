"""Pure rules of the points mall (no database, no clock of its own): prices against the group's points rules,
the sale window, limits, the order state machine, pickup codes and order numbers, the editor's checks.

Every function takes what it needs as arguments; tests/test_rules.py runs them without a database."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Mapping

from django.utils.translation import gettext as _

from galleria.points.types import RedeemConfig

from .types import Address, Fulfilment, OrderState, ProductIn, ProductKind, ProductStatus

MAX_QUANTITY = 10  # units in one exchange
MAX_PRICE_POINTS = 100_000_000
MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
MAX_STOCK = 1_000_000
PICKUP_CODE_DIGITS = 8
TITLE_MAX = 60
SUBTITLE_MAX = 80
DESCRIPTION_MAX = 2000

# ------------------------------------------------------------------------------------------------- prices


def points_value_fen(points: int, *, config: RedeemConfig) -> int:
    """What `points` are worth in the checkout (the group's redeem rate). Exact only when `price_problem` is ""."""
    return points * 100 // config.points_per_yuan


def price_problem(price_points: int, *, config: RedeemConfig) -> str:
    """Why a points price cannot go through the checkout under the group's points rules ("" when it can).

    The pipeline takes points as payment (`points.rules.check_redemption`): at least the minimum, in whole
    multiples, worth a whole number of fen. A quantity of an acceptable price is acceptable too (multiples add up
    and stay above the minimum)."""
    if price_points <= 0:
        return _("The points price must be greater than zero.")
    if price_points > MAX_PRICE_POINTS:
        return _("The points price is too large.")
    if price_points < config.min_points:
        return _("The group's points rules take at least %(n)s points at once.") % {"n": config.min_points}
    if price_points % config.multiple:
        return _("The group's points rules take points in whole multiples of %(n)s.") % {"n": config.multiple}
    if (price_points * 100) % config.points_per_yuan:
        return _("At %(rate)s points per ¥1 these points are not worth a whole number of fen.") % {
            "rate": config.points_per_yuan
        }
    return ""


def totals(*, quantity: int, price_points: int, price_fen: int) -> tuple[int, int]:
    """(points, cash fen) of `quantity` units."""
    return quantity * price_points, quantity * price_fen


# ------------------------------------------------------------------------------------------------- availability


def on_sale(
    *, status: str, on_sale_from: dt.datetime | None, on_sale_until: dt.datetime | None, at: dt.datetime
) -> bool:
    """On sale at `at`: status on sale and inside [from, until) (either end open when empty)."""
    if status != ProductStatus.ON_SALE:
        return False
    if on_sale_from is not None and at < on_sale_from:
        return False
    return on_sale_until is None or at < on_sale_until


def tier_ok(*, member_rank: int, min_rank: int | None) -> bool:
    return min_rank is None or member_rank >= min_rank


def limit_problem(
    *, quantity: int, bought_total: int, bought_today: int, per_member: int | None, per_day: int | None
) -> str:
    """The error code when `quantity` more units would pass a limit ("" otherwise). Cancelled orders do not count
    (the caller leaves them out of `bought_*`)."""
    if per_member is not None and bought_total + quantity > per_member:
        return "commerce.limit_reached"
    if per_day is not None and bought_today + quantity > per_day:
        return "commerce.daily_limit_reached"
    return ""


def max_quantity(
    *, stock: int, bought_total: int, bought_today: int, per_member: int | None, per_day: int | None
) -> int:
    """The most units one exchange may take now (0: none)."""
    most = min(MAX_QUANTITY, stock)
    if per_member is not None:
        most = min(most, per_member - bought_total)
    if per_day is not None:
        most = min(most, per_day - bought_today)
    return max(most, 0)


def fulfilments(*, kind: str, allow_pickup: bool, allow_delivery: bool) -> list[str]:
    """How an item may be received: a coupon goes to the member's account; a gift is picked up and/or delivered."""
    if kind == ProductKind.COUPON:
        return [Fulfilment.COUPON]
    return [f for f, ok in ((Fulfilment.PICKUP, allow_pickup), (Fulfilment.DELIVERY, allow_delivery)) if ok]


# ------------------------------------------------------------------------------------------------- orders


def initial_state(fulfilment: str) -> str:
    """A coupon order completes at once (the coupon is issued in the order's transaction)."""
    return OrderState.COMPLETED if fulfilment == Fulfilment.COUPON else OrderState.PAID


def can_cancel(*, state: str, fulfilment: str, by_member: bool, member_cancellable: bool) -> bool:
    """Before pickup or shipping: a paid gift order; a coupon order (the caller also checks the coupons are unused).
    A member may cancel only when the item allows it; staff always may."""
    if by_member and not member_cancellable:
        return False
    if fulfilment == Fulfilment.COUPON:
        return state == OrderState.COMPLETED
    return state == OrderState.PAID


def can_ship(*, state: str, fulfilment: str) -> bool:
    return state == OrderState.PAID and fulfilment == Fulfilment.DELIVERY


def can_hand_over(*, state: str, fulfilment: str) -> bool:
    return state == OrderState.PAID and fulfilment == Fulfilment.PICKUP


def new_pickup_code() -> str:
    """8 random digits (not enumerable: 10⁸ codes for a handful of open orders; the desk screen is staff-only)."""
    return f"{secrets.randbelow(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


_CODE_SEPARATORS = re.compile(r"[\s\-·.]")


def normalise_code(text: str) -> str:
    """A code as staff type or scan it: full-width digits, spaces and dashes allowed; "" when not 8 digits."""
    code = _CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))[:40]
    return code if re.fullmatch(rf"\d{{{PICKUP_CODE_DIGITS}}}", code) else ""


def new_order_number(*, local_day: dt.date) -> str:
    """PM + yymmdd + 10 random digits: unique (a constraint backs it), not guessable, sortable by day."""
    return f"PM{local_day:%y%m%d}{secrets.randbelow(10**10):010d}"


def spaced_code(code: str) -> str:
    """12345678 → 1234 5678 (read aloud at the desk)."""
    return f"{code[:4]} {code[4:]}" if len(code) == PICKUP_CODE_DIGITS else code


# ------------------------------------------------------------------------------------------------- input


_PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,19}$")


def clean_address(*, name: str, phone: str, address: str) -> tuple[Address | None, dict[str, str]]:
    """A delivery address, or the errors per field."""
    name, phone, address = (unicodedata.normalize("NFKC", v or "").strip() for v in (name, phone, address))
    errors: dict[str, str] = {}
    if not name or len(name) > 40:
        errors["ship_name"] = _("Enter the receiver's name (at most 40 characters).")
    if not _PHONE_RE.fullmatch(phone):
        errors["ship_phone"] = _("Enter a phone number the courier can call.")
    if len(address) < 5 or len(address) > 200:
        errors["ship_address"] = _("Enter the full address (5 to 200 characters).")
    if errors:
        return None, errors
    return Address(name=name, phone=phone, address=address), {}


def product_problems(data: ProductIn, *, config: RedeemConfig, creating: bool) -> Mapping[str, str]:
    """The editor's checks, per field ({} when the item may be saved)."""
    errors: dict[str, str] = {}
    if not data.title.strip() or len(data.title) > TITLE_MAX:
        errors["title"] = _("Enter a title of at most %(n)s characters.") % {"n": TITLE_MAX}
    if len(data.subtitle) > SUBTITLE_MAX:
        errors["subtitle"] = _("At most %(n)s characters.") % {"n": SUBTITLE_MAX}
    if len(data.description) > DESCRIPTION_MAX:
        errors["description"] = _("At most %(n)s characters.") % {"n": DESCRIPTION_MAX}
    if data.kind not in ProductKind.values:
        errors["kind"] = _("Choose what the item is.")
    problem = price_problem(data.price_points, config=config)
    if problem:
        errors["price_points"] = problem
    if not 0 <= data.price_fen <= MAX_PRICE_FEN:
        errors["price_fen"] = _("Enter an amount between ¥0 and ¥1,000,000.")
    if data.kind == ProductKind.COUPON and data.coupon_template_id is None:
        errors["coupon_template"] = _("Choose the coupon this item issues.")
    if data.kind == ProductKind.GIFT and not (data.allow_pickup or data.allow_delivery):
        errors["allow_pickup"] = _("A gift is picked up at the service desk, delivered, or both.")
    for name, value in (("per_member_limit", data.per_member_limit), ("per_day_limit", data.per_day_limit)):
        if value is not None and not 1 <= value <= MAX_STOCK:
            errors[name] = _("Leave empty for no limit, or enter at least 1.")
    if (
        data.per_member_limit is not None
        and data.per_day_limit is not None
        and data.per_day_limit > data.per_member_limit
    ):
        errors["per_day_limit"] = _("The daily limit cannot be above the limit per member.")
    if data.on_sale_from and data.on_sale_until and data.on_sale_until <= data.on_sale_from:
        errors["on_sale_until"] = _("The end must be after the start.")
    if data.status not in ProductStatus.values:
        errors["status"] = _("Choose a status.")
    if not -100_000 <= data.sort_order <= 100_000:
        errors["sort_order"] = _("Enter a number between -100000 and 100000.")
    if creating and not 0 <= data.initial_stock <= MAX_STOCK:
        errors["initial_stock"] = _("Enter a stock between 0 and 1,000,000.")
    return errors


def stock_after(*, stock: int, delta: int) -> int | None:
    """The stock after an adjustment, or None when it would go below zero or above the maximum."""
    after = stock + delta
    return after if 0 <= after <= MAX_STOCK else None
