"""The one row-lock helper: refuses outside a transaction, locks in primary-key order, and its two options really
behave as PostgreSQL documents them — `skip_locked` leaves out a row another transaction holds, `no_key` lets a
concurrent transaction insert a row that references the locked one (plain FOR UPDATE makes it wait).

Parent/child rows are Django's own ContentType / Permission (a foreign key), so core's tests need no domain app."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from galleria.core.locking import lock_one, lock_rows

WAIT = 10  # seconds a thread waits for the other before the test fails instead of hanging


def _parents(n: int) -> list[ContentType]:
    return [ContentType.objects.create(app_label="locktest", model=f"parent{i}") for i in range(n)]


@pytest.mark.django_db(transaction=True)  # a plain django_db test runs inside a transaction
def test_refuses_to_lock_outside_a_transaction():
    (parent,) = _parents(1)
    with pytest.raises(RuntimeError, match="transaction"):
        lock_rows(ContentType.objects.filter(pk=parent.pk))
    with pytest.raises(RuntimeError, match="transaction"):
        lock_one(ContentType.objects.filter(pk=parent.pk), no_key=True)


@pytest.mark.django_db
def test_rows_come_back_in_primary_key_order_whatever_the_queryset_asked():
    parents = _parents(3)
    with transaction.atomic():
        rows = lock_rows(ContentType.objects.filter(pk__in=[p.pk for p in parents]).order_by("-pk"))
    assert [r.pk for r in rows] == sorted(p.pk for p in parents)


@pytest.mark.django_db
def test_lock_one_raises_the_models_does_not_exist_unless_exactly_one_row():
    parents = _parents(2)
    with transaction.atomic():
        assert lock_one(ContentType.objects.filter(pk=parents[0].pk)).pk == parents[0].pk
        with pytest.raises(ContentType.DoesNotExist):
            lock_one(ContentType.objects.filter(pk=-1))
        with pytest.raises(ContentType.DoesNotExist):
            lock_one(ContentType.objects.filter(pk__in=[p.pk for p in parents]))


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_sql_says_which_lock_it_takes():
    (parent,) = _parents(1)
    qs = ContentType.objects.filter(pk=parent.pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as plain:
        lock_one(qs)
    with transaction.atomic(), CaptureQueriesContext(connection) as no_key:
        lock_one(qs, no_key=True)
    with transaction.atomic(), CaptureQueriesContext(connection) as skip:
        lock_one(qs, skip_locked=True)
    assert plain[-1]["sql"].endswith("FOR UPDATE")
    assert "ORDER BY" in plain[-1]["sql"]
    assert no_key[-1]["sql"].endswith("FOR NO KEY UPDATE")
    assert skip[-1]["sql"].endswith("FOR UPDATE SKIP LOCKED")


@pytest.mark.postgres
@pytest.mark.django_db
def test_of_self_locks_only_the_rows_of_the_queryset_model_not_the_joined_ones():
    (parent,) = _parents(1)
    child = Permission.objects.create(content_type=parent, codename="child", name="child")
    qs = Permission.objects.select_related("content_type").filter(pk=child.pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as joined:
        lock_one(qs)
    with transaction.atomic(), CaptureQueriesContext(connection) as own:
        assert lock_one(qs, of=("self",)).content_type == parent
    assert joined[-1]["sql"].endswith("FOR UPDATE")
    assert own[-1]["sql"].endswith('FOR UPDATE OF "auth_permission"')


# ---------------------------------------------------------------- two real transactions (PostgreSQL)


def _holding_lock_while(*, lock: Callable[[], Any], other: Callable[[], Any]) -> Any:
    """Thread 1 opens a transaction, runs `lock`, and keeps the transaction open until `other` (run meanwhile in
    thread 2, its own connection and transaction, with a 2-second lock timeout) has finished. Returns what
    `other` returned, or the exception it raised."""
    locked, done = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def holder() -> None:
        try:
            with transaction.atomic():
                lock()
                locked.set()
                done.wait(WAIT)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcome["holder_error"] = exc
            locked.set()
        finally:
            connection.close()

    def contender() -> None:
        try:
            locked.wait(WAIT)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                outcome["result"] = other()
        except Exception as exc:
            outcome["result"] = exc
        finally:
            done.set()
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=contender)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 2)
    assert "holder_error" not in outcome, outcome.get("holder_error")
    return outcome["result"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_skip_locked_leaves_out_the_row_another_transaction_holds():
    first, second = _parents(2)
    both = ContentType.objects.filter(pk__in=[first.pk, second.pk])

    got = _holding_lock_while(
        lock=lambda: lock_one(ContentType.objects.filter(pk=first.pk)),
        other=lambda: [row.pk for row in lock_rows(both, skip_locked=True)],
    )
    assert got == [second.pk]

    missing = _holding_lock_while(
        lock=lambda: lock_one(ContentType.objects.filter(pk=first.pk)),
        other=lambda: lock_one(ContentType.objects.filter(pk=first.pk), skip_locked=True),
    )
    assert isinstance(missing, ContentType.DoesNotExist)

    # without the option the second transaction waits for the first (here: until its lock timeout)
    waited = _holding_lock_while(
        lock=lambda: lock_one(ContentType.objects.filter(pk=first.pk)),
        other=lambda: lock_rows(both),
    )
    assert isinstance(waited, OperationalError)
    assert "lock timeout" in str(waited)


def _insert_child(parent_id: int) -> int:
    return Permission.objects.create(content_type_id=parent_id, codename=f"child-{parent_id}", name="child").pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_key_lets_a_concurrent_transaction_insert_a_row_that_references_the_locked_one():
    parent, other_parent = _parents(2)

    child_id = _holding_lock_while(
        lock=lambda: lock_one(ContentType.objects.filter(pk=parent.pk), no_key=True),
        other=lambda: _insert_child(parent.pk),
    )
    assert isinstance(child_id, int)
    assert Permission.objects.filter(pk=child_id, content_type_id=parent.pk).exists()

    # a plain FOR UPDATE blocks the foreign-key check (FOR KEY SHARE) of the insert: it waits until the timeout
    blocked = _holding_lock_while(
        lock=lambda: lock_one(ContentType.objects.filter(pk=other_parent.pk)),
        other=lambda: _insert_child(other_parent.pk),
    )
    assert isinstance(blocked, OperationalError)
    assert "lock timeout" in str(blocked)
    assert not Permission.objects.filter(content_type_id=other_parent.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_key_still_serialises_two_writers_of_the_same_row():
    (parent,) = _parents(1)
    blocked = _holding_lock_while(
        lock=lambda: lock_one(ContentType.objects.filter(pk=parent.pk), no_key=True),
        other=lambda: lock_one(ContentType.objects.filter(pk=parent.pk), no_key=True),
    )
    assert isinstance(blocked, OperationalError)
    assert "lock timeout" in str(blocked)
