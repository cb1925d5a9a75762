"""Real threads against PostgreSQL: two erasure jobs at once erase a member once; a sale racing the erasure either
lands before it (its points are forfeited with the rest) or after it is refused — the ledger stays balanced."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ObjectDoesNotExist

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.errors import ApplicationError
from galleria.ledger.models import Transaction
from galleria.ledger.selectors import ledger_check
from galleria.members.models import Member, MemberStatus
from galleria.members.services import member_register
from galleria.points.selectors import points_balance
from galleria.privacy import services
from galleria.privacy.models import PrivacyRequest
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import sale_in
from galleria.testing import run_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ACTOR = Actor.system("test")


def test_two_erasure_jobs_at_once_erase_once(world):
    member = member_register(mall=world.mall, phone="13400001111", channel="app", actor=ACTOR)
    sale_commit(data=sale_in(world, member_id=member.pk, amounts=(30000,)), actor=ACTOR)
    req = services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=ACTOR, via="app")
    later = req.due_at + dt.timedelta(seconds=1)
    results = run_parallel(4, lambda i: services.erasure_execute(request_id=req.pk, now=later).erased)
    assert sorted(results) == [False, False, False, True]
    assert Transaction.objects.filter(source=f"erasure:{member.pk}").count() == 1
    assert AuditEvent.objects.filter(action="member.erase", target_id=str(member.pk)).count() == 1
    assert ledger_check().ok


def test_two_requests_at_once_make_one_pending_erasure(world):
    member = member_register(mall=world.mall, phone="13400002222", channel="app", actor=ACTOR)
    ids = run_parallel(
        4,
        lambda i: (
            services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=ACTOR, via="app").pk
        ),
    )
    assert len(set(ids)) == 1
    assert PrivacyRequest.objects.filter(member=member, kind="erasure", status="pending").count() == 1


def test_sale_racing_the_erasure_keeps_the_books_balanced(world):
    for round_no in range(3):
        member = member_register(mall=world.mall, phone=f"1340000{round_no:04d}", channel="app", actor=ACTOR)
        req = services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=ACTOR, via="app")
        later = req.due_at + dt.timedelta(seconds=1)

        def work(i: int, member_id: int = member.pk, request_id: int = req.pk, at: dt.datetime = later) -> object:
            if i == 0:
                return services.erasure_execute(request_id=request_id, now=at)
            try:
                return sale_commit(data=sale_in(world, member_id=member_id, amounts=(20000,)), actor=ACTOR)
            except (ApplicationError, ObjectDoesNotExist) as exc:  # a sale after the erasure may be refused
                return exc

        run_parallel(2, work)
        assert Member.objects.get(pk=member.pk).status == MemberStatus.ERASED
        assert points_balance(member_id=member.pk) == 0
        assert ledger_check().ok
