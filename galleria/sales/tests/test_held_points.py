"""Held points are not spendable at a till either (docs/design/online-mall.md §5.3): the sale and the quote price
points with balance − held, for every channel."""

from __future__ import annotations

import pytest
from django.db import transaction

from galleria.core.errors import ValidationError
from galleria.ledger import services as ledger
from galleria.ledger.models import Account, AccountKind
from galleria.ledger.selectors import ledger_check
from galleria.points.selectors import points_available, points_balance
from galleria.sales import services
from galleria.sales.selectors import sale_quote

from .helpers import ACTOR, member, sale_in


@pytest.mark.django_db
def test_a_till_cannot_spend_points_a_checkout_holds(world):
    m = member(world)
    services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(100000,)), actor=ACTOR)  # earns 1,000
    account = Account.objects.get(member_id=m.pk, kind=AccountKind.MEMBER_POINTS)
    with transaction.atomic():
        ledger.hold_place_in_tx(account_id=account.pk, key="chk:OC1", amount=800)
    assert (points_balance(member_id=m.pk), points_available(member_id=m.pk)) == (1000, 200)
    quote = sale_quote(merchant_id=world.merchant.pk, member_id=m.pk, lines=sale_in(world).lines, payments=[])
    assert quote.points_balance == 200
    assert quote.max_points_usable == 200
    with pytest.raises(ValidationError) as err:
        services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(1000,), points=300), actor=ACTOR)
    assert err.value.code == "points.insufficient"
    services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(1000,), points=200), actor=ACTOR)
    with transaction.atomic():
        assert ledger.hold_release_in_tx(key="chk:OC1") == 800
    assert points_available(member_id=m.pk) == points_balance(member_id=m.pk) == 1000 - 200 + 8
    assert ledger_check().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_holds_racing_till_sales_never_oversell_the_balance(world):
    """Checkouts holding points and tills spending them, at once: each takes what is available under the account's
    row lock, so together they never use more than the member has."""
    from galleria.core.errors import ApplicationError
    from galleria.ledger.exceptions import InsufficientBalanceError
    from galleria.testing import run_parallel

    m = member(world)
    services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(100000,), pos_id="FUND"), actor=ACTOR)
    account = Account.objects.get(member_id=m.pk, kind=AccountKind.MEMBER_POINTS)

    def use(i):
        try:
            if i % 2:
                with transaction.atomic(durable=True):
                    ledger.hold_place_in_tx(account_id=account.pk, key=f"chk:RACE{i}", amount=300)
                return "held"
            data = sale_in(world, member_id=m.pk, amounts=(600,), points=300, pos_id=f"RACE{i}")  # earns 3
            services.sale_commit(data=data, actor=ACTOR)
            return "spent"
        except InsufficientBalanceError:
            return "refused"
        except ApplicationError as exc:
            assert exc.code in ("points.insufficient", "points.over_max_share")
            return "refused"

    outcomes = run_parallel(16, use)
    account.refresh_from_db()
    used = 300 * (outcomes.count("held") + outcomes.count("spent"))
    assert used <= 1000 + 3 * outcomes.count("spent") and account.held == 300 * outcomes.count("held")
    assert outcomes.count("refused") >= 16 - 4
    assert account.balance - account.held >= 0
    assert ledger_check().ok
