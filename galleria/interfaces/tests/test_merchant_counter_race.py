"""The counter's submit under real concurrency (PostgreSQL): the same quoted sale submitted at once from many
taps or tabs makes one sale, and every submit lands on that sale's page. Refunds likewise: one refund."""

from __future__ import annotations

import pytest
from django.test import Client

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.ledger.selectors import ledger_check
from galleria.members.services import member_register
from galleria.points.selectors import points_balance
from galleria.sales.models import Refund, Sale
from galleria.testing import run_parallel

from .test_merchant_counter import hidden, login, quoted, sell

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _member(world):
    return member_register(mall=world.mall, phone="13812345678", channel="desk", actor=Actor.system())


def test_twenty_concurrent_submits_of_one_quote_make_one_sale(world):
    member = _member(world)
    first = Client()
    login(first)
    data, _page = quoted(first, world, member)
    clients = []
    for _ in range(20):
        c = Client()
        c.cookies = first.cookies  # the same signed-in clerk, as a double tap or a second tab would be
        clients.append(c)

    results = run_parallel(20, lambda i: sell(clients[i], data))
    assert {r.status_code for r in results} == {302}
    assert len({r["Location"] for r in results}) == 1
    sale = Sale.objects.get()
    assert results[0]["Location"] == f"/merchant/counter/sales/{sale.pk}/"
    assert points_balance(member_id=member.pk) == 128
    assert AuditEvent.objects.filter(action="sale.counter_record").count() == 1
    assert ledger_check().ok


def test_concurrent_refund_submits_refund_once(world):
    member = _member(world)
    clerk = Client()
    login(clerk)
    data, _page = quoted(clerk, world, member)
    sale_url = sell(clerk, data)["Location"]
    owner = Client()
    login(owner, "heytea-owner")
    token = hidden(owner.get(sale_url).content.decode(), "token")
    clients = []
    for _ in range(10):
        c = Client()
        c.cookies = owner.cookies
        clients.append(c)

    results = run_parallel(10, lambda i: clients[i].post(sale_url + "refund/", {"what": "all", "token": token}))
    assert {r.status_code for r in results} == {302}
    assert Refund.objects.count() == 1
    assert Sale.objects.get().status == "refunded"
    assert points_balance(member_id=member.pk) == 0
    assert ledger_check().ok
