"""The odds of an unlimited prize hold over 10,000 draws (a statistical test with a fixed seed).

The draws are the service's own derivation (rules.draw_number + rules.pick, the code `draw` runs) for 10,000 plays
of one game: members 1…1000, seq 1…10, a fixed server seed. The prize has weight 30 of 100 (p = 0.3); the count must
fall within ±4.5 standard deviations of n·p = 3,000 (σ = √(n·p·(1−p)) ≈ 45.8, so [2,794, 3,206]). With a fixed seed
the test is deterministic; were the seed drawn at random, a correct implementation would fail it with probability
P(|Z| > 4.5) ≈ 6.8 × 10⁻⁶ (the documented false-failure rate). A biased mapping (e.g. a prize getting one extra
percentage point, +100 draws ≈ 2.2σ) does not always fail at this width; an off-by-range error (weights mixed up,
0.1 or 0.6) fails by tens of σ. A second check runs 200 real plays through the service and compares each with the
same derivation."""

from __future__ import annotations

import math

import pytest

from galleria.games import rules
from galleria.games.models import Draw
from galleria.games.types import PrizeIn

from .helpers import game, member, play

N = 10_000
P = 0.3
Z = 4.5
SEED = "5eed" * 16


def test_an_unlimited_prize_with_weight_30_of_100_wins_within_the_binomial_interval():
    slots = [rules.Slot(1, 30), rules.Slot(2, 10), rules.Slot(3, 60)]
    total = sum(s.weight for s in slots)
    wins = 0
    for member_id in range(1, 1001):
        for seq in range(1, 11):
            n = rules.draw_number(
                server_seed=SEED, game_id=1, member_id=member_id, seq=seq, client_seed="", total_weight=total
            )
            wins += rules.pick(slots, n) == 0
    sigma = math.sqrt(N * P * (1 - P))
    low, high = N * P - Z * sigma, N * P + Z * sigma
    assert low <= wins <= high, (wins, low, high)


@pytest.mark.django_db
def test_real_plays_land_where_the_published_derivation_says(world):
    g = game(
        world,
        [
            PrizeIn(kind="points", name="10 积分", weight=30, inventory=None, points=10),
            PrizeIn(kind="thanks", name="谢谢参与", weight=70, inventory=None),
        ],
        free_per_day=50,
    )
    people = [member(world) for _ in range(4)]
    results = [play(world, m, g) for m in people for _ in range(50)]
    seed = g.commitment.server_seed
    for r in results:
        d = Draw.objects.get(pk=r.draw_id)
        n = rules.draw_number(
            server_seed=seed, game_id=g.pk, member_id=d.member_id, seq=d.seq, client_seed="", total_weight=100
        )
        assert n == r.number
        assert (r.prize_kind == "points") == (n < 30)
