"""The recommender's arithmetic, pure (numpy and scipy, no database): implicit feedback from purchases, item-item
co-occurrence with cosine normalisation, per-segment popularity for cold start, the offline metrics (hit rate@K,
NDCG@K) and the planted-taste dataset generator used by the tests and the benchmark (docs/recommendations.md).

Items are merchants. A purchase counts `exp(-age / half_life)`: last month's visit weighs more than last year's.
A member's weight on a merchant is `log1p(sum of decayed purchases)` so a daily coffee does not drown everything
else. Two merchants are similar by the cosine of their member columns; each keeps its top-K neighbours.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

SCORE_SCALE = 1_000_000  # scores are stored as integer parts per million (no FloatField in the models)
DEFAULT_HALF_LIFE_DAYS = 90
DEFAULT_NEIGHBOURS = 20
MIN_SUPPORT = 2  # members who bought both merchants, at least, for a pair to count
AGE_BANDS = ((0, 25, "<25"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, 200, "55+"))


def decay(*, age_days: float, half_life_days: float) -> float:
    """The weight of a purchase `age_days` before the training cut-off (1.0 at the cut-off, 0.5 a half-life back)."""
    return float(0.5 ** (max(age_days, 0.0) / half_life_days))


def age_band(*, birthday: dt.date | None, today: dt.date) -> str:
    """The member's age band ('' without a birthday)."""
    if birthday is None:
        return ""
    years = today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
    for low, high, name in AGE_BANDS:
        if low <= years < high:
            return name
    return ""


def segment_keys(*, tier_rank: int | None, band: str, mall_id: int | None) -> list[str]:
    """A member's popularity segments, most specific first: tier × age band × mall, tier × mall, mall, all."""
    tier = "" if tier_rank is None else str(tier_rank)
    mall = "" if mall_id is None else str(mall_id)
    return [f"seg:{tier}|{band}|{mall}", f"seg:{tier}||{mall}", f"seg:||{mall}", "seg:||"]


@dataclass(frozen=True)
class Interactions:
    """Members × items weights (CSR), with the ids of the rows and the columns."""

    matrix: sp.csr_matrix
    member_ids: tuple[int, ...]
    item_ids: tuple[int, ...]

    def row_of(self) -> dict[int, int]:
        return {m: i for i, m in enumerate(self.member_ids)}

    def col_of(self) -> dict[int, int]:
        return {m: i for i, m in enumerate(self.item_ids)}


def interactions(
    purchases: Iterable[tuple[int, int, dt.datetime]], *, until: dt.datetime, half_life_days: float
) -> Interactions:
    """Build the weights from (member id, merchant id, sold at) purchases before `until`."""
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    members: dict[int, int] = {}
    items: dict[int, int] = {}
    for member_id, merchant_id, at in purchases:
        age = (until - at).total_seconds() / 86400.0
        rows.append(members.setdefault(member_id, len(members)))
        cols.append(items.setdefault(merchant_id, len(items)))
        vals.append(decay(age_days=age, half_life_days=half_life_days))
    matrix = sp.csr_matrix(
        (np.asarray(vals, dtype=np.float64), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(members), len(items)),
    )
    matrix.sum_duplicates()
    matrix.data = np.log1p(matrix.data)
    return Interactions(matrix=matrix, member_ids=tuple(members), item_ids=tuple(items))


def cosine_similarity(matrix: sp.csr_matrix, *, min_support: int = MIN_SUPPORT) -> sp.csr_matrix:
    """Item × item cosine of the member columns, diagonal zeroed (sparse). Pairs bought together by fewer than
    `min_support` members are dropped: "members who shop at X also visit Y" never stands for one other member."""
    csc = matrix.tocsc()
    norms = np.sqrt(np.asarray(csc.multiply(csc).sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    scaled = csc @ sp.diags(1.0 / norms)
    sim = (scaled.T @ scaled).tocsr()
    if min_support > 1:
        binary = (csc > 0).astype(np.float64)
        support = (binary.T @ binary).tocsr()
        sim = sp.csr_matrix(sim.multiply(support >= min_support))
    sim.setdiag(0)
    sim.eliminate_zeros()
    return sp.csr_matrix(sim)


def top_neighbours(sim: sp.csr_matrix, *, k: int) -> list[list[tuple[int, float]]]:
    """For each item (row), its k most similar items as (column, score), best first (ties by column)."""
    out: list[list[tuple[int, float]]] = []
    for i in range(sim.shape[0]):
        start, end = sim.indptr[i], sim.indptr[i + 1]
        cols = sim.indices[start:end]
        vals = sim.data[start:end]
        order = np.lexsort((cols, -vals))[:k]
        out.append([(int(cols[j]), float(vals[j])) for j in order if vals[j] > 0])
    return out


def popularity(matrix: sp.csr_matrix) -> np.ndarray:
    """Each item's number of distinct members (the popularity baseline)."""
    return np.asarray((matrix > 0).sum(axis=0)).ravel().astype(np.float64)


def popular_by_segment(
    member_items: sp.csr_matrix, member_segments: Sequence[Sequence[str]], *, k: int
) -> dict[str, list[tuple[int, float]]]:
    """Per segment key: the k items most members of the segment bought (as (column, share of the segment's
    members)); a member counts in each of their segments."""
    binary = (member_items > 0).astype(np.float64).tocsr()
    by_key: dict[str, list[int]] = {}
    for row, keys in enumerate(member_segments):
        for key in keys:
            by_key.setdefault(key, []).append(row)
    out: dict[str, list[tuple[int, float]]] = {}
    for key, rows in by_key.items():
        counts = np.asarray(binary[rows].sum(axis=0)).ravel()
        order = np.lexsort((np.arange(len(counts)), -counts))[:k]
        out[key] = [(int(c), float(counts[c]) / len(rows)) for c in order if counts[c] > 0]
    return out


def score_from_seeds(
    seeds: Sequence[tuple[int, float]], neighbours: dict[int, list[tuple[int, float]]]
) -> dict[int, tuple[float, int]]:
    """Candidate item → (score, the seed that contributed most) from the member's items (item, weight) and the
    stored neighbour lists."""
    scores: dict[int, float] = {}
    best: dict[int, tuple[float, int]] = {}
    for seed, weight in seeds:
        for item, sim in neighbours.get(seed, []):
            part = weight * sim
            scores[item] = scores.get(item, 0.0) + part
            if part > best.get(item, (0.0, 0))[0]:
                best[item] = (part, seed)
    return {item: (score, best[item][1]) for item, score in scores.items()}


def recommend_rows(
    matrix: sp.csr_matrix, sim: sp.csr_matrix, rows: Sequence[int], *, k: int, fill: np.ndarray | None = None
) -> list[list[int]]:
    """Top-k unseen items (columns) for these member rows by item-item scores; ties by column. With `fill`
    (popularity per item), a list with fewer than k scored items is filled with the most popular unseen items, as
    the served recommendations are (selectors.rank_picks)."""
    sub = matrix[list(rows)]
    scores = (sub @ sim).toarray()
    seen = sub.toarray() > 0
    scores[seen] = -np.inf
    fill_order = [] if fill is None else np.lexsort((np.arange(len(fill)), -fill)).tolist()
    out = []
    for r in range(scores.shape[0]):
        row = scores[r]
        order = np.lexsort((np.arange(len(row)), -row))
        picked = [int(c) for c in order if row[c] > 0][:k]
        if len(picked) < k and fill_order:
            taken = set(picked)
            picked += [int(c) for c in fill_order if not seen[r, c] and c not in taken][: k - len(picked)]
        out.append(picked)
    return out


def popular_rows(pop: np.ndarray, seen: sp.csr_matrix, rows: Sequence[int], *, k: int) -> list[list[int]]:
    """Top-k unseen items by popularity for these member rows."""
    order = np.lexsort((np.arange(len(pop)), -pop))
    out = []
    for r in rows:
        s = set(seen.indices[seen.indptr[r] : seen.indptr[r + 1]].tolist())
        out.append([int(c) for c in order if c not in s][:k])
    return out


def random_rows(n_items: int, seen: sp.csr_matrix, rows: Sequence[int], *, k: int, seed: int) -> list[list[int]]:
    """k random unseen items per member row (seeded)."""
    rng = np.random.default_rng(seed)
    out = []
    for r in rows:
        s = set(seen.indices[seen.indptr[r] : seen.indptr[r + 1]].tolist())
        candidates = [c for c in rng.permutation(n_items).tolist() if c not in s]
        out.append(candidates[:k])
    return out


def hit_rate_and_ndcg(ranked: Sequence[Sequence[int]], truth: Sequence[set[int]], *, k: int) -> tuple[float, float]:
    """Hit rate@k (share of members with at least one relevant item in their top k) and NDCG@k (binary
    relevance, ideal = min(k, |relevant|) hits first)."""
    if not ranked:
        return 0.0, 0.0
    hits = 0
    ndcg = 0.0
    for items, relevant in zip(ranked, truth, strict=True):
        top = list(items)[:k]
        gains = [1.0 / math.log2(i + 2) for i, item in enumerate(top) if item in relevant]
        hits += 1 if gains else 0
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
        ndcg += (sum(gains) / ideal) if ideal else 0.0
    return hits / len(ranked), ndcg / len(ranked)


# ------------------------------------------------------------------------------------ planted-taste dataset


@dataclass(frozen=True)
class PlantedDataset:
    """Synthetic purchases with known structure: members belong to taste groups and shop mostly at their group's
    merchants; a few "anchor" merchants are popular with everyone."""

    purchases: tuple[tuple[int, int, dt.datetime], ...]  # (member id, merchant id, sold at)
    group_of_member: dict[int, int]
    merchants_of_group: dict[int, tuple[int, ...]]


def planted_dataset(
    *,
    seed: int,
    members: int = 600,
    groups: int = 6,
    merchants_per_group: int = 12,
    anchors: int = 5,
    start: dt.datetime,
    days: int = 210,
    purchases_per_member: int = 14,
    in_group_share: float = 0.7,
) -> PlantedDataset:
    """Deterministic for a seed. Merchant ids: anchors 1..anchors, then each group's block. Each purchase goes to
    one of the member's group merchants (probability `in_group_share`, skewed to a few favourites), otherwise to a
    popular anchor (Zipf-like) or, rarely, any merchant."""
    rng = np.random.default_rng(seed)
    anchor_ids = list(range(1, anchors + 1))
    merchants_of_group = {
        g: tuple(range(anchors + 1 + g * merchants_per_group, anchors + 1 + (g + 1) * merchants_per_group))
        for g in range(groups)
    }
    all_ids = anchor_ids + [m for ms in merchants_of_group.values() for m in ms]
    anchor_p = np.array([1.0 / (i + 1) for i in range(anchors)])
    anchor_p /= anchor_p.sum()
    out: list[tuple[int, int, dt.datetime]] = []
    group_of_member: dict[int, int] = {}
    for member in range(1, members + 1):
        g = int(rng.integers(groups))
        group_of_member[member] = g
        own = merchants_of_group[g]
        taste = rng.dirichlet(np.full(len(own), 0.6))
        n = max(2, int(rng.poisson(purchases_per_member)))
        for _ in range(n):
            roll = rng.random()
            if roll < in_group_share:
                merchant = int(own[int(rng.choice(len(own), p=taste))])
            elif roll < 0.97:
                merchant = int(anchor_ids[int(rng.choice(anchors, p=anchor_p))])
            else:
                merchant = int(all_ids[int(rng.integers(len(all_ids)))])
            at = start + dt.timedelta(seconds=int(rng.integers(days * 86400)))
            out.append((member, merchant, at))
    out.sort(key=lambda p: (p[2], p[0], p[1]))
    return PlantedDataset(purchases=tuple(out), group_of_member=group_of_member, merchants_of_group=merchants_of_group)


# --------------------------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Scores:
    hit_rate: float
    ndcg: float


@dataclass(frozen=True)
class Evaluation:
    """Offline scores of the model and the baselines on one time split (`k` = list length)."""

    k: int
    members: int  # test members: bought before the cut and bought somewhere new in the test window
    model: Scores
    popularity: Scores
    random: Scores

    def lift(self) -> float | None:
        """The model's relative gain in hit rate over popularity (0.2 = 20 percent better); None when popularity
        scores 0."""
        if self.popularity.hit_rate == 0:
            return None
        return self.model.hit_rate / self.popularity.hit_rate - 1.0

    def as_json(self) -> dict[str, object]:
        return {
            "k": self.k,
            "members": self.members,
            "model": {"hit_rate": round(self.model.hit_rate, 4), "ndcg": round(self.model.ndcg, 4)},
            "popularity": {"hit_rate": round(self.popularity.hit_rate, 4), "ndcg": round(self.popularity.ndcg, 4)},
            "random": {"hit_rate": round(self.random.hit_rate, 4), "ndcg": round(self.random.ndcg, 4)},
            "lift_vs_popularity": None if self.lift() is None else round(float(self.lift() or 0.0), 4),
        }


def evaluate(
    purchases: Sequence[tuple[int, int, dt.datetime]],
    *,
    cut: dt.datetime,
    test_days: int = 30,
    k: int = 10,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
    neighbours: int = DEFAULT_NEIGHBOURS,
    seed: int = 0,
) -> Evaluation:
    """Time split: train on purchases before `cut`, test on the next `test_days`: for every member who bought
    before the cut and then at a merchant they had not bought at, is one of those "next new merchants" in the
    top k (the model — filled with popular merchants when it scores fewer than k, as served —, popularity, random;
    all leave out merchants the member already bought at)?"""
    until = cut + dt.timedelta(days=test_days)
    train = interactions(((m, i, at) for m, i, at in purchases if at < cut), until=cut, half_life_days=half_life_days)
    row_of, col_of = train.row_of(), train.col_of()
    seen_sets: dict[int, set[int]] = {}
    for r in range(train.matrix.shape[0]):
        seen_sets[r] = set(train.matrix.indices[train.matrix.indptr[r] : train.matrix.indptr[r + 1]].tolist())
    truth: dict[int, set[int]] = {}
    for m, i, at in purchases:
        if cut <= at < until and m in row_of and i in col_of:
            r, c = row_of[m], col_of[i]
            if c not in seen_sets[r]:
                truth.setdefault(r, set()).add(c)
    rows = sorted(truth)
    relevant = [truth[r] for r in rows]
    sim = pruned_similarity(train.matrix, k=neighbours)
    counts = popularity(train.matrix)
    model = recommend_rows(train.matrix, sim, rows, k=k, fill=counts)
    pop = popular_rows(counts, train.matrix, rows, k=k)
    rnd = random_rows(len(train.item_ids), train.matrix, rows, k=k, seed=seed)
    return Evaluation(
        k=k,
        members=len(rows),
        model=Scores(*hit_rate_and_ndcg(model, relevant, k=k)),
        popularity=Scores(*hit_rate_and_ndcg(pop, relevant, k=k)),
        random=Scores(*hit_rate_and_ndcg(rnd, relevant, k=k)),
    )


def pruned_similarity(matrix: sp.csr_matrix, *, k: int) -> sp.csr_matrix:
    """The cosine similarity keeping each item's top-k neighbours only (what the stored model serves)."""
    sim = cosine_similarity(matrix)
    lists = top_neighbours(sim, k=k)
    rows = [i for i, ns in enumerate(lists) for _ in ns]
    cols = [c for ns in lists for c, _ in ns]
    vals = [v for ns in lists for _, v in ns]
    return sp.csr_matrix((vals, (rows, cols)), shape=sim.shape)
