"""Pure rules of the audience area: RFM scores and the eight classic RFM segments, the lifecycle stage, the
automatic tags, and the segment definition language (validated here, compiled to SQL in `sql.py`).

No Django, no database: every function is checked on its own by property tests, and the SQL statements that do
the same work over a million members are checked against these functions (tests/test_rules.py, test_sql.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# ------------------------------------------------------------------------------------------------------------ RFM

# The eight segments of the classic RFM model (R = how recently, F = how often, M = how much), each a side of the
# group's mean score: "high" is strictly above the mean of the scored members. Codes are stable (stored, used in
# segment definitions); the names are the ones Chinese malls use (重要价值客户 …), translated in the UI.
RFM_SEGMENTS: tuple[tuple[str, bool, bool, bool], ...] = (
    # code, recent, frequent, spends much
    ("important_value", True, True, True),  # 重要价值客户
    ("important_develop", True, False, True),  # 重要发展客户
    ("important_keep", False, True, True),  # 重要保持客户
    ("important_retain", False, False, True),  # 重要挽留客户
    ("general_value", True, True, False),  # 一般价值客户
    ("general_develop", True, False, False),  # 一般发展客户
    ("general_keep", False, True, False),  # 一般保持客户
    ("general_retain", False, False, False),  # 一般挽留客户
)
RFM_CODES = tuple(code for code, *_ in RFM_SEGMENTS)
NO_RFM = ""  # not scored: no purchase in the RFM window


def quintile_cuts(values: Sequence[int]) -> tuple[int, int, int, int]:
    """The four cut values that split `values` into five groups of (nearly) equal size: the values at ranks
    ⌊n·k/5⌋ (k = 1…4) of the sorted list, the same rows the SQL reads with `ORDER BY … LIMIT 1 OFFSET ⌊n·k/5⌋`."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return (0, 0, 0, 0)
    a, b, c, d = (ordered[min(n - 1, n * k // 5)] for k in (1, 2, 3, 4))
    return (a, b, c, d)


def score(value: int, cuts: Sequence[int]) -> int:
    """1–5: one plus the number of cuts the value reaches (a value equal to a cut is in the upper group, so ties
    never split and the top group holds the largest values)."""
    return 1 + sum(1 for cut in cuts if value >= cut)


def rfm_segment(r: int, f: int, m: int, *, mean_r100: int, mean_f100: int, mean_m100: int) -> str:
    """The segment of scores (r, f, m) given the group's mean scores ×100 (integers: no floats in money/scoring
    paths). A score of 0 means "not scored" and has no segment."""
    if r <= 0 or f <= 0 or m <= 0:
        return NO_RFM
    key = (r * 100 > mean_r100, f * 100 > mean_f100, m * 100 > mean_m100)
    for code, recent, frequent, much in RFM_SEGMENTS:
        if (recent, frequent, much) == key:
            return code
    raise AssertionError("the eight segments cover every combination")  # pragma: no cover


# ------------------------------------------------------------------------------------------------------ lifecycle

LIFECYCLE_CODES = ("new", "active", "won_back", "at_risk", "dormant", "lost")


@dataclass(frozen=True)
class LifecycleDays:
    """The day thresholds of the lifecycle stages (`AudienceSettings`)."""

    new: int = 30  # joined within this many days and not yet an active buyer
    active: int = 60  # bought within this many days
    at_risk: int = 120  # last purchase older than `active`, within this
    lost: int = 365  # last purchase (or joining, for who never bought) older than this: lost; between: dormant

    def problems(self) -> list[str]:
        if not 1 <= self.new <= 365:
            return ["new"]
        if not 1 <= self.active < self.at_risk < self.lost <= 3650:
            return ["active", "at_risk", "lost"]
        return []


def lifecycle(
    *,
    now: dt.datetime,
    joined_at: dt.datetime,
    last_sale_at: dt.datetime | None,
    prev_sale_at: dt.datetime | None,
    days: LifecycleDays,
) -> str:
    """The member's stage at `now` (periods of whole days of 24 hours back from now):
    - never bought: `new` within `days.new` of joining, `dormant` until `days.lost`, then `lost`;
    - bought within `days.active`: `won_back` when the purchase before it was more than `days.at_risk` earlier
      (the member had lapsed and came back), else `active`;
    - otherwise by the age of the last purchase: `at_risk` (within `days.at_risk`), `dormant` (within
      `days.lost`), `lost`.
    A member who joined recently and bought is `active`: `new` is who has not bought yet."""
    day = dt.timedelta(days=1)
    if last_sale_at is None:
        if joined_at >= now - days.new * day:
            return "new"
        return "dormant" if joined_at >= now - days.lost * day else "lost"
    if last_sale_at >= now - days.active * day:
        if prev_sale_at is not None and last_sale_at - prev_sale_at > days.at_risk * day:
            return "won_back"
        return "active"
    if last_sale_at >= now - days.at_risk * day:
        return "at_risk"
    return "dormant" if last_sale_at >= now - days.lost * day else "lost"


# ---------------------------------------------------------------------------------------------------- auto tags

# Automatic tags: each a code, its tag group, and the predicate over a member's profile (`sql.py` holds the same
# predicates in SQL; a test checks both agree on random profiles). Thresholds are deliberately few and documented
# in docs/marketing.md.
FREQUENT_VISIT_DAYS_90 = 6  # shopped on at least 6 different days in 90 days
COUPON_SENSITIVE_SHARE_BP = 5000  # at least half of the purchases in a year used a coupon or promotion
COUPON_SENSITIVE_MIN_SALES = 3
DAYPART_SHARE_BP = 5000  # at least half of a year's purchases in that part of the day / week
DAYPART_MIN_SALES = 3

AUTO_TAG_GROUPS: dict[str, str] = {
    "lifecycle": "lifecycle",
    "value": "value",
    "habit": "habit",
    "favourite": "favourite",
}


@dataclass(frozen=True)
class ProfileFacts:
    """What the automatic tags read of a profile (the columns of `MemberProfile`)."""

    lifecycle: str
    m_score: int
    visit_days_90: int
    sales_365: int
    discounted_365: int
    evening_365: int
    weekend_365: int
    drives: bool
    top_category: str
    channel: str


def _share_at_least(part: int, whole: int, bp: int, minimum: int) -> bool:
    return whole >= minimum and part * 10000 >= whole * bp


def auto_tags(p: ProfileFacts, categories: Sequence[str]) -> set[str]:
    """The automatic tag codes a profile carries."""
    tags = {f"lifecycle:{p.lifecycle}"} if p.lifecycle else set()
    if p.m_score == 5:
        tags.add("value:high_spender")
    elif p.m_score in (1, 2):
        tags.add("value:low_spender")
    if p.visit_days_90 >= FREQUENT_VISIT_DAYS_90:
        tags.add("habit:frequent")
    if _share_at_least(p.discounted_365, p.sales_365, COUPON_SENSITIVE_SHARE_BP, COUPON_SENSITIVE_MIN_SALES):
        tags.add("habit:coupon_sensitive")
    if _share_at_least(p.evening_365, p.sales_365, DAYPART_SHARE_BP, DAYPART_MIN_SALES):
        tags.add("habit:evening")
    if _share_at_least(p.weekend_365, p.sales_365, DAYPART_SHARE_BP, DAYPART_MIN_SALES):
        tags.add("habit:weekend")
    if p.drives:
        tags.add("habit:drives")
    if p.channel == "online" or p.channel == "points_mall":
        tags.add("habit:online")
    if p.top_category and p.top_category in categories:
        tags.add(f"favourite:{p.top_category}")
    return tags


def auto_tag_codes(categories: Sequence[str]) -> list[str]:
    """Every automatic tag code, in display order."""
    return [
        *(f"lifecycle:{c}" for c in LIFECYCLE_CODES),
        "value:high_spender",
        "value:low_spender",
        "habit:frequent",
        "habit:coupon_sensitive",
        "habit:evening",
        "habit:weekend",
        "habit:drives",
        "habit:online",
        *(f"favourite:{c}" for c in categories),
    ]


# ------------------------------------------------------------------------------------------- segment definitions

MAX_CONDITIONS = 20
MAX_DEPTH = 2  # a group may hold groups once (A AND (B OR C))
MAX_WINDOW_DAYS = 730
MAX_IDS = 200

# field → the keys it takes (besides "field"); validated by `validate_segment`.
FIELDS: dict[str, frozenset[str]] = {
    "gender": frozenset({"in"}),
    "age": frozenset({"min", "max"}),
    "birthday_month": frozenset({"in"}),
    "joined": frozenset({"within_days", "before_days"}),
    "join_mall": frozenset({"in"}),
    "join_channel": frozenset({"in"}),
    "tier": frozenset({"in"}),
    "tag": frozenset({"any", "all", "none"}),
    "rfm": frozenset({"in"}),
    "r_score": frozenset({"min", "max"}),
    "f_score": frozenset({"min", "max"}),
    "m_score": frozenset({"min", "max"}),
    "lifecycle": frozenset({"in"}),
    "points": frozenset({"min", "max"}),
    "wallet": frozenset({"min", "max"}),
    "spend": frozenset({"days", "merchants", "categories", "min", "max"}),
    "visits": frozenset({"days", "merchants", "categories", "min", "max"}),
    "coupon": frozenset({"templates", "state"}),
    "parking": frozenset({"days", "min"}),
    "plate": frozenset({"verified"}),
    "event": frozenset({"events", "state"}),
    "consent": frozenset({"channel", "granted"}),
}
COUPON_STATES = ("holding", "used", "expired_unused")
EVENT_STATES = ("registered", "attended", "no_show")
CONSENT_CHANNELS = ("sms", "wechat", "email")
GENDERS = ("male", "female", "unknown")


class SegmentError(ValueError):
    """A segment definition that cannot be evaluated: `path` says where (e.g. "conditions.2.min")."""

    def __init__(self, code: str, path: str) -> None:
        super().__init__(f"{code} at {path}")
        self.code = code
        self.path = path


def _int(value: Any, path: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SegmentError("not_a_number", path)
    try:
        number = int(value)
    except ValueError:
        raise SegmentError("not_a_number", path) from None
    if not lo <= number <= hi:
        raise SegmentError("out_of_range", path)
    return number


def _ids(value: Any, path: str) -> list[int]:
    if not isinstance(value, list) or not value or len(value) > MAX_IDS:
        raise SegmentError("choose_some", path)
    return sorted({_int(v, path, 1, 2**62) for v in value})


def _codes(value: Any, path: str, allowed: Sequence[str]) -> list[str]:
    if not isinstance(value, list) or not value:
        raise SegmentError("choose_some", path)
    codes = sorted({str(v) for v in value})
    if any(c not in allowed for c in codes):
        raise SegmentError("unknown_choice", path)
    return codes


def _range(cond: Mapping[str, Any], path: str, hi: int) -> dict[str, int]:
    out = {k: _int(cond[k], f"{path}.{k}", 0, hi) for k in ("min", "max") if cond.get(k) not in (None, "")}
    if not out:
        raise SegmentError("give_a_bound", path)
    if "min" in out and "max" in out and out["min"] > out["max"]:
        raise SegmentError("min_above_max", path)
    return out


def _condition(cond: Mapping[str, Any], path: str, choices: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    field = str(cond.get("field", ""))
    if field not in FIELDS:
        raise SegmentError("unknown_field", f"{path}.field")
    unknown = set(cond) - FIELDS[field] - {"field"}
    if unknown:
        raise SegmentError("unknown_key", f"{path}.{sorted(unknown)[0]}")
    out: dict[str, Any] = {"field": field}
    if field in ("gender",):
        out["in"] = _codes(cond.get("in"), f"{path}.in", GENDERS)
    elif field in ("join_channel", "rfm", "lifecycle"):
        allowed = {"join_channel": choices.get("join_channel", ()), "rfm": RFM_CODES, "lifecycle": LIFECYCLE_CODES}
        out["in"] = _codes(cond.get("in"), f"{path}.in", allowed[field])
    elif field == "birthday_month":
        out["in"] = sorted({_int(v, f"{path}.in", 1, 12) for v in (cond.get("in") or [])})
        if not out["in"]:
            raise SegmentError("choose_some", f"{path}.in")
    elif field in ("join_mall", "tier"):
        out["in"] = _ids(cond.get("in"), f"{path}.in")
    elif field == "age":
        out.update(_range(cond, path, 150))
    elif field in ("r_score", "f_score", "m_score"):
        out.update(_range(cond, path, 5))
    elif field in ("points", "wallet"):
        out.update(_range(cond, path, 10**15))
    elif field == "joined":
        bounds = {k: _int(cond[k], f"{path}.{k}", 0, 36500) for k in FIELDS[field] if cond.get(k) not in (None, "")}
        if not bounds:
            raise SegmentError("give_a_bound", path)
        out.update(bounds)
    elif field == "tag":
        given = {k: _ids(cond[k], f"{path}.{k}") for k in ("any", "all", "none") if cond.get(k)}
        if not given:
            raise SegmentError("choose_some", f"{path}.any")
        out.update(given)
    elif field in ("spend", "visits"):
        out["days"] = _int(cond.get("days", 0), f"{path}.days", 1, MAX_WINDOW_DAYS)
        if cond.get("merchants"):
            out["merchants"] = _ids(cond["merchants"], f"{path}.merchants")
        if cond.get("categories"):
            out["categories"] = _codes(cond["categories"], f"{path}.categories", choices.get("category", ()))
        out.update(_range(cond, path, 10**15))
    elif field == "coupon":
        out["templates"] = _ids(cond.get("templates"), f"{path}.templates")
        out["state"] = _codes([cond.get("state", "holding")], f"{path}.state", COUPON_STATES)[0]
    elif field == "parking":
        out["days"] = _int(cond.get("days", 0), f"{path}.days", 1, MAX_WINDOW_DAYS)
        out["min"] = _int(cond.get("min", 1), f"{path}.min", 1, 10000)
    elif field == "plate":
        out["verified"] = bool(cond.get("verified", False))
    elif field == "event":
        out["events"] = _ids(cond.get("events"), f"{path}.events")
        out["state"] = _codes([cond.get("state", "registered")], f"{path}.state", EVENT_STATES)[0]
    elif field == "consent":
        out["channel"] = _codes([cond.get("channel", "")], f"{path}.channel", CONSENT_CHANNELS)[0]
        out["granted"] = bool(cond.get("granted", True))
    return out


def validate_segment(
    definition: Any, *, choices: Mapping[str, Sequence[str]] | None = None, _path: str = "", _depth: int = 1
) -> dict[str, Any]:
    """The definition in canonical form (sorted ids, ints, known keys only) or `SegmentError`.

    `{"match": "all" | "any", "conditions": [condition | group, …]}`; a condition is `{"field": …, …}` with the
    keys of `FIELDS[field]`; a group is a definition itself (depth ≤ MAX_DEPTH). An empty top-level list is every
    active member. `choices` lists what the group offers for `category` and `join_channel`."""
    choices = choices or {}
    if not isinstance(definition, Mapping):
        raise SegmentError("not_a_segment", _path or "definition")
    match = definition.get("match", "all")
    if match not in ("all", "any"):
        raise SegmentError("unknown_match", f"{_path}match")
    items = definition.get("conditions", [])
    if not isinstance(items, list) or len(items) > MAX_CONDITIONS:
        raise SegmentError("too_many_conditions", f"{_path}conditions")
    if _depth > 1 and not items:
        raise SegmentError("empty_group", f"{_path}conditions")
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        path = f"{_path}conditions.{i}"
        if not isinstance(item, Mapping):
            raise SegmentError("not_a_condition", path)
        if "conditions" in item:
            if _depth >= MAX_DEPTH:
                raise SegmentError("too_deep", path)
            out.append(validate_segment(item, choices=choices, _path=f"{path}.", _depth=_depth + 1))
        else:
            out.append(_condition(item, path, choices))
    return {"match": match, "conditions": out}


def segment_fields(definition: Mapping[str, Any]) -> list[str]:
    """Every field a (validated) definition uses, groups included, in order."""
    found: list[str] = []
    for item in definition.get("conditions", []):
        found += segment_fields(item) if "conditions" in item else [item["field"]]
    return found


def age_birthdays(today: dt.date, *, min_age: int | None, max_age: int | None) -> tuple[dt.date | None, dt.date | None]:
    """The birthday range [earliest, latest] of members aged min_age…max_age on `today` (whole years)."""

    def years_before(day: dt.date, years: int) -> dt.date:
        try:
            return day.replace(year=day.year - years)
        except ValueError:  # 29 February in a year without one
            return day.replace(year=day.year - years, day=28)

    latest = years_before(today, min_age) if min_age is not None else None
    earliest = years_before(today, max_age + 1) + dt.timedelta(days=1) if max_age is not None else None
    return earliest, latest
