"""Access matrix entries of the member app's parking screens (merged into tests/access_matrix_parking.py): my car,
paying a stay, the payment's result, history and one past stay, the frictionless-exit switch.

The evidence member's plate (粤B12345) is parked in an evidence car park, paid once, and has a past stay; another
member asking for them gets the page they came from, as for an unknown id (nothing written, nothing audited)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .access_matrix import NOT_ALLOWED, NOT_FOUND, Entry, action, app, page, public, r, redirect
from .access_matrix_parking_console import claim_id
from .evidence_world import PLATE, EvidenceWorld

GET_ONLY = public(NOT_ALLOWED)
PAYMENT_KEY = "app:evidence-parking-payment"
GATEWAY_KEY = "evidence-parking-gateway-1"


def _car_park(ew: EvidenceWorld) -> Any:
    """The evidence car park (the issue's tariff: first 30 min free, ¥5/h), payments recorded at 喜茶's store."""
    from galleria.parking.models import CarPark, TariffVersion

    park, created = CarPark.objects.get_or_create(
        mall=ew.world.mall,
        code="evidence-app",
        defaults={"name": "证据停车场", "capacity": 100, "store": ew.world.store},
    )
    if created:
        TariffVersion.objects.create(
            car_park=park,
            code="EVIDENCE-APP",
            effective_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            unit_minutes=60,
            free_minutes=30,
            day_price_fen=500,
            daily_cap_fen=5000,
        )
    return park


def _parked(ew: EvidenceWorld) -> int:
    """The evidence member's car, parked for two hours."""
    from django.utils import timezone

    from galleria.parking.models import ParkingSession

    stay, _created = ParkingSession.objects.get_or_create(
        car_park=_car_park(ew),
        plate=PLATE,
        state="parked",
        defaults={"member": ew.member, "entry_at": timezone.now() - dt.timedelta(hours=2)},
    )
    return stay.pk


def _payment(ew: EvidenceWorld) -> int:
    """A payment of that stay (recorded as made earlier; no sale behind it)."""
    from django.utils import timezone

    from galleria.parking.models import ParkingPayment

    payment, _created = ParkingPayment.objects.get_or_create(
        key=PAYMENT_KEY,
        defaults={
            "session_id": _parked(ew),
            "source": "app",
            "amount_fen": 500,
            "wallet_fen": 500,
            "covers_until": timezone.now() - dt.timedelta(hours=1),
            "paid_at": timezone.now() - dt.timedelta(hours=1),
        },
    )
    return payment.pk


def _past(ew: EvidenceWorld) -> int:
    """A past stay of the evidence member: in yesterday 10:00–12:00, ¥10 paid."""
    from django.utils import timezone

    from galleria.parking.models import ParkingSession

    left = timezone.now() - dt.timedelta(days=1)
    stay, _created = ParkingSession.objects.get_or_create(
        car_park=_car_park(ew),
        plate=PLATE,
        state="exited",
        entry_event="evidence-past",
        defaults={
            "member": ew.member,
            "entry_at": left - dt.timedelta(hours=2),
            "exit_at": left,
            "fee_fen": 1000,
            "gross_fen": 1000,
            "paid_fen": 1000,
        },
    )
    return stay.pk


def _gateway_key(ew: EvidenceWorld) -> str:
    """A WeChat Pay payment of that stay that arrived after the fee stepped up: refunded (no gateway is asked)."""
    from django.utils import timezone

    from galleria.payments.models import PaymentAttempt, PaymentCredential

    if not PaymentAttempt.objects.filter(idempotency_key=GATEWAY_KEY).exists():
        credential, _created = PaymentCredential.objects.get_or_create(
            mall_group=ew.world.group, provider="wechat", defaults={"base_url": "http://127.0.0.1:9", "app_id": "wx0"}
        )
        PaymentAttempt.objects.create(
            mall_group=ew.world.group,
            credential=credential,
            provider="wechat",
            purpose="parking",
            out_trade_no="PEVIDENCE0000000000001",
            amount_fen=500,
            state="paid",
            fulfilment="refunded",
            failure="parking.fee_changed",
            pay_kind="h5",
            member=ew.member,
            order={"session_id": _parked(ew), "points": 0, "coupons": [], "due_fen": 500},
            idempotency_key=GATEWAY_KEY,
            paid_fen=500,
            refunded_fen=500,
            paid_at=timezone.now(),
            expires_at=timezone.now(),
        )
    return GATEWAY_KEY


MATRIX_PARKING_APP: dict[str, Entry] = {
    "app:parking": page(app(), post=GET_ONLY)(r("app:parking")),
    "app:parking_pay": page(
        app(other_member=redirect("/app/parking/")),
        note="POST without a key: 422, nothing paid; another member's stay looks unknown",
    )(r("app:parking_pay", _parked)),
    "app:parking_paid": page(app(other_member=redirect("/app/parking/")), post=GET_ONLY)(
        r("app:parking_paid", _payment)
    ),
    "app:parking_payment": page(app(other_member=redirect("/app/parking/")), post=GET_ONLY)(
        r("app:parking_payment", _gateway_key)
    ),
    "app:parking_payment_state": page(app(other_member=NOT_FOUND), post=GET_ONLY)(
        r("app:parking_payment_state", _gateway_key)
    ),
    "app:parking_history": page(app(), post=GET_ONLY)(r("app:parking_history")),
    "app:parking_stay": page(app(other_member=redirect("/app/parking/history/")), post=GET_ONLY)(
        r("app:parking_stay", _past)
    ),
    "app:parking_auto_pay": action(app(), data=lambda ew: {"enabled": "0"}, note="off when off: nothing changes")(
        r("app:parking_auto_pay")
    ),
    "app:parking_plates": page(app(), note="POST without a photo: 400 inline")(r("app:parking_plates")),
    "app:parking_plate_claim_withdraw": action(
        app(other_member=redirect("/app/parking/plates/")), note="another member's claim: not found, nothing changes"
    )(r("app:parking_plate_claim_withdraw", claim_id)),
}
