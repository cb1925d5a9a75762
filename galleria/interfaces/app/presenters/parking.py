"""Parking in the member app, in plain words: my car (the fee so far with each benefit explained), paying with
points and the wallet, past stays with the explanation stored at exit, free spaces.

Read-only. The fee is always the parking app's (selectors.session_fee, services.pay_quote): nothing here prices a
stay. The rules return explanation keys and params (docs/parking.md, "Explanation keys"); this module turns them
into translated sentences. A stay of a bound plate that entered before the plate was bound is shown as the
member's (its first payment or exit request claims it): it is priced here with the member's benefits, as the
payment will price it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from galleria.core.money import format_cny
from galleria.coupons.selectors import parking_coupons
from galleria.parking import rules, selectors, selectors_app, services
from galleria.parking.types import PaymentSource, SessionException, SessionState
from galleria.points.selectors import points_balance, policy_get
from galleria.wallet.selectors import wallet_balance

from .common import as_dict, as_int, merchant_names

# ---------------------------------------------------------------------------------------------------- words


def plate_text(plate: str) -> str:
    """粤B·12345 (the stored canonical form when it does not parse: never raises)."""
    try:
        return rules.format_plate(plate)
    except rules.PlateError:
        return plate


def is_new_energy(plate: str) -> bool:
    try:
        return rules.plate_kind(plate) == rules.PlateKind.NEW_ENERGY
    except rules.PlateError:
        return False


def duration_text(minutes: int) -> str:
    """95 → "1 h 35 min"; 1500 → "1 d 1 h"; 20 → "20 min"."""
    minutes = max(int(minutes), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": mins} if mins else _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": mins}


@dataclass(frozen=True)
class BenefitRow:
    kind: str
    title: str
    detail: str
    fen: int

    @property
    def used(self) -> bool:
        return self.fen > 0


def benefit_row(line: Mapping[str, Any], *, merchants: Mapping[int, str], tier_name: str = "") -> BenefitRow:
    """One benefit line (selectors' dict, the stored explanation's, or a payment's shorter one) in words."""
    kind = str(line.get("kind") or str(line.get("key", "")).rpartition(".")[2])
    params = as_dict(line.get("params"))
    fen = as_int(line.get("fen"))
    minutes = as_int(line.get("minutes_used"), as_int(params.get("minutes_used")))
    hours = as_int(params.get("hours"))
    if kind == "tier_hours":
        if hours and tier_name:
            title = ngettext("%(n)s free hour for %(tier)s members", "%(n)s free hours for %(tier)s members", hours) % {
                "n": hours,
                "tier": tier_name,
            }
        elif hours:
            title = ngettext("%(n)s free hour for your tier", "%(n)s free hours for your tier", hours) % {"n": hours}
        else:
            title = _("Free hours for your tier")
    elif kind == "spend_hours":
        threshold = as_int(params.get("threshold_fen"))
        if hours and threshold:
            title = ngettext(
                "%(n)s free hour for spending %(threshold)s today",
                "%(n)s free hours for spending %(threshold)s today",
                hours,
            ) % {"n": hours, "threshold": format_cny(threshold)}
        else:
            title = _("Free hours for today's shopping")
    elif kind == "merchant_grant":
        funder = str(line.get("funder_id") or "")
        name = (merchants.get(int(funder)) if funder.isdigit() else None) or _("a shop")
        if hours:
            title = ngettext("%(n)s hour from %(shop)s", "%(n)s hours from %(shop)s", hours) % {
                "n": hours,
                "shop": name,
            }
        else:
            title = _("Hours from %(shop)s") % {"shop": name}
    elif kind == "coupon_hours":
        if hours:
            title = ngettext("Parking coupon: %(n)s free hour", "Parking coupon: %(n)s free hours", hours) % {
                "n": hours
            }
        else:
            title = _("Parking coupon")
    elif kind == "coupon_amount":
        amount = as_int(params.get("amount_fen"))
        title = _("Parking coupon: %(amount)s off") % {"amount": format_cny(amount)} if amount else _("Parking coupon")
    else:
        title = _("Other benefit")
    detail = _detail(kind, fen=fen, minutes=minutes, params=params)
    return BenefitRow(kind=kind, title=title, detail=detail, fen=fen)


def _detail(kind: str, *, fen: int, minutes: int, params: Mapping[str, Any]) -> str:
    if fen <= 0:
        if minutes:
            return _("Covered time that cost nothing (already free or capped).")
        return _("Not needed for this stay.")
    parts = []
    if minutes:
        parts.append(_("covers %(time)s") % {"time": duration_text(minutes)})
    if kind == "spend_hours" and as_int(params.get("spend_today_fen")):
        parts.append(_("you spent %(spend)s today") % {"spend": format_cny(as_int(params.get("spend_today_fen")))})
    return " · ".join(parts)


SEGMENT_TITLES = {
    "parking.segment.day": lambda: _("Day rate"),
    "parking.segment.night": lambda: _("Night rate"),
    "parking.segment.holiday_day": lambda: _("Holiday day rate"),
    "parking.segment.holiday_night": lambda: _("Holiday night rate"),
}


@dataclass(frozen=True)
class SegmentRow:
    title: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    detail: str
    capped_fen: int
    amount_fen: int


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def segment_row(segment: Mapping[str, Any]) -> SegmentRow:
    """One priced run of units: "Day rate 10:00–16:00 · 6 × 60 min at ¥5.00"."""
    title = SEGMENT_TITLES.get(str(segment.get("key", "")), lambda: _("Other rate"))()
    params = as_dict(segment.get("params"))
    units = as_int(segment.get("units"), as_int(params.get("units")))
    unit_minutes = as_int(segment.get("unit_minutes"), as_int(params.get("unit_minutes")))
    price = as_int(segment.get("unit_price_fen"), as_int(params.get("unit_price_fen")))
    detail = ngettext(
        "%(n)s unit of %(minutes)s min at %(price)s", "%(n)s units of %(minutes)s min at %(price)s", units
    ) % {"n": units, "minutes": unit_minutes, "price": format_cny(price)}
    return SegmentRow(
        title=title,
        starts_at=_moment(segment.get("starts_at")),
        ends_at=_moment(segment.get("ends_at")),
        detail=detail,
        capped_fen=as_int(segment.get("period_capped_fen")) + as_int(segment.get("daily_capped_fen")),
        amount_fen=as_int(segment.get("amount_fen"), as_int(params.get("amount_fen"))),
    )


def fee_note(key: str, params: Mapping[str, Any]) -> list[str]:
    """The fee's explanation (FeeResult.key + params), sentence by sentence."""
    if key == "parking.fee.free_stay":
        free = as_int(params.get("free_minutes"))
        return [
            ngettext(
                "Free: a stay of up to %(n)s minute costs nothing.",
                "Free: a stay of up to %(n)s minutes costs nothing.",
                free,
            )
            % {"n": free}
        ]
    if key == "parking.fee.charged":
        units = as_int(params.get("units"))
        free = as_int(params.get("free_minutes"))
        notes = [ngettext("%(n)s billing unit.", "%(n)s billing units.", units) % {"n": units}]
        if free:
            notes.append(
                ngettext(
                    "Stays longer than %(n)s minute are charged from entry.",
                    "Stays longer than %(n)s minutes are charged from entry.",
                    free,
                )
                % {"n": free}
            )
        return notes
    return []


def _merchant_ids(lines: Iterable[Mapping[str, Any]]) -> set[int]:
    return {
        int(str(line["funder_id"]))
        for line in lines
        if line.get("kind") == "merchant_grant" and str(line.get("funder_id") or "").isdigit()
    }


# ---------------------------------------------------------------------------------------------------- my car


@dataclass
class CarCard:
    session_id: int
    car_park_name: str
    plate: str
    is_nev: bool
    entry_at: dt.datetime | None
    stay_text: str
    zone_name: str
    zone_floor: str
    takes_app_payments: bool
    gross_fen: int = 0
    net_fen: int = 0
    paid_fen: int = 0
    due_fen: int = 0
    benefits_fen: int = 0
    benefits: list[BenefitRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    spend_hint: str = ""
    leave_by: dt.datetime | None = None  # paid: leave before this
    leave_by_if_paid_now: dt.datetime | None = None
    grace_minutes: int = 0
    fee_error: bool = False

    @property
    def can_pay(self) -> bool:
        return self.due_fen > 0 and self.takes_app_payments and not self.fee_error

    @property
    def paid_window(self) -> bool:
        """Paid and free to leave until `leave_by`."""
        return self.due_fen == 0 and self.paid_fen > 0 and self.leave_by is not None

    @property
    def extra_since_payment(self) -> bool:
        return self.due_fen > 0 and self.paid_fen > 0


def _spend_hint(session: Any, *, at: dt.datetime, lines: Sequence[Mapping[str, Any]]) -> str:
    """ "Spend ¥80.00 more in the mall today for 2 more free hours" — when a higher spend step is within reach."""
    if not session.car_park.spend_steps:
        return ""
    benefits = selectors.session_benefits(session, at=at)
    if not benefits.spend_steps:  # the once-a-day benefits went to another stay today
        return ""
    have = max(
        (as_int(as_dict(ln.get("params")).get("hours")) for ln in lines if ln.get("kind") == "spend_hours"), default=0
    )
    better = sorted((t, h) for t, h in benefits.spend_steps if t > benefits.spend_today_fen and h > have)
    if not better:
        return ""
    threshold, hours = better[0]
    return ngettext(
        "Spend %(more)s more in the mall today for %(n)s free hour of parking.",
        "Spend %(more)s more in the mall today for %(n)s free hours of parking.",
        hours,
    ) % {"more": format_cny(threshold - benefits.spend_today_fen), "n": hours}


def _as_members(session: Any, member: Any) -> Any:
    """A bound plate's stay not yet claimed is priced as the member's (in memory only: the payment claims it)."""
    if session.member_id is None:
        session.member_id = member.pk
    return session


def car_card(session: Any, *, member: Any, at: dt.datetime, tier_name: str = "") -> CarCard:
    session = _as_members(session, member)
    car_park = session.car_park
    zone = session.zone
    card = CarCard(
        session_id=session.pk,
        car_park_name=car_park.name,
        plate=plate_text(session.plate),
        is_nev=is_new_energy(session.plate),
        entry_at=session.entry_at,
        stay_text=duration_text(int((at - session.entry_at).total_seconds() // 60)) if session.entry_at else "",
        zone_name=zone.name if zone is not None else "",
        zone_floor=zone.floor if zone is not None else "",
        takes_app_payments=car_park.store_id is not None,
        grace_minutes=car_park.leave_grace_minutes,
    )
    try:
        view, result = selectors.session_fee(session, at=at)
    except rules.ParkingRuleError:
        card.fee_error = True
        return card
    names = merchant_names(member=member, merchant_ids=_merchant_ids(view.benefits))
    card.gross_fen, card.net_fen, card.paid_fen, card.due_fen = (
        view.gross_fen,
        view.net_fen,
        view.paid_fen,
        view.due_fen,
    )
    card.benefits_fen = view.benefits_fen
    card.benefits = [benefit_row(line, merchants=names, tier_name=tier_name) for line in view.benefits]
    if result is not None:
        card.notes = fee_note(result.key, result.params)
        card.spend_hint = _spend_hint(session, at=at, lines=view.benefits)
    if view.leave_by is not None and view.due_fen == 0 and view.leave_by >= at:
        card.leave_by = view.leave_by
    card.leave_by_if_paid_now = rules.leave_by(at, car_park.leave_grace_minutes)
    return card


def my_cars(*, member: Any, mall_group_id: int, at: dt.datetime, tier_name: str = "") -> list[CarCard]:
    return [
        car_card(s, member=member, at=at, tier_name=tier_name)
        for s in selectors_app.member_parked_in_group(member_id=member.pk, mall_group_id=mall_group_id)
    ]


# ---------------------------------------------------------------------------------------------------- paying


@dataclass(frozen=True)
class PayOption:
    hours: int
    points: int
    points_fen: int
    wallet_fen: int
    affordable: bool  # the wallet holds the rest


@dataclass(frozen=True)
class CouponChoice:
    coupon_id: int
    title: str  # "2 free hours" / "¥10 off"
    name: str
    valid_until: dt.datetime
    chosen: bool


@dataclass
class PayPage:
    card: CarCard
    due_fen: int  # with the chosen coupons
    points_balance: int
    points_per_hour: int
    hour_fen: int
    max_hours: int
    wallet_fen: int
    options: list[PayOption]
    points_note: str = ""
    coupons: list[CouponChoice] = field(default_factory=list)  # the member's parking coupons usable now
    coupon_ids: tuple[int, ...] = ()  # those chosen (each one usable now)
    coupons_fen: int = 0  # what the chosen coupons take off the fee due

    @property
    def any_affordable(self) -> bool:
        return any(o.affordable for o in self.options)

    @property
    def short_fen(self) -> int:
        """What the wallet lacks even when points pay every hour they can."""
        return max(self.options[-1].wallet_fen - self.wallet_fen, 0) if self.options else 0

    def option(self, hours: int) -> PayOption | None:
        return next((o for o in self.options if o.hours == hours), None)


def _coupon_title(option: Any) -> str:
    if option.hours:
        return ngettext("%(n)s free hour", "%(n)s free hours", option.hours) % {"n": option.hours}
    return _("%(amount)s off") % {"amount": format_cny(option.value_fen)}


def pay_page(
    session: Any, *, member: Any, at: dt.datetime, tier_name: str = "", coupon_ids: Sequence[int] = ()
) -> PayPage:
    """What paying this stay now looks like: the member's parking coupons (those chosen applied first), each choice
    of whole hours of points, and what the wallet (or a gateway) pays."""
    card = car_card(session, member=member, at=at, tier_name=tier_name)
    usable = parking_coupons(member_id=member.pk, at=at)
    chosen = tuple(dict.fromkeys(c for c in coupon_ids if any(o.coupon_id == c for o in usable)))
    balance_points = points_balance(member_id=member.pk)
    wallet = wallet_balance(member_id=member.pk).total_fen
    policy = policy_get(mall_group_id=session.car_park.mall.group_id)
    rate = max(int(policy.redeem_points_per_yuan), 1)
    page = PayPage(
        card=card,
        due_fen=card.due_fen,
        points_balance=balance_points,
        points_per_hour=0,
        hour_fen=0,
        max_hours=0,
        wallet_fen=wallet,
        options=[],
        coupons=[
            CouponChoice(o.coupon_id, _coupon_title(o), o.name, o.valid_until, o.coupon_id in chosen) for o in usable
        ],
        coupon_ids=chosen,
    )
    if card.fee_error or card.due_fen <= 0:
        return page
    view, quote = services.pay_quote(session=session, at=at, coupon_ids=chosen)
    page.due_fen = view.due_fen
    page.coupons_fen = card.due_fen - view.due_fen
    if quote is not None and quote.points_per_step:
        page.points_per_hour = quote.points_per_step
        page.hour_fen = quote.fen // quote.steps if quote.steps else quote.points_per_step * 100 // rate
        page.max_hours = quote.steps
    for hours in range(page.max_hours + 1):
        points = hours * page.points_per_hour
        points_fen = points * 100 // rate
        rest = page.due_fen - points_fen
        if rest < 0:
            break
        page.options.append(PayOption(hours, points, points_fen, rest, rest <= wallet))
    if page.points_per_hour and not page.max_hours:
        if page.due_fen < page.hour_fen:
            page.points_note = _("Points pay whole hours (%(price)s an hour): this fee is less than an hour.") % {
                "price": format_cny(page.hour_fen)
            }
        else:
            page.points_note = _("Points pay whole hours: an hour takes %(n)s points, you have %(balance)s.") % {
                "n": f"{page.points_per_hour:,}",
                "balance": f"{balance_points:,}",
            }
    elif not page.points_per_hour:
        page.points_note = _("Points cannot pay this stay.")
    return page


# ---------------------------------------------------------------------------------------------------- history


@dataclass(frozen=True)
class StayRow:
    session_id: int
    car_park_name: str
    plate: str
    is_nev: bool
    entry_at: dt.datetime | None
    exit_at: dt.datetime | None
    duration: str
    fee_fen: int | None
    paid_fen: int
    state: str
    exception: str  # label, "" when none
    is_problem: bool


def stay_row(session: Any) -> StayRow:
    minutes = (
        int((session.exit_at - session.entry_at).total_seconds() // 60)
        if session.entry_at is not None and session.exit_at is not None
        else None
    )
    exception = str(SessionException(session.exception).label) if session.exception else ""
    return StayRow(
        session_id=session.pk,
        car_park_name=session.car_park.name,
        plate=plate_text(session.plate),
        is_nev=is_new_energy(session.plate),
        entry_at=session.entry_at,
        exit_at=session.exit_at,
        duration=duration_text(minutes) if minutes is not None else "",
        fee_fen=session.fee_fen,
        paid_fen=session.paid_fen,
        state=str(SessionState(session.state).label),
        exception=exception,
        is_problem=session.exception in (SessionException.UNPAID_EXIT, SessionException.NO_EXIT),
    )


@dataclass(frozen=True)
class PaymentRow:
    payment_id: int
    paid_at: dt.datetime
    source: str
    amount_fen: int
    points: int
    points_fen: int
    wallet_fen: int
    other_fen: int
    sale_id: int | None


@dataclass
class StayDetail:
    row: StayRow
    zone: str
    gross_fen: int | None
    benefits_fen: int
    tariff: str
    segments: list[SegmentRow]
    benefits: list[BenefitRow]
    payments: list[PaymentRow]
    note: str


def _payment_rows(payments: Sequence[Any]) -> list[PaymentRow]:
    return [
        PaymentRow(
            payment_id=p.pk,
            paid_at=p.paid_at,
            source=str(PaymentSource(p.source).label),
            amount_fen=p.amount_fen,
            points=p.points_used,
            points_fen=p.amount_fen - p.wallet_fen - p.other_fen,
            wallet_fen=p.wallet_fen,
            other_fen=p.other_fen,
            sale_id=p.sale_id,
        )
        for p in payments
    ]


def stay_detail(session: Any, *, member: Any) -> StayDetail:
    """A past stay, with the explanation stored at its exit. A stay paid before it left has its benefits on its
    payments (the explanation at exit then holds the fee after the payment)."""
    explanation = as_dict(session.explanation)
    payments = selectors_app.session_payments(session_id=session.pk)
    lines: list[Mapping[str, Any]] = [as_dict(b) for b in explanation.get("benefits") or []]
    if not lines:
        lines = [as_dict(b) for p in payments for b in (p.benefits or [])]
    names = merchant_names(member=member, merchant_ids=_merchant_ids(lines))
    zone = session.zone
    return StayDetail(
        row=stay_row(session),
        zone=" · ".join(x for x in ((zone.floor, zone.name) if zone is not None else ()) if x),
        gross_fen=session.gross_fen,
        benefits_fen=sum(max(as_int(ln.get("fen")), 0) for ln in lines),
        tariff=str(explanation.get("tariff") or ""),
        segments=[segment_row(as_dict(s)) for s in explanation.get("segments") or []],
        benefits=[benefit_row(ln, merchants=names) for ln in lines],
        payments=_payment_rows(payments),
        note=session.note,
    )


# ---------------------------------------------------------------------------------------------------- receipt


__all__ = [
    "BenefitRow",
    "CarCard",
    "PayOption",
    "PayPage",
    "PaymentRow",
    "SegmentRow",
    "StayDetail",
    "StayRow",
    "benefit_row",
    "car_card",
    "duration_text",
    "fee_note",
    "is_new_energy",
    "my_cars",
    "pay_page",
    "plate_text",
    "segment_row",
    "stay_detail",
    "stay_row",
]
