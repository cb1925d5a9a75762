"""Domain events with the database task backend: every handler's task row is written in the caller's transaction,
all of an event's handlers in one statement, and the worker runs them."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django_tasks_db.models import DBTaskResult

from galleria.core.events import publish

HANDLERS = [
    "galleria.tiers.tasks.on_member_joined",
    "galleria.points.tasks.on_member_joined",
    "galleria.coupons.tasks.on_member_joined",
]


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.GALLERIA_EVENT_HANDLERS = {"member.joined": HANDLERS, "nobody.listens": []}


@pytest.mark.django_db(transaction=True)
def test_an_event_writes_one_row_per_handler_in_one_statement(database_tasks, settings):
    settings.GALLERIA_EVENT_OUTBOXES = ()  # the webhooks outbox's own statement is counted below
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        publish("member.joined", member_id=42)
    # on PostgreSQL the fixed insert runs as a prepared statement (`EXECUTE galleria_…`, after its one `PREPARE`)
    writes = [
        q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "EXECUTE"))
    ]
    assert len(writes) == 1
    rows = {r.task_path: r for r in DBTaskResult.objects.all()}
    assert sorted(rows) == sorted(HANDLERS)
    for row in rows.values():
        assert row.args_kwargs == {"args": [], "kwargs": {"member_id": 42}}
        assert row.status == "READY" and row.backend_name == "default"


@pytest.mark.django_db(transaction=True)
def test_the_webhooks_outbox_costs_one_read_when_no_endpoint_listens(database_tasks):
    """The outbox hook runs in every publisher's transaction: with no endpoint it reads once and writes nothing."""
    with transaction.atomic():
        publish("member.joined", member_id=42)  # warm: the handlers' insert is prepared once per connection
    with transaction.atomic(), CaptureQueriesContext(connection) as with_outbox:
        publish("member.joined", member_id=43)
    with override_settings(GALLERIA_EVENT_OUTBOXES=()), transaction.atomic(), CaptureQueriesContext(connection) as bare:
        publish("member.joined", member_id=44)
    assert len(with_outbox.captured_queries) == len(bare.captured_queries) + 1


@pytest.mark.django_db(transaction=True)
def test_the_rows_roll_back_with_the_business_change(database_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish("member.joined", member_id=7)
        raise RuntimeError("the use case failed")
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_event_nobody_listens_to_writes_nothing(database_tasks):
    with CaptureQueriesContext(connection) as captured:
        publish("nobody.listens", member_id=1)
    assert captured.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_what_was_enqueued(database_tasks):
    from django.core.management import call_command

    from galleria.audit.types import Actor
    from galleria.members.services import member_register
    from galleria.testing import build_world
    from galleria.tiers.models import MemberTier
    from galleria.tiers.services import tier_ladder_ensure_default

    world = build_world()
    tier_ladder_ensure_default(mall_group_id=world.group.pk)
    member = member_register(mall=world.mall, phone="13900000042", channel="app", actor=Actor.system())
    assert DBTaskResult.objects.filter(status="READY").count() == 3
    call_command("db_worker", "--batch", "--queue-name", "*", verbosity=0)
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 3
    assert MemberTier.objects.filter(member_id=member.pk).exists()
