"""The settlement screens through Django's test client: finance's list (tabs, filters, search, totals), a statement
with its figures and their legs, the exports (XLSX with the summary and the detail sheet, CSV), the merchant's
confirmation and dispute, finance's approval and payment — and who may do what."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from galleria.accounts.models import Role
from galleria.ledger.models import Transaction
from galleria.sales.types import PaymentIn
from galleria.settlement.models import Statement
from galleria.testing import PASSWORD, make_user

from .helpers import generate, local, new_member, refund, sell

pytestmark = pytest.mark.django_db


def yuan(cell) -> Decimal:
    """A money cell as written (a number of yuan with two decimals; openpyxl reads it back as a float)."""
    return Decimal(str(cell)).quantize(Decimal("0.01"))


def staff(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def month(world):
    """November 2026: 喜茶 (8 %) with pay-at-store money, a wallet payment and points; 优衣库 with one sale."""
    m = new_member(world, topup_fen=20000)
    at = local(2026, 11, 12)
    sell(world, at=at, member=m, amounts=(100000,))
    paid, _r = sell(world, at=at, member=m, amounts=(20000, 10000), channel="pay_at_store")
    sell(world, at=at, member=m, amounts=(8000,), payments=[PaymentIn("wallet", 8000)])
    sell(world, at=at, member=m, amounts=(4000,), points=1000)
    refund(paid, at=local(2026, 11, 13), key="R1", lines=[(2, 1)])  # ¥100 of the ¥300 back
    sell(world, at=at, member=m, merchant=world.other_merchant, amounts=(5000,), channel="pay_at_store")
    generate(world, "2026-11")
    return Statement.objects.get(merchant=world.merchant), Statement.objects.get(merchant=world.other_merchant)


def test_finance_lists_statements_with_tabs_filters_and_totals(world, month):
    _heytea, uniqlo = month
    client = staff(world.users["finance"])
    page = client.get("/console/settlement/?period=2026-11")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('data-testid="statement-row"') == 2
    assert 'data-testid="tab-draft"' in html and 'data-testid="generate-form"' in html
    assert client.get("/console/settlement/?q=优衣库").content.decode().count('data-testid="statement-row"') == 1
    assert (
        f'data-id="{uniqlo.pk}"'
        in client.get(f"/console/settlement/?merchant={world.other_merchant.pk}").content.decode()
    )
    assert client.get("/console/settlement/?status=paid").content.decode().count('data-testid="statement-row"') == 0
    viewer = staff(world.users["readonly"]).get("/console/settlement/").content.decode()
    assert 'data-testid="statement-row"' in viewer and 'data-testid="generate-form"' not in viewer  # read only


def test_a_statement_shows_each_figure_and_the_legs_behind_it(world, month):
    heytea, _uniqlo = month
    client = staff(world.users["finance"])
    html = client.get(f"/console/settlement/{heytea.pk}/").content.decode()
    assert heytea.commission_bp == 800
    assert 'data-testid="commission-rate">8.00%<' in html and " bp<" not in html  # a percentage, not jargon
    assert "statement-preview" not in html  # November is over
    assert 'data-testid="amount-wallet">¥80.00' in html
    assert 'data-testid="amount-points_value">¥10.00' in html
    page = client.get(f"/console/settlement/{heytea.pk}/?figure=wallet").content.decode()
    assert page.count('data-testid="leg-row"') == 1 and "¥80.00" in page
    sales = client.get(f"/console/settlement/{heytea.pk}/?figure=sales").content.decode()
    assert sales.count('data-testid="leg-row"') == 4


def test_the_xlsx_export_has_one_row_per_merchant_and_every_leg(world, month):
    heytea, uniqlo = month
    response = staff(world.users["finance"]).get("/console/settlement/export/?period=2026-11&format=xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    summary, detail = wb.worksheets
    header = [c.value for c in summary[3]]
    rows = [[c.value for c in row] for row in summary.iter_rows(min_row=4)]
    by_merchant = {row[2] or row[0]: dict(zip(header, row, strict=True)) for row in rows}  # the total: "Total" first
    assert set(by_merchant) == {"喜茶", "优衣库", "Total"}
    assert yuan(by_merchant["喜茶"]["Net: the mall pays (¥)"]) == Decimal(heytea.net_fen) / 100
    assert yuan(by_merchant["Total"]["Net: the mall pays (¥)"]) == Decimal(heytea.net_fen + uniqlo.net_fen) / 100
    legs = [[c.value for c in row] for row in detail.iter_rows(min_row=2)]
    wallet = [row for row in legs if row[2] == "喜茶" and row[3] == "Wallet payments"]
    assert sum(yuan(row[8]) for row in wallet) == Decimal(heytea.wallet_fen) / 100


def test_the_csv_exports(world, month):
    heytea, _uniqlo = month
    client = staff(world.users["readonly"])
    text = client.get("/console/settlement/export/?period=2026-11&format=csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Period" and len(rows) == 4  # header, two merchants, total
    detail = client.get(f"/console/settlement/{heytea.pk}/export/?format=csv&sheet=detail").content.decode("utf-8-sig")
    assert "Points redeemed as payment" in detail


def test_the_merchant_confirms_then_finance_approves_and_pays(world, month):
    heytea, _uniqlo = month
    owner = staff(world.users["merchant_owner"])
    page = owner.get(f"/merchant/settlement/{heytea.pk}/").content.decode()
    assert 'data-testid="confirm-form"' in page
    assert owner.post(f"/merchant/settlement/{heytea.pk}/confirm/", {"version": "1"}).status_code == 302
    heytea.refresh_from_db()
    assert heytea.status == "confirmed"
    finance = staff(world.users["finance"])
    finance.post(f"/console/settlement/{heytea.pk}/approve/", {"note": ""})
    finance.post(f"/console/settlement/{heytea.pk}/pay/", {"reference": "CMB-88"})
    heytea.refresh_from_db()
    assert (heytea.status, heytea.payment_reference) == ("paid", "CMB-88")
    assert set(Transaction.objects.filter(source=f"settlement:{heytea.pk}").values_list("kind", flat=True)) == {
        "commission",
        "payout",
    }
    html = owner.get(f"/merchant/settlement/{heytea.pk}/").content.decode()
    assert 'data-testid="payment-reference">CMB-88' in html and 'data-testid="confirm-form"' not in html


def test_a_dispute_needs_a_comment_and_shows_to_finance(world, month):
    heytea, _uniqlo = month
    owner = staff(world.users["merchant_manager"])  # managers may too
    response = owner.post(f"/merchant/settlement/{heytea.pk}/dispute/", {"comment": " ", "version": "1"}, follow=True)
    assert "Say what is wrong" in response.content.decode()
    owner.post(f"/merchant/settlement/{heytea.pk}/dispute/", {"comment": "12 日少一笔储值", "version": "1"})
    heytea.refresh_from_db()
    assert heytea.status == "disputed"
    html = staff(world.users["finance"]).get(f"/console/settlement/{heytea.pk}/").content.decode()
    assert "12 日少一笔储值" in html and 'data-testid="approve-form"' in html


def test_a_stale_confirmation_is_refused(world, month):
    heytea, _uniqlo = month
    owner = staff(world.users["merchant_owner"])
    response = owner.post(f"/merchant/settlement/{heytea.pk}/confirm/", {"version": "7"}, follow=True)
    assert "regenerated since you opened it" in response.content.decode()
    heytea.refresh_from_db()
    assert heytea.status == "draft"


def test_a_merchant_sees_only_its_own_statements(world, month):
    heytea, uniqlo = month
    owner = staff(world.users["other_owner"])
    listing = owner.get("/merchant/settlement/").content.decode()
    assert f'data-id="{uniqlo.pk}"' in listing and f'data-id="{heytea.pk}"' not in listing
    assert owner.get(f"/merchant/settlement/{heytea.pk}/").status_code == 404
    assert owner.get(f"/merchant/settlement/{heytea.pk}/export/").status_code == 404
    assert owner.post(f"/merchant/settlement/{heytea.pk}/confirm/", {"version": "1"}).status_code == 404
    assert staff(world.users["merchant_clerk"]).get("/merchant/settlement/").status_code == 403
    heytea.refresh_from_db()
    assert heytea.status == "draft"


def test_roles_without_settlement_manage_cannot_take_finance_steps(world, month):
    heytea, _uniqlo = month
    owner = staff(world.users["merchant_owner"])
    owner.post(f"/merchant/settlement/{heytea.pk}/confirm/", {"version": "1"})
    viewer = staff(world.users["readonly"])
    assert viewer.post(f"/console/settlement/{heytea.pk}/approve/", {"note": ""}).status_code == 403
    marketing = staff(world.users["marketing"])
    assert marketing.get("/console/settlement/").status_code == 403
    assert staff(world.users["foreign_admin"]).get(f"/console/settlement/{heytea.pk}/").status_code == 404
    heytea.refresh_from_db()
    assert heytea.status == "confirmed"
    other = make_user("fin2", Role.FINANCE, group=world.group)
    staff(other).post(f"/console/settlement/{heytea.pk}/approve/", {"note": ""})
    heytea.refresh_from_db()
    assert (heytea.status, heytea.approved_by) == ("approved", "fin2")


def test_finance_generates_a_month_from_the_console(world):
    m = new_member(world)
    sell(world, at=local(2026, 10, 5), member=m, amounts=(12000,), channel="pay_at_store")
    client = staff(world.users["finance"])
    response = client.post("/console/settlement/generate/", {"period": "2026-10"})
    assert response.status_code == 302 and "period=2026-10" in response["Location"]
    s = Statement.objects.get(merchant=world.merchant)
    assert (s.collected_fen, s.generated_by) == (12000, "finance")
    refused = client.post("/console/settlement/generate/", {"period": "2099-01"}, follow=True)
    assert "has not started yet" in refused.content.decode()


def test_the_merchant_reads_the_commission_rate_as_a_percentage(world, month):
    heytea, _uniqlo = month
    html = staff(world.users["merchant_owner"]).get(f"/merchant/settlement/{heytea.pk}/").content.decode()
    assert 'data-testid="commission-rate">8.00%<' in html and " bp<" not in html


@pytest.fixture
def running_month(world):
    """20 November 2026, 15:00 in Shanghai: finance generated November's statement of 喜茶 before the month ended."""
    with time_machine.travel(local(2026, 11, 20, 15), tick=False):
        m = new_member(world)
        sell(world, at=local(2026, 11, 18), member=m, amounts=(10000,), channel="pay_at_store")
        generate(world, "2026-11")
    return Statement.objects.get(merchant=world.merchant)


@pytest.fixture
def mid_november():
    with time_machine.travel(local(2026, 11, 20, 16), tick=False):
        yield


def test_a_statement_of_a_month_not_over_is_shown_as_a_preview_to_finance(world, running_month, mid_november):
    s = running_month
    client = staff(world.users["finance"])
    listing = client.get("/console/settlement/?period=2026-11").content.decode()
    assert listing.count('data-testid="statement-preview"') == 1
    html = client.get(f"/console/settlement/{s.pk}/").content.decode()
    assert 'data-testid="statement-preview"' in html and 'data-testid="statement-preview-notice"' in html
    assert "2026-12-01 00:00" in html  # when it can be decided
    assert 'data-testid="preview-explained"' in html
    assert 'data-testid="regenerate-form"' in html  # refreshing it is what finance can do
    Statement.objects.filter(pk=s.pk).update(status="confirmed")
    html = client.get(f"/console/settlement/{s.pk}/").content.decode()
    assert 'data-testid="approve-form"' not in html and 'data-testid="preview-explained"' in html
    response = client.post(f"/console/settlement/{s.pk}/approve/", {"note": ""}, follow=True)
    assert "not over yet" in response.content.decode()
    s.refresh_from_db()
    assert s.status == "confirmed"


def test_finance_is_told_a_running_month_gives_previews(world, running_month, mid_november):
    client = staff(world.users["finance"])
    response = client.post("/console/settlement/generate/", {"period": "2026-11"}, follow=True)
    assert "is not over yet: its statements are previews" in response.content.decode()


def test_the_merchant_cannot_confirm_a_preview_and_is_told_when_it_can(world, running_month, mid_november):
    s = running_month
    owner = staff(world.users["merchant_owner"])
    listing = owner.get("/merchant/settlement/").content.decode()
    assert 'data-testid="drafts-preview"' in listing and 'data-testid="drafts-to-confirm"' not in listing
    assert 'data-testid="statement-preview"' in listing and "Check and confirm" not in listing
    html = owner.get(f"/merchant/settlement/{s.pk}/").content.decode()
    assert 'data-testid="statement-preview-notice"' in html and 'data-testid="preview-explained"' in html
    assert 'data-testid="confirm-form"' not in html and 'data-testid="dispute-form"' not in html
    for step, data in (("confirm", {"version": "1"}), ("dispute", {"version": "1", "comment": "少了一笔"})):
        response = owner.post(f"/merchant/settlement/{s.pk}/{step}/", data, follow=True)
        assert "not over yet" in response.content.decode()
    s.refresh_from_db()
    assert s.status == "draft"


def test_once_the_month_is_over_the_merchant_confirms_it(world, running_month):
    s = running_month
    owner = staff(world.users["merchant_owner"])
    listing = owner.get("/merchant/settlement/").content.decode()
    assert 'data-testid="drafts-to-confirm"' in listing and 'data-testid="drafts-preview"' not in listing
    assert "Check and confirm" in listing
    html = owner.get(f"/merchant/settlement/{s.pk}/").content.decode()
    assert "statement-preview" not in html and 'data-testid="confirm-form"' in html
    assert owner.post(f"/merchant/settlement/{s.pk}/confirm/", {"version": "1"}).status_code == 302
    s.refresh_from_db()
    assert s.status == "confirmed"


def test_the_portal_says_when_statements_come(world):
    owner = staff(world.users["merchant_owner"])
    html = owner.get("/merchant/settlement/").content.decode()
    assert "once the month has ended" in html
    assert "No statements with this status." in owner.get("/merchant/settlement/?status=paid").content.decode()


def test_the_xlsx_detail_sheet_holds_every_leg_cell_by_cell(world, month):
    """Read back with openpyxl: the header (bold, frozen), every leg with the values the CSV of the legs has, money
    as numbers formatted "#,##0.00"."""
    _heytea, _uniqlo = month
    client = staff(world.users["finance"])
    wb = load_workbook(io.BytesIO(client.get("/console/settlement/export/?period=2026-11").content))
    detail = wb.worksheets[1]
    assert detail.freeze_panes == "A2" and detail.column_dimensions["H"].width == 30
    assert [c.value for c in detail[1]][:3] == ["Period", "No.", "Merchant"] and detail["A1"].font.b
    text = client.get("/console/settlement/export/?period=2026-11&format=csv&sheet=detail").content
    expected = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))[1:]
    rows = list(detail.iter_rows(min_row=2))
    assert len(rows) == len(expected) >= 5  # collected (sale, refund) at both, wallet, points value
    for row, want in zip(rows, expected, strict=True):
        values = [c.value for c in row]
        assert [str(v) if v is not None else "" for v in values[:8]] == want[:8]
        assert yuan(values[8]) == Decimal(want[8]) and row[8].number_format == "#,##0.00"
        assert row[8].data_type == "n" and row[1].data_type == "n"
