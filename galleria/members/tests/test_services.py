import datetime as dt
import re
import time

import pytest
import time_machine
from django.conf import settings

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.members import exceptions, selectors, services
from galleria.members.models import IdentifierKind, JoinChannel, Member, MemberIdentifier, MemberStatus
from galleria.messaging.models import SmsMessage

ACTOR = Actor(user_id=None, label="test")


def register(world, phone="13812345678", **kw):
    return services.member_register(mall=world.mall, phone=phone, channel=JoinChannel.DESK, actor=ACTOR, **kw)


def last_code(phone):
    body = SmsMessage.objects.filter(phone=phone).latest("id").body
    return re.search(r"\d{6}", body).group(0)


@pytest.mark.django_db
class TestRegistration:
    def test_register_creates_phone_and_card_identifiers_and_consent(self, world):
        member = register(world, profile={"name": "王芳", "gender": "female"})
        kinds = dict(MemberIdentifier.objects.filter(member=member).values_list("kind", "value"))
        assert kinds[IdentifierKind.PHONE] == "+8613812345678"
        assert kinds[IdentifierKind.CARD] == member.card_no and len(member.card_no) == 12
        assert selectors.member_current_consents(member=member) == {"privacy_policy": True}
        assert AuditEvent.objects.filter(action="member.register", target_id=str(member.pk)).exists()

    def test_phone_is_unique_within_the_group_but_not_across_groups(self, world):
        register(world)
        with pytest.raises(exceptions.PhoneTakenError):
            register(world, phone="+86 138-1234-5678")
        assert Member.objects.filter(mall_group=world.group).count() == 1
        other = services.member_register(mall=world.foreign_mall, phone="13812345678", channel="app", actor=ACTOR)
        assert other.mall_group_id == world.other_group.pk

    def test_invalid_phone_is_a_field_error_and_writes_nothing(self, world):
        with pytest.raises(exceptions.InvalidPhoneError) as exc:
            register(world, phone="12345")
        assert "phone" in exc.value.fields
        assert not Member.objects.exists()

    def test_profile_update_is_audited_with_before_and_after(self, world):
        member = register(world, profile={"name": "王芳"})
        services.member_profile_update(member_id=member.pk, actor=ACTOR, values={"name": "王小芳"})
        event = AuditEvent.objects.get(action="member.update")
        assert event.changes == {"name": ["王芳", "王小芳"]}

    def test_birthday_in_the_future_is_rejected(self, world):
        member = register(world)
        with pytest.raises(exceptions.ValidationError):
            services.member_profile_update(
                member_id=member.pk, actor=ACTOR, values={"birthday": dt.date.today() + dt.timedelta(days=2)}
            )


@pytest.mark.django_db
class TestIdentifiers:
    def test_every_identifier_resolves_to_the_member(self, world):
        member = register(world)
        services.member_identifier_add(member_id=member.pk, actor=ACTOR, kind="plate", value="粤b·d12345")
        services.member_identifier_add(member_id=member.pk, actor=ACTOR, kind="physical_card", value="ab1234")
        services.member_identifier_add(member_id=member.pk, actor=ACTOR, kind="wechat_openid", value="oAbc_12345678")
        code = selectors.member_code_current(member=member).code
        for raw in ["13812345678", "+8613812345678", member.card_no, "粤BD12345", "AB1234", "oAbc_12345678", code]:
            hit = selectors.member_resolve(mall_group_id=world.group.pk, raw=raw)
            assert hit is not None and hit.member.pk == member.pk, raw
        assert selectors.member_resolve(mall_group_id=world.other_group.pk, raw="13812345678") is None
        assert selectors.member_resolve(mall_group_id=world.group.pk, raw="13900000000") is None

    def test_plate_belongs_to_one_member_and_at_most_five_per_member(self, world):
        a = register(world)
        b = register(world, phone="13912345678")
        services.member_identifier_add(member_id=a.pk, actor=ACTOR, kind="plate", value="粤B12345")
        with pytest.raises(exceptions.PlateTakenError):
            services.member_identifier_add(member_id=b.pk, actor=ACTOR, kind="plate", value="粤B 12345")
        for plate in ["粤B00001", "粤B00002", "粤B00003", "粤B00004"]:
            services.member_identifier_add(member_id=a.pk, actor=ACTOR, kind="plate", value=plate)
        with pytest.raises(exceptions.PlateLimitError):
            services.member_identifier_add(member_id=a.pk, actor=ACTOR, kind="plate", value="粤B00005")
        assert len(selectors.member_plates(member_id=a.pk)) == 5

    def test_adding_the_same_plate_twice_is_idempotent(self, world):
        a = register(world)
        first = services.member_identifier_add(member_id=a.pk, actor=ACTOR, kind="plate", value="粤B12345")
        again = services.member_identifier_add(member_id=a.pk, actor=ACTOR, kind="plate", value="粤b12345")
        assert first.pk == again.pk

    def test_invalid_plate_is_rejected(self, world):
        a = register(world)
        with pytest.raises(exceptions.InvalidPlateError):
            services.member_identifier_add(member_id=a.pk, actor=ACTOR, kind="plate", value="粤B1234")

    def test_phone_and_card_cannot_be_removed(self, world):
        a = register(world)
        phone_row = MemberIdentifier.objects.get(member=a, kind="phone")
        with pytest.raises(exceptions.ValidationError):
            services.member_identifier_remove(member_id=a.pk, actor=ACTOR, identifier_id=phone_row.pk)

    def test_phone_change_releases_the_old_number(self, world):
        a = register(world)
        services.member_phone_change(member_id=a.pk, actor=ACTOR, phone="13700000001")
        assert selectors.member_resolve(mall_group_id=world.group.pk, raw="13812345678") is None
        assert selectors.member_resolve(mall_group_id=world.group.pk, raw="13700000001").member.pk == a.pk
        register(world)  # the old number is free again

    def test_merged_members_do_not_resolve(self, world):
        a = register(world)
        b = register(world, phone="13912345678")
        Member.objects.filter(pk=a.pk).update(status=MemberStatus.MERGED, merged_into=b)
        assert selectors.member_resolve(mall_group_id=world.group.pk, raw=a.card_no) is None


@pytest.mark.django_db
class TestDynamicCode:
    def test_code_rotates_each_step_and_goes_stale(self, world):
        member = register(world)
        step = settings.GALLERIA_MEMBER_CODE_STEP_SECONDS
        start = time.time()
        code = selectors.member_code_current(member=member, now=start).code
        assert selectors.member_resolve_dynamic_code(mall_group_id=world.group.pk, code=code, now=start) == member
        later = start + step  # still accepted one step later (the member showed it just before rotation)
        assert selectors.member_code_current(member=member, now=later).code != code
        assert selectors.member_resolve_dynamic_code(mall_group_id=world.group.pk, code=code, now=later) == member
        assert (
            selectors.member_resolve_dynamic_code(mall_group_id=world.group.pk, code=code, now=start + 2 * step) is None
        )

    def test_rotating_the_secret_invalidates_shown_codes(self, world):
        member = register(world)
        code = selectors.member_code_current(member=member).code
        services.member_code_secret_rotate(member_id=member.pk)
        assert selectors.member_resolve(mall_group_id=world.group.pk, raw=code) is None

    def test_code_of_another_group_does_not_resolve(self, world):
        member = register(world)
        code = selectors.member_code_current(member=member).code
        assert selectors.member_resolve(mall_group_id=world.other_group.pk, raw=code) is None


@pytest.mark.django_db
class TestOtp:
    phone = "+8613812345678"

    def test_sign_in_joins_a_new_phone_and_signs_in_an_existing_one(self, world):
        services.otp_request(mall_group_id=world.group.pk, phone="13812345678", ip="10.0.0.1")
        member, created = services.member_login_or_join(
            mall=world.mall, phone="13812345678", code=last_code(self.phone), ip="10.0.0.1"
        )
        assert created and member.join_channel == "app"
        with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)):
            services.otp_request(mall_group_id=world.group.pk, phone="13812345678", ip="10.0.0.1")
            again, created = services.member_login_or_join(
                mall=world.mall, phone="13812345678", code=last_code(self.phone), ip="10.0.0.1"
            )
        assert not created and again.pk == member.pk

    def test_code_is_single_use(self, world):
        services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
        code = last_code(self.phone)
        services.otp_verify(mall_group_id=world.group.pk, phone=self.phone, code=code)
        with pytest.raises(exceptions.OtpInvalidError):
            services.otp_verify(mall_group_id=world.group.pk, phone=self.phone, code=code)

    def test_code_expires(self, world):
        services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
        code = last_code(self.phone)
        with (
            time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=301)),
            pytest.raises(exceptions.OtpInvalidError),
        ):
            services.otp_verify(mall_group_id=world.group.pk, phone=self.phone, code=code)

    def test_resend_interval_and_daily_limit_per_phone(self, world):
        t0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
        with time_machine.travel(t0, tick=False) as traveller:
            services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
            with pytest.raises(exceptions.OtpRateLimitedError):
                services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
            for _ in range(9):
                traveller.shift(61)
                services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
            traveller.shift(61)
            with pytest.raises(exceptions.OtpRateLimitedError):
                services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
            traveller.shift(24 * 3600)
            services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
        assert SmsMessage.objects.filter(phone=self.phone).count() == 11

    def test_limit_per_ip_across_phones(self, world):
        limit = settings.GALLERIA_OTP["MAX_PER_IP_PER_HOUR"]
        for i in range(limit):
            services.otp_request(mall_group_id=world.group.pk, phone=f"1390000{i:04d}", ip="203.0.113.9")
        with pytest.raises(exceptions.OtpRateLimitedError):
            services.otp_request(mall_group_id=world.group.pk, phone="13911112222", ip="203.0.113.9")
        services.otp_request(mall_group_id=world.group.pk, phone="13911112222", ip="203.0.113.10")

    def test_repeated_wrong_codes_lock_the_phone(self, world):
        t0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
        with time_machine.travel(t0, tick=False) as traveller:
            services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
            code = last_code(self.phone)
            wrong = f"{(int(code) + 1) % 10**6:06d}"
            for _ in range(settings.GALLERIA_OTP["MAX_ATTEMPTS"] - 1):
                with pytest.raises(exceptions.OtpInvalidError):
                    services.otp_verify(mall_group_id=world.group.pk, phone=self.phone, code=wrong)
            with pytest.raises(exceptions.OtpLockedError):
                services.otp_verify(mall_group_id=world.group.pk, phone=self.phone, code=wrong)
            # locked: even the right code and a new code are refused
            with pytest.raises(exceptions.OtpLockedError):
                services.otp_verify(mall_group_id=world.group.pk, phone=self.phone, code=code)
            traveller.shift(120)
            with pytest.raises(exceptions.OtpLockedError):
                services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
            traveller.shift(settings.GALLERIA_OTP["LOCKOUT_SECONDS"])
            services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
            assert services.otp_verify(mall_group_id=world.group.pk, phone=self.phone, code=last_code(self.phone))

    def test_sms_goes_through_the_outbox(self, world):
        services.otp_request(mall_group_id=world.group.pk, phone=self.phone, ip=None)
        msg = SmsMessage.objects.get(phone=self.phone)
        assert msg.status == "sent" and msg.template == "otp"
