from __future__ import annotations

import itertools

from django.db.models import Sum

from galleria.audit.types import Actor
from galleria.ledger.models import Account, AccountKind
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_register
from galleria.wallet import selectors, services
from galleria.wallet.tests.fakes import FakeGateway

_phones = itertools.count(10000000)


def new_member(world, phone=None):
    phone = phone or f"139{next(_phones):08d}"
    return member_register(mall=world.mall, phone=phone, channel="desk", actor=Actor.system())


def top_up(world, member, amount_fen, **kwargs):
    """Start a top-up, pay it at the sandbox and confirm it; returns (intent, result)."""
    kwargs.setdefault("gateway", FakeGateway())
    intent = services.wallet_topup_start(mall_id=world.mall.pk, member_id=member.pk, amount_fen=amount_fen, **kwargs)
    notice = FakeGateway().pay(intent.gateway_ref)
    result = services.wallet_topup_confirm(gateway_ref=notice.gateway_ref, paid_amount_fen=notice.amount_fen)
    return intent, result


def pay(world, member, amount_fen, *, source="", merchant=None):
    merchant = merchant or world.merchant
    return services.wallet_pay(member_id=member.pk, amount_fen=amount_fen, merchant_id=merchant.pk, source=source)


def assert_books(group_id):
    """The ledger is clean and the prepaid liability equals the sum of all member wallet balances."""
    report = ledger_check()
    assert report.ok, report
    liability = selectors.prepaid_liability(mall_group_id=group_id)
    balances = {
        row["kind"]: int(row["total"] or 0)
        for row in Account.objects.filter(
            mall_group_id=group_id,
            member__isnull=False,
            kind__in=[AccountKind.MEMBER_WALLET, AccountKind.MEMBER_WALLET_BONUS],
        )
        .values("kind")
        .annotate(total=Sum("balance"))
        .order_by()
    }
    assert liability.principal_fen == balances.get(AccountKind.MEMBER_WALLET, 0)
    assert liability.bonus_fen == balances.get(AccountKind.MEMBER_WALLET_BONUS, 0)
    assert liability.is_consistent, liability
    return liability
