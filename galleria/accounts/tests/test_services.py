import pytest

from galleria.accounts import permissions as perms
from galleria.accounts.models import Role, User
from galleria.accounts.selectors import scope_for_user, staff_list
from galleria.accounts.services import staff_create, staff_update
from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.core.errors import PermissionDeniedError, ValidationError

ACTOR = Actor(user_id=None, label="test")
STRONG = "Plenty-Long-Passw0rd"


@pytest.mark.django_db
class TestScopes:
    def test_every_role_gets_its_scope(self, world):
        u = world.users
        assert scope_for_user(u["platform_admin"]).is_platform
        for role in ("group_admin", "marketing", "service", "finance", "readonly"):
            scope = scope_for_user(u[role])
            assert scope.mall_group_id == world.group.pk and scope.merchant_id is None
            assert scope.can(perms.MEMBERS_VIEW) and not scope.can(perms.PORTAL_VIEW)
        for role in ("merchant_owner", "merchant_manager", "merchant_clerk"):
            scope = scope_for_user(u[role])
            assert scope.merchant_id == world.merchant.pk and scope.can(perms.PORTAL_MEMBER_LOOKUP)
            assert not scope.can(perms.MEMBERS_VIEW)
        assert not scope_for_user(u["marketing"]).can(perms.MEMBERS_VIEW_PII)
        assert scope_for_user(u["service"]).can(perms.MEMBERS_VIEW_PII)
        assert not scope_for_user(u["merchant_clerk"]).can(perms.PORTAL_STAFF_MANAGE)

    def test_inactive_user_has_no_permissions(self, world):
        user = world.users["group_admin"]
        user.is_active = False
        assert scope_for_user(user).permissions == frozenset()

    def test_database_refuses_a_scope_that_does_not_match_the_role(self, world):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="bad", role=Role.MERCHANT_CLERK, mall_group=world.group)
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="bad2", role=Role.MARKETING)


@pytest.mark.django_db
class TestStaffManagement:
    def test_staff_list_is_scoped(self, world):
        group_scope = scope_for_user(world.users["group_admin"])
        names = set(staff_list(scope=group_scope).values_list("username", flat=True))
        assert "coastal-admin" not in names and "root" not in names and "heytea-clerk" in names
        owner_scope = scope_for_user(world.users["merchant_owner"])
        names = set(staff_list(scope=owner_scope).values_list("username", flat=True))
        assert names == {"heytea-owner", "heytea-manager", "heytea-clerk"}

    def test_group_admin_creates_staff_in_own_group_only(self, world):
        scope = scope_for_user(world.users["group_admin"])
        user = staff_create(
            scope=scope, actor=ACTOR, username="cs2", password=STRONG, role=Role.SERVICE, mall_group_id=world.group.pk
        )
        assert user.mall_group_id == world.group.pk
        assert AuditEvent.objects.filter(action="staff.create", target_id=str(user.pk)).exists()
        with pytest.raises(PermissionDeniedError):
            staff_create(
                scope=scope,
                actor=ACTOR,
                username="x",
                password=STRONG,
                role=Role.SERVICE,
                mall_group_id=world.other_group.pk,
            )
        with pytest.raises(PermissionDeniedError):
            staff_create(scope=scope, actor=ACTOR, username="y", password=STRONG, role=Role.PLATFORM_ADMIN)
        with pytest.raises(PermissionDeniedError):
            staff_create(
                scope=scope,
                actor=ACTOR,
                username="z",
                password=STRONG,
                role=Role.MERCHANT_CLERK,
                merchant_id=world.foreign_merchant.pk,
            )

    def test_merchant_owner_adds_clerks_to_own_shop_only(self, world):
        scope = scope_for_user(world.users["merchant_owner"])
        clerk = staff_create(
            scope=scope,
            actor=ACTOR,
            username="clerk2",
            password=STRONG,
            role=Role.MERCHANT_CLERK,
            merchant_id=world.merchant.pk,
        )
        assert clerk.merchant_id == world.merchant.pk and clerk.mall_group_id == world.group.pk
        with pytest.raises(PermissionDeniedError):
            staff_create(
                scope=scope,
                actor=ACTOR,
                username="c3",
                password=STRONG,
                role=Role.MERCHANT_CLERK,
                merchant_id=world.other_merchant.pk,
            )
        with pytest.raises(PermissionDeniedError):
            staff_create(
                scope=scope,
                actor=ACTOR,
                username="c4",
                password=STRONG,
                role=Role.MERCHANT_OWNER,
                merchant_id=world.merchant.pk,
            )
        with pytest.raises(PermissionDeniedError):
            staff_create(
                scope=scope,
                actor=ACTOR,
                username="c5",
                password=STRONG,
                role=Role.MARKETING,
                mall_group_id=world.group.pk,
            )

    def test_weak_password_is_refused(self, world):
        scope = scope_for_user(world.users["group_admin"])
        with pytest.raises(ValidationError) as exc:
            staff_create(
                scope=scope,
                actor=ACTOR,
                username="weak",
                password="123",
                role=Role.SERVICE,
                mall_group_id=world.group.pk,
            )
        assert "password" in exc.value.fields

    def test_cannot_demote_self_or_touch_other_groups(self, world):
        scope = scope_for_user(world.users["group_admin"])
        with pytest.raises(ValidationError):
            staff_update(
                scope=scope,
                actor=ACTOR,
                user_id=world.users["group_admin"].pk,
                role=Role.READONLY,
                display_name="",
                is_active=True,
            )
        with pytest.raises(PermissionDeniedError):
            staff_update(
                scope=scope,
                actor=ACTOR,
                user_id=world.users["foreign_admin"].pk,
                role=Role.READONLY,
                display_name="",
                is_active=True,
            )
        user = staff_update(
            scope=scope,
            actor=ACTOR,
            user_id=world.users["marketing"].pk,
            role=Role.READONLY,
            display_name="M",
            is_active=False,
        )
        assert user.role == Role.READONLY and not user.is_active
