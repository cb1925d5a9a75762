"""From a stored credential to a live gateway adapter: the GatewayConfig (secrets unsealed), the notify URL the
gateway posts to, and the adapter (cached per process by galleria.payments.gateways.gateway_for)."""

from __future__ import annotations

from django.conf import settings

from .. import sql as payments_sql
from ..exceptions import ProviderNotConfiguredError
from ..gateways import gateway_for
from ..gateways.base import Gateway, GatewayConfig, Provider
from ..models import PaymentCredential
from ..secrets import SecretUnavailableError, unseal


def notify_url(credential: PaymentCredential) -> str:
    """Where the gateway posts this account's notifications (GALLERIA_PUBLIC_URL + the notify route)."""
    base = settings.GALLERIA_PUBLIC_URL.rstrip("/")
    return f"{base}/pay/notify/{credential.provider}/{credential.pk}/"


def credential_config(credential: PaymentCredential) -> GatewayConfig:
    return GatewayConfig(
        provider=Provider(credential.provider),
        base_url=credential.base_url,
        app_id=credential.app_id,
        mch_id=credential.mch_id,
        private_key=unseal(credential.private_key_enc),
        cert_serial_no=credential.cert_serial_no,
        platform_public_key=credential.platform_public_key,
        platform_public_key_id=credential.platform_public_key_id,
        apiv3_key=unseal(credential.apiv3_key_enc),
        notify_url=notify_url(credential),
        timeout_s=float(settings.GALLERIA_PAYMENT_TIMEOUT_S),
    )


def gateway_of(credential: PaymentCredential) -> Gateway:
    try:
        return gateway_for(credential_config(credential))
    except SecretUnavailableError as exc:
        raise ProviderNotConfiguredError() from exc


def credential_read(*, credential_id: int, provider: str) -> PaymentCredential | None:
    """The credential a notification URL names (by id and provider, active or not), or None: fixed SQL, read on
    every notification so that a change (rotated keys, another platform key) applies at once in every process."""
    return payments_sql.credential_get(credential_id, provider)


def credential_for(*, mall_group_id: int, provider: str) -> PaymentCredential:
    """The group's active credential for `provider`, or ProviderNotConfiguredError."""
    credential = PaymentCredential.objects.filter(
        mall_group_id=mall_group_id, provider=provider, is_active=True
    ).first()
    if credential is None:
        raise ProviderNotConfiguredError(extra={"provider": provider})
    return credential
