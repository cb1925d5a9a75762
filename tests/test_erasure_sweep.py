"""PIPL erasure leaves no personal data behind: a member who came in through an import, signed in by SMS, had the
profile edited by staff (audited), was viewed unmasked (access log), shopped, topped up the wallet and absorbed a
duplicate in a merge is erased; then every text and JSON column of every table is searched for the member's phone,
name, card, plate and e-mail. Only the places listed in ALLOWED may still hold one, each for a stated reason.

It lives outside the apps because it crosses them all (imports, dedupe and privacy are siblings that do not import
each other)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.dedupe import services as dedupe_services
from galleria.imports.models import ImportRow
from galleria.imports.tests.helpers import csv_bytes, full
from galleria.ledger.selectors import ledger_check
from galleria.members.models import Member, MemberStatus
from galleria.members.services import member_profile_update, member_register
from galleria.messaging.models import PushMessage, WechatMessage
from galleria.privacy import services as privacy_services
from galleria.sales.services import sale_commit
from galleria.sales.tests.helpers import sale_in
from galleria.testing import PASSWORD
from galleria.wallet.tests.helpers import pay, top_up

pytestmark = pytest.mark.django_db

STAFF = Actor(user_id=None, label="sweep-test")
PHONE = "13912345678"
NEEDLES = {
    "phone": "12345678",  # the phone's last eight digits: found in +86…, 139…, masked copies keep only four
    "name": "隐私测试员",
    "new name": "改名测试员",
    "card": "SWEEP0001",
    "plate": "粤B9W3X7",
    "email": "sweep.person@example.com",
}

# (app_label.Model, field) → why the value may stay after the erasure.
ALLOWED: dict[tuple[str, str], str] = {}


def _text_fields(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField, models.JSONField)) and not f.choices
    ]


def _sweep() -> dict[tuple[str, str], list[str]]:
    """(model, field) → the needles still found there."""
    found: dict[tuple[str, str], list[str]] = {}
    for model in apps.get_models():  # every installed model: Django's and the task queue's too
        if not model._meta.managed:
            continue
        for field in _text_fields(model):
            for label, needle in NEEDLES.items():
                values = model._default_manager.values_list(field, flat=True)
                if isinstance(model._meta.get_field(field), models.JSONField):
                    hit = any(needle in json.dumps(v, ensure_ascii=False) for v in values if v)
                else:
                    hit = model._default_manager.filter(**{f"{field}__contains": needle}).exists()
                if hit:
                    found.setdefault((model._meta.label, field), []).append(label)
    return found


@pytest.fixture(autouse=True)
def _private_import_dir(settings, tmp_path):
    settings.GALLERIA_IMPORT_DIR = str(tmp_path / "imports")


def test_erasure_leaves_no_personal_data_in_any_table(world, client):
    # 1. the member arrives in an import from the old CRM (ImportRow keeps a report of each row)
    full(
        world,
        csv_bytes(
            [
                ["手机号", "姓名", "卡号", "车牌", "邮箱", "积分"],
                [PHONE, NEEDLES["name"], NEEDLES["card"], NEEDLES["plate"], NEEDLES["email"], "300"],
            ]
        ),
    )
    member = Member.objects.get(phone="+86" + PHONE)
    # 2. signs in to the app by SMS (the outbox keeps the message)
    client.post("/app/login/", {"phone": PHONE, "action": "send"})
    # 3. staff correct the name (the audit diff holds the old and new names)
    member_profile_update(member_id=member.pk, actor=STAFF, values={"name": NEEDLES["new name"]})
    # 4. customer service opens the 360 view unmasked (access log)
    service = Client()
    assert service.login(username=world.users["service"].username, password=PASSWORD)
    assert service.get(f"/console/members/{member.pk}/?pii=1").status_code == 200
    # 5. shops, tops up the wallet and spends it all (the wallet must be empty to be erased)
    sale_commit(data=sale_in(world, member_id=member.pk, amounts=(20000,)), actor=STAFF)
    top_up(world, member, 10000)
    from galleria.wallet.selectors import wallet_balance

    pay(world, member, wallet_balance(member_id=member.pk).principal_fen)
    # 6. a duplicate record is merged into this member (the merge record keeps the survivor's display copies)
    duplicate = member_register(mall=world.mall, phone="13700001111", channel="desk", actor=STAFF)
    dedupe_services.member_merge(
        mall_group_id=world.group.pk, survivor_id=member.pk, absorbed_id=duplicate.pk, actor=STAFF
    )
    # 7. a WeChat notice and a web push that name the member (their outboxes keep the values and texts)
    WechatMessage.objects.create(
        member_id=member.pk,
        channel="template",
        recipient="oSweepOpenid",
        template="marketing_notice",
        params={"title": NEEDLES["new name"]},
        data={"thing1": NEEDLES["new name"]},
        status="sent",
    )
    PushMessage.objects.create(member_id=member.pk, title=NEEDLES["new name"], status="sent")
    before = _sweep()
    # each copy this test means to cover is really there before the erasure (the sweep can see it)
    assert {
        ("members.Member", "phone"),
        ("members.MemberIdentifier", "value"),
        ("imports.ImportRow", "key"),
        ("imports.ImportJob", "sample"),
        ("messaging.SmsMessage", "phone"),
        ("audit.AuditEvent", "changes"),
        ("dedupe.MergeRecord", "moved"),
        ("messaging.WechatMessage", "params"),
        ("messaging.PushMessage", "title"),
    } <= set(before), before

    req = privacy_services.erasure_request(member_id=member.pk, mall_group_id=world.group.pk, actor=STAFF, via="app")
    privacy_services.erasure_run_due(now=req.due_at + dt.timedelta(seconds=1))

    member.refresh_from_db()
    assert member.status == MemberStatus.ERASED
    left = {k: v for k, v in _sweep().items() if k not in ALLOWED}
    assert left == {}, f"personal data left after the erasure: {left}"
    assert ledger_check().ok
    # the records themselves stay (financial and audit history), only the personal values are gone
    assert ImportRow.objects.filter(member_id=member.pk).exists()
    assert AuditEvent.objects.filter(target_type="member", target_id=str(member.pk)).exists()
