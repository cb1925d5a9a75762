"""Scoring of duplicate pairs (pure rules, no database)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from galleria.dedupe import rules

RELATIONS = (rules.SAME, rules.UNKNOWN, rules.DIFFERENT)


def test_weights_and_profile_signals():
    assert rules.score([rules.PHONE]) == 70
    assert rules.score([rules.PHONE], name=rules.SAME) == 85
    assert rules.score([rules.PHONE], name=rules.DIFFERENT) == 40
    assert rules.score([rules.EMAIL]) == 20
    assert rules.score([rules.EMAIL], name=rules.SAME) == 35
    assert rules.score([rules.EMAIL], name=rules.DIFFERENT, birthday=rules.DIFFERENT) == rules.MIN_SCORE
    # name + birthday already counts the name: no bonus on top
    assert rules.score([rules.NAME_BIRTHDAY], name=rules.SAME, birthday=rules.SAME) == 40
    assert rules.signals([rules.NAME_BIRTHDAY], name=rules.SAME, birthday=rules.SAME) == ()
    assert rules.signals([rules.EMAIL], name=rules.SAME) == (rules.SAME_NAME,)
    assert rules.signals([rules.EMAIL], name=rules.DIFFERENT, birthday=rules.DIFFERENT) == (
        rules.DIFFERENT_NAME,
        rules.DIFFERENT_BIRTHDAY,
    )
    assert rules.score([rules.UNIONID, rules.PHONE, rules.CARD], name=rules.SAME) == rules.MAX_SCORE


def test_an_email_alone_never_outranks_name_and_phone():
    best_email_alone = max(
        rules.score([rules.EMAIL], name=n, birthday=b) for n, b in itertools.product(*[RELATIONS] * 2)
    )
    worst_name_and_phone = min(rules.score([rules.PHONE], name=rules.SAME, birthday=b) for b in RELATIONS)
    assert best_email_alone < worst_name_and_phone
    # nor a phone on its own (names unknown, e.g. an imported record without a name)
    assert best_email_alone < rules.score([rules.PHONE])


@given(
    kinds=st.sets(st.sampled_from(rules.EVIDENCE_KINDS), min_size=1),
    name=st.sampled_from(RELATIONS),
    birthday=st.sampled_from(RELATIONS),
)
def test_scores_stay_in_range_and_contrary_signals_never_raise_a_score(kinds, name, birthday):
    value = rules.score(kinds, name=name, birthday=birthday)
    assert rules.MIN_SCORE <= value <= rules.MAX_SCORE
    assert value <= rules.score(kinds, name=rules.SAME if name == rules.SAME else rules.UNKNOWN)
    assert rules.score(kinds, name=name, birthday=rules.DIFFERENT) <= rules.score(kinds, name=name, birthday=birthday)
