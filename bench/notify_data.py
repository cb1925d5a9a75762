"""The payment-notification benchmark's data: the prepared database and the notifications the bench fires.

`prepare` (in this process, on the server's settings, django.setup() done by the caller's environment):

- migrate; the demo seed (`seed_demo`: two malls, ~90 merchants, their stores, N members); the demo's loyalty rules
  (`demo.loyalty.seed_rules`: the tier ladder, points policy with caps, earn rules, a points campaign, behaviour
  rules, top-up bonus rules) and coupon templates with the running mall-wide promotion
  (`demo.coupons.seed_coupon_templates`);
- every member established, as pos_bench's `prime_members` (a points account and the entry tier row), plus the two
  wallet accounts (balance 0, no legs: consistent for `ledger check`);
- points for a share of the store members (`points_credit_in_tx`, the real credit: legs, lot) and a free coupon
  claimed by another share (`coupon_claim`, the real claim);
- sandbox keys generated locally (`payments.sandbox.keys.generate`) and the credentials installed
  (`sandbox_credentials_install`: the merchant halves, sealed at rest) — the gateway is never called;
- the attempts, as a start leaves them after the gateway answered (state `paying`):
  - pay at store: **written directly in bulk**, not through `store_pay_start` (which needs the gateway for its
    last step): the basket is priced by `store_pay_quote` — the checkout's own quote, as the start prices it —
    and the row carries the start's `order` (name, total, points, the best coupons, points value, discount, points
    to earn), `amount_fen` = the quote's amount to pay, an idempotency key, the start's expiry and an H5 payload.
    One store attempt per member: the quote then stays exact until the notification (another sale of the same
    member could move them up a tier, and the tier discount would change the amount);
  - top-ups: through the wallet's own `wallet_topup_start` with the payments app's bridge (`_TopUpBridge`, which
    creates the attempt under the top-up's reference), then moved to `paying` as `_begin` does after the gateway.

`Notifier` builds each attempt's TRANSACTION.SUCCESS exactly as the sandbox gateway does (the sandbox's own
`notify.wechat_transaction` / `wechat_body` / `wechat_builder`: the AES-256-GCM resource under the APIv3 key, then
the platform-key RSA signature over `timestamp\\nnonce\\nbody\\n`). A body is built once per event; each delivery
(first or redelivery) is signed afresh, as WeChat Pay re-signs every attempt. Signing is done before the load
(RSA-2048 signing costs ~1 ms of CPU that the real gateway spends on its own machines); a signature stays valid for
the adapter's 5-minute window.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

STORE, TOPUP, REDELIVERY = "store", "topup", "redelivery"
CREDIT_BATCH = 200
TOPUP_AMOUNTS = (10_000, 20_000, 50_000, 100_000, 300_000)  # ¥100 … ¥3,000; ≥ ¥1,000 earns a bonus (seed_rules)
SIGNATURE_MAX_AGE_S = 240  # re-sign a delivery older than this (the adapter refuses one older than 300 s)


@dataclass(frozen=True)
class Attempt:
    pk: int
    out_trade_no: str
    amount_fen: int
    kind: str  # STORE | TOPUP
    merchant_id: int | None = None
    uses_points: bool = False
    uses_coupon: bool = False
    discounted: bool = False  # a promotion or a coupon applied


@dataclass
class Prepared:
    group_id: int
    credential_id: int
    keys: dict[str, Any]
    attempts: list[Attempt]
    members: int
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def notify_path(self) -> str:
        return f"/pay/notify/wechat/{self.credential_id}/"


def _timed(seconds: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    seconds[name] = round(now - started, 1)
    return now


def _establish_members(group_id: int) -> int:
    """pos_bench's established members (points account + entry tier row) plus the two wallet accounts."""
    from bench.pos_bench import prime_members
    from galleria.ledger.models import Account, AccountKind, Asset
    from galleria.members.models import Member

    prime_members(group_id, tiers=True)
    ids = list(Member.objects.filter(mall_group_id=group_id).values_list("pk", flat=True))
    Account.objects.bulk_create(
        [
            Account(mall_group_id=group_id, member_id=pk, kind=kind, asset=Asset.CNY, balance=0)
            for pk in ids
            for kind in (AccountKind.MEMBER_WALLET, AccountKind.MEMBER_WALLET_BONUS)
        ],
        batch_size=2000,
    )
    return len(ids)


def _give_points(group_id: int, member_ids: list[int], rng: random.Random) -> int:
    """A points balance for these members, through the real credit (legs against the mall's issued account)."""
    from django.db import transaction
    from django.utils import timezone

    from galleria.ledger import services as ledger
    from galleria.ledger.models import AccountKind
    from galleria.points import selectors as points_selectors
    from galleria.points import services as points_services

    policy = points_selectors.policy_get(mall_group_id=group_id)
    for start in range(0, len(member_ids), CREDIT_BATCH):
        with transaction.atomic():
            for member_id in member_ids[start : start + CREDIT_BATCH]:
                account = ledger.lock_member_accounts(
                    mall_group_id=group_id, member_id=member_id, kinds=[AccountKind.MEMBER_POINTS]
                )[AccountKind.MEMBER_POINTS]
                points_services.points_credit_in_tx(
                    policy=policy,
                    member_id=member_id,
                    points_account=account,
                    points=rng.randrange(2_000, 20_001, 100),
                    kind="earn",
                    funder="mall",
                    merchant_share_bp=0,
                    merchant_id=None,
                    occurred_at=timezone.now() - dt.timedelta(days=rng.randint(1, 200)),
                    tz_name="Asia/Shanghai",
                    source=f"bench:opening:{member_id}",
                    explanation={"bench": "opening balance"},
                )
    return len(member_ids)


def _claim_coupons(group_id: int, member_ids: list[int], rng: random.Random) -> int:
    """One free, mall-wide coupon claimed by each of these members (the claim centre's path)."""
    from galleria.core.errors import ApplicationError
    from galleria.coupons.models import CouponTemplate
    from galleria.coupons.services import coupon_claim

    templates = list(
        CouponTemplate.objects.filter(
            mall_group_id=group_id, is_claimable=True, claim_method="free", kind__in=("threshold", "per_threshold")
        ).values_list("pk", flat=True)
    )
    claimed = 0
    for member_id in member_ids:
        if not templates:
            break
        try:
            coupon_claim(member_id=member_id, template_id=rng.choice(templates), idempotency_key=f"bench-{member_id}")
        except ApplicationError:
            continue  # the template's stock or limit said no, as it would in the app
        claimed += 1
    return claimed


def _store_attempts(
    *, group_id: int, credential: Any, member_ids: list[int], points: set[int], rng: random.Random
) -> list[Attempt]:
    """One pay-at-store attempt per member, priced by the checkout's quote as store_pay_start prices it."""
    from galleria.core.errors import ApplicationError
    from galleria.merchants.selectors import stores_for_payments
    from galleria.payments.models import AttemptState, PaymentAttempt, Purpose
    from galleria.payments.services import store_pay_quote
    from galleria.payments.services.starts import _expiry, new_out_trade_no

    stores = list(stores_for_payments(mall_group_id=group_id).select_related("merchant"))
    rows: list[PaymentAttempt] = []
    meta: list[tuple[bool, bool, bool]] = []
    for n, member_id in enumerate(member_ids):
        store = rng.choice(stores)
        total = rng.choice((rng.randrange(1_000, 20_000, 100), rng.randrange(20_000, 80_000, 100)))
        try:
            quote = store_pay_quote(
                member_id=member_id,
                mall_group_id=group_id,
                store_id=store.pk,
                total_fen=total,
                points_to_use=0,
                coupon_ids=None,
            )
            use = 0
            if member_id in points and quote.max_points_usable > 0:
                use = min(quote.max_points_usable, rng.randrange(500, 5_001, 100))
                quote = store_pay_quote(
                    member_id=member_id,
                    mall_group_id=group_id,
                    store_id=store.pk,
                    total_fen=total,
                    points_to_use=use,
                    coupon_ids=None,
                )
        except ApplicationError:
            continue
        if quote.paid_fen <= 0:
            continue
        order = {
            "name": store.merchant.name,
            "total_fen": total,
            "points": use,
            "coupons": list(quote.best_coupon_ids),
            "points_value_fen": quote.points_value_fen,
            "discount_fen": quote.discount_fen,
            "points_to_earn": quote.points_to_earn,
        }
        out_trade_no = new_out_trade_no("S")
        rows.append(
            PaymentAttempt(
                mall_group_id=group_id,
                credential=credential,
                provider=credential.provider,
                purpose=Purpose.STORE,
                out_trade_no=out_trade_no,
                amount_fen=quote.paid_fen,
                pay_kind="h5",
                member_id=member_id,
                merchant_id=store.merchant_id,
                store_id=store.pk,
                order=order,
                idempotency_key=f"bench-store-{n}",
                expires_at=_expiry(),
                state=AttemptState.PAYING,
                start_payload={
                    "h5_url": f"{credential.base_url}/sandbox/wechat/h5?prepay_id=wx{secrets.token_hex(15)}"
                },
            )
        )
        meta.append((use > 0, bool(quote.best_coupon_ids), quote.discount_fen > 0))
    PaymentAttempt.objects.bulk_create(rows, batch_size=1000)
    return [
        Attempt(a.pk, a.out_trade_no, a.amount_fen, STORE, a.merchant_id, uses_points=p, uses_coupon=c, discounted=d)
        for a, (p, c, d) in zip(rows, meta, strict=True)
    ]


def _topup_attempts(*, mall_id: int, credential: Any, member_ids: list[int], rng: random.Random) -> list[Attempt]:
    """Top-ups through the wallet's start with the payments bridge, then `paying` as after the gateway's answer."""
    from galleria.payments.models import AttemptState, PaymentAttempt
    from galleria.payments.services.starts import _TopUpBridge
    from galleria.wallet.services import wallet_topup_start

    refs: list[str] = []
    for n, member_id in enumerate(member_ids):
        bridge = _TopUpBridge(credential, member_id=member_id, kind="h5")
        intent = wallet_topup_start(
            mall_id=mall_id,
            member_id=member_id,
            amount_fen=rng.choice(TOPUP_AMOUNTS),
            gateway=bridge,
            idempotency_key=f"bench-topup-{n}",
        )
        refs.append(intent.gateway_ref)
    found = {a.out_trade_no: a for a in PaymentAttempt.objects.filter(out_trade_no__in=refs)}
    for a in found.values():
        a.state = AttemptState.PAYING
        a.start_payload = {"h5_url": f"{credential.base_url}/sandbox/wechat/h5?prepay_id=wx{secrets.token_hex(15)}"}
    PaymentAttempt.objects.bulk_update(list(found.values()), ["state", "start_payload"], batch_size=1000)
    return [Attempt(found[r].pk, r, found[r].amount_fen, TOPUP) for r in refs]


def prepare(
    *,
    members: int,
    store_attempts: int,
    topup_attempts: int,
    points_share: float,
    coupon_share: float,
    seed: int,
    baseline_sql: tuple[str, ...],
) -> Prepared:
    """Migrate and fill the (empty, freshly created) database; see the module docstring."""
    import django
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    django.setup()
    from galleria.audit.types import Actor
    from galleria.demo.coupons import seed_coupon_templates
    from galleria.demo.loyalty import seed_rules
    from galleria.demo.seed import seed_demo
    from galleria.malls.models import Mall, MallGroup
    from galleria.members.models import Member, MemberStatus
    from galleria.payments.models import PaymentCredential
    from galleria.payments.sandbox import keys as sandbox_keys
    from galleria.payments.services import sandbox_credentials_install

    rng = random.Random(f"{seed}:notify")
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    # production settings serve hashed static files from the manifest: without it a page is a 500 (the servers'
    # readiness probe asks for "/"); STATIC_ROOT is this run's own directory
    call_command("collectstatic", verbosity=0, interactive=False)
    t = _timed(seconds, "migrate", t)
    seeded = seed_demo(members=members, seed=seed)
    group = MallGroup.objects.get()
    seed_rules(group, seeded.today)
    seed_coupon_templates(group, timezone.now())
    established = _establish_members(group.pk)
    t = _timed(seconds, "seed", t)
    ids = list(
        Member.objects.filter(mall_group=group, status=MemberStatus.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )
    if len(ids) < store_attempts:
        raise SystemExit(f"{len(ids)} active members for {store_attempts} store attempts: raise --members")
    store_members = rng.sample(ids, k=store_attempts)
    with_points = store_members[: int(points_share * len(store_members))]
    with_coupon = store_members[len(store_members) - int(coupon_share * len(store_members)) :]
    _give_points(group.pk, with_points, rng)
    t = _timed(seconds, "points", t)
    claimed = _claim_coupons(group.pk, with_coupon, rng)
    t = _timed(seconds, "coupons", t)
    keys = sandbox_keys.generate()
    actor = Actor(user_id=None, label="bench")
    sandbox_credentials_install(mall_group_id=group.pk, keys=keys, base_url="http://127.0.0.1:9", actor=actor)
    credential = PaymentCredential.objects.get(mall_group=group, provider="wechat")
    t = _timed(seconds, "credentials", t)
    rng.shuffle(store_members)
    stores = _store_attempts(
        group_id=group.pk, credential=credential, member_ids=store_members, points=set(with_points), rng=rng
    )
    t = _timed(seconds, "store_attempts", t)
    mall_id = Mall.objects.filter(group=group).order_by("pk").values_list("pk", flat=True)[0]
    topups = _topup_attempts(
        mall_id=mall_id, credential=credential, member_ids=rng.choices(ids, k=topup_attempts), rng=rng
    )
    t = _timed(seconds, "topup_attempts", t)
    with connection.cursor() as cursor:
        for statement in baseline_sql:
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    _timed(seconds, "analyze", t)
    connection.close()
    attempts = stores + topups
    rng.shuffle(attempts)
    counts = {
        "members": established,
        "store_attempts": len(stores),
        "store_with_points": sum(a.uses_points for a in stores),
        "store_with_coupon": sum(a.uses_coupon for a in stores),
        "store_discounted": sum(a.discounted for a in stores),
        "topup_attempts": len(topups),
        "members_with_points": len(with_points),
        "coupons_claimed": claimed,
    }
    return Prepared(
        group_id=group.pk,
        credential_id=credential.pk,
        keys=keys,
        attempts=attempts,
        members=established,
        seconds=seconds,
        counts=counts,
    )


# ---------------------------------------------------------------- notifications, as the sandbox gateway builds them


@dataclass
class Delivery:
    kind: str  # STORE | TOPUP | REDELIVERY
    out_trade_no: str
    body: bytes
    headers: dict[str, str]
    signed_at: float
    of: str = ""  # a redelivery: the kind of its first delivery


class Notifier:
    """The sandbox's notification builder on the generated keys (the platform key signs, the APIv3 key seals)."""

    def __init__(self, keys: dict[str, Any]) -> None:
        from galleria.payments.sandbox.keys import GatewayKeys
        from galleria.payments.sandbox.server import Sandbox
        from galleria.payments.sandbox.state import Store

        self.sandbox = Sandbox(keys=GatewayKeys.from_raw(keys), store=Store(), time_scale=0)
        self.bodies: dict[str, str] = {}

    def body(self, attempt: Attempt) -> str:
        """TRANSACTION.SUCCESS for the attempt (built once per event: its id and ciphertext never change)."""
        from galleria.payments.sandbox import notify
        from galleria.payments.sandbox.keys import rand_ascii, rand_digits
        from galleria.payments.sandbox.state import rfc3339_cn

        text = self.bodies.get(attempt.out_trade_no)
        if text is None:
            wx = self.sandbox.keys.wx
            trade = {
                "out_trade_no": attempt.out_trade_no,
                "kind": "h5",
                "req": {"appid": wx["appid"], "mchid": wx["mchid"], "attach": str(attempt.pk),
                        "amount": {"total": attempt.amount_fen, "currency": "CNY"}},
                "state": "SUCCESS",
                "transaction_id": "42000" + rand_digits(23),
                "success_time": rfc3339_cn(self.sandbox.store.now()),
                "paid_fen": attempt.amount_fen,
                "openid": "oSbx" + rand_ascii(24),
            }  # fmt: skip
            text = notify.wechat_body(
                self.sandbox,
                event_type="TRANSACTION.SUCCESS",
                summary="支付成功",
                plaintext=notify.wechat_transaction(self.sandbox, trade),
                associated_data="transaction",
            )
            self.bodies[attempt.out_trade_no] = text
        return text

    def sign(self, delivery: Delivery) -> None:
        """Fresh timestamp, nonce and platform signature (WeChat Pay signs every delivery attempt anew)."""
        from galleria.payments.sandbox import notify

        headers, _body = notify.wechat_builder(self.sandbox, delivery.body.decode())()
        delivery.headers, delivery.signed_at = headers, time.time()

    def delivery(self, attempt: Attempt, *, redelivery: bool = False) -> Delivery:
        d = Delivery(
            kind=REDELIVERY if redelivery else attempt.kind,
            out_trade_no=attempt.out_trade_no,
            body=self.body(attempt).encode(),
            headers={},
            signed_at=0.0,
            of=attempt.kind,
        )
        self.sign(d)
        return d
