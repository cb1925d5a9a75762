"""Gateway credentials per mall group: saved from the console (secrets sealed at rest, never read back) or by
the demo from the sandbox's generated keys. Every save bumps `version`, so processes build a new SDK client."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from galleria.audit.services import audit_record
from galleria.audit.types import Actor
from galleria.core.errors import ValidationError
from galleria.core.locking import lock_one

from ..models import MerchantPaymentProfile, PaymentCredential
from ..secrets import seal
from ..testing import alipay_config, wechat_config

PUBLIC_FIELDS = ("base_url", "app_id", "mch_id", "cert_serial_no", "platform_public_key", "platform_public_key_id")


def credential_save(
    *,
    mall_group_id: int,
    provider: str,
    values: dict[str, str],
    private_key: str = "",
    apiv3_key: str = "",
    is_active: bool = True,
    actor: Actor,
) -> PaymentCredential:
    """Create or update the group's credential for `provider`. Empty `private_key` / `apiv3_key` keep the stored
    ones; a value of the form `env:NAME` is read from the environment at use and never stored."""
    with transaction.atomic(durable=True):
        found, created = PaymentCredential.objects.get_or_create(
            mall_group_id=mall_group_id,
            provider=provider,
            defaults={name: values.get(name, "") for name in PUBLIC_FIELDS},
        )
        credential = lock_one(PaymentCredential.objects.filter(pk=found.pk))
        changed = [name for name in PUBLIC_FIELDS if getattr(credential, name) != values.get(name, "")]
        for name in PUBLIC_FIELDS:
            setattr(credential, name, values.get(name, ""))
        if private_key:
            credential.private_key_enc = seal(private_key)
            changed.append("private_key")
        if apiv3_key:
            credential.apiv3_key_enc = seal(apiv3_key)
            changed.append("apiv3_key")
        if credential.is_active != is_active:
            changed.append("is_active")
        credential.is_active = is_active
        credential.save()
        if not created:
            PaymentCredential.objects.filter(pk=credential.pk).update(version=F("version") + 1)
            credential.refresh_from_db()
        audit_record(
            actor=actor,
            action="payments.credential_save",
            target_type="payment_credential",
            target_id=credential.pk,
            target_label=f"{provider}:{credential.app_id}",
            mall_group_id=mall_group_id,
            changes={"fields": sorted(set(changed)), "created": created},  # names only: never a secret
        )
        return credential


def sandbox_credentials_install(
    *, mall_group_id: int, keys: dict[str, object], base_url: str, actor: Actor
) -> list[PaymentCredential]:
    """The demo's (and tests') credentials: the merchant halves of the sandbox's generated keys, pointing at the
    sandbox gateway's base URL. The same code paths as real credentials; only the values differ."""
    saved = []
    for config in (
        wechat_config(keys, base_url, notify_url=""),
        alipay_config(keys, base_url, notify_url=""),
    ):
        saved.append(
            credential_save(
                mall_group_id=mall_group_id,
                provider=str(config.provider),
                values={
                    "base_url": config.base_url,
                    "app_id": config.app_id,
                    "mch_id": config.mch_id,
                    "cert_serial_no": config.cert_serial_no,
                    "platform_public_key": config.platform_public_key,
                    "platform_public_key_id": config.platform_public_key_id,
                },
                private_key=config.private_key,
                apiv3_key=config.apiv3_key,
                actor=actor,
            )
        )
    return saved


PROFILE_FIELDS = (
    "pay_at_store",
    "wechat_mchid",
    "wechat_shop_number",
    "share_receiver_type",
    "share_receiver_account",
    "share_receiver_name",
)


def merchant_profile_save(
    *, mall_group_id: int, merchant_id: int, values: dict[str, object], actor: Actor
) -> MerchantPaymentProfile:
    """A merchant's payment profile (pay at store on/off, its WeChat Pay shop for 商圈, its 分账 receiver)."""
    with transaction.atomic(durable=True):
        found, created = MerchantPaymentProfile.objects.get_or_create(
            merchant_id=merchant_id, defaults={"mall_group_id": mall_group_id}
        )
        profile = lock_one(MerchantPaymentProfile.objects.filter(pk=found.pk))
        before = {name: getattr(profile, name) for name in PROFILE_FIELDS}
        for name in PROFILE_FIELDS:
            if name in values:
                setattr(profile, name, values[name])
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError as exc:
            raise ValidationError(
                _("Another merchant already has this WeChat Pay shop."), code="payments.shop_taken"
            ) from exc
        after = {name: getattr(profile, name) for name in PROFILE_FIELDS}
        audit_record(
            actor=actor,
            action="payments.profile_save",
            target_type="merchant",
            target_id=merchant_id,
            mall_group_id=mall_group_id,
            changes={k: [before[k], after[k]] for k in PROFILE_FIELDS if before[k] != after[k] or created},
        )
        return profile
