from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from django.db import transaction

from galleria.audit.types import Actor
from galleria.members.services import member_register
from galleria.tiers.services import tier_record_spend_in_tx

SHANGHAI = ZoneInfo("Asia/Shanghai")
_sources = itertools.count(1)
_phones = itertools.count(0)


def new_member(world, phone=None):
    """A member with no tier row yet — as members written in bulk (imports, the demo seed) are. Registration
    gives new members the entry tier through the `member.joined` event; these tests start before that."""
    from galleria.tiers.models import MemberTier, TierChange

    phone = phone or f"1381234{next(_phones):04d}"
    member = member_register(mall=world.mall, phone=phone, channel="desk", actor=Actor.system())
    TierChange.objects.filter(member=member).delete()
    MemberTier.objects.filter(member=member).delete()
    return member


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """An aware mall-local (Asia/Shanghai) datetime."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def spend(member, amount_fen, *, at=None, source=None, points=0):
    with transaction.atomic():
        return tier_record_spend_in_tx(
            member_id=member.pk,
            mall_group_id=member.mall_group_id,
            amount_fen=amount_fen,
            points=points,
            occurred_at=at or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
            source=source or f"test:{next(_sources)}",
        )
