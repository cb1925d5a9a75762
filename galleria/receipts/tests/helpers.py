from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from django.test import TestCase
from django.utils import timezone

from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.receipts import services
from galleria.receipts.generator import ReceiptSpec, render_receipt
from galleria.receipts.ocr import ScriptedOcrEngine
from galleria.receipts.types import ReceiptFields


def committed(fn, **kwargs):
    """Call a service and run what it left for after commit (the background read, the inbox message)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(**kwargs)


SH = ZoneInfo("Asia/Shanghai")
_phones = itertools.count(20000000)
_seeds = itertools.count(1)
STAFF = Actor(user_id=None, label="reviewer")


def new_member(world, phone=None):
    phone = phone or f"138{next(_phones):08d}"
    return member_register(mall=world.mall, phone=phone, channel="desk", actor=Actor.system())


def photo(shop="喜茶", amount_fen=5800, receipt_no=None, when=None, seed=None, fmt="JPEG"):
    seed = seed if seed is not None else next(_seeds)
    when = when or timezone.localtime(timezone.now() - dt.timedelta(hours=2), SH).replace(tzinfo=None, microsecond=0)
    spec = ReceiptSpec(
        shop=shop,
        receipt_no=receipt_no or f"T{seed:08d}",
        occurred_at=when,
        items=(("多肉葡萄", 1, amount_fen),),
        layout=("supermarket", "cafe", "department")[seed % 3],
        seed=seed,
        fmt=fmt,
    )
    return spec, render_receipt(spec)


def script(spec, *, confidence=97):
    """Make the scripted OCR engine read what the spec printed."""
    when = spec.occurred_at
    ScriptedOcrEngine.lines = [
        (spec.shop, confidence),
        (f"小票号：{spec.receipt_no}", confidence),
        (f"日期：{when:%Y-%m-%d %H:%M:%S}", confidence),
        (f"合计：￥{spec.paid_fen // 100}.{spec.paid_fen % 100:02d}", confidence),
    ]


def upload(world, member, spec_and_bytes=None, **kw):
    spec, data = spec_and_bytes or photo(**kw)
    script(spec)
    receipt = committed(
        services.receipt_upload,
        member_id=member.pk,
        mall_group_id=world.group.pk,
        data=data,
        actor=Actor.system("member"),
    )
    receipt.refresh_from_db()
    return spec, receipt


def fields_of(spec, merchant):
    return ReceiptFields(
        merchant_id=merchant.pk,
        amount_fen=spec.paid_fen,
        occurred_at=spec.occurred_at.replace(tzinfo=SH),
        receipt_no=spec.receipt_no,
    )


def submit(world, member, receipt, spec, merchant=None):
    return committed(
        services.receipt_submit,
        receipt_id=receipt.pk,
        member_id=member.pk,
        fields=fields_of(spec, merchant or world.merchant),
        actor=Actor.system("member"),
    )
