"""Writes of the member identity. Each public function runs in a transaction; `*_in_tx` helpers compose into a
larger use case (e.g. a POS sale that registers its buyer: "pay = join")."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record, diff
from galleria.audit.types import Actor
from galleria.core.errors import ValidationError
from galleria.core.events import publish
from galleria.core.ids import new_card_number
from galleria.core.locking import lock_one, lock_rows
from galleria.malls.models import Mall
from galleria.messaging.services import sms_queue

from . import exceptions, rules
from . import sql as members_sql
from .models import (
    Consent,
    ConsentPurpose,
    Gender,
    IdentifierKind,
    JoinChannel,
    Member,
    MemberIdentifier,
    MemberStatus,
    OtpChallenge,
    PlateVerifiedVia,
)
from .selectors import members_active, plate_binding_of
from .types import PlateVerified

MAX_PLATES = 5
PROFILE_FIELDS = ("name", "gender", "birthday", "email")


def phone_normalize(raw: str) -> str:
    phone = rules.normalize_phone(raw, regions=settings.GALLERIA_PHONE_REGIONS)
    if phone is None:
        raise exceptions.InvalidPhoneError(fields={"phone": exceptions.InvalidPhoneError().message})
    return phone


def _clean_profile(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in values:
        name = str(values["name"] or "").strip()
        if len(name) > 50:
            raise ValidationError(_("Name is too long."), code="members.name_too_long", fields={"name": "≤ 50"})
        out["name"] = name
    if "gender" in values:
        gender = values["gender"] or Gender.UNKNOWN
        if gender not in Gender.values:
            raise ValidationError(_("Unknown gender."), code="members.gender_invalid", fields={"gender": str(gender)})
        out["gender"] = gender
    if "birthday" in values:
        birthday = values["birthday"]
        if birthday is not None and not isinstance(birthday, dt.date):
            raise ValidationError(_("Birthday must be a date."), code="members.birthday_invalid")
        if birthday is not None and not (dt.date(1900, 1, 1) <= birthday <= timezone.localdate()):
            raise ValidationError(
                _("Birthday is out of range."), code="members.birthday_invalid", fields={"birthday": str(birthday)}
            )
        out["birthday"] = birthday
    if "email" in values:
        out["email"] = str(values["email"] or "").strip()[:254]
    return out


def _add_identifier(member: Member, kind: str, value: str) -> MemberIdentifier:
    try:
        with transaction.atomic():
            return MemberIdentifier.objects.create(
                mall_group_id=member.mall_group_id, member=member, kind=kind, value=value
            )
    except IntegrityError as exc:
        if kind == IdentifierKind.PHONE:
            raise exceptions.PhoneTakenError() from exc
        raise exceptions.IdentifierTakenError(extra={"kind": kind}) from exc


def member_register_in_tx(
    *,
    mall: Mall,
    phone: str,
    channel: str,
    actor: Actor,
    merchant_id: int | None = None,
    profile: Mapping[str, Any] | None = None,
    consents: Iterable[str] = (ConsentPurpose.PRIVACY_POLICY,),
    joined_at: dt.datetime | None = None,
) -> Member:
    """Create a member with phone and card identifiers, inside the caller's transaction."""
    if channel not in JoinChannel.values:
        raise ValidationError(_("Unknown join channel."), code="members.channel_invalid")
    e164 = phone_normalize(phone)
    clean = _clean_profile(profile or {})
    joined = joined_at or timezone.now()
    card = new_card_number()
    member = Member.objects.create(
        mall_group_id=mall.group_id,
        phone=e164,
        card_no=card,
        join_channel=channel,
        join_mall=mall,
        join_merchant_id=merchant_id,
        created_by_id=actor.user_id,
        code_secret=secrets.token_hex(16),
        created_at=joined,
        **clean,
    )
    # both identifiers in one statement (fixed SQL, galleria/members/sql.py); a taken phone refuses the
    # registration, a taken card number (a random 11-digit body: rare) is drawn again
    wanted = [(IdentifierKind.PHONE, e164), (IdentifierKind.CARD, card)]
    for _attempt in range(5):
        written = members_sql.insert_identifiers(
            mall_group_id=mall.group_id, member_id=member.pk, identifiers=wanted, at=joined
        )
        if wanted[0][0] == IdentifierKind.PHONE and IdentifierKind.PHONE not in written:
            member.delete()  # nothing of the attempt stays, even in a caller's transaction that goes on
            raise exceptions.PhoneTakenError()
        if IdentifierKind.CARD in written:
            break
        card = new_card_number()
        member.card_no = card
        member.save(update_fields=["card_no"])
        wanted = [(IdentifierKind.CARD, card)]
    else:  # pragma: no cover - astronomically unlikely
        raise RuntimeError("could not allocate a card number")
    version = policy_version_current()
    for purpose in consents:
        Consent.objects.create(member=member, purpose=purpose, is_granted=True, channel=channel, policy_version=version)
    audit_record(
        actor=actor,
        action="member.register",
        target_type="member",
        target_id=member.pk,
        target_label=member.card_no,
        mall_group_id=mall.group_id,
        changes={"channel": [None, channel]},
    )
    publish("member.joined", member_id=member.pk)
    return member


def member_register(**kwargs: Any) -> Member:
    """Register a new member (service desk, app, import). Raises PhoneTakenError if the phone is known."""
    with transaction.atomic(durable=True):
        return member_register_in_tx(**kwargs)


def member_profile_update(*, member_id: int, actor: Actor, values: Mapping[str, Any]) -> Member:
    with transaction.atomic(durable=True):
        member = lock_one(members_active().filter(pk=member_id))
        clean = _clean_profile(values)
        before = {f: getattr(member, f) for f in clean}
        for field, value in clean.items():
            setattr(member, field, value)
        changes = diff(before, clean)
        if changes:
            member.save(update_fields=list(clean))
            publish("member.profile_updated", member_id=member.pk)
            audit_record(
                actor=actor,
                action="member.update",
                target_type="member",
                target_id=member.pk,
                target_label=member.card_no,
                mall_group_id=member.mall_group_id,
                changes=changes,
            )
        return member


def member_phone_change(*, member_id: int, actor: Actor, phone: str) -> Member:
    """Replace the member's phone identifier (the old one is released)."""
    with transaction.atomic(durable=True):
        member = lock_one(members_active().filter(pk=member_id))
        e164 = phone_normalize(phone)
        if e164 == member.phone:
            return member
        old = member.phone
        MemberIdentifier.objects.filter(member=member, kind=IdentifierKind.PHONE).delete()
        _add_identifier(member, IdentifierKind.PHONE, e164)
        member.phone = e164
        member.save(update_fields=["phone"])
        audit_record(
            actor=actor,
            action="member.phone_change",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={"phone": [old, e164]},
        )
        return member


def _normalize_identifier(kind: str, value: str) -> str:
    value = (value or "").strip()
    if kind == IdentifierKind.PLATE:
        plate = rules.normalize_plate(value)
        if plate is None:
            raise exceptions.InvalidPlateError(fields={"value": exceptions.InvalidPlateError().message})
        return plate
    if kind in (IdentifierKind.PHYSICAL_CARD,):
        if not value.isalnum() or not 4 <= len(value) <= 32:
            raise ValidationError(
                _("A physical card number is 4–32 letters or digits."),
                code="members.card_invalid",
                fields={"value": value},
            )
        return value.upper()
    if kind in (IdentifierKind.WECHAT_OPENID, IdentifierKind.WECHAT_UNIONID):
        if not 10 <= len(value) <= 64 or not all(c.isalnum() or c in "-_" for c in value):
            raise ValidationError(_("Not a WeChat id."), code="members.wechat_id_invalid", fields={"value": value})
        return value
    raise ValidationError(_("This identifier kind cannot be added by hand."), code="members.identifier_kind_invalid")


def member_identifier_add(*, member_id: int, actor: Actor, kind: str, value: str) -> MemberIdentifier:
    """Bind a plate, physical card or WeChat id. At most 5 plates per member; each value to one member only."""
    with transaction.atomic(durable=True):
        member = lock_one(members_active().filter(pk=member_id))
        clean = _normalize_identifier(kind, value)
        existing = MemberIdentifier.objects.filter(mall_group_id=member.mall_group_id, kind=kind, value=clean).first()
        if existing and existing.member_id == member.pk:
            return existing
        plates = MemberIdentifier.objects.filter(member=member, kind=IdentifierKind.PLATE)
        if kind == IdentifierKind.PLATE and plates.count() >= MAX_PLATES:
            raise exceptions.PlateLimitError()
        if kind == IdentifierKind.PLATE and existing is not None:
            raise exceptions.PlateTakenError()
        row = _add_identifier(member, kind, clean)
        audit_record(
            actor=actor,
            action="member.identifier_add",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={kind: [None, clean]},
        )
        return row


def plate_verify_in_tx(
    *, mall_group_id: int, member_id: int, plate: str, via: str, actor: Actor, at: dt.datetime | None = None
) -> PlateVerified:
    """The member proved `plate` is theirs (a vehicle licence seen at the desk, or its photo reviewed): the plate is
    bound to them and verified from now on. A plate bound to another member moves to this one — the proof
    outranks a binding typed into an app — and the caller tells that member. Within the caller's transaction;
    both members' rows are locked in primary-key order, then the plate's row. Audited."""
    if via not in PlateVerifiedVia.values:
        raise ValidationError(_("Unknown way of verifying a plate."), code="members.plate_via_invalid")
    clean = _normalize_identifier(IdentifierKind.PLATE, plate)
    at = at or timezone.now()
    held = MemberIdentifier.objects.filter(mall_group_id=mall_group_id, kind=IdentifierKind.PLATE, value=clean)
    holder_id = held.values_list("member_id", flat=True).first()
    ids = {member_id} | ({holder_id} if holder_id is not None else set())
    rows = {m.pk: m for m in lock_rows(Member.objects.filter(pk__in=ids, mall_group_id=mall_group_id))}
    member = rows.get(member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise exceptions.MemberNotFoundError()
    row = lock_one(held) if holder_id is not None else None
    previous: int | None = None
    was_verified = False
    if row is not None and row.member_id == member.pk:
        if row.verified_at is not None:
            raise exceptions.PlateVerifiedError()
    else:
        if MemberIdentifier.objects.filter(member=member, kind=IdentifierKind.PLATE).count() >= MAX_PLATES:
            raise exceptions.PlateLimitError()
        if row is not None:  # bound to someone else: the proof moves it here
            previous, was_verified = row.member_id, row.verified_at is not None
            row.delete()
            audit_record(
                actor=actor,
                action="member.plate_released",
                target_type="member",
                target_id=previous,
                target_label=rows[previous].card_no if previous in rows else "",
                mall_group_id=mall_group_id,
                changes={"plate": [clean, None], "to_member": member.card_no},
            )
        row = _add_identifier(member, IdentifierKind.PLATE, clean)
    row.verified_at, row.verified_via = at, via
    row.save(update_fields=["verified_at", "verified_via"])
    audit_record(
        actor=actor,
        action="member.plate_verified",
        target_type="member",
        target_id=member.pk,
        target_label=member.card_no,
        mall_group_id=mall_group_id,
        changes={"plate": clean, "via": via, "moved_from_member": previous},
    )
    return PlateVerified(
        binding=plate_binding_of(row), previous_member_id=previous, was_verified_elsewhere=was_verified
    )


def member_identifier_remove(*, member_id: int, actor: Actor, identifier_id: int) -> None:
    with transaction.atomic(durable=True):
        member = lock_one(Member.objects.filter(pk=member_id))
        row = MemberIdentifier.objects.filter(pk=identifier_id, member=member).first()
        if row is None:
            raise exceptions.MemberNotFoundError(
                _("No such identifier on this member."), code="members.identifier_not_found"
            )
        if row.kind in (IdentifierKind.PHONE, IdentifierKind.CARD):
            raise ValidationError(
                _("The phone and the member card number cannot be removed."), code="members.identifier_required"
            )
        row.delete()
        audit_record(
            actor=actor,
            action="member.identifier_remove",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes={row.kind: [row.value, None]},
        )


def policy_version_current() -> str:
    """The privacy policy / terms version members agree to now (setting GALLERIA_PRIVACY_POLICY_VERSION)."""
    return str(getattr(settings, "GALLERIA_PRIVACY_POLICY_VERSION", "2026-01"))[:20]


def consent_record(
    *,
    member_id: int,
    purpose: str,
    is_granted: bool,
    channel: str,
    actor: Actor,
    reason: str = "",
    mall_group_id: int | None = None,
) -> Consent:
    """Append the member's choice for one purpose (the latest row per purpose is the current choice), with the
    policy version agreed, the channel, who recorded it (a staff user on the member's behalf, or the member) and
    why. A choice equal to the current one under the same policy version writes nothing and returns that row.
    The privacy policy itself cannot be withdrawn here: that is deleting the account."""
    if purpose not in ConsentPurpose.values:
        raise ValidationError(_("Unknown consent purpose."), code="members.consent_purpose_invalid")
    if channel not in JoinChannel.values:
        raise ValidationError(_("Unknown join channel."), code="members.channel_invalid")
    if purpose == ConsentPurpose.PRIVACY_POLICY and not is_granted:
        raise ValidationError(
            _("The privacy policy cannot be withdrawn on its own: delete the account instead."),
            code="members.consent_required",
        )
    reason = (reason or "").strip()[:200]
    version = policy_version_current()
    with transaction.atomic(durable=True):
        member = lock_one(members_active(mall_group_id=mall_group_id).filter(pk=member_id))
        latest = Consent.objects.filter(member=member, purpose=purpose).order_by("-recorded_at", "-id").first()
        if latest is not None and latest.is_granted == is_granted and latest.policy_version == version:
            return latest
        consent = Consent.objects.create(
            member=member,
            purpose=purpose,
            is_granted=is_granted,
            channel=channel,
            policy_version=version,
            recorded_by_id=actor.user_id,
            reason=reason,
        )
        before = None if latest is None else ("granted" if latest.is_granted else "withdrawn")
        changes: dict[str, Any] = {purpose: [before, "granted" if is_granted else "withdrawn"]}
        if reason:
            changes["reason"] = reason
        audit_record(
            actor=actor,
            action="member.consent",
            target_type="member",
            target_id=member.pk,
            target_label=member.card_no,
            mall_group_id=member.mall_group_id,
            changes=changes,
        )
        return consent


ANONYMISED_FIELDS = ("phone", "card_no", "name", "gender", "birthday", "email", "last_active_at")


def member_anonymise_in_tx(*, member: Member, at: dt.datetime) -> dict[str, int]:
    """Erase the member's personal data inside the caller's transaction, with the member row locked by the
    caller: profile fields blanked, every identifier released (the phone can register again as a new member),
    the member-code secret rotated, one-time codes for the phone deleted, status `erased` (sessions end: every
    member session and API call requires an active member). Sales, ledger and consent rows stay, keyed by the
    member id only. Returns what was removed."""
    phone = member.phone
    identifiers, _by_model = MemberIdentifier.objects.filter(member=member).delete()
    otps = 0
    if phone:
        otps, _by_model = OtpChallenge.objects.filter(mall_group_id=member.mall_group_id, phone=phone).delete()
    member.phone = ""
    member.card_no = ""
    member.name = ""
    member.gender = Gender.UNKNOWN
    member.birthday = None
    member.email = ""
    member.last_active_at = None
    member.code_secret = secrets.token_hex(16)
    member.status = MemberStatus.ERASED
    member.erased_at = at
    member.save(update_fields=[*ANONYMISED_FIELDS, "code_secret", "status", "erased_at"])
    return {"identifiers": identifiers, "otp_challenges": otps}


def member_mark_merged_in_tx(*, member: Member, survivor: Member) -> None:
    """`member` (a locked row) was merged into `survivor`: it no longer counts as a member (dedupe's merge)."""
    member.status = MemberStatus.MERGED
    member.merged_into = survivor
    member.save(update_fields=["status", "merged_into"])


def member_unmerge_in_tx(*, member: Member) -> None:
    """Undo `member_mark_merged_in_tx` (dedupe's un-merge): the member counts again."""
    member.status = MemberStatus.ACTIVE
    member.merged_into = None
    member.save(update_fields=["status", "merged_into"])


def member_touch(*, member_id: int) -> None:
    Member.objects.filter(pk=member_id).update(last_active_at=timezone.now())


def member_code_secret_rotate(*, member_id: int) -> None:
    """Invalidate every code shown so far (e.g. the member reports a leaked screenshot)."""
    Member.objects.filter(pk=member_id).update(code_secret=secrets.token_hex(16))


# ---------------------------------------------------------------- SMS one-time codes


def _otp_conf(name: str) -> int:
    return int(settings.GALLERIA_OTP[name])


def otp_request(*, mall_group_id: int, phone: str, ip: str | None) -> OtpChallenge:
    """Send a 6-digit code. Limits: one per phone per resend interval, N per phone per day, M per IP per hour;
    a phone locked after too many wrong codes gets none until the lock ends."""
    e164 = phone_normalize(phone)
    now = timezone.now()
    with transaction.atomic(durable=True):
        recent = OtpChallenge.objects.filter(mall_group_id=mall_group_id, phone=e164)
        if recent.filter(locked_until__gt=now).exists():
            raise exceptions.OtpLockedError()
        last = recent.order_by("-created_at").first()
        if last and (now - last.created_at).total_seconds() < _otp_conf("RESEND_INTERVAL_SECONDS"):
            raise exceptions.OtpRateLimitedError(extra={"retry_after": _otp_conf("RESEND_INTERVAL_SECONDS")})
        if recent.filter(created_at__gte=now - dt.timedelta(days=1)).count() >= _otp_conf("MAX_PER_PHONE_PER_DAY"):
            raise exceptions.OtpRateLimitedError()
        if ip and OtpChallenge.objects.filter(ip=ip, created_at__gte=now - dt.timedelta(hours=1)).count() >= _otp_conf(
            "MAX_PER_IP_PER_HOUR"
        ):
            raise exceptions.OtpRateLimitedError()
        code = f"{secrets.randbelow(10**6):06d}"
        challenge = OtpChallenge.objects.create(
            mall_group_id=mall_group_id,
            phone=e164,
            code_hash=rules.otp_hash(key=settings.SECRET_KEY, phone=e164, code=code),
            ip=ip,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=_otp_conf("TTL_SECONDS")),
        )
        minutes = _otp_conf("TTL_SECONDS") // 60
        with translation.override(settings.LANGUAGE_CODE):  # members read SMS in the mall's language
            body = gettext("[Galleria] Your code is %(code)s, valid for %(minutes)s minutes. Do not share it.") % {
                "code": code,
                "minutes": minutes,
            }
        sms_queue(phone=e164, template="otp", body=body, params={"code": code, "minutes": minutes})
        return challenge


def otp_verify(*, mall_group_id: int, phone: str, code: str) -> str:
    """Check a code against the phone's latest challenge; returns the E.164 phone on success.

    A wrong code counts an attempt; at MAX_ATTEMPTS the phone locks for LOCKOUT_SECONDS. A used code cannot be
    used again. The challenge row is locked so concurrent guesses are counted, not lost.
    """
    e164 = phone_normalize(phone)
    code = (code or "").strip()
    now = timezone.now()
    with transaction.atomic(durable=True):
        latest = (
            OtpChallenge.objects.filter(mall_group_id=mall_group_id, phone=e164).order_by("-created_at", "-id").first()
        )
        if latest is None:
            raise exceptions.OtpInvalidError()
        challenge = lock_one(OtpChallenge.objects.filter(pk=latest.pk))
        if challenge.locked_until and challenge.locked_until > now:
            raise exceptions.OtpLockedError()
        if challenge.consumed_at or challenge.expires_at <= now or challenge.attempts >= _otp_conf("MAX_ATTEMPTS"):
            raise exceptions.OtpInvalidError()
        expected = rules.otp_hash(key=settings.SECRET_KEY, phone=e164, code=code)
        if not (len(code) == 6 and code.isdigit() and secrets.compare_digest(expected, challenge.code_hash)):
            challenge.attempts += 1
            fields = ["attempts"]
            if challenge.attempts >= _otp_conf("MAX_ATTEMPTS"):
                challenge.locked_until = now + dt.timedelta(seconds=_otp_conf("LOCKOUT_SECONDS"))
                fields.append("locked_until")
            challenge.save(update_fields=fields)
            locked = challenge.locked_until is not None
        else:
            challenge.consumed_at = now
            challenge.save(update_fields=["consumed_at"])
            return e164
    # raised after commit so the counted attempt is kept
    if locked:
        raise exceptions.OtpLockedError()
    raise exceptions.OtpInvalidError()


def member_wechat_sign_in(
    *, mall: Mall, openid: str, unionid: str, phone: str | None, ip: str | None
) -> tuple[Member, bool]:
    """Mini-program sign-in (docs/api.md, "Mini-program sign-in"): the member whose WeChat unionid or openid is known
    in the group; else the member with the phone WeChat verified (the WeChat identifiers are added to them: the same
    person); else a new member with that phone. Without a phone an unknown WeChat user cannot join
    (WechatPhoneRequiredError). Returns (member, created)."""
    with transaction.atomic(durable=True):
        pairs = [(IdentifierKind.WECHAT_UNIONID, unionid), (IdentifierKind.WECHAT_OPENID, openid)]
        member: Member | None = None
        for kind, value in pairs:
            if not value:
                continue
            row = (
                MemberIdentifier.objects.select_related("member")
                .filter(mall_group_id=mall.group_id, kind=kind, value=value, member__status=MemberStatus.ACTIVE)
                .first()
            )
            if row is not None:
                member = row.member
                break
        created = False
        if member is None:
            if not phone:
                raise exceptions.WechatPhoneRequiredError()
            e164 = phone_normalize(phone)
            row = (
                MemberIdentifier.objects.select_related("member")
                .filter(mall_group_id=mall.group_id, kind=IdentifierKind.PHONE, value=e164)
                .first()
            )
            if row is not None and row.member.is_active:
                member = row.member
            else:
                member = member_register_in_tx(
                    mall=mall,
                    phone=e164,
                    channel=JoinChannel.APP,
                    actor=Actor(user_id=None, label="mini-program", ip=ip),
                )
                created = True
        known = set(
            MemberIdentifier.objects.filter(
                member=member, kind__in=[IdentifierKind.WECHAT_OPENID, IdentifierKind.WECHAT_UNIONID]
            ).values_list("kind", "value")
        )
        for kind, value in pairs:
            if value and (kind, value) not in known:
                _add_identifier(member, kind, value)
        Member.objects.filter(pk=member.pk).update(last_active_at=timezone.now())
        return member, created


def member_login_or_join(*, mall: Mall, phone: str, code: str, ip: str | None) -> tuple[Member, bool]:
    """Member app sign-in: verify the SMS code, then return the member, registering one if the phone is new."""
    e164 = otp_verify(mall_group_id=mall.group_id, phone=phone, code=code)
    with transaction.atomic(durable=True):
        row = (
            MemberIdentifier.objects.select_related("member")
            .filter(mall_group_id=mall.group_id, kind=IdentifierKind.PHONE, value=e164)
            .first()
        )
        if row and row.member.is_active:
            Member.objects.filter(pk=row.member_id).update(last_active_at=timezone.now())
            return row.member, False
        member = member_register_in_tx(
            mall=mall,
            phone=e164,
            channel=JoinChannel.APP,
            actor=Actor(user_id=None, label="member-app", ip=ip),
        )
        return member, True
