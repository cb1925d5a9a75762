"""Coupon and promotion arithmetic. Pure: no database, no clock (callers pass mall-local times).

Order of application (fixed; `ORDER_OF_APPLICATION` returns it and every evaluation reports it):

1. promotion unit_price  — 特价 promotions (each unit for a fixed price), then promotion per_item (每件减)
2. coupon unit_price     — 特价券, then coupon per_item (每件减券)
3. promotion percent     — tier discount and member-day discount (rate discounts)
4. promotion n_items     — 满N件折 promotions
5. coupon n_items        — 满N件折 coupons
6. coupon percent        — 折扣券
7. promotion threshold   — 满减 promotions, then promotion per_threshold (每满减), then promotion cash_off
8. coupon threshold      — 满减券
9. coupon per_threshold  — 每满减券
10. coupon cash_off      — 代金券 (optionally with a minimum spend)

Per-unit prices come first (they set what one unit costs: 单品直降 / 特价), then rate discounts, then amounts off
(先折后减); promotions before coupons within each class; items of one step go in `OfferSpec.rank` order
(promotions by id, coupons by expiry then id). Every step works on the lines' *residual* amounts (what earlier
steps left), so a threshold compares the exact fen of the eligible lines after the earlier discounts: 19950 does
not meet 20000. A discount never exceeds what its eligible lines still have, so no line and no sale ever goes
negative.

Per-unit kinds (`per_item`, `unit_price`) are not split by proportion: a line's unit costs floor(residual /
quantity) fen, its discount per unit is a whole number of fen (min(value, unit) for 每件减, unit − special price
for 特价, nothing when the unit already costs the special price or less), and the line's discount is units ×
that. With `max_units` only that many units of the sale are discounted (the largest per-unit discounts first,
then line order). So while every unit of a line is discounted, refunding q units rolls back exactly q × the
per-unit discount (refund_rollback's proportional share is exact on a multiple); a line that `max_units` left
partly undiscounted gives its discount back in proportion to the units refunded, like every other kind.

Rounding: a rate discount is round-half-up of residual × percent_off_bp / 10000 on the eligible total (one
rounding per item), then capped. Each item's discount (per-unit kinds aside) is split over its eligible lines by
largest remainder in proportion to their residual amounts (core.money.allocate), so the parts add up exactly to
the item's discount and no part exceeds its line's residual.

Stacking: an exclusive item is used alone; at most one item per non-blank stacking group; at most
`max_coupons` coupons per sale and `max_per_sale` coupons of one template. The best combination maximises the
total discount; ties go to fewer coupons (the member keeps the rest), then to the lexicographically smallest list
of ranks (promotions first, then coupons that expire sooner).

Refunds: see `refund_rollback`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from galleria.core.money import allocate, ratio_round

from .exceptions import CouponRefundUnknownLineError
from .types import (
    AllocationLine,
    Applied,
    BasketLine,
    CartCouponSplit,
    CartPartLines,
    Evaluation,
    LineDiscount,
    OfferSpec,
    RedemptionState,
    RefundLineQty,
    RefundOutcome,
)

CASH_OFF = "cash_off"
PERCENT = "percent"
THRESHOLD = "threshold"
PER_THRESHOLD = "per_threshold"
N_ITEMS = "n_items"
EXCHANGE = "exchange"
PARKING = "parking"
SHIPPING = "shipping"
PER_ITEM = "per_item"  # 每件减 / 单品直降: value_fen off each unit
UNIT_PRICE = "unit_price"  # 特价: each unit for unit_price_fen
UNIT_KINDS = frozenset({PER_ITEM, UNIT_PRICE})
BASKET_KINDS = frozenset({CASH_OFF, PERCENT, THRESHOLD, PER_THRESHOLD, N_ITEMS, PER_ITEM, UNIT_PRICE})
STANDALONE_KINDS = frozenset({EXCHANGE, PARKING, SHIPPING})
RATE_KINDS = frozenset({PERCENT, N_ITEMS})

ORDER: tuple[tuple[bool, str], ...] = (  # (is_coupon, kind)
    (False, UNIT_PRICE),
    (False, PER_ITEM),
    (True, UNIT_PRICE),
    (True, PER_ITEM),
    (False, PERCENT),
    (False, N_ITEMS),
    (True, N_ITEMS),
    (True, PERCENT),
    (False, THRESHOLD),
    (False, PER_THRESHOLD),
    (False, CASH_OFF),
    (True, THRESHOLD),
    (True, PER_THRESHOLD),
    (True, CASH_OFF),
)
_STEP = {entry: i for i, entry in enumerate(ORDER)}

BP = 10_000
MAX_COUPONS_PER_SALE = 3
MAX_EVALUATIONS = 20_000  # hard bound on the search (deterministic: candidates are visited in rank order)

# reasons an item gives no discount (stable, shown in quotes)
NO_ELIGIBLE_LINES = "coupon.not_applicable"
THRESHOLD_NOT_MET = "coupon.threshold_not_met"
STANDALONE = "coupon.standalone_only"

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed at the till
CODE_LENGTH = 16  # 31^16 ≈ 2^79: not guessable


def order_of_application() -> tuple[str, ...]:
    return tuple(f"{'coupon' if is_coupon else 'promotion'}:{kind}" for is_coupon, kind in ORDER)


ORDER_OF_APPLICATION = order_of_application()


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normalize_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


# ------------------------------------------------------------------------------------------------- scope


def merchant_in_scope(spec: OfferSpec, *, merchant_id: int | None, merchant_category: str) -> bool:
    """May the item be used at this merchant at all (owning merchant, merchant scope, exclusions)?"""
    if spec.owner_merchant_id is not None and merchant_id != spec.owner_merchant_id:
        return False
    if merchant_id is not None and merchant_id in spec.excluded_merchant_ids:
        return False
    if spec.scope_kind == "categories":
        return merchant_category in spec.scope_categories
    if spec.scope_kind == "merchants":
        return merchant_id in spec.scope_merchant_ids
    if spec.scope_kind == "skus" and spec.scope_merchant_ids:
        return merchant_id in spec.scope_merchant_ids
    return True


def line_eligible(spec: OfferSpec, line: BasketLine) -> bool:
    if line.sku in spec.excluded_skus:
        return False
    if line.category and line.category in spec.excluded_line_categories:
        return False
    if spec.scope_kind == "skus":
        return line.sku in spec.scope_skus
    return True


def usable_at_local(
    local: dt.datetime, *, days_of_week: Sequence[int], hours_from: dt.time | None, hours_until: dt.time | None
) -> bool:
    """Day-of-week (ISO 1 = Monday) and hour-of-day restrictions, on a mall-local time. An hours window whose
    end is before its start runs over midnight (22:00–02:00); the day checked is the local calendar day."""
    if days_of_week and local.isoweekday() not in days_of_week:
        return False
    if hours_from is None or hours_until is None or hours_from == hours_until:
        return True
    t = local.time().replace(tzinfo=None)
    if hours_from < hours_until:
        return hours_from <= t < hours_until
    return t >= hours_from or t < hours_until


def relative_last_day(*, claimed_on: dt.date, days: int) -> dt.date:
    """ "Valid N days after claim": the claim day counts as day 1; valid until the end of the last day."""
    return claimed_on + dt.timedelta(days=max(days, 1) - 1)


def is_birthday(*, birthday: dt.date, today: dt.date) -> bool:
    """29 February birthdays are celebrated on 28 February in common years."""
    if (birthday.month, birthday.day) == (today.month, today.day):
        return True
    if (birthday.month, birthday.day) == (2, 29) and (today.month, today.day) == (2, 28):
        try:
            dt.date(today.year, 2, 29)
        except ValueError:
            return True
    return False


def funding_split(*, discount_fen: int, funder: str, merchant_share_bp: int) -> tuple[int, int]:
    """(mall_fen, merchant_fen) of a discount; a split rounds the merchant's part half-up."""
    if funder == "merchant":
        return 0, discount_fen
    if funder == "split":
        merchant = ratio_round(discount_fen, merchant_share_bp, BP)
        return discount_fen - merchant, merchant
    return discount_fen, 0


# ------------------------------------------------------------------------------------------------- discounts


def has_condition(spec: OfferSpec) -> bool:
    """Does the item depend on how much is bought (so a partial refund can lose it)? Per-unit kinds never do:
    each unit earns its own discount."""
    if spec.kind in UNIT_KINDS:
        return False
    return spec.kind in (THRESHOLD, PER_THRESHOLD, N_ITEMS) or spec.threshold_fen > 0


def discount_amount(spec: OfferSpec, *, eligible_fen: int, eligible_qty: int) -> tuple[int, str, dict[str, object]]:
    """The discount of one item on an eligible total (exact fen, `>=` comparisons). Returns
    (discount, reason when zero, explanation). Never more than `eligible_fen`."""
    why: dict[str, object] = {"eligible_fen": eligible_fen}
    if spec.kind in STANDALONE_KINDS:
        return 0, STANDALONE, why
    if eligible_fen <= 0 and eligible_qty <= 0:
        return 0, NO_ELIGIBLE_LINES, why
    if spec.kind == N_ITEMS:
        why.update(eligible_qty=eligible_qty, min_items=spec.min_items)
        if eligible_qty < max(spec.min_items, 1):
            return 0, THRESHOLD_NOT_MET, why
    elif spec.kind == PER_THRESHOLD:
        why["threshold_fen"] = spec.threshold_fen
        if spec.threshold_fen <= 0 or eligible_fen < spec.threshold_fen:
            return 0, THRESHOLD_NOT_MET, why
    elif spec.threshold_fen > 0 or spec.kind == THRESHOLD:
        why["threshold_fen"] = spec.threshold_fen
        if eligible_fen < spec.threshold_fen or spec.threshold_fen <= 0:
            return 0, THRESHOLD_NOT_MET, why
    if spec.kind in RATE_KINDS:
        raw = ratio_round(eligible_fen, spec.percent_off_bp, BP)
        why["percent_off_bp"] = spec.percent_off_bp
    elif spec.kind == PER_THRESHOLD:
        steps = eligible_fen // spec.threshold_fen
        raw = steps * spec.value_fen
        why["steps"] = steps
    else:
        raw = spec.value_fen
    capped = raw
    if spec.max_discount_fen is not None and capped > spec.max_discount_fen:
        capped = spec.max_discount_fen
        why["capped_at_fen"] = spec.max_discount_fen
    result = max(0, min(capped, eligible_fen))
    why["discount_fen"] = result
    return result, ("" if result else NO_ELIGIBLE_LINES), why


def unit_discount(spec: OfferSpec, *, unit_fen: int) -> int:
    """The discount on one unit that costs `unit_fen` (after earlier steps): never more than the unit; a 特价
    gives nothing to a unit that already costs the special price or less."""
    if spec.kind == PER_ITEM:
        return max(0, min(spec.value_fen, unit_fen))
    if spec.kind == UNIT_PRICE:
        return max(0, unit_fen - spec.unit_price_fen)
    return 0


def unit_parts(spec: OfferSpec, lines: Sequence[tuple[int, int, int]]) -> tuple[list[int], dict[str, object]]:
    """A per-unit item on its eligible lines, given as (line_no, quantity, residual_fen): each line's discount
    (units × a whole-fen discount per unit, never more than the line) and the explanation. With `max_units`
    the units with the largest discount are taken first (then line order)."""
    per_unit = [unit_discount(spec, unit_fen=residual // qty) if qty > 0 else 0 for _no, qty, residual in lines]
    units = [qty if u > 0 else 0 for (_no, qty, _r), u in zip(lines, per_unit, strict=True)]
    why: dict[str, object] = {"eligible_qty": sum(qty for _no, qty, _r in lines)}
    if spec.kind == UNIT_PRICE:
        why["unit_price_fen"] = spec.unit_price_fen
    else:
        why["value_fen"] = spec.value_fen
    if spec.max_units is not None:
        why["max_units"] = spec.max_units
        budget = max(spec.max_units, 0)
        for i in sorted(range(len(lines)), key=lambda i: (-per_unit[i], lines[i][0])):
            take = min(units[i], budget)
            units[i], budget = take, budget - take
    parts = [n * u for n, u in zip(units, per_unit, strict=True)]
    why["units"] = sum(units)
    why["per_unit"] = [
        {"line_no": no, "units": n, "unit_discount_fen": u}
        for (no, _q, _r), n, u in zip(lines, units, per_unit, strict=True)
        if n
    ]
    return parts, why


def _step(spec: OfferSpec) -> int:
    return _STEP.get((spec.is_coupon, spec.kind), len(ORDER))


def _sort_key(spec: OfferSpec) -> tuple[int, tuple[int, ...], str]:
    return _step(spec), spec.rank, spec.key


def evaluate(lines: Sequence[BasketLine], specs: Iterable[OfferSpec]) -> Evaluation:
    """Apply `specs` to the basket in the fixed order; each works on the residual amounts."""
    residual = {ln.line_no: ln.amount_fen for ln in lines}
    ordered = sorted(specs, key=_sort_key)
    applied: list[Applied] = []
    unmet: list[tuple[str, str]] = []
    for spec in ordered:
        eligible = [ln for ln in lines if line_eligible(spec, ln)]
        basis = [residual[ln.line_no] for ln in eligible]
        if spec.kind in UNIT_KINDS:
            parts, why = unit_parts(spec, [(ln.line_no, ln.quantity, b) for ln, b in zip(eligible, basis, strict=True)])
            amount = sum(parts)
            why = {"eligible_fen": sum(basis), **why, "discount_fen": amount}
            if amount <= 0:
                unmet.append((spec.key, NO_ELIGIBLE_LINES))
                continue
        else:
            amount, reason, why = discount_amount(
                spec, eligible_fen=sum(basis), eligible_qty=sum(ln.quantity for ln in eligible)
            )
            if amount <= 0:
                unmet.append((spec.key, reason or NO_ELIGIBLE_LINES))
                continue
            parts = allocate(amount, basis)
        for ln, part in zip(eligible, parts, strict=True):
            residual[ln.line_no] -= part
        mall_fen, merchant_fen = funding_split(
            discount_fen=amount, funder=spec.funder, merchant_share_bp=spec.merchant_share_bp
        )
        applied.append(
            Applied(
                key=spec.key,
                kind=spec.kind,
                discount_fen=amount,
                lines=tuple(
                    AllocationLine(line_no=ln.line_no, quantity=ln.quantity, basis_fen=b, discount_fen=p)
                    for ln, b, p in zip(eligible, basis, parts, strict=True)
                ),
                mall_fen=mall_fen,
                merchant_fen=merchant_fen,
                explanation={"name": spec.name, "kind": spec.kind, "step": _step(spec) + 1, **why},
            )
        )
    total = sum(a.discount_fen for a in applied)
    line_discounts = tuple(
        LineDiscount(line_no=ln.line_no, discount_fen=ln.amount_fen - residual[ln.line_no]) for ln in lines
    )
    return Evaluation(
        keys=tuple(s.key for s in ordered),
        total_discount_fen=total,
        applied=tuple(applied),
        line_discounts=line_discounts,
        order=ORDER_OF_APPLICATION,
        unmet=tuple(unmet),
    )


# ------------------------------------------------------------------------------------------------- stacking


def compatible(selection: Sequence[OfferSpec], *, max_coupons: int = MAX_COUPONS_PER_SALE) -> str:
    """'' when the items may be used together, else the reason code."""
    if len(selection) > 1 and any(s.is_exclusive for s in selection):
        return "coupon.not_combinable"
    groups = [s.stacking_group for s in selection if s.stacking_group]
    if len(groups) != len(set(groups)):
        return "coupon.not_combinable"
    coupons = [s for s in selection if s.is_coupon]
    if len(coupons) > max_coupons:
        return "coupon.not_combinable"
    per_template: dict[str, int] = {}
    for s in coupons:
        per_template[s.template_key] = per_template.get(s.template_key, 0) + 1
        if per_template[s.template_key] > max(s.max_per_sale, 1):
            return "coupon.not_combinable"
    return ""


def _better(candidate: Evaluation, n_coupons: int, ranks: list[tuple[int, ...]], best: _Best | None) -> bool:
    if best is None:
        return True
    if candidate.total_discount_fen != best.evaluation.total_discount_fen:
        return candidate.total_discount_fen > best.evaluation.total_discount_fen
    if n_coupons != best.n_coupons:
        return n_coupons < best.n_coupons
    return ranks < best.ranks


class _Best:
    __slots__ = ("evaluation", "n_coupons", "ranks")

    def __init__(self, evaluation: Evaluation, n_coupons: int, ranks: list[tuple[int, ...]]) -> None:
        self.evaluation = evaluation
        self.n_coupons = n_coupons
        self.ranks = ranks


def best_combination(
    lines: Sequence[BasketLine],
    specs: Sequence[OfferSpec],
    *,
    required_keys: Iterable[str] = (),
    max_coupons: int = MAX_COUPONS_PER_SALE,
) -> Evaluation:
    """The best compatible selection. `required_keys` are always part of it (coupons the shopper chose at the
    till); then only promotions are added. Every selected item must give a discount (else it is left out; a
    required item that gives nothing is reported in `unmet`). Deterministic for the same input."""
    required = set(required_keys)
    basket_specs = sorted((s for s in specs if s.kind in BASKET_KINDS), key=lambda s: (s.rank, s.key))
    fixed = [s for s in basket_specs if s.key in required]
    if required:
        optional = [s for s in basket_specs if s.key not in required and not s.is_coupon]
    else:
        # coupons of one template are interchangeable: only the first max_per_sale (soonest expiry) are candidates
        seen: dict[str, int] = {}
        optional = []
        for s in basket_specs:
            if s.is_coupon:
                seen[s.template_key] = seen.get(s.template_key, 0) + 1
                if seen[s.template_key] > max(s.max_per_sale, 1):
                    continue
            optional.append(s)
    if fixed and compatible(fixed, max_coupons=max_coupons):
        return replace(evaluate(lines, fixed), unmet=tuple((s.key, "coupon.not_combinable") for s in fixed))
    best: _Best | None = None
    budget = [MAX_EVALUATIONS]

    def consider(selection: list[OfferSpec]) -> None:
        nonlocal best
        if budget[0] <= 0:
            return
        budget[0] -= 1
        result = evaluate(lines, selection)
        if result.unmet and not (required and all(k in required for k, _r in result.unmet)):
            return  # an optional item that gives nothing: the same selection without it is better
        ranks = sorted(s.rank for s in selection)
        n_coupons = sum(1 for s in selection if s.is_coupon)
        if _better(result, n_coupons, ranks, best):
            best = _Best(result, n_coupons, ranks)

    def walk(start: int, selection: list[OfferSpec]) -> None:
        consider(selection)
        for i in range(start, len(optional)):
            nxt = [*selection, optional[i]]
            if compatible(nxt, max_coupons=max_coupons):
                continue
            walk(i + 1, nxt)

    walk(0, list(fixed))
    assert best is not None
    return best.evaluation


# ------------------------------------------------------------------------------------------------- refunds


def refund_rollback(
    *, state: RedemptionState, refund_qty: Mapping[int, int], parts: Mapping[int, tuple[int, int]] | None = None
) -> RefundOutcome:
    """Roll back one applied item for a (partial) refund.

    1. Each refunded line gives back its share of the item's discount in proportion to the quantity refunded:
       round-half-up(kept × q / remaining quantity), where kept is the line's discount not yet rolled back, so
       refunding the last unit gives back exactly what is left and partial refunds add up to a full one. A
       single-unit line refunded by amount (`parts[line] = (part, of)`: part of the line's value refunded out of
       what was still held) gives back round-half-up(kept × part / of), and its basis counts as reduced by the same
       share (`refunded_basis_fen`); it completes its unit (q = 1) when part = of.
    2. If the item depends on the amount bought (threshold, 每满减, 满N件, minimum spend) and what the shopper
       keeps — the kept quantities at the amounts the item was computed on — no longer earns what is kept of the
       discount, policy "deduct" claws the difference back from this refund (spread over the kept lines by
       largest remainder, reported per line in `line_clawbacks`); policy "keep" leaves it.
    `fully_returned` is true when every line the item discounted is refunded in full.
    """
    lines = [dict(ln) for ln in state.lines]
    rollbacks: list[LineDiscount] = []
    clawbacks: list[LineDiscount] = []
    touched = False
    for ln in lines:
        q = refund_qty.get(ln["line_no"], 0)
        part, of = (parts or {}).get(ln["line_no"], (0, 0))
        if q <= 0 and part <= 0:
            continue
        left = ln["quantity"] - ln["refunded_qty"]
        if q > left:
            raise ValueError(f"line {ln['line_no']}: refund {q} > {left} left")
        touched = True
        kept = ln["discount_fen"] - ln["rolled_back_fen"]
        if part > 0:
            if left != 1 or not 0 < part <= of or q != (1 if part == of else 0):
                raise ValueError(f"line {ln['line_no']}: amount refund {part}/{of} on {left} units left")
            back = ratio_round(kept, part, of)
            basis_gone = ln.get("refunded_basis_fen", 0)
            ln["refunded_basis_fen"] = basis_gone + ratio_round(ln["basis_fen"] - basis_gone, part, of)
        else:
            back = ratio_round(kept, q, left)
        ln["refunded_qty"] += q
        ln["rolled_back_fen"] += back
        rollbacks.append(LineDiscount(line_no=ln["line_no"], discount_fen=back))
    rolled_back = sum(r.discount_fen for r in rollbacks)
    clawback = 0
    lost = False
    if touched and has_condition(state.spec):
        kept_basis = sum(
            ratio_round(ln["basis_fen"], ln["quantity"] - ln["refunded_qty"], ln["quantity"])
            - (ln.get("refunded_basis_fen", 0) if ln["refunded_qty"] < ln["quantity"] else 0)
            for ln in lines
        )
        kept_qty = sum(ln["quantity"] - ln["refunded_qty"] for ln in lines)
        entitled, _reason, _why = discount_amount(state.spec, eligible_fen=kept_basis, eligible_qty=kept_qty)
        kept_total = sum(ln["discount_fen"] - ln["rolled_back_fen"] for ln in lines)
        if kept_total > entitled:
            lost = True
            if state.spec.on_threshold_loss == "deduct":
                clawback = kept_total - entitled
                weights = [ln["discount_fen"] - ln["rolled_back_fen"] for ln in lines]
                for ln, part in zip(lines, allocate(clawback, weights), strict=True):
                    ln["rolled_back_fen"] += part
                    if part:
                        clawbacks.append(LineDiscount(line_no=ln["line_no"], discount_fen=part))
    return RefundOutcome(
        key=state.key,
        rolled_back_fen=rolled_back,
        clawback_fen=clawback,
        lines=tuple(lines),
        line_rollbacks=tuple(rollbacks),
        line_clawbacks=tuple(clawbacks),
        fully_returned=all(ln["refunded_qty"] >= ln["quantity"] for ln in lines),
        threshold_lost=lost,
    )


def cumulative_part(total: int, done: int, whole: int) -> int:
    """round-half-up(total × done / whole): the cumulative share used to split rolled-back funding."""
    return ratio_round(total, done, whole) if whole else 0


def refund_quantities(*, known: Mapping[int, tuple[int, int]], lines: Sequence[RefundLineQty] | None) -> dict[int, int]:
    """The quantity refunded per line number. `known` maps each discounted line to (quantity, refunded so far);
    `lines=None` refunds what is still kept. A negative quantity, or more than a known line still has, raises
    CouponRefundUnknownLineError (lines no redemption touched are passed through: they roll nothing back)."""
    if lines is None:
        return {no: q - done for no, (q, done) in known.items() if q > done}
    wanted: dict[int, int] = {}
    for item in lines:
        wanted[item.line_no] = wanted.get(item.line_no, 0) + item.quantity
    for no, q in wanted.items():
        if q < 0 or (no in known and known[no][1] + q > known[no][0]):
            raise CouponRefundUnknownLineError(extra={"line_no": no})
    return wanted


def refund_funding(
    *, delta_fen: int, refunded_fen: int, refunded_merchant_fen: int, discount_fen: int, merchant_fen: int
) -> tuple[int, int]:
    """(mall part, merchant part) of `delta_fen` more rolled back on a redemption: the merchant's cumulative share
    of what is rolled back after this refund, less what earlier refunds charged it; the mall takes the rest."""
    merchant_part = cumulative_part(merchant_fen, refunded_fen + delta_fen, discount_fen) - refunded_merchant_fen
    return delta_fen - merchant_part, merchant_part


def sum_by_line(items: Iterable[LineDiscount]) -> tuple[LineDiscount, ...]:
    """Line amounts added up per line number, in line order."""
    totals: dict[int, int] = {}
    for item in items:
        totals[item.line_no] = totals.get(item.line_no, 0) + item.discount_fen
    return tuple(LineDiscount(no, fen) for no, fen in sorted(totals.items()))


# ------------------------------------------------------------------------------------------------- templates

TEMPLATE_STATUS_FLOW: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "ended"}),
    "active": frozenset({"paused", "ended"}),
    "paused": frozenset({"active", "ended"}),
    "ended": frozenset(),
}


def template_problems(v: Mapping[str, object]) -> list[tuple[str, str]]:
    """(field, code) of every inconsistency of a template's settings (values as the model holds them)."""
    problems: list[tuple[str, str]] = []

    def num(name: str) -> int:
        value = v.get(name)
        return int(value) if isinstance(value, int) else 0

    kind = v.get("kind")
    if kind in (CASH_OFF, THRESHOLD, PER_THRESHOLD, SHIPPING, PER_ITEM) and num("value_fen") <= 0:
        problems.append(("value_fen", "coupon_template.value_required"))
    if kind == UNIT_PRICE and num("unit_price_fen") <= 0:
        problems.append(("unit_price_fen", "coupon_template.unit_price_required"))
    max_units = v.get("max_units")
    if max_units is not None and (not isinstance(max_units, int) or max_units < 1):
        problems.append(("max_units", "coupon_template.max_units_invalid"))
    if kind in (THRESHOLD, PER_THRESHOLD) and num("threshold_fen") <= 0:
        problems.append(("threshold_fen", "coupon_template.threshold_required"))
    if kind == THRESHOLD and num("value_fen") > num("threshold_fen") > 0:
        problems.append(("value_fen", "coupon_template.value_over_threshold"))
    if kind in (PERCENT, N_ITEMS) and not 0 < num("percent_off_bp") < BP:
        problems.append(("percent_off_bp", "coupon_template.percent_out_of_range"))
    if kind == N_ITEMS and num("min_items") < 2:
        problems.append(("min_items", "coupon_template.min_items_required"))
    if kind == EXCHANGE and not str(v.get("exchange_item") or "").strip():
        problems.append(("exchange_item", "coupon_template.exchange_item_required"))
    if kind == PARKING and num("parking_hours") <= 0:
        problems.append(("parking_hours", "coupon_template.parking_hours_required"))
    scope = v.get("scope_kind")
    if scope == "categories" and not v.get("scope_categories"):
        problems.append(("scope_categories", "coupon_template.scope_empty"))
    if scope == "merchants" and not v.get("scope_merchant_ids"):
        problems.append(("scope_merchant_ids", "coupon_template.scope_empty"))
    if scope == "skus" and not v.get("scope_skus"):
        problems.append(("scope_skus", "coupon_template.scope_empty"))
    if v.get("validity_kind") == "fixed":
        start, end = v.get("valid_from"), v.get("valid_until")
        if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
            problems.append(("valid_until", "coupon_template.validity_required"))
        elif end <= start:
            problems.append(("valid_until", "coupon_template.validity_order"))
    elif num("valid_days") <= 0:
        problems.append(("valid_days", "coupon_template.validity_required"))
    if v.get("funder") == "split" and not 0 < num("merchant_share_bp") < BP:
        problems.append(("merchant_share_bp", "coupon_template.share_out_of_range"))
    if v.get("funder") in ("merchant", "split") and v.get("merchant_id") is None and scope != "merchants":
        problems.append(("funder", "coupon_template.merchant_funder_needs_merchant"))
    if v.get("claim_method") == "points" and num("claim_points") <= 0:
        problems.append(("claim_points", "coupon_template.claim_points_required"))
    if v.get("claim_method") == "price" and num("claim_price_fen") <= 0:
        problems.append(("claim_price_fen", "coupon_template.claim_price_required"))
    days = v.get("days_of_week") or []
    if not isinstance(days, list) or any(not isinstance(d, int) or not 1 <= d <= 7 for d in days):
        problems.append(("days_of_week", "coupon_template.days_invalid"))
    return problems


# ------------------------------------------------------------------------------------------- a cart of several shops

# A cross-shop coupon (跨店券, docs/design/online-mall.md §5.4): a mall-owned template of one of these kinds, at most
# one per cart, on the residuals of every sub-order after the shops' own coupons and promotions.
CART_KINDS = frozenset({CASH_OFF, THRESHOLD, PER_THRESHOLD})


def residual_lines(lines: Sequence[BasketLine], line_discounts: Iterable[LineDiscount]) -> tuple[BasketLine, ...]:
    """A sub-order's lines at their amounts after its own coupons and promotions (what a cross-shop coupon sees)."""
    off = {d.line_no: d.discount_fen for d in line_discounts}
    return tuple(replace(ln, amount_fen=ln.amount_fen - off.get(ln.line_no, 0)) for ln in lines)


def cart_coupon_split(spec: OfferSpec, parts: Sequence[CartPartLines]) -> CartCouponSplit:
    """Evaluate one cross-shop coupon once on the residual amounts of its eligible lines in every sub-order
    (thresholds `>=` on exact fen over the whole cart) and allocate it over those lines by largest remainder of
    their residuals — the engine's own `evaluate` on the lines of every sub-order numbered together — then give
    each sub-order its lines back with their own numbers. A sub-order whose merchant is out of the coupon's scope
    contributes no line. Pure."""
    empty: tuple[tuple[AllocationLine, ...], ...] = tuple(() for _ in parts)
    if spec.kind not in CART_KINDS or spec.owner_merchant_id is not None:
        return CartCouponSplit(0, empty, reason=NO_ELIGIBLE_LINES)
    combined: list[BasketLine] = []
    origin: dict[int, tuple[int, int]] = {}  # combined line number -> (sub-order, its line number)
    for i, part in enumerate(parts):
        if not merchant_in_scope(spec, merchant_id=part.merchant_id, merchant_category=part.merchant_category):
            continue
        for line in part.lines:
            number = len(combined) + 1
            origin[number] = (i, line.line_no)
            combined.append(replace(line, line_no=number))
    found = evaluate(combined, [spec])
    if not found.applied:
        reason = found.unmet[0][1] if found.unmet else NO_ELIGIBLE_LINES
        return CartCouponSplit(0, empty, reason=reason)
    applied = found.applied[0]
    by_part: list[list[AllocationLine]] = [[] for _ in parts]
    for alloc in applied.lines:
        i, line_no = origin[alloc.line_no]
        by_part[i].append(replace(alloc, line_no=line_no))
    return CartCouponSplit(
        discount_fen=applied.discount_fen,
        parts=tuple(tuple(lines) for lines in by_part),
        explanation={**applied.explanation, "cross_shop": True},
    )
