"""API credential writes (docs/api.md, "Tokens"): a member device's tokens — issued at sign-in (SMS code or WeChat),
refreshed with rotation (a refresh token works once; presenting a used one signs the device out: it was copied),
revoked from the member's device list — and staff API tokens (created with scopes no wider than the creator's own
permissions and an expiry, shown once; revoked; every use stamps last-used, every change is audited)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.locking import lock_one

from . import exceptions, rules
from .models import MemberDevice, StaffApiToken
from .types import CreatedStaffToken, TokenPair


def _pair(device: MemberDevice, now: dt.datetime) -> TokenPair:
    access, refresh = rules.new_token(rules.ACCESS_PREFIX), rules.new_token(rules.REFRESH_PREFIX)
    device.access_hash, device.refresh_hash = rules.token_hash(access), rules.token_hash(refresh)
    device.access_expires_at, device.refresh_expires_at = now + rules.ACCESS_TTL, now + rules.REFRESH_TTL
    device.last_used_at = now
    return TokenPair(
        device_id=device.pk or 0,
        member_id=device.member_id,
        access_token=access,
        access_expires_at=device.access_expires_at,
        refresh_token=refresh,
        refresh_expires_at=device.refresh_expires_at,
    )


def device_sign_in_in_tx(*, member_id: int, mall_group_id: int, name: str, via: str) -> TokenPair:
    """A new device for a member who has just proven who they are (the caller checked the code), in the caller's
    transaction."""
    now = timezone.now()
    device = MemberDevice(
        member_id=member_id, mall_group_id=mall_group_id, name=(name or "?")[:60], via=via, created_at=now
    )
    pair = _pair(device, now)
    device.save()
    return TokenPair(**{**pair.__dict__, "device_id": device.pk})


def device_sign_in(*, member_id: int, mall_group_id: int, name: str, via: str) -> TokenPair:
    with transaction.atomic(durable=True):
        return device_sign_in_in_tx(member_id=member_id, mall_group_id=mall_group_id, name=name, via=via)


def device_refresh(*, refresh_token: str) -> TokenPair:
    """New access and refresh tokens for the device; the old refresh token stops working. A refresh token that was
    already used (someone copied it) signs the device out."""
    digest = rules.token_hash(refresh_token)
    now = timezone.now()
    with transaction.atomic(durable=True):
        try:
            device = lock_one(MemberDevice.objects.filter(refresh_hash=digest))
        except MemberDevice.DoesNotExist:
            stolen = MemberDevice.objects.filter(previous_refresh_hash=digest, revoked_at__isnull=True).first()
            if stolen is None:
                raise exceptions.TokenInvalidError() from None
            device = lock_one(MemberDevice.objects.filter(pk=stolen.pk))
            device.revoked_at, device.revoked_reason = now, "refresh_reused"
            device.save(update_fields=["revoked_at", "revoked_reason"])
            reused = True
        else:
            reused = False
            if device.revoked_at is not None or device.refresh_expires_at <= now:
                raise exceptions.TokenInvalidError()
            device.previous_refresh_hash = device.refresh_hash
            pair = _pair(device, now)
            device.save()
    if reused:  # after the commit: the revocation stays
        raise exceptions.RefreshReusedError()
    return TokenPair(**{**pair.__dict__, "device_id": device.pk})


def device_touch(*, device: MemberDevice) -> None:
    """Stamp last-used at most once a minute (a bearer request reads; it need not write)."""
    now = timezone.now()
    if now - device.last_used_at >= rules.LAST_USED_EVERY:
        MemberDevice.objects.filter(pk=device.pk).update(last_used_at=now)


def device_revoke(*, member_id: int, device_id: int, reason: str = "member") -> None:
    with transaction.atomic(durable=True):
        try:
            device = lock_one(MemberDevice.objects.filter(pk=device_id, member_id=member_id, revoked_at__isnull=True))
        except MemberDevice.DoesNotExist as exc:
            raise exceptions.DeviceNotFoundError() from exc
        device.revoked_at, device.revoked_reason = timezone.now(), reason[:40]
        device.save(update_fields=["revoked_at", "revoked_reason"])


def member_erase_in_tx(*, member_id: int, mall_group_id: int, phone: str, values: list[str]) -> int:
    """Erasure (settings.GALLERIA_ERASURE_HANDLERS): every device of the member is deleted (names may be personal)."""
    deleted, _by_model = MemberDevice.objects.filter(member_id=member_id).delete()
    return deleted


# --- staff API tokens -----------------------------------------------------------------------------------------------


def staff_token_create(
    *,
    user_id: int,
    mall_group_id: int | None,
    name: str,
    scopes: Iterable[str],
    allowed: frozenset[str],
    days: int,
    actor: Actor,
) -> CreatedStaffToken:
    """A token acting as `user_id` with `scopes` (each must be among `allowed`: the user's own permissions), valid
    for `days`. The token is returned once; only its hash is stored."""
    chosen = sorted(set(scopes))
    problems: dict[str, str] = {}
    if not name.strip():
        problems["name"] = _("Give the token a name (which system uses it).")
    if not chosen or not set(chosen) <= allowed:
        problems["scopes"] = _("Choose at least one permission, among the user's own.")
    if not 1 <= days <= rules.STAFF_MAX_DAYS:
        problems["days"] = _("A token is valid for 1 to 366 days.")
    if problems:
        raise exceptions.StaffTokenInvalidError(_("Check the highlighted fields."), fields=problems)
    token = rules.new_token(rules.STAFF_PREFIX)
    now = timezone.now()
    with transaction.atomic(durable=True):
        row = StaffApiToken.objects.create(
            user_id=user_id,
            mall_group_id=mall_group_id,
            name=name.strip()[:60],
            scopes=chosen,
            token_hash=rules.token_hash(token),
            prefix=rules.shown_prefix(token),
            created_at=now,
            created_by=actor.label[:100],
            expires_at=now + dt.timedelta(days=days),
        )
        audit_record(
            actor=actor,
            action="api_token.create",
            target_type="api_token",
            target_id=row.pk,
            target_label=row.name,
            mall_group_id=mall_group_id,
            changes={"scopes": [None, ",".join(chosen)], "expires_at": [None, row.expires_at.isoformat()]},
        )
    return CreatedStaffToken(token_id=row.pk, token=token)


def staff_token_revoke(*, mall_group_id: int | None, token_id: int, actor: Actor) -> StaffApiToken:
    with transaction.atomic(durable=True):
        qs = StaffApiToken.objects.filter(pk=token_id)
        if mall_group_id is not None:
            qs = qs.filter(mall_group_id=mall_group_id)
        try:
            row = lock_one(qs)
        except StaffApiToken.DoesNotExist as exc:
            raise exceptions.StaffTokenNotFoundError() from exc
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="api_token.revoke",
                target_type="api_token",
                target_id=row.pk,
                target_label=row.name,
                mall_group_id=row.mall_group_id,
            )
    return row


def staff_token_used(*, token_id: int) -> None:
    """Stamp last-used at most once a minute."""
    now = timezone.now()
    StaffApiToken.objects.filter(pk=token_id).exclude(last_used_at__gt=now - rules.LAST_USED_EVERY).update(
        last_used_at=now
    )
