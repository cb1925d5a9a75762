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
    # whose money it was, when one attempt paid several merchants (an online checkout): 分账 per merchant
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
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


# --------------------------------------------------------------------------------------------------------------------
# WeChat Pay 智慧商圈 (payment-linked points, 无感积分): services/mall_points*.py, docs/payments-mall-points.md


class MallTxnState(models.TextChoices):
    """What a 商圈 payment did on our side."""

    AWAITING = "awaiting", _("Refund known, payment not yet")  # a refund notice arrived before its payment notice
    CREDITED = "credited", _("Points credited")
    NO_POINTS = "no_points", _("No points")


class MallNoPoints(models.TextChoices):
    """Why a 商圈 payment earned nothing (the reason is reported back to WeChat and shown in the console)."""

    MEMBER_UNKNOWN = "member_unknown", _("No member has linked this WeChat")
    NOT_AUTHORISED = "not_authorised", _("The member has not authorised 商圈 points")
    SHOP_UNMAPPED = "shop_unmapped", _("The shop is not mapped to a merchant")
    MERCHANT_INACTIVE = "merchant_inactive", _("The merchant does not take part")
    CAP_REACHED = "cap_reached", _("A points cap was reached")
    BELOW_MINIMUM = "below_minimum", _("Below the minimum spend for points")
    NOTHING_EARNED = "nothing_earned", _("The earn rules give no points")
    REFUSED = "refused", _("The checkout refused the sale")


class MallSyncState(models.TextChoices):
    """Reporting the points back to WeChat (points/notify): pending until accepted, retried with backoff."""

    NOT_DUE = "not_due", _("Nothing to report yet")
    PENDING = "pending", _("To report")
    SYNCED = "synced", _("Reported")
    REFUSED = "refused", _("Refused by WeChat")


class MallRefundState(models.TextChoices):
    PENDING = "pending", _("Waiting for its payment")
    APPLIED = "applied", _("Points reversed")
    NOTHING = "nothing", _("Nothing to reverse")
    FAILED = "failed", _("Could not be applied")


class WechatOAuthApp(models.Model):
    """The mall's WeChat Official Account (公众号) for web authorisation (网页授权, snsapi_base): how the member app
    learns a member's openid. Its appid is the appid of the group's WeChat Pay credential — openids are per appid,
    and 商圈 notifications and JSAPI payments name the member by the openid under that appid — so only the
    AppSecret (sealed at rest like gateway secrets, or `env:NAME`) and the two WeChat hosts are stored here."""

    mall_group = models.OneToOneField(MallGroup, on_delete=models.CASCADE, related_name="+")
    app_secret_enc = models.TextField(blank=True)
    authorize_base_url = models.URLField(
        _("authorisation page host"), max_length=200, default="https://open.weixin.qq.com"
    )
    api_base_url = models.URLField(_("API host"), max_length=200, default="https://api.weixin.qq.com")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("WeChat web authorisation")
        verbose_name_plural = _("WeChat web authorisations")

    def __str__(self) -> str:
        return f"oauth:{self.mall_group_id}"


class MallPointsAuth(models.Model):
    """A WeChat user's 商圈 points authorisation, as WeChat told us (MALL_AUTH.ACTIVATE_CARD, or the
    user-authorizations query). Keyed by openid: a member may authorise in WeChat before linking WeChat in the app."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.CASCADE, related_name="+", db_index=False)
    openid = models.CharField(_("openid"), max_length=64)
    authorized_at = models.DateTimeField(_("authorised at"))
    source = models.CharField(max_length=10)  # "notice" | "query"
    event_id = models.CharField(max_length=80, blank=True)
    card_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("商圈 authorisation")
        verbose_name_plural = _("商圈 authorisations")
        constraints = [models.UniqueConstraint(fields=["mall_group", "openid"], name="mall_auth_once_per_openid")]

    def __str__(self) -> str:
        return self.openid


class MallTransaction(models.Model):
    """One 商圈 payment (WeChat's transaction_id) at a shop of the mall, once, whatever the notifications: what
    it was, who and where it resolved to, the payment_link sale and its points (or why none), what was refunded
    and reversed, and the report of the points back to WeChat. A refund notice that comes first creates the row
    as AWAITING; the payment fills it in and applies the refund then."""

    mall_group = models.ForeignKey(MallGroup, on_delete=models.PROTECT, related_name="+", db_index=False)
    transaction_id = models.CharField(_("WeChat transaction"), max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=MallTxnState.choices, default=MallTxnState.AWAITING)
    reason = models.CharField(_("reason"), max_length=20, choices=MallNoPoints.choices, blank=True)
    reason_detail = models.CharField(_("detail"), max_length=200, blank=True)
    openid = models.CharField(_("openid"), max_length=64, blank=True)
    mchid = models.CharField(_("shop's merchant number"), max_length=32, blank=True)
    shop_number = models.CharField(_("shop number"), max_length=64, blank=True)
    shop_name = models.CharField(_("shop name"), max_length=120, blank=True)
    amount_fen = models.BigIntegerField(_("amount"), default=0)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    booked_at = models.DateTimeField(null=True, blank=True)  # the sale's time
    merchant = models.ForeignKey(Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sale = models.OneToOneField(Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    points = models.BigIntegerField(_("points"), default=0)
    points_balance = models.BigIntegerField(null=True, blank=True)  # the member's balance right after the credit
    refunded_fen = models.BigIntegerField(_("refunded"), default=0)
    points_reversed = models.BigIntegerField(_("points reversed"), default=0)
    event_id = models.CharField(max_length=80, blank=True)
    sync_state = models.CharField(
        _("report to WeChat"), max_length=10, choices=MallSyncState.choices, default=MallSyncState.NOT_DUE
    )
    sync_attempts = models.PositiveIntegerField(default=0)
    sync_next_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.CharField(max_length=200, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("商圈 transaction")
        verbose_name_plural = _("商圈 transactions")
        constraints = [
            models.UniqueConstraint(fields=["mall_group", "transaction_id"], name="mall_txn_once"),
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0) & Q(refunded_fen__gte=0) & Q(points__gte=0) & Q(points_reversed__gte=0),
                name="mall_txn_amounts_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["mall_group", "-created_at"], name="mall_txn_group_created_idx"),
            models.Index(fields=["member", "-created_at"], name="mall_txn_member_idx"),
            models.Index(fields=["sync_state", "sync_next_at"], name="mall_txn_sync_due_idx"),
        ]

    def __str__(self) -> str:
        return self.transaction_id


class MallRefund(models.Model):
    """One 商圈 refund (WeChat's refund_id) of a MallTransaction: the points it reversed through the checkout's
    refund (sale_refund_in_tx), or why none — pending while its payment has not arrived."""

    mall_txn = models.ForeignKey(MallTransaction, on_delete=models.PROTECT, related_name="refunds")
    refund_id = models.CharField(_("WeChat refund"), max_length=64)
    refund_fen = models.BigIntegerField(_("refunded"))
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=MallRefundState.choices, default=MallRefundState.PENDING
    )
    applied_fen = models.BigIntegerField(default=0)  # of it, refunded through the sale (the sale's line is in fen)
    points_reversed = models.BigIntegerField(default=0)
    sale_refund_id = models.BigIntegerField(null=True, blank=True)  # sales.Refund
    detail = models.CharField(max_length=200, blank=True)
    event_id = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("商圈 refund")
        verbose_name_plural = _("商圈 refunds")
        constraints = [
            models.UniqueConstraint(fields=["mall_txn", "refund_id"], name="mall_refund_once"),
            models.CheckConstraint(condition=Q(refund_fen__gt=0), name="mall_refund_positive"),
        ]

    def __str__(self) -> str:
        return self.refund_id
