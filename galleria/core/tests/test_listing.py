"""`core.listing.Runs`: ordered runs sliced as one list, and the capped count."""

from __future__ import annotations

import pytest
from django.db.models import Q

from galleria.core.listing import PkIn, Runs, capped_count
from galleria.core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    # 7 "even" rows then 5 "odd" rows: two runs over one set
    return IdempotencyRecord.objects.bulk_create(
        [IdempotencyRecord(scope="even" if i < 7 else "odd", key=f"k{i:02d}", request_hash="") for i in range(12)]
    )


def listing(cap=None):
    everything = IdempotencyRecord.objects.all()
    runs = [everything.filter(scope="even").order_by("-key"), everything.filter(scope="odd").order_by("key")]
    return Runs(total=everything, runs=runs, cap=cap)


def test_slices_run_across_the_boundary_in_order(rows):
    expected = [f"k{i:02d}" for i in range(6, -1, -1)] + [f"k{i:02d}" for i in range(7, 12)]
    runs = listing()
    assert [r.key for r in runs[0:12]] == expected
    for start in range(0, 13):
        for stop in range(start, 14):
            assert [r.key for r in listing()[start:stop]] == expected[start:stop], (start, stop)
    assert runs[8].key == expected[8]
    with pytest.raises(IndexError):
        runs[12]
    assert [r.key for r in runs.iterator()] == expected


def test_slicing_past_the_first_run_costs_a_capped_count(rows, django_assert_num_queries):
    with django_assert_num_queries(3):  # nothing left in the first run here: count it (≤ 10 rows), then the second
        assert [r.key for r in listing()[10:12]] == ["k10", "k11"]
    with django_assert_num_queries(2):  # the slice starts in the first run and ends in the second
        assert len(listing()[5:9]) == 4


def test_count_is_capped(rows):
    assert listing().count() == 12 and not listing().is_capped
    capped = listing(cap=10)
    assert capped.count() == 10 and capped.is_capped
    assert capped_count(IdempotencyRecord.objects.all(), 5) == 6
    assert capped_count(IdempotencyRecord.objects.none(), 5) == 0


def test_bad_slices_are_refused(rows):
    with pytest.raises(ValueError):
        listing()[3:]
    with pytest.raises(TypeError):
        listing()[0:10:2]
    with pytest.raises(IndexError):
        listing()[-1]


def test_pk_in_takes_a_list_of_ids(rows):
    wanted = [rows[1].pk, rows[5].pk, rows[11].pk]
    assert sorted(IdempotencyRecord.objects.filter(PkIn(wanted)).values_list("pk", flat=True)) == sorted(wanted)
    assert list(IdempotencyRecord.objects.filter(PkIn([]))) == []
    assert IdempotencyRecord.objects.filter(PkIn([]) | Q(key="k03")).count() == 1
