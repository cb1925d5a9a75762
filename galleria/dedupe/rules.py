"""Pure rules of duplicate detection: evidence weights, pair scores, grouping of connected pairs. No database."""

from __future__ import annotations

from collections.abc import Iterable

PHONE = "phone"
CARD = "card"
UNIONID = "unionid"
NAME_BIRTHDAY = "name_birthday"
PLATE = "plate"
EMAIL = "email"
REPORTED = "reported"

# Weight of each kind of evidence. A pair's score is the sum over the distinct kinds that match, capped at 100.
WEIGHTS: dict[str, int] = {
    UNIONID: 90,  # one WeChat user across the group's official accounts and mini programs
    PHONE: 70,  # the same mobile number, whatever its formatting or where it is stored
    CARD: 70,  # the same member card or physical card number
    PLATE: 50,  # a car is usually driven by one household
    NAME_BIRTHDAY: 40,  # same name and same birthday
    EMAIL: 40,  # same e-mail address (case-insensitive)
    REPORTED: 30,  # reported as a suspected duplicate by staff or an integrator
}
EVIDENCE_KINDS = tuple(WEIGHTS)
MAX_SCORE = 100
# A key shared by more members than this is junk data (a placeholder e-mail, a shop's own phone): not evidence.
MAX_SHARED = 20
# The report ranks at most this many pairs (highest scores first).
MAX_PAIRS = 5000


def score(kinds: Iterable[str]) -> int:
    return min(MAX_SCORE, sum(WEIGHTS.get(kind, 0) for kind in set(kinds)))


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
