"""Every sale records the channel it came through (the adapter of the checkout pipeline); reports split by it."""

import datetime as dt
from dataclasses import replace

import pytest
from django.utils import timezone

from galleria.core.errors import ValidationError
from galleria.sales import services
from galleria.sales.models import Sale
from galleria.sales.selectors import sales_by_channel
from galleria.sales.types import Channel

from .helpers import ACTOR, member, sale_in

pytestmark = pytest.mark.django_db


def test_a_sale_records_its_channel_and_reports_split_by_channel(world):
    m = member(world)
    pos = services.sale_commit(data=sale_in(world, member_id=m.pk, amounts=(10000,)), actor=ACTOR)
    online = services.sale_commit(
        data=replace(sale_in(world, member_id=m.pk, amounts=(3000, 2000)), channel=Channel.ONLINE), actor=ACTOR
    )
    services.sale_commit(data=replace(sale_in(world, amounts=(500,)), channel=Channel.ONLINE), actor=ACTOR)
    assert Sale.objects.get(pk=pos.sale_id).channel == "pos"
    assert Sale.objects.get(pk=online.sale_id).get_channel_display() == "Online order"
    services.sale_refund(
        merchant_id=world.merchant.pk,
        pos_sale_id=Sale.objects.get(pk=online.sale_id).pos_sale_id,
        pos_refund_id="R1",
        lines=None,
    )
    now = timezone.now()
    totals = sales_by_channel(mall_group_id=world.group.pk, since=now - dt.timedelta(hours=1), until=now)
    assert [(t.channel, t.sales, t.total_fen, t.paid_fen, t.refunded_fen) for t in totals] == [
        ("pos", 1, 10000, 10000, 0),
        ("online", 2, 5500, 5500, 5000),
    ]
    assert sales_by_channel(mall_group_id=world.other_group.pk, since=now - dt.timedelta(hours=1), until=now) == []
    assert sales_by_channel(mall_group_id=world.group.pk, since=now, until=now + dt.timedelta(hours=1)) == []


def test_an_unknown_channel_is_refused_before_anything_is_written(world):
    with pytest.raises(ValidationError) as exc:
        services.sale_commit(data=replace(sale_in(world, amounts=(500,)), channel="fax"), actor=ACTOR)
    assert exc.value.code == "sale.channel_unknown"
    assert not Sale.objects.exists()
