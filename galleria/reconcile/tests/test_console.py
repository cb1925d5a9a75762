"""The console's reconciliation and profit-sharing pages, against the sandbox gateway: what finance sees and does
(counts, findings with filters, fix-ups, the CSV, orders with their caps and reasons) and who may do it."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from galleria.payments import services as payment_services
from galleria.reconcile import services
from galleria.reconcile.models import Finding, FindingState, ReconcileRun, ShareOrder
from galleria.reconcile.types import Outcome, ShareState
from galleria.testing import PASSWORD

from .conftest import ACTOR, store_payment
from .test_profit_share import RECEIVER, finish

pytestmark = pytest.mark.django_db


def login(client, world, role):
    assert client.login(username=world.users[role].username, password=PASSWORD)


def day_url(day, provider="wechat"):
    return reverse("console:reconcile_day", args=[provider, day.isoformat()])


@pytest.fixture
def reconciled(pay, gateway, day):
    """A day with one matched payment, one waiting here (paid at the gateway) and one the mall does not know."""
    store_payment(pay, gateway, total=12_000)
    store_payment(pay, gateway, total=8_000, sync=False)
    gateway.control.bill_extra(provider="wechat", amount_fen=999, bill_date=day.isoformat())
    services.reconcile_day(mall_group_id=pay.group.pk, provider="wechat", bill_date=day, actor=ACTOR)
    return day


def test_the_day_page_shows_totals_counts_and_the_findings(client, pay, reconciled):
    login(client, pay, "finance")
    page = client.get(day_url(reconciled))
    assert page.status_code == 200
    html = page.content.decode()
    assert "¥209.99" in html and 'data-testid="kpi-fees"' in html  # 120 + 80 + the unknown 9.99 on the bill
    rows = page.context["page_obj"].object_list
    assert sorted(x.outcome for x in rows) == [Outcome.EXTRA, Outcome.STATE_MISMATCH]
    assert page.context["matched"] == 1
    assert 'data-testid="finding-fix"' not in html  # finance reads; fix-ups are the managers'
    only_extra = client.get(day_url(reconciled), {"outcome": Outcome.EXTRA})
    assert [x.outcome for x in only_extra.context["page_obj"].object_list] == [Outcome.EXTRA]
    assert client.get(reverse("console:reconcile")).context["page_obj"].object_list[0].open_findings == 2


def test_findings_export_as_csv(client, pay, reconciled):
    login(client, pay, "readonly")
    response = client.get(day_url(reconciled), {"export": "csv", "state": ""})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Bill date", "Provider", "Kind", "Outcome"]
    assert sorted(r[3] for r in rows[1:]) == ["Not known here", "Paid at the gateway, not here"]
    assert any(r[8] == "9.99" for r in rows[1:])


def test_a_manager_fixes_and_resolves_from_the_page(client, pay, reconciled):
    login(client, pay, "group_admin")
    waiting = Finding.objects.get(outcome=Outcome.STATE_MISMATCH)
    extra = Finding.objects.get(outcome=Outcome.EXTRA)
    back = day_url(reconciled) + "?state=open"
    response = client.post(reverse("console:reconcile_finding", args=[waiting.pk]), {"action": "fix", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    assert Finding.objects.get(pk=waiting.pk).state == FindingState.FIXED
    empty = client.post(reverse("console:reconcile_finding", args=[extra.pk]), {"action": "resolve", "note": ""})
    assert empty.status_code == 302 and Finding.objects.get(pk=extra.pk).state == FindingState.OPEN
    client.post(reverse("console:reconcile_finding", args=[extra.pk]), {"action": "resolve", "note": "Bank test"})
    resolved = Finding.objects.get(pk=extra.pk)
    assert resolved.state == FindingState.RESOLVED and resolved.resolved_by == pay.users["group_admin"].username
    page = client.get(day_url(reconciled), {"state": ""})
    assert "Bank test" in page.content.decode()


def test_finance_cannot_fix_and_another_group_cannot_see(client, pay, reconciled):
    finding = Finding.objects.get(outcome=Outcome.EXTRA)
    login(client, pay, "finance")
    url = reverse("console:reconcile_finding", args=[finding.pk])
    assert client.post(url, {"action": "resolve", "note": "x"}).status_code == 403
    client.logout()
    login(client, pay, "foreign_admin")
    assert client.post(url, {"action": "resolve", "note": "x"}).status_code == 404
    assert Finding.objects.get(pk=finding.pk).state == FindingState.OPEN


def test_reconcile_now_from_the_console(client, pay, gateway, day):
    store_payment(pay, gateway, total=4_400)
    login(client, pay, "group_admin")
    response = client.post(reverse("console:reconcile_run"), {"date": day.isoformat(), "provider": "wechat"})
    assert response.status_code == 302 and response["Location"] == day_url(day)
    run = ReconcileRun.objects.get(mall_group=pay.group, bill_date=day)
    assert run.counts[Outcome.MATCHED] == 1 and run.last_run_by == pay.users["group_admin"].username
    future = client.post(reverse("console:reconcile_run"), {"date": "2999-01-01", "provider": "wechat"})
    assert future.status_code == 422 and "past date" in future.content.decode()


def test_the_profit_sharing_page_explains_the_cap(client, pay, gateway, sharing):
    payment_services.merchant_profile_save(
        mall_group_id=pay.group.pk, merchant_id=pay.merchant.pk, values=RECEIVER, actor=ACTOR
    )
    order_id = services.profit_share_for_attempt(attempt_id=store_payment(pay, gateway, total=30_000))
    assert finish(order_id) == ShareState.FINISHED
    login(client, pay, "readonly")
    page = client.get(reverse("console:profit_shares"))
    html = page.content.decode()
    assert "¥90.00" in html and "¥186.00" in html and "The gateway&#x27;s profit-sharing limit" in html
    exported = client.get(reverse("console:profit_shares"), {"export": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[1][10:13] == ["90.00", "186.00", "The gateway's profit-sharing limit"]
    # a manager's action on a finished order is refused with a message, nothing changes
    client.logout()
    login(client, pay, "group_admin")
    response = client.post(reverse("console:profit_share", args=[order_id]), {"action": "retry"})
    assert response.status_code == 302
    assert ShareOrder.objects.get(pk=order_id).state == ShareState.FINISHED
    assert client.post(reverse("console:profit_share", args=[order_id]), {"action": "bogus"}).status_code == 400
