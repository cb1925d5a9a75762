"""Helpers shared by the wallet's use cases."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from galleria.core.errors import ValidationError
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind
from galleria.members.models import Member
from galleria.members.selectors import members_active

from .. import exceptions
from ..selectors import WALLET_KINDS

KEY_MAX = 64


def wallet_accounts_check(
    accounts: Mapping[str, Account], *, mall_group_id: int, member_id: int
) -> tuple[Account, Account]:
    """The locked (principal, bonus) accounts from a kind → Account mapping, checked to be this member's."""
    try:
        principal = accounts[AccountKind.MEMBER_WALLET]
        bonus = accounts[AccountKind.MEMBER_WALLET_BONUS]
    except KeyError as exc:
        raise RuntimeError("lock both wallet accounts (selectors.WALLET_KINDS) before moving wallet money") from exc
    for acc in (principal, bonus):
        if acc.member_id != member_id or acc.mall_group_id != mall_group_id:
            raise RuntimeError("wallet accounts of another member were passed")
    return principal, bonus


def wallet_lock(*, mall_group_id: int, member_id: int) -> dict[str, Account]:
    return ledger.lock_member_accounts(mall_group_id=mall_group_id, member_id=member_id, kinds=WALLET_KINDS)


def active_member(*, member_id: int, mall_group_id: int | None = None) -> Member:
    member = members_active(mall_group_id=mall_group_id).filter(pk=member_id).first()
    if member is None:
        raise exceptions.WalletMemberInvalidError()
    return member


def request_key_check(key: str) -> str:
    key = key.strip()
    if len(key) > KEY_MAX:
        raise ValidationError(
            _("The request key is too long."), code="wallet.key_invalid", fields={"idempotency_key": _("Too long.")}
        )
    return key
