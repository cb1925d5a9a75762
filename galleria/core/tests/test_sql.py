"""core.sql's statements built from the models (no SQL text in the caller) against the ORM they stand in for: a row
with its foreign-key chain as select_related loads it, a new row as save()/bulk_create write it, and a row saved as
save() writes it. On every database CI runs (PostgreSQL and SQLite)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult, get_date_max

from galleria.core import sql
from galleria.core.tasks import enqueue_after_commit, enqueue_many

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 1, 4, 0, tzinfo=dt.UTC)


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_row_with_its_chain_is_what_select_related_loads(world):
    store_model = type(world.store)
    orm = store_model.objects.select_related("merchant__mall__group").get(pk=world.store.pk)
    row = sql.row_with_chain(
        store_model, ("merchant", "mall", "group"), id=world.store.pk, merchant_id=world.merchant.pk
    )
    assert row is not None
    with CaptureQueriesContext(connection) as queries:  # the chain is cached: no query on access
        chain = [row.merchant, row.merchant.mall, row.merchant.mall.group]
    assert len(queries) == 0
    assert _values(row) == _values(orm)
    for got, want in zip(chain, [orm.merchant, orm.merchant.mall, orm.merchant.mall.group], strict=True):
        assert type(got) is type(want) and _values(got) == _values(want)
        assert not got._state.adding
    # the keys must all match: another merchant's store, or no such store, is None
    assert (
        sql.row_with_chain(store_model, ("merchant",), id=world.store.pk, merchant_id=world.other_merchant.pk) is None
    )
    assert sql.row_with_chain(store_model, ("merchant",), id=10**9) is None


def test_a_chain_refuses_what_select_related_could_not_join_inner():
    from django.contrib.auth import get_user_model

    with pytest.raises(ValueError, match="required foreign key"):
        sql.row_with_chain(get_user_model(), ("merchant",), id=1)  # nullable: the ORM would LEFT JOIN it
    with pytest.raises(ValueError, match="keys must be columns"):
        sql.row_with_chain(DBTaskResult, (), nope=1)


def test_insert_and_update_write_what_save_writes(world):
    merchant_model = type(world.merchant)
    with time_machine.travel(NOW, tick=False):
        ours = merchant_model(mall=world.mall, name="奈雪", category="dining", commission_bp=500)
        sql.insert_instance(ours)
        theirs = merchant_model.objects.create(mall=world.mall2, name="奈雪", category="dining", commission_bp=500)
    assert ours.pk is not None and not ours._state.adding
    stored = merchant_model.objects.get(pk=ours.pk)
    same = {"id": None, "mall_id": None}  # the two rows differ by these only (a name is unique in its mall)
    assert {**_values(stored), **same} == {**_values(theirs), **same}
    assert _values(stored) == _values(ours)

    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        ours.name, theirs.name = "奈雪的茶", "奈雪的茶"
        sql.update_instance(ours)
        theirs.save()
    assert {**_values(merchant_model.objects.get(pk=ours.pk)), **same} == {
        **_values(merchant_model.objects.get(pk=theirs.pk)),
        **same,
    }
    assert ours.updated_at == NOW + dt.timedelta(hours=1)  # auto_now moved, as save() moves it
    gone = merchant_model(pk=10**9, mall=world.mall, name="x")
    with pytest.raises(RuntimeError, match="is gone"):
        sql.update_instance(gone)


def test_task_rows_are_written_as_the_database_backend_writes_them(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    path = "galleria.payments.tasks.payment_receipt_task"
    with time_machine.travel(NOW, tick=False):
        enqueue_many([(path, {"attempt_id": 7}), (path, {"attempt_id": 8})])
        enqueue_after_commit(path, attempt_id=9)  # the database backend: written now, in the caller's transaction
        from django.utils.module_loading import import_string

        reference = import_string(path).enqueue(attempt_id=10)  # django-tasks-db's own enqueue
    rows = list(DBTaskResult.objects.order_by("args_kwargs__kwargs__attempt_id"))
    assert [r.args_kwargs for r in rows] == [{"args": [], "kwargs": {"attempt_id": n}} for n in (7, 8, 9, 10)]
    own = DBTaskResult.objects.get(pk=reference.id)
    for row in rows:
        assert row.enqueued_at == NOW and row.run_after == get_date_max() == own.run_after
        assert (row.status, row.priority, row.queue_name, row.backend_name, row.task_path, row.worker_ids) == (
            own.status,
            own.priority,
            own.queue_name,
            own.backend_name,
            own.task_path,
            own.worker_ids,
        )


def test_a_task_after_commit_waits_for_the_commit_with_another_backend(django_capture_on_commit_callbacks):
    # the test settings' immediate backend would run the task at once: it is enqueued on commit instead
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue_after_commit("galleria.payments.tasks.payment_receipt_task", attempt_id=10**9)
    assert len(callbacks) == 1
