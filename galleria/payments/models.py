"""Payments (docs/payments.md): gateway credentials per mall group, payment attempts with their state machine,
refunds at the gateway, and the log of every notification received (verified or not).

Money itself never lives here: a paid top-up is posted by the wallet, a pay-at-store payment becomes a sale of the
checkout pipeline; these rows record what the gateway was asked and said, and link to the wallet / sale records.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from galleria.malls.models import MallGroup
from galleria.members.models import Member
from galleria.merchants.models import Merchant, Store
from galleria.sales.models import Sale
from galleria.wallet.models import TopUp

from .types import AttemptState as AttemptState
from .types import Fulfilment as Fulfilment
from .types import NoticeOutcome as NoticeOutcome
from .types import ProviderChoice as ProviderChoice
from .types import Purpose as Purpose
from .types import RefundState as RefundState


class PaymentCredential(models.Model):
    """One merchant account at one provider for a mall group. Secrets are encrypted at rest (payments.secrets,
    Fernet under GALLERIA_SECRETS_KEY) and never shown again; `version` changes whenever anything changes, so
    processes rebuild their cached SDK client."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(_("provider"), max_length=10, choices=ProviderChoice.choices)
    is_active = models.BooleanField(_("active"), default=True)
    base_url = models.URLField(_("gateway URL"), max_length=200)
    app_id = models.CharField(_("app ID"), max_length=40)
    mch_id = models.CharField(_("merchant number"), max_length=32, blank=True)
    cert_serial_no = models.CharField(_("API certificate serial"), max_length=64, blank=True)
    platform_public_key = models.TextField(_("platform public key"), blank=True)
    platform_public_key_id = models.CharField(_("platform public key ID"), max_length=64, blank=True)
    private_key_enc = models.TextField(blank=True)
    apiv3_key_enc = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payment credential")
        verbose_name_plural = _("payment credentials")
        constraints = [models.UniqueConstraint(fields=["mall_group", "provider"], name="credential_one_per_provider")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.app_id}"


class PaymentAttempt(models.Model):
    """One payment asked of a gateway under our `out_trade_no`. created → paying → paid | failed | closed."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+", db_index=False)
    credential = models.ForeignKey(PaymentCredential, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=10, choices=ProviderChoice.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    out_trade_no = models.CharField(_("our trade number"), max_length=32, unique=True)
    amount_fen = models.BigIntegerField(_("amount"))
    state = models.CharField(_("state"), max_length=10, choices=AttemptState.choices, default=AttemptState.CREATED)
    fulfilment = models.CharField(
        _("fulfilment"), max_length=10, choices=Fulfilment.choices, default=Fulfilment.PENDING
    )
    pay_kind = models.CharField(_("how"), max_length=10)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    topup = models.OneToOneField(TopUp, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sale = models.OneToOneField(Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # pay at store: what the member chose ({"points": n, "coupons": [ids], "total_fen": n, "description": s})
    order = models.JSONField(default=dict, blank=True)
    start_payload = models.JSONField(default=dict, blank=True)  # the PayStart payload, to show again
    idempotency_key = models.CharField(max_length=64, blank=True)
    transaction_id = models.CharField(_("gateway transaction"), max_length=64, blank=True)
    payer = models.CharField(max_length=64, blank=True)
    paid_fen = models.BigIntegerField(_("paid"), null=True, blank=True)
    refunded_fen = models.BigIntegerField(_("refunded"), default=0)
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="attempt_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0) & (Q(paid_fen__isnull=True) | Q(refunded_fen__lte=F("paid_fen"))),
                name="attempt_refund_max",
            ),
            models.UniqueConstraint(
                fields=["member", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="attempt_member_idempotency",
            ),
        ]
        indexes = [
            models.Index(fields=["mall_group", "-created_at"], name="attempt_group_created_idx"),
            models.Index(fields=["merchant", "-paid_at"], name="attempt_merchant_paid_idx"),
            models.Index(fields=["state", "expires_at"], name="attempt_state_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class PaymentRefund(models.Model):
    """Money sent back through the gateway under our `out_refund_no` (idempotent at the gateway)."""

    attempt = models.ForeignKey(PaymentAttempt, on_delete=models.PROTECT, related_name="refunds")
    out_refund_no = models.CharField(_("our refund number"), max_length=64, unique=True)
    amount_fen = models.BigIntegerField(_("amount"))
    state = models.CharField(_("state"), max_length=10, choices=RefundState.choices, default=RefundState.REQUESTED)
    reason = models.CharField(_("reason"), max_length=80, blank=True)
    refund_id = models.CharField(_("gateway refund"), max_length=64, blank=True)
    # what asked for it: "merchant:<user id>", "auto:<why>", "topup_refund:<id>"
    origin = models.CharField(max_length=60, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("gateway refund")
        verbose_name_plural = _("gateway refunds")
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payment_refund_positive")]

    def __str__(self) -> str:
        return self.out_refund_no


class PaymentNotice(models.Model):
    """Every notification received, verified or not: the audit trail and, for verified ones, the dedupe key
    (provider, event id) — a redelivery finds its first row and changes nothing."""

    mall_group = models.ForeignKey(MallGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("provider"), max_length=10, choices=ProviderChoice.choices)
    event_id = models.CharField(_("event"), max_length=80, blank=True)
    kind = models.CharField(_("kind"), max_length=16, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    outcome = models.CharField(_("outcome"), max_length=10, choices=NoticeOutcome.choices)
    out_trade_no = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("gateway notification")
        verbose_name_plural = _("gateway notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], condition=Q(verified=True), name="notice_once_per_event"
            )
        ]
        indexes = [models.Index(fields=["-received_at"], name="notice_received_idx")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class MerchantPaymentProfile(models.Model):
    """How the mall's payment accounts know a merchant: its own WeChat Pay merchant number and shop number (智慧商圈
    notifications name the shop by them) and where its share of mall-collected money goes (分账 receiver)."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+")
    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+")
    pay_at_store = models.BooleanField(_("members may pay in the app"), default=True)
    wechat_mchid = models.CharField(_("the shop's WeChat Pay merchant number"), max_length=32, blank=True)
    wechat_shop_number = models.CharField(_("the shop's number at WeChat (商圈)"), max_length=64, blank=True)
    share_receiver_type = models.CharField(
        _("profit-sharing receiver type"),
        max_length=20,
        blank=True,
        choices=[("MERCHANT_ID", _("WeChat Pay merchant")), ("PERSONAL_OPENID", _("Personal WeChat user"))],
    )
    share_receiver_account = models.CharField(_("profit-sharing receiver account"), max_length=64, blank=True)
    share_receiver_name = models.CharField(_("profit-sharing receiver name"), max_length=80, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("merchant payment profile")
        verbose_name_plural = _("merchant payment profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["mall_group", "wechat_mchid", "wechat_shop_number"],
                condition=~Q(wechat_mchid=""),
                name="payment_profile_shop_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}:{self.wechat_mchid}"
