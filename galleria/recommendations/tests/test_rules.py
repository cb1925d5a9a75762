"""The recommender's arithmetic without a database: decay, cosine, segments, metrics, and the planted-taste
evaluation the issue asks for (the model beats popularity by at least 20 percent relative hit rate@10)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from galleria.recommendations import rules

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_decay_halves_each_half_life() -> None:
    assert rules.decay(age_days=0, half_life_days=90) == 1.0
    assert rules.decay(age_days=90, half_life_days=90) == pytest.approx(0.5)
    assert rules.decay(age_days=180, half_life_days=90) == pytest.approx(0.25)
    assert rules.decay(age_days=-5, half_life_days=90) == 1.0  # a purchase after the cut counts as now


def test_age_band_and_segment_keys() -> None:
    assert rules.age_band(birthday=None, today=dt.date(2026, 6, 1)) == ""
    assert rules.age_band(birthday=dt.date(2000, 6, 2), today=dt.date(2026, 6, 1)) == "25-34"  # 25 tomorrow: 25
    assert rules.age_band(birthday=dt.date(2001, 6, 2), today=dt.date(2026, 6, 1)) == "<25"
    keys = rules.segment_keys(tier_rank=2, band="25-34", mall_id=7)
    assert keys == ["seg:2|25-34|7", "seg:2||7", "seg:||7", "seg:||"]


def test_cosine_co_occurrence_links_items_bought_by_the_same_members() -> None:
    at = START
    purchases = [(1, 10, at), (1, 20, at), (2, 10, at), (2, 20, at), (3, 30, at), (3, 40, at), (4, 30, at)]
    purchases += [(5, 30, at), (5, 40, at)]
    data = rules.interactions(purchases, until=at, half_life_days=90)
    sim = rules.cosine_similarity(data.matrix)
    col = data.col_of()
    assert sim[col[10], col[20]] == pytest.approx(1.0)
    assert sim[col[10], col[30]] == 0
    assert sim[col[10], col[10]] == 0  # the diagonal is zeroed
    lists = rules.top_neighbours(sim, k=5)
    assert [data.item_ids[c] for c, _s in lists[col[30]]] == [40]


def test_a_pair_bought_by_one_member_only_is_not_similar() -> None:
    at = START
    purchases = [(1, 10, at), (1, 20, at), (2, 10, at), (2, 20, at), (3, 10, at), (3, 30, at)]
    data = rules.interactions(purchases, until=at, half_life_days=90)
    col = data.col_of()
    assert rules.cosine_similarity(data.matrix)[col[10], col[30]] == 0  # only member 3 bought both
    assert rules.cosine_similarity(data.matrix)[col[10], col[20]] > 0
    assert rules.cosine_similarity(data.matrix, min_support=1)[col[10], col[30]] > 0


def test_repeat_purchases_are_damped_and_old_ones_decay() -> None:
    old = START - dt.timedelta(days=360)
    data = rules.interactions([(1, 10, START)] * 10 + [(1, 20, START), (1, 30, old)], until=START, half_life_days=90)
    row = data.matrix.toarray()[0]
    col = data.col_of()
    assert row[col[10]] == pytest.approx(np.log1p(10))
    assert row[col[20]] == pytest.approx(np.log1p(1))
    assert row[col[30]] == pytest.approx(np.log1p(1 / 16))


def test_scores_from_seeds_keep_the_strongest_reason() -> None:
    neighbours = {1: [(5, 0.5), (6, 0.1)], 2: [(5, 0.2), (7, 0.9)]}
    scored = rules.score_from_seeds([(1, 3.0), (2, 1.0)], neighbours)
    assert scored[5] == (pytest.approx(1.7), 1)
    assert scored[7] == (pytest.approx(0.9), 2)


def test_hit_rate_and_ndcg() -> None:
    hr, ndcg = rules.hit_rate_and_ndcg([[1, 2, 3], [4, 5, 6]], [{1}, {9}], k=3)
    assert hr == 0.5
    assert ndcg == pytest.approx(0.5)
    hr, ndcg = rules.hit_rate_and_ndcg([[2, 1]], [{1}], k=2)
    assert ndcg == pytest.approx(1 / np.log2(3))


def test_planted_dataset_is_deterministic() -> None:
    a = rules.planted_dataset(seed=3, members=50, start=START)
    b = rules.planted_dataset(seed=3, members=50, start=START)
    assert a.purchases == b.purchases


def test_model_beats_popularity_by_20_percent_on_planted_tastes() -> None:
    """The issue's goal on the synthetic dataset: ≥ 20 percent relative hit rate@10 over popularity; and both
    beat random (fixed seed, deterministic)."""
    data = rules.planted_dataset(seed=7, start=START)
    result = rules.evaluate(data.purchases, cut=START + dt.timedelta(days=180), test_days=30, k=10)
    assert result.members > 100
    lift = result.lift()
    assert lift is not None and lift >= 0.20, result.as_json()
    assert result.model.ndcg > result.popularity.ndcg > result.random.ndcg
    assert result.popularity.hit_rate > result.random.hit_rate


def test_recommendations_stay_in_the_planted_taste_group() -> None:
    data = rules.planted_dataset(seed=5, start=START)
    train = rules.interactions(data.purchases, until=START + dt.timedelta(days=210), half_life_days=90)
    sim = rules.pruned_similarity(train.matrix, k=20)
    rows = list(range(40))
    ranked = rules.recommend_rows(train.matrix, sim, rows, k=3)
    inside = total = 0
    for r, items in zip(rows, ranked, strict=True):
        group = data.group_of_member[train.member_ids[r]]
        own = set(data.merchants_of_group[group])
        for c in items:
            total += 1
            inside += train.item_ids[c] in own
    assert total and inside / total > 0.6
