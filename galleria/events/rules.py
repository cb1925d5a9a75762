"""Event rules, pure (no database, no clock: `at` is passed in) — docs/events.md.

The registration window, tier-only and tier-priority windows, seats per member, the cancellation deadline, the
check-in window, the no-show block, the seat offer's deadline, ticket codes and the event editor's checks."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Sequence

from django.utils.translation import gettext as _

from .types import EventIn, NoShowPolicy, QuestionIn, QuestionKind, QuestionSpec, TierMode

TICKET_CODE_DIGITS = 8
MAX_SEATS_PER_MEMBER = 10
MAX_CAPACITY = 100_000
MAX_PRICE_POINTS = 10_000_000
CHECK_IN_OPENS_BEFORE = dt.timedelta(hours=2)


def registration_open(
    *, opens_at: dt.datetime | None, closes_at: dt.datetime | None, starts_at: dt.datetime, at: dt.datetime
) -> bool:
    """Open from `opens_at` (or at once) until `closes_at` (or the start)."""
    if opens_at is not None and at < opens_at:
        return False
    return at < (closes_at if closes_at is not None else starts_at)


def tier_problem(
    *, mode: str, member_rank: int, min_rank: int | None, priority_until: dt.datetime | None, at: dt.datetime
) -> str:
    """'' when the member's tier may register now; else the error code."""
    if mode == TierMode.OPEN or min_rank is None or member_rank >= min_rank:
        return ""
    if mode == TierMode.TIER_ONLY:
        return "events.tier_required"
    if priority_until is not None and at < priority_until:
        return "events.tier_priority"
    return ""


def seats_ok(*, seats: int, per_member_limit: int) -> bool:
    return 1 <= seats <= max(per_member_limit, 1)


def can_member_cancel(*, starts_at: dt.datetime, cancel_hours_before: int, at: dt.datetime) -> bool:
    """Members may cancel until `cancel_hours_before` hours before the start (waiting and offered: until the start)."""
    return at <= starts_at - dt.timedelta(hours=cancel_hours_before)


def check_in_open(*, starts_at: dt.datetime, ends_at: dt.datetime, at: dt.datetime) -> bool:
    return starts_at - CHECK_IN_OPENS_BEFORE <= at <= ends_at


def offer_deadline(*, at: dt.datetime, starts_at: dt.datetime, offer_hours: int) -> dt.datetime:
    """A promoted member confirms within `offer_hours`, and never after the event starts."""
    return min(at + dt.timedelta(hours=max(offer_hours, 1)), starts_at)


def no_show_blocked_until(
    *, no_show_ends: Sequence[dt.datetime], policy: NoShowPolicy, at: dt.datetime
) -> dt.datetime | None:
    """When a member's no-shows (the end times of the events they missed) block them until a later time than `at`.

    Every run of `limit` no-shows whose first and last events ended at most `window_days` apart blocks registration
    for `block_days` after the last of them; the latest such block is returned if it has not ended (None otherwise,
    and always when the rule is off: `limit` 0)."""
    if policy.limit <= 0 or len(no_show_ends) < policy.limit:
        return None
    ends = sorted(no_show_ends)
    window = dt.timedelta(days=policy.window_days)
    until: dt.datetime | None = None
    for j in range(policy.limit - 1, len(ends)):
        if ends[j] - ends[j - policy.limit + 1] <= window:
            candidate = ends[j] + dt.timedelta(days=policy.block_days)
            until = candidate if until is None or candidate > until else until
    return until if until is not None and until > at else None


def new_ticket_code() -> str:
    """8 random digits: not enumerable (the desk screen is staff-only), read aloud as 1234 5678."""
    return f"{secrets.randbelow(10**TICKET_CODE_DIGITS):0{TICKET_CODE_DIGITS}d}"


_SEPARATORS = re.compile(r"[\s\-·.]")


def normalise_code(text: str) -> str:
    """A ticket code as staff type or scan it (full-width digits, spaces, dashes, an `EV` prefix); '' if not one."""
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))[:40].upper()
    code = code.removeprefix("EV")
    return code if re.fullmatch(rf"\d{{{TICKET_CODE_DIGITS}}}", code) else ""


MAX_PRICE_FEN = 10_000_000  # ¥100,000 per seat
PAY_HOLD_MINUTES = 15  # a money-priced seat is held this long while the member pays


def pay_deadline(*, at: dt.datetime, starts_at: dt.datetime, minutes: int = PAY_HOLD_MINUTES) -> dt.datetime:
    """Until when a seat waits for its payment: `minutes` from now, never past the start."""
    return min(at + dt.timedelta(minutes=minutes), starts_at)


def spaced_code(code: str) -> str:
    return f"{code[:4]} {code[4:]}" if len(code) == TICKET_CODE_DIGITS else code


def event_problems(data: EventIn) -> dict[str, str]:
    """The editor's checks, per field."""
    errors: dict[str, str] = {}
    if not data.title.strip() or len(data.title.strip()) > 60:
        errors["title"] = _("Enter a title of at most 60 characters.")
    if not data.place.strip() or len(data.place.strip()) > 120:
        errors["place"] = _("Enter where it takes place (at most 120 characters).")
    if data.ends_at <= data.starts_at:
        errors["ends_at"] = _("The event must end after it starts.")
    if not 1 <= data.capacity <= MAX_CAPACITY:
        errors["capacity"] = _("Enter a capacity between 1 and 100,000.")
    if not 1 <= data.per_member_limit <= MAX_SEATS_PER_MEMBER:
        errors["per_member_limit"] = _("Enter between 1 and 10 seats per member.")
    opens, closes = data.registration_opens_at, data.registration_closes_at
    if opens and closes and closes <= opens:
        errors["registration_closes_at"] = _("Registration must close after it opens.")
    if data.registration_closes_at and data.registration_closes_at > data.starts_at:
        errors["registration_closes_at"] = _("Registration must close by the start of the event.")
    if data.tier_mode != TierMode.OPEN and data.min_tier_id is None:
        errors["min_tier"] = _("Choose the tier.")
    if data.tier_mode == TierMode.TIER_PRIORITY and data.priority_until is None:
        errors["priority_until"] = _("Say until when the tier registers first.")
    if not 0 <= data.price_points <= MAX_PRICE_POINTS:
        errors["price_points"] = _("Enter a points price between 0 and 10,000,000.")
    if data.price_points and data.store_id is None:
        errors["store"] = _("A points-priced event needs the store whose sales the registrations are.")
    if not 0 <= data.price_fen <= MAX_PRICE_FEN:
        errors["price_fen"] = _("Enter a price between ¥0 and ¥100,000.")
    elif data.price_fen and data.store_id is None:
        errors["store"] = _("A priced event needs the store whose sales the registrations are.")
    if not 0 <= data.cancel_hours_before <= 24 * 30:
        errors["cancel_hours_before"] = _("Enter between 0 and 720 hours.")
    return errors


def price_problem(price_points: int, *, min_points: int, multiple: int, points_per_yuan: int) -> str:
    """Why a points price cannot go through the checkout under the group's points rules ('' when it can): at
    least the minimum, whole multiples, worth whole fen (as the points mall's items)."""
    if price_points == 0:
        return ""
    if price_points < min_points:
        return _("The group's points rules take at least %(n)s points at once.") % {"n": min_points}
    if multiple and price_points % multiple:
        return _("The group's points rules take points in whole multiples of %(n)s.") % {"n": multiple}
    if (price_points * 100) % points_per_yuan:
        return _("At %(rate)s points per ¥1 these points are not worth a whole number of fen.") % {
            "rate": points_per_yuan
        }
    return ""


# ------------------------------------------------------------------------------------------------- questions

MAX_QUESTIONS = 10
MAX_CHOICES = 12
MAX_ANSWER_CHARS = 500


def question_problems(data: QuestionIn) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.label.strip() or len(data.label.strip()) > 120:
        errors["label"] = _("Enter the question (at most 120 characters).")
    if data.kind not in QuestionKind.values:
        errors["kind"] = _("Choose the kind of answer.")
    elif data.kind != QuestionKind.TEXT:
        choices = [c.strip() for c in data.choices if c.strip()]
        if not 2 <= len(choices) <= MAX_CHOICES:
            errors["choices"] = _("Enter between 2 and 12 choices, one per line.")
        elif len(set(choices)) != len(choices) or any(len(c) > 60 for c in choices):
            errors["choices"] = _("Choices must differ and have at most 60 characters each.")
    return errors


def clean_answers(
    questions: Sequence[QuestionSpec], raw: dict[str, list[str]]
) -> tuple[list[dict[str, object]], dict[str, str]]:
    """Check the answers a member gave (`raw`: "q<id>" → the values sent) against the questions: returns the
    answers to store and the problems per field ("q<id>")."""
    answers: list[dict[str, object]] = []
    errors: dict[str, str] = {}
    for q in questions:
        name = f"q{q.question_id}"
        values = [v.strip() for v in raw.get(name, []) if v and v.strip()]
        value: str | list[str]
        if q.kind == QuestionKind.TEXT:
            value = values[0] if values else ""
            if len(value) > MAX_ANSWER_CHARS:
                errors[name] = _("Answer in at most 500 characters.")
                continue
        elif q.kind == QuestionKind.SINGLE:
            if len(values) > 1 or any(v not in q.choices for v in values):
                errors[name] = _("Choose one of the answers.")
                continue
            value = values[0] if values else ""
        else:
            if any(v not in q.choices for v in values):
                errors[name] = _("Choose among the answers.")
                continue
            value = [c for c in q.choices if c in values]  # the question's order, no repeats
        if q.required and not value:
            errors[name] = _("Please answer this question.")
            continue
        answers.append({"question_id": q.question_id, "label": q.label, "kind": q.kind, "value": value})
    return answers, errors


def answer_text(value: object) -> str:
    """An answer as one line (several choices joined)."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value or "")


# ------------------------------------------------------------------------------------------------- conversion

AGE_BANDS: tuple[tuple[int, int | None], ...] = ((0, 25), (25, 35), (35, 45), (45, 55), (55, None))


def age_band(birthday: dt.date | None, *, on: dt.date) -> tuple[int, int | None] | None:
    """The age band (from, to) of a member born on `birthday` on day `on`; None when the birthday is unknown."""
    if birthday is None:
        return None
    age = on.year - birthday.year - ((on.month, on.day) < (birthday.month, birthday.day))
    for lo, hi in AGE_BANDS:
        if age >= lo and (hi is None or age < hi):
            return (lo, hi)
    return AGE_BANDS[0]


def band_birthdays(band: tuple[int, int | None], *, on: dt.date) -> tuple[dt.date | None, dt.date]:
    """The birthdays of the band on day `on`: (born after, born on or before) — after is None for the oldest."""
    lo, hi = band
    latest = _years_before(on, lo)
    earliest = _years_before(on, hi) if hi is not None else None
    return earliest, latest


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def weighted_peer_average(strata: Sequence[tuple[int, int, int]]) -> int | None:
    """(attendees, peers, peers' spend) per stratum → the peers' spend per member weighted to the attendees' mix
    (fen, rounded down); None when no stratum has peers."""
    weight = sum(n for n, peers, _ in strata if peers)
    if not weight:
        return None
    return int(sum(n * spend / peers for n, peers, spend in strata if peers) // weight)
