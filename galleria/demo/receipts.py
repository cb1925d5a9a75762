"""Receipt-photo points (自助积分) for the demo: ten receipts in every state at six shops (docs/receipts.md).

The member the demo banner suggests signing in with (the newest member) has one receipt auto-approved, one approved
by the service desk, one rejected with its reason and one read and waiting for their confirmation; six other members
have receipts in review (over the auto-approve amount, hard to read, not read in time), one rejected because the
member changed the amount, one approved and later reversed as fraud (that member is then blocked from submitting),
and one photo still being read. 喜茶 and 优衣库 register the tax numbers their receipts print, 星巴克 the name
「星巴克咖啡」its receipts print. The group's rules turn auto-approve on (up to ¥200, 90 % read confidence).

Every receipt goes through the receipts services as the app and the console send it: the photo, drawn by
`receipts/generator.py`, is checked, re-encoded and stored through Django's storage API by `receipt_upload`;
submissions run the rules and flags; approvals are sales of channel `receipt` through the checkout pipeline, so the
points, lots and ledger legs are real and reversal is a refund. Only the OCR is skipped: the seed records the read a
finished OCR pass would have recorded (`receipt_read_record`), so seeding is fast and needs no OCR models.
Deterministic: every choice comes from one random stream of the seed (and the day, like the rest of the demo).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone

from galleria.audit.types import Actor
from galleria.core import timeutil
from galleria.members.selectors import members_active
from galleria.receipts import selectors as receipt_selectors
from galleria.receipts import services as receipt_services
from galleria.receipts.exceptions import ReceiptRefusedError
from galleria.receipts.generator import NoCjkFontError, ReceiptSpec, font_path, printed_lines, render_receipt
from galleria.receipts.types import AliasKind, OcrStatus, ParsedReceipt, ReceiptFields

from . import catalog

TZ = "Asia/Shanghai"
REVIEWER = Actor(user_id=None, label="service")  # the demo's service-desk login
ADMIN = Actor(user_id=None, label="group-admin")
# (merchant, kind, value): names and numbers the demo shops' receipts print
ALIASES = (
    ("喜茶", AliasKind.TAX_NO, "91440300MA5F000018"),
    ("优衣库", AliasKind.TAX_NO, "91310000607389123X"),
    ("星巴克", AliasKind.ALIAS, "星巴克咖啡"),
)
TAX_NUMBERS = {merchant: value for merchant, kind, value in ALIASES if kind == AliasKind.TAX_NO}
PRINTED_NAME = {merchant: value for merchant, kind, value in ALIASES if kind == AliasKind.ALIAS}


@dataclass(frozen=True)
class Plan:
    """One demo receipt: who (0 = the member the banner suggests, 1… = others), where, what, and how it ends."""

    who: int
    shop: str
    items: tuple[tuple[str, int, int], ...]  # (name, quantity, unit price fen)
    end: str  # reading | draft | pending | auto | approved | rejected | reversed
    days_ago: int = 0
    layout: str = "supermarket"
    rotation: float = 0.0
    noise: float = 0.0
    read: str = OcrStatus.DONE
    confidence: int = 97  # of the weakest field
    claimed_fen: int | None = None  # the member "corrects" the amount read
    reason: str = ""


# Layouts and rotations are chosen so that no two photos look alike to the perceptual hash (the near-duplicate check
# compares the whole photo: different receipts of the same length at the same angle can come within its 8 bits).
PLANS = (
    Plan(0, "喜茶", (("多肉葡萄", 2, 2900),), "auto", layout="cafe", rotation=7.5),
    Plan(
        0,
        "优衣库",
        (("摇粒绒茄克", 1, 19900), ("牛仔裤", 1, 29900)),
        "approved",
        days_ago=1,
        layout="cafe",
        rotation=-9.0,
    ),
    Plan(
        0,
        "星巴克",
        (("拿铁(大杯)", 1, 3800), ("蓝莓松饼", 1, 2250)),
        "rejected",
        days_ago=2,
        rotation=1.5,
        noise=1.0,
        confidence=68,
        reason="照片不清晰，请重新拍摄完整小票",
    ),
    Plan(0, "屈臣氏", (("洗面奶", 1, 6900), ("面膜10片装", 1, 12900)), "draft"),
    Plan(1, "海底捞火锅", (("肥牛拼盘", 2, 8800), ("番茄锅底", 1, 3800)), "pending", days_ago=1, rotation=-4.5),
    Plan(
        2,
        "优衣库",
        (("AIRism 棉质T恤", 1, 9900),),
        "pending",
        layout="department",
        rotation=6.0,
        noise=0.6,
        confidence=74,
    ),
    Plan(
        3,
        "喜茶",
        (("芝芝莓莓", 1, 3100),),
        "pending",
        days_ago=2,
        layout="department",
        noise=0.3,
        read=OcrStatus.TIMEOUT,
    ),
    Plan(
        4,
        "屈臣氏",
        (("洗面奶", 1, 6900),),
        "rejected",
        days_ago=3,
        layout="cafe",
        rotation=-1.5,
        claimed_fen=9600,
        reason="金额与小票不符",
    ),
    Plan(
        5,
        "迪卡侬",
        (("徒步鞋", 1, 39900),),
        "reversed",
        days_ago=4,
        layout="department",
        rotation=9.0,
        reason="伪造小票：商户核实无此交易",
    ),
    Plan(6, "喜茶", (("烤黑糖波波牛乳", 2, 1900),), "reading", layout="department", rotation=-1.5),
)
BLOCK_REASON = "伪造小票，积分已冲正"


@dataclass
class ReceiptsResult:
    receipts: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    aliases: int = 0
    blocked: int = 0
    skipped: str = ""


def _merchants(mall_group_id: int) -> dict[str, int]:
    """Shop name → id of the group's merchant of that name in the first mall that has one (星河广场 before 星河天地)."""
    found: dict[str, int] = {}
    for pk, name in receipt_selectors.merchant_options(mall_group_id=mall_group_id):
        found.setdefault(name, pk)
    return found


def _members(mall_group_id: int, rng: random.Random, count: int) -> list[int]:
    """The member the demo banner suggests signing in with (the newest), then `count - 1` others by chance."""
    active = members_active(mall_group_id=mall_group_id)
    newest = active.order_by("-created_at", "-pk").values_list("pk", flat=True).first()
    if newest is None:
        return []
    others = [pk for pk in active.order_by("pk").values_list("pk", flat=True)[:500] if pk != newest]
    if len(others) < count - 1:
        return []
    return [newest, *rng.sample(others, k=count - 1)]


def _occurred_at(rng: random.Random, now: dt.datetime, days_ago: int, index: int) -> dt.datetime:
    """A whole minute between 10:00 and 21:59 mall time `days_ago` days ago, at least half an hour before now."""
    day = timeutil.local_date(now, TZ) - dt.timedelta(days=days_ago)
    opening, _closing = timeutil.local_day_bounds(day, TZ)
    at = opening + dt.timedelta(hours=10, minutes=rng.randint(0, 12 * 60 - 1))
    at = min(at, now - dt.timedelta(minutes=30 + 7 * index))
    return timezone.localtime(at, timeutil.zone(TZ)).replace(second=0, microsecond=0)


def _spec(plan: Plan, rng: random.Random, at: dt.datetime, index: int, seed: int) -> ReceiptSpec:
    local = at.replace(tzinfo=None)
    return ReceiptSpec(
        shop=PRINTED_NAME.get(plan.shop, plan.shop),
        tax_no=TAX_NUMBERS.get(plan.shop, ""),
        receipt_no=f"{local:%Y%m%d}{rng.randint(10000, 99999)}",
        occurred_at=local,
        items=plan.items,
        layout=plan.layout,
        rotation=plan.rotation,
        noise=plan.noise,
        seed=seed * 100 + index,
    )


def _record_read(plan: Plan, spec: ReceiptSpec, receipt_id: int, merchant_id: int, at: dt.datetime, ms: int) -> None:
    """What a finished OCR pass would have recorded (no OCR runs while seeding)."""
    if plan.read != OcrStatus.DONE:
        receipt_services.receipt_read_record(
            receipt_id=receipt_id, outcome=plan.read, parsed=ParsedReceipt(), ocr_ms=ms
        )
        return
    weakest = plan.confidence
    parsed = ParsedReceipt(
        merchant_id=merchant_id,
        merchant_confidence=max(weakest, 98),
        amount_fen=spec.paid_fen,
        amount_confidence=weakest,
        occurred_at=at,
        occurred_confidence=max(weakest, 96),
        receipt_no=spec.receipt_no,
        receipt_no_confidence=max(weakest, 97),
        tax_no=spec.tax_no,
    )
    text = "\n".join(f"{line}\t{max(weakest, 95)}" for line in printed_lines(spec))
    receipt_services.receipt_read_record(
        receipt_id=receipt_id, outcome=OcrStatus.DONE, parsed=parsed, text=text, ocr_ms=ms
    )


def _decide(plan: Plan, *, receipt_id: int, mall_group_id: int) -> None:
    if plan.end in ("approved", "reversed"):
        receipt_services.receipt_approve(receipt_id=receipt_id, mall_group_id=mall_group_id, actor=REVIEWER)
    if plan.end == "rejected":
        receipt_services.receipt_reject(
            receipt_id=receipt_id, mall_group_id=mall_group_id, reason=plan.reason, actor=REVIEWER
        )
    if plan.end == "reversed":
        receipt_services.receipt_reverse(
            receipt_id=receipt_id, mall_group_id=mall_group_id, reason=plan.reason, actor=ADMIN
        )


def seed_receipts(*, mall_group_id: int, seed: int = catalog.DEFAULT_SEED) -> ReceiptsResult:
    result = ReceiptsResult()
    try:
        font_path()
    except NoCjkFontError:
        result.skipped = "no CJK font to draw receipts (Debian: fonts-noto-cjk)"
        return result
    rng = random.Random(seed * 6007 + 14)  # times and receipt numbers
    merchants = _merchants(mall_group_id)
    members = _members(mall_group_id, random.Random(seed * 6007 + 15), count=1 + max(plan.who for plan in PLANS))
    if not members or any(plan.shop not in merchants for plan in PLANS):
        result.skipped = "the demo has too few members or lacks a shop"
        return result
    receipt_services.receipt_settings_save(
        mall_group_id=mall_group_id,
        values={"auto_approve": True, "auto_approve_max_fen": 20000, "auto_approve_min_confidence": 90},
        actor=ADMIN,
    )
    for shop, kind, value in ALIASES:
        receipt_services.receipt_alias_add(
            mall_group_id=mall_group_id, merchant_id=merchants[shop], kind=kind, value=value, actor=ADMIN
        )
        result.aliases += 1
    now = timezone.now()
    for index, plan in enumerate(PLANS):
        member_id, merchant_id = members[plan.who], merchants[plan.shop]
        at = _occurred_at(rng, now, plan.days_ago, index)
        spec = _spec(plan, rng, at, index, seed)
        try:
            receipt = receipt_services.receipt_upload(
                member_id=member_id,
                mall_group_id=mall_group_id,
                data=render_receipt(spec),
                actor=Actor(user_id=None, label=f"member:{member_id}"),
                read_in_background=False,  # no OCR while seeding: the read is recorded below
            )
        except ReceiptRefusedError:  # a photo too like an earlier one (never seen with these plans): leave it out
            continue
        result.receipts += 1
        if plan.end == "reading":
            continue
        _record_read(plan, spec, receipt.pk, merchant_id, at, ms=rng.randint(450, 900))
        if plan.end == "draft":
            continue
        receipt_services.receipt_submit(
            receipt_id=receipt.pk,
            member_id=member_id,
            fields=ReceiptFields(
                merchant_id=merchant_id,
                amount_fen=plan.claimed_fen or spec.paid_fen,
                occurred_at=at,
                receipt_no=spec.receipt_no,
            ),
            actor=Actor(user_id=None, label=f"member:{member_id}"),
        )
        _decide(plan, receipt_id=receipt.pk, mall_group_id=mall_group_id)
    reversed_ = [members[plan.who] for plan in PLANS if plan.end == "reversed"]
    for member_id in reversed_:
        receipt_services.receipt_block_set(
            mall_group_id=mall_group_id, member_id=member_id, blocked=True, reason=BLOCK_REASON, actor=ADMIN
        )
        result.blocked += 1
    result.by_status = Counter(
        receipt_selectors.review_list(mall_group_id=mall_group_id, status="").values_list("status", flat=True)
    )
    return result
