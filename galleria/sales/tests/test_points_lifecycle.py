import datetime as dt

import pytest
import time_machine

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.errors import ConflictError, PermissionDeniedError, ValidationError
from galleria.ledger.selectors import ledger_check, system_balance
from galleria.members import services as member_services
from galleria.points import services
from galleria.points.models import BehaviourRule, ExpiryNotice, PointsAdjustment, PointsLot, PointsPolicy
from galleria.points.selectors import points_balance
from galleria.sales import services as sale_services

from .helpers import ACTOR, sale_in

pytestmark = pytest.mark.django_db
TZ = "Asia/Shanghai"


def join(world, phone="13812345678", **kw):
    return member_services.member_register(mall=world.mall, phone=phone, channel="desk", actor=ACTOR, **kw)


class TestBehaviour:
    def test_signup_and_profile_completion_award_once(self, world):
        BehaviourRule.objects.create(mall_group=world.group, event="signup", points=100)
        BehaviourRule.objects.create(mall_group=world.group, event="profile_complete", points=50)
        m = join(world)
        assert points_balance(member_id=m.pk) == 100
        member_services.member_profile_update(member_id=m.pk, actor=ACTOR, values={"name": "李雷"})
        assert points_balance(member_id=m.pk) == 100  # not complete yet
        full = {"name": "李雷", "gender": "male", "birthday": dt.date(1990, 5, 1), "email": "li@example.com"}
        member_services.member_profile_update(member_id=m.pk, actor=ACTOR, values=full)
        member_services.member_profile_update(member_id=m.pk, actor=ACTOR, values={"name": "李小雷"})
        assert points_balance(member_id=m.pk) == 150
        assert ledger_check().ok

    def test_daily_checkin_once_per_mall_local_day(self, world):
        BehaviourRule.objects.create(mall_group=world.group, event="checkin", points=5)
        m = join(world)
        # 23:50 and 23:59 Shanghai on Nov 22 are one day; 00:01 on Nov 23 is the next
        with time_machine.travel(dt.datetime(2026, 11, 22, 15, 50, tzinfo=dt.UTC), tick=False) as t:
            assert services.points_checkin(member_id=m.pk, mall_group_id=world.group.pk, tz_name=TZ)
            t.move_to(dt.datetime(2026, 11, 22, 15, 59, tzinfo=dt.UTC))
            assert services.points_checkin(member_id=m.pk, mall_group_id=world.group.pk, tz_name=TZ) is None
            t.move_to(dt.datetime(2026, 11, 22, 16, 1, tzinfo=dt.UTC))
            assert services.points_checkin(member_id=m.pk, mall_group_id=world.group.pk, tz_name=TZ)
        assert points_balance(member_id=m.pk) == 10

    def test_first_purchase_at_a_new_merchant(self, world):
        BehaviourRule.objects.create(mall_group=world.group, event="first_purchase_at_merchant", points=20)
        m = join(world)
        sale_services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(1000,)), actor=ACTOR)
        sale_services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(1000,)), actor=ACTOR)
        assert points_balance(member_id=m.pk) == 10 + 10 + 20


class TestAdjustments:
    def test_small_adjustment_applies_at_once_and_is_audited(self, world):
        m = join(world)
        adj = services.points_adjust_request(
            mall_group_id=world.group.pk,
            member_id=m.pk,
            points=300,
            reason="补录小票",
            actor=Actor(world.users["service"].pk, "service"),
            tz_name=TZ,
        )
        assert adj.status == "applied" and points_balance(member_id=m.pk) == 300
        assert system_balance(mall_group_id=world.group.pk, kind="points_adjusted") == -300
        assert AuditEvent.objects.filter(action="points.adjust_request").exists()

    def test_large_adjustment_needs_a_second_person(self, world):
        PointsPolicy.objects.create(mall_group=world.group, adjustment_approval_threshold=1000)
        m = join(world)
        requester = Actor(world.users["service"].pk, "service")
        adj = services.points_adjust_request(
            mall_group_id=world.group.pk, member_id=m.pk, points=5000, reason="goodwill", actor=requester, tz_name=TZ
        )
        assert adj.status == "pending" and points_balance(member_id=m.pk) == 0
        with pytest.raises(PermissionDeniedError):
            services.points_adjust_decide(adjustment_id=adj.pk, approve=True, actor=requester, tz_name=TZ)
        approver = Actor(world.users["group_admin"].pk, "admin")
        services.points_adjust_decide(adjustment_id=adj.pk, approve=True, actor=approver, tz_name=TZ)
        assert points_balance(member_id=m.pk) == 5000
        with pytest.raises(ConflictError):
            services.points_adjust_decide(adjustment_id=adj.pk, approve=False, actor=approver, tz_name=TZ)
        assert PointsAdjustment.objects.get(pk=adj.pk).decided_by_id == world.users["group_admin"].pk

    def test_debit_cannot_go_below_zero_and_reason_is_required(self, world):
        m = join(world)
        actor = Actor(world.users["service"].pk, "service")
        with pytest.raises(ValidationError) as exc:
            services.points_adjust_request(
                mall_group_id=world.group.pk, member_id=m.pk, points=-10, reason="x", actor=actor, tz_name=TZ
            )
        assert exc.value.code == "points.insufficient"
        assert not PointsAdjustment.objects.exists()
        with pytest.raises(ValidationError):
            services.points_adjust_request(
                mall_group_id=world.group.pk, member_id=m.pk, points=10, reason=" ", actor=actor, tz_name=TZ
            )


class TestExpiry:
    def test_expiry_is_by_lot_oldest_first_and_idempotent(self, world):
        PointsPolicy.objects.create(mall_group=world.group, expiry_policy="days_after_earn", expiry_days=30)
        m = join(world)
        with time_machine.travel(dt.datetime(2026, 1, 1, 4, tzinfo=dt.UTC), tick=False):
            sale_services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(50000,)), actor=ACTOR)  # 500
        with time_machine.travel(dt.datetime(2026, 1, 20, 4, tzinfo=dt.UTC), tick=False):
            sale_services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(30000,)), actor=ACTOR)  # 300
            # spend 200 — taken from the January 1 lot (expires first)
            sale_services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(10000,), points=200), actor=ACTOR)
        lots = list(PointsLot.objects.filter(member=m).order_by("earned_at", "id"))
        assert [lot.remaining for lot in lots[:2]] == [300, 300]
        # the first lot is valid through Jan 31 (mall-local); on Feb 1 it expires
        assert services.points_expire(mall_group_id=world.group.pk, today=dt.date(2026, 1, 31)) == 0
        assert services.points_expire(mall_group_id=world.group.pk, today=dt.date(2026, 2, 1)) == 300
        assert services.points_expire(mall_group_id=world.group.pk, today=dt.date(2026, 2, 1)) == 0
        assert points_balance(member_id=m.pk) == 300 + 98
        assert system_balance(mall_group_id=world.group.pk, kind="points_expired") == 300
        assert ledger_check().ok

    def test_expiring_soon_notices_once(self, world):
        PointsPolicy.objects.create(mall_group=world.group, expiry_policy="days_after_earn", expiry_days=20)
        m = join(world)
        with time_machine.travel(dt.datetime(2026, 1, 1, 4, tzinfo=dt.UTC), tick=False):
            sale_services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(5000,)), actor=ACTOR)
        assert services.points_expiry_notices(mall_group_id=world.group.pk, today=dt.date(2026, 1, 5)) == 1
        services.points_expiry_notices(mall_group_id=world.group.pk, today=dt.date(2026, 1, 6))
        assert ExpiryNotice.objects.count() == 1
