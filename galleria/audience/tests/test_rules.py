"""The audience's pure rules: quintile cuts and scores, the eight RFM segments, lifecycle stages, automatic tags and
segment definitions (what docs/marketing.md promises, including its worked example)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galleria.audience import rules

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)
DAYS = rules.LifecycleDays()


def test_the_worked_example_of_the_docs():
    spend = [1000, 2000, 2000, 5000, 90000]
    cuts = rules.quintile_cuts(spend)
    assert cuts == (2000, 2000, 5000, 90000)
    scores = [rules.score(v, cuts) for v in spend]
    assert scores == [1, 3, 3, 4, 5]
    assert sum(scores) * 100 // len(scores) == 320


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=300))
def test_scores_are_monotone_and_the_top_value_scores_five(values):
    cuts = rules.quintile_cuts(values)
    assert list(cuts) == sorted(cuts)
    ordered = sorted(values)
    scores = [rules.score(v, cuts) for v in ordered]
    assert scores == sorted(scores) and all(1 <= s <= 5 for s in scores)
    assert scores[-1] == 5
    if len(set(values)) == len(values) and len(values) >= 5:  # distinct values: five groups of (nearly) equal size
        counts = [scores.count(s) for s in range(1, 6)]
        assert max(counts) - min(counts) <= 1 + len(values) // 5


@given(
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(100, 500),
    st.integers(100, 500),
    st.integers(100, 500),
)
def test_every_scored_member_has_exactly_one_segment(r, f, m, mr, mf, mm):
    code = rules.rfm_segment(r, f, m, mean_r100=mr, mean_f100=mf, mean_m100=mm)
    if 0 in (r, f, m):
        assert code == rules.NO_RFM
    else:
        expected = [
            c for c, hr, hf, hm in rules.RFM_SEGMENTS if (hr, hf, hm) == (r * 100 > mr, f * 100 > mf, m * 100 > mm)
        ]
        assert [code] == expected


@pytest.mark.parametrize(
    ("joined_days", "last_days", "prev_days", "stage"),
    [
        (5, None, None, "new"),
        (31, None, None, "dormant"),
        (400, None, None, "lost"),
        (5, 1, None, "active"),
        (400, 10, 20, "active"),
        (400, 10, 200, "won_back"),  # 190 days between the two purchases > 120
        (400, 60, None, "active"),
        (400, 61, None, "at_risk"),
        (400, 120, None, "at_risk"),
        (400, 121, None, "dormant"),
        (900, 365, None, "dormant"),
        (900, 366, None, "lost"),
    ],
)
def test_lifecycle_stages(joined_days, last_days, prev_days, stage):
    def ago(days):
        return None if days is None else NOW - dt.timedelta(days=days)

    assert (
        rules.lifecycle(
            now=NOW, joined_at=ago(joined_days), last_sale_at=ago(last_days), prev_sale_at=ago(prev_days), days=DAYS
        )
        == stage
    )


def test_lifecycle_days_must_grow():
    assert rules.LifecycleDays().problems() == []
    assert rules.LifecycleDays(active=120, at_risk=120).problems() != []
    assert rules.LifecycleDays(new=0).problems() == ["new"]


def test_automatic_tags():
    facts = rules.ProfileFacts(
        lifecycle="active",
        m_score=5,
        visit_days_90=6,
        sales_365=4,
        discounted_365=2,
        evening_365=1,
        weekend_365=3,
        drives=True,
        top_category="dining",
        channel="online",
    )
    assert rules.auto_tags(facts, ["dining", "kids"]) == {
        "lifecycle:active",
        "value:high_spender",
        "habit:frequent",
        "habit:coupon_sensitive",
        "habit:weekend",
        "habit:drives",
        "habit:online",
        "favourite:dining",
    }
    assert set(rules.auto_tag_codes(["dining"])) >= rules.auto_tags(facts, ["dining"])


def test_a_definition_is_canonical():
    got = rules.validate_segment(
        {
            "conditions": [
                {"field": "tier", "in": ["3", 1, 3]},
                {"match": "any", "conditions": [{"field": "age", "min": "20"}]},
            ]
        }
    )
    assert got == {
        "match": "all",
        "conditions": [{"field": "tier", "in": [1, 3]}, {"match": "any", "conditions": [{"field": "age", "min": 20}]}],
    }
    assert rules.segment_fields(got) == ["tier", "age"]


def test_age_birthdays():
    today = dt.date(2026, 3, 1)
    earliest, latest = rules.age_birthdays(today, min_age=20, max_age=29)
    assert latest == dt.date(2006, 3, 1)  # turned 20 today
    assert earliest == dt.date(1996, 3, 2)  # born 1996-03-01: 30 today, too old; a day later: 29
