"""Pure rules of duplicate detection: evidence weights, how two profiles compare, pair scores, grouping of connected
pairs. No database."""

from __future__ import annotations

from collections.abc import Iterable

PHONE = "phone"
CARD = "card"
UNIONID = "unionid"
NAME_BIRTHDAY = "name_birthday"
PLATE = "plate"
EMAIL = "email"
REPORTED = "reported"

# Weight of each kind of evidence. A pair's score is the sum over the distinct kinds that match, adjusted by how the
# two profiles compare (below), between MIN_SCORE and MAX_SCORE.
WEIGHTS: dict[str, int] = {
    UNIONID: 90,  # one WeChat user across the group's official accounts and mini programs
    PHONE: 70,  # the same mobile number, whatever its formatting or where it is stored
    CARD: 70,  # the same member card or physical card number
    PLATE: 50,  # a car is usually driven by one household
    NAME_BIRTHDAY: 40,  # same name and same birthday
    REPORTED: 30,  # reported as a suspected duplicate by staff or an integrator
    EMAIL: 20,  # same e-mail address (case-insensitive): weak, families and offices share one mailbox
}
EVIDENCE_KINDS = tuple(WEIGHTS)

# How the two profiles compare, beyond the shared keys: a name or birthday known on both sides either agrees or not.
SAME = 1
UNKNOWN = 0
DIFFERENT = -1
# The same name corroborates other evidence (it is never evidence on its own: no pair is formed by a name).
SAME_NAME_BONUS = 15
# Two different names, or two different birthdays, speak against one person (a shared family mailbox or phone).
DIFFERENT_NAME_PENALTY = 30
DIFFERENT_BIRTHDAY_PENALTY = 20
# Signals shown next to the evidence
SAME_NAME = "same_name"
DIFFERENT_NAME = "different_name"
DIFFERENT_BIRTHDAY = "different_birthday"
ADJUSTMENTS: dict[str, int] = {
    SAME_NAME: SAME_NAME_BONUS,
    DIFFERENT_NAME: -DIFFERENT_NAME_PENALTY,
    DIFFERENT_BIRTHDAY: -DIFFERENT_BIRTHDAY_PENALTY,
}

MIN_SCORE = 1  # a pair with contrary signals stays in the report, at the bottom
MAX_SCORE = 100
# A key shared by more members than this is junk data (a placeholder e-mail, a shop's own phone): not evidence.
MAX_SHARED = 20
# The report ranks at most this many pairs (highest scores first).
MAX_PAIRS = 5000


def signals(kinds: Iterable[str], *, name: int = UNKNOWN, birthday: int = UNKNOWN) -> tuple[str, ...]:
    """What the comparison of the two profiles adds to the shared keys (SAME_NAME, DIFFERENT_NAME, …)."""
    found = set(kinds)
    out = []
    if name == SAME and NAME_BIRTHDAY not in found:  # name + birthday already counts the name
        out.append(SAME_NAME)
    if name == DIFFERENT:
        out.append(DIFFERENT_NAME)
    if birthday == DIFFERENT:
        out.append(DIFFERENT_BIRTHDAY)
    return tuple(out)


def score(kinds: Iterable[str], *, name: int = UNKNOWN, birthday: int = UNKNOWN) -> int:
    """Sum of the weights of the distinct kinds of evidence, plus the same name (+15) or minus different names
    (−30) and different birthdays (−20), kept between MIN_SCORE and MAX_SCORE.

    An e-mail alone scores 20 (35 with the same name, 1 with another name) and so never outranks a phone with the
    same name (85, 65 even with different birthdays): two people who only share a mailbox sink to the bottom."""
    found = set(kinds)
    total = sum(WEIGHTS.get(kind, 0) for kind in found)
    total += sum(ADJUSTMENTS[s] for s in signals(found, name=name, birthday=birthday))
    return max(MIN_SCORE, min(MAX_SCORE, total))


def ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def groups(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Connected members → the smallest member id of their group (union-find over the pairs)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}
