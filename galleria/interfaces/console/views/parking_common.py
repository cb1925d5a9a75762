"""What the console's parking pages share: the car park a URL names (another group's is a 404), CSV responses, and
fee explanations in words — the rules explain a fee with keys and numbers (docs/parking.md, "The result explains
itself"); these turn the segments and benefit lines, stored at exit or computed now, into rows a person reads."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from galleria.interfaces.common import scope_of
from galleria.parking import rules, selectors_console

from ..loyalty import GroupContext, group_context

EXPORT_MAX = 50_000

BENEFIT_LABELS: dict[str, Promise] = {
    "tier_hours": gettext_lazy("Tier free hours"),
    "spend_hours": gettext_lazy("Same-day spend hours"),
    "merchant_grant": gettext_lazy("Merchant grant"),
    "coupon_hours": gettext_lazy("Parking coupon (hours)"),
    "coupon_amount": gettext_lazy("Parking coupon (amount)"),
}
FUNDER_LABELS: dict[str, Promise] = {
    "mall": gettext_lazy("The mall"),
    "merchant": gettext_lazy("The merchant"),
    "coupon": gettext_lazy("As the coupon's terms say"),
}
BAND_LABELS: dict[tuple[str, bool], Promise] = {
    ("day", False): pgettext_lazy("parking band", "Day"),
    ("night", False): pgettext_lazy("parking band", "Night"),
    ("day", True): pgettext_lazy("parking band", "Holiday day"),
    ("night", True): pgettext_lazy("parking band", "Holiday night"),
}
TARIFF_STATUS: dict[str, tuple[Promise, str]] = {
    "in_force": (gettext_lazy("In force"), "badge-ok"),
    "scheduled": (pgettext_lazy("tariff", "Scheduled"), "badge-primary"),
    "past": (gettext_lazy("Past"), ""),
}


def park_or_404(request: HttpRequest, car_park_id: int) -> tuple[Any, GroupContext]:
    """The car park the URL names, if it is in the user's group (any group for platform admins), and its group."""
    park = selectors_console.car_park_one(car_park_id=car_park_id, mall_group_id=scope_of(request).mall_group_id)
    if park is None:
        raise Http404("car park")
    return park, group_context(request, group_id=park.mall.group_id)


def park_choices(parks: Iterable[Any]) -> list[tuple[int, str]]:
    parks = list(parks)
    malls = {p.mall_id for p in parks}
    return [(p.pk, p.name if len(malls) < 2 else f"{p.mall.name} · {p.name}") for p in parks]


def csv_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    out = csv.writer(response)
    out.writerow([str(h) for h in header])
    for row in rows:
        out.writerow(row)
    return response


def duration_text(minutes: int | None) -> str:
    """125 → "2 h 5 min"; 2 days 3 h → "2 d 3 h"."""
    if minutes is None:
        return "—"
    days, rest = divmod(max(minutes, 0), 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": mins} if mins else _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": mins}


def stay_minutes(entry_at: dt.datetime | None, until: dt.datetime | None) -> int | None:
    if entry_at is None or until is None:
        return None
    return max(int((until - entry_at).total_seconds() // 60), 0)


# ---------------------------------------------------------------------------------------------------- fees


@dataclass(frozen=True)
class SegmentRow:
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    band: str
    units: int
    unit_minutes: int
    unit_price_fen: int
    before_caps_fen: int
    band_cap_fen: int  # taken off by the band's cap
    daily_cap_fen: int  # taken off by the daily cap
    amount_fen: int


@dataclass(frozen=True)
class BenefitRow:
    kind: str
    label: str
    funder: str
    hours: int | None
    minutes_used: int
    fen: int


@dataclass(frozen=True)
class Explained:
    tariff_code: str
    gross_fen: int
    benefits_fen: int
    net_fen: int
    segments: tuple[SegmentRow, ...]
    benefits: tuple[BenefitRow, ...]
    stay_minutes: int | None = None
    chargeable_minutes: int | None = None
    free_stay: bool = False
    priced_until: dt.datetime | None = None
    extra_fen: int = 0  # charged at exit for the time after the minutes to leave (a stay paid before it left)

    @property
    def stay_text(self) -> str:
        return duration_text(self.stay_minutes)


def _get(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    value = getattr(item, name, default)
    return getattr(value, "value", value)


def _moment(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(tz)
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value).astimezone(tz)
        except ValueError:
            return None
    return None


def segment_rows(segments: Iterable[Any], tz: dt.tzinfo) -> tuple[SegmentRow, ...]:
    rows = []
    for s in segments:
        band = str(_get(s, "band", "day"))
        rows.append(
            SegmentRow(
                starts_at=_moment(_get(s, "starts_at"), tz),
                ends_at=_moment(_get(s, "ends_at"), tz),
                band=str(BAND_LABELS.get((band, bool(_get(s, "is_holiday", False))), band)),
                units=int(_get(s, "units", 0) or 0),
                unit_minutes=int(_get(s, "unit_minutes", 0) or 0),
                unit_price_fen=int(_get(s, "unit_price_fen", 0) or 0),
                before_caps_fen=int(_get(s, "amount_before_cap_fen", 0) or 0),
                band_cap_fen=int(_get(s, "period_capped_fen", 0) or 0),
                daily_cap_fen=int(_get(s, "daily_capped_fen", 0) or 0),
                amount_fen=int(_get(s, "amount_fen", 0) or 0),
            )
        )
    return tuple(rows)


def benefit_rows(lines: Iterable[Any], *, merchants: Mapping[str, str] | None = None) -> tuple[BenefitRow, ...]:
    """Benefit lines (rules.BenefitLine, or the dicts stored at exit or on a payment) in words. A payment's lines
    do not record their funder: merchant grants are the merchant's, coupons as their terms say, the rest the
    mall's."""
    merchants = merchants or {}
    rows = []
    for line in lines:
        kind = str(_get(line, "kind", ""))
        funder = _get(line, "funder") or (
            "merchant" if kind == "merchant_grant" else "coupon" if kind.startswith("coupon") else "mall"
        )
        funder_label = str(FUNDER_LABELS.get(str(funder), funder))
        merchant = merchants.get(str(_get(line, "funder_id") or ""))
        if funder == "merchant" and merchant:
            funder_label = merchant
        params = _get(line, "params") or {}
        hours = params.get("hours") if isinstance(params, Mapping) else None
        rows.append(
            BenefitRow(
                kind=kind,
                label=str(BENEFIT_LABELS.get(kind, kind)),
                funder=funder_label,
                hours=int(hours) if isinstance(hours, int) else None,
                minutes_used=int(_get(line, "minutes_used", 0) or 0),
                fen=int(_get(line, "fen", 0) or 0),
            )
        )
    return tuple(rows)


def explain_result(result: rules.FeeResult, tz: dt.tzinfo) -> Explained:
    """A fee the rules just computed (the preview)."""
    return Explained(
        tariff_code=result.tariff_code,
        gross_fen=result.gross_fen,
        benefits_fen=result.discount_fen,
        net_fen=result.net_fen,
        segments=segment_rows(result.segments, tz),
        benefits=benefit_rows(result.benefits),
        stay_minutes=result.stay_minutes,
        chargeable_minutes=result.chargeable_minutes,
        free_stay=result.is_free_stay,
        priced_until=result.priced_until.astimezone(tz) if result.priced_until else None,
    )


def explain_stored(
    explanation: Mapping[str, Any],
    tz: dt.tzinfo,
    *,
    merchants: Mapping[str, str] | None = None,
    minutes: int | None = None,
) -> Explained:
    """The fee stored on a stay at its exit (services._close_fee)."""
    gross = int(explanation.get("gross_fen") or 0)
    benefits = int(explanation.get("benefits_fen") or 0)
    return Explained(
        tariff_code=str(explanation.get("tariff") or ""),
        gross_fen=gross,
        benefits_fen=benefits,
        net_fen=gross - benefits,
        segments=segment_rows(explanation.get("segments") or (), tz),
        benefits=benefit_rows(explanation.get("benefits") or (), merchants=merchants),
        stay_minutes=minutes,
        extra_fen=int(explanation.get("extra_fen") or 0),
    )


def explain_view(view: Any, tz: dt.tzinfo, *, merchants: Mapping[str, str] | None = None) -> Explained:
    """A stay's fee now (parking.types.FeeView)."""
    return Explained(
        tariff_code=view.tariff_code,
        gross_fen=view.gross_fen,
        benefits_fen=view.benefits_fen,
        net_fen=view.net_fen,
        segments=segment_rows(view.segments, tz),
        benefits=benefit_rows(view.benefits, merchants=merchants),
        stay_minutes=view.stay_minutes,
    )


def hours_text(hours: int | None) -> str:
    if hours is None:
        return ""
    return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}


def date_ranges(days: Iterable[str]) -> list[str]:
    """ISO dates → "2026-10-01~2026-10-07", "2027-01-01": consecutive days shown as one range."""
    parsed = sorted({dt.date.fromisoformat(d) for d in days})
    out: list[str] = []
    start = prev = None
    for day in [*parsed, None]:
        if start is not None and prev is not None and (day is None or day != prev + dt.timedelta(days=1)):
            out.append(start.isoformat() if start == prev else f"{start.isoformat()}~{prev.isoformat()}")
            start = None
        if day is not None and start is None:
            start = day
        prev = day
    return out
