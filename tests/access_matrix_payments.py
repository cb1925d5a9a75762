"""Access matrix entries of the payments pages (merged into tests/access_matrix.MATRIX): the member app's pay at
store and payment pages, the gateways' notify URL, the console's payments, notifications, gateway settings and
QR codes, and the merchant portal's received screen, payments (refund) and QR."""

from __future__ import annotations

from .access_matrix import (
    NOT_ALLOWED,
    NOT_FOUND,
    ROOT,
    Entry,
    action,
    api_member,
    app,
    console,
    op,
    page,
    portal,
    problem,
    public,
    r,
    redirect,
)
from .evidence_world import EvidenceWorld

VIEWERS = {"admin", "finance", "viewer", ROOT}  # payments.view
MANAGERS = {"admin", ROOT}  # payments.manage
ALL = {"admin", "marketing", "service", "finance", "viewer", ROOT}  # merchants.view
GET_ONLY = public(NOT_ALLOWED)
KEY = "evidence-pay"


def _attempt(ew: EvidenceWorld) -> int:
    """A paid pay-at-store payment of the evidence member at 喜茶 (no sale: a refund is refused, not sent)."""
    from django.utils import timezone

    from galleria.payments.models import PaymentAttempt, PaymentCredential

    existing = PaymentAttempt.objects.filter(idempotency_key=KEY).first()
    if existing is not None:
        return existing.pk
    credential, _ = PaymentCredential.objects.get_or_create(
        mall_group=ew.world.group, provider="wechat", defaults={"base_url": "http://127.0.0.1:9", "app_id": "wx0"}
    )
    attempt = PaymentAttempt.objects.create(
        mall_group=ew.world.group,
        credential=credential,
        provider="wechat",
        purpose="store",
        out_trade_no="SEVIDENCE0000000000001",
        amount_fen=1000,
        state="paid",
        fulfilment="done",
        pay_kind="h5",
        member=ew.member,
        merchant=ew.world.merchant,
        store=ew.world.store,
        idempotency_key=KEY,
        paid_fen=1000,
        paid_at=timezone.now(),
        expires_at=timezone.now(),
    )
    return attempt.pk


def _store(ew: EvidenceWorld) -> int:
    return ew.world.store.pk


def _key(ew: EvidenceWorld) -> str:
    _attempt(ew)
    return KEY


MATRIX_PAYMENTS: dict[str, Entry] = {
    "app:pay": page(app())(r("app:pay")),
    "app:pay_store": page(app(), data=lambda ew: {"amount": "abc"}, note="bad amount: 422")(r("app:pay_store", _store)),
    "app:pay_quote": action(app(), data=lambda ew: {"amount": "10"})(r("app:pay_quote", _store)),
    "app:payment": page(app(other_member=redirect("/app/")))(r("app:payment", _key)),
    "app:payment_state": page(app(other_member=NOT_FOUND))(r("app:payment_state", _key)),
    "api:GET /app/me/payments/{key}": op("GET", api_member(other_member=problem(404, "payments.not_found")))(
        lambda ew: f"/api/v1/app/me/payments/{_key(ew)}"
    ),
    "payment_notify": Entry(
        url=lambda ew: "/pay/notify/wechat/999999/",
        get=GET_ONLY,
        post=public(NOT_FOUND),
        note="a gateway's notification: no session; an unknown account is 404",
    ),
    "console:payments": page(console(VIEWERS))(r("console:payments")),
    "console:payment_notices": page(console(VIEWERS))(r("console:payment_notices")),
    "console:payment": page(console(VIEWERS, scoped=True))(r("console:payment", _attempt)),
    "console:payment_sync": action(console(MANAGERS, scoped=True))(r("console:payment_sync", _attempt)),
    "console:payment_settings": page(console(MANAGERS), data=lambda ew: {"provider": "alipay"}, note="422")(
        r("console:payment_settings")
    ),
    "console:payment_qr": page(console(ALL))(r("console:payment_qr")),
    "console:payment_profile": page(console(MANAGERS, scoped=True), data=lambda ew: {"wechat_mchid": "x"}, note="422")(
        r("console:payment_profile", lambda ew: ew.world.merchant.pk)
    ),
    "merchant:payments": page(portal({"owner", "clerk"}))(r("merchant:payments")),
    "merchant:payments_live": page(portal({"owner", "clerk"}))(r("merchant:payments_live")),
    "merchant:payments_live_feed": page(portal({"owner", "clerk"}))(r("merchant:payments_live_feed")),
    "merchant:payments_qr": page(portal({"owner", "clerk"}))(r("merchant:payments_qr")),
    "merchant:payment_detail": page(portal({"owner", "clerk"}, scoped=True))(r("merchant:payment_detail", _attempt)),
    "merchant:payment_refund": action(portal({"owner"}, scoped=True), note="no sale behind it: refused")(
        r("merchant:payment_refund", _attempt)
    ),
}
