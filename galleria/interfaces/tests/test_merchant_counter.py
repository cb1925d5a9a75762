"""The merchant counter (收银台 lite): identify → quote → record a sale (channel counter), refunds, permissions,
bad input shown inline (never a 500), and a double submit that makes one sale."""

from __future__ import annotations

import re

import pytest

from galleria.audit.models import AuditEvent
from galleria.audit.types import Actor
from galleria.coupons.tests.helpers import claim, template
from galleria.interfaces.merchant import counter_flow
from galleria.members.selectors import member_code_current
from galleria.members.services import member_register
from galleria.points.selectors import points_balance
from galleria.sales.models import Refund, Sale
from galleria.sales.services import sale_refund
from galleria.testing import PASSWORD

PHONE = "13812345678"


@pytest.fixture
def member(world):
    return member_register(
        mall=world.mall, phone=PHONE, channel="desk", actor=Actor.system(), profile={"name": "张小明"}
    )


def login(client, username: str = "heytea-clerk") -> None:
    assert client.login(username=username, password=PASSWORD)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)


def identify(client, code: str):
    return client.post("/merchant/counter/", {"action": "identify", "q": code})


def basket_data(world, ticket: str, **extra):
    data = {"ticket": ticket, "store": str(world.store.pk), "method": "wechat", "price_1": "128.00", "quantity_1": "1"}
    data.update({k: str(v) for k, v in extra.items()})
    return data


def quoted(client, world, member, **extra):
    """Identify the member and quote a basket: (the form data as the quote leaves it, the quote page's HTML)."""
    html = identify(client, member.card_no).content.decode()
    data = basket_data(world, hidden(html, "ticket"), **extra)
    resp = client.post("/merchant/counter/", {**data, "action": "quote"})
    assert resp.status_code == 200, resp.content.decode()[:2000]
    page = resp.content.decode()
    data.update(token=hidden(page, "token"), expect_paid=hidden(page, "expect_paid"), coupons_chosen="1")
    data["coupon"] = re.findall(r'name="coupon" value="(\d+)" checked', page)
    return data, page


def sell(client, data):
    return client.post("/merchant/counter/", {**data, "action": "sell"})


@pytest.mark.django_db
class TestSale:
    def test_scan_quote_record_earns_points_and_is_audited(self, client, world, member):
        login(client)
        resp = identify(client, member_code_current(member=member).code)
        html = resp.content.decode()
        assert resp.status_code == 200
        assert "138****5678" in html and PHONE not in html and "张小明" not in html
        assert 'data-testid="counter-balance">0<' in html
        assert AuditEvent.objects.filter(action="member.lookup", target_id=str(member.pk)).count() == 1

        data = basket_data(world, hidden(html, "ticket"))
        page = client.post("/merchant/counter/", {**data, "action": "quote"}).content.decode()
        assert "¥128.00" in page
        assert re.search(r'data-testid="quote-earn">\+128<', page)
        assert Sale.objects.count() == 0  # a quote writes nothing

        data.update(token=hidden(page, "token"), expect_paid=hidden(page, "expect_paid"), coupons_chosen="1")
        resp = sell(client, data)
        sale = Sale.objects.get()
        assert resp.status_code == 302 and resp["Location"] == f"/merchant/counter/sales/{sale.pk}/"
        assert sale.channel == "counter" and sale.terminal_id is None and sale.member_id == member.pk
        assert sale.pos_sale_id == f"counter:{data['token']}"
        assert (sale.total_fen, sale.paid_fen, sale.points_earned) == (12800, 12800, 128)
        assert list(sale.payments.values_list("method", "amount_fen")) == [("wechat", 12800)]
        assert points_balance(member_id=member.pk) == 128
        event = AuditEvent.objects.get(action="sale.counter_record")
        assert event.target_id == str(sale.pk) and event.actor_label == "heytea-clerk"

        detail = client.get(resp["Location"]).content.decode()
        assert "+128" in detail and "138****5678" in detail and PHONE not in detail

    def test_items_with_a_category_follow_the_earn_rules(self, client, world, member):
        """Gift cards earn nothing under the test world's policy? The quote says what the sale then does."""
        login(client)
        data, page = quoted(
            client,
            world,
            member,
            price_1="100.00",
            name_2="礼品卡",
            category_2="gift_card",
            quantity_2="2",
            price_2="50.00",
        )
        assert "¥200.00" in page
        earn = int(re.search(r'data-testid="quote-earn">\+(\d+)<', page).group(1))
        sell(client, data)
        sale = Sale.objects.get()
        assert sale.points_earned == earn
        lines = list(sale.lines.order_by("line_no").values_list("name", "category", "quantity", "amount_fen"))
        assert lines == [("Counter sale", "", 1, 10000), ("礼品卡", "gift_card", 2, 10000)]

    def test_points_and_the_best_coupon_lower_what_the_member_pays(self, client, world, member):
        tmpl = template(world, name="满200减30")
        claim(member, tmpl)
        login(client)
        first, _page = quoted(client, world, member, price_1="500.00")
        sell(client, first)  # 500 → 470 paid with the coupon applied as the best combination → 470 points
        assert Sale.objects.get().discount_fen == 3000
        assert points_balance(member_id=member.pk) == 470

        coupon2 = claim(member, tmpl)
        data, page = quoted(client, world, member, price_1="300.00", points_to_use="200")
        assert f'name="coupon" value="{coupon2.coupon_id}" checked' in page
        # 300 − 30 (coupon) − 2.00 (200 points) = 268.00 to pay
        assert 'data-testid="quote-paid">¥268.00<' in page
        sell(client, data)
        sale = Sale.objects.order_by("-id").first()
        assert (sale.discount_fen, sale.points_used, sale.paid_fen) == (3000, 200, 26800)

    def test_unticking_the_coupon_quotes_without_it(self, client, world, member):
        tmpl = template(world, name="满200减30")
        claim(member, tmpl)
        login(client)
        data, page = quoted(client, world, member, price_1="300.00")
        assert 'data-testid="quote-paid">¥270.00<' in page
        data["coupon"] = []
        page = client.post("/merchant/counter/", {**data, "action": "quote"}).content.decode()
        assert 'data-testid="quote-paid">¥300.00<' in page


@pytest.mark.django_db
class TestIdempotentSubmit:
    def test_a_double_tap_makes_one_sale_and_shows_it(self, client, world, member):
        login(client)
        data, _page = quoted(client, world, member)
        first = sell(client, data)
        second = sell(client, data)
        assert Sale.objects.count() == 1
        assert first["Location"] == second["Location"]
        assert "This sale was already recorded." in client.get(second["Location"]).content.decode()
        assert points_balance(member_id=member.pk) == 128
        assert AuditEvent.objects.filter(action="sale.counter_record").count() == 1

    def test_the_same_token_with_another_basket_still_shows_the_first_sale(self, client, world, member):
        login(client)
        data, _page = quoted(client, world, member)
        first = sell(client, data)
        changed = sell(client, {**data, "price_1": "999.00", "expect_paid": "99900"})
        assert Sale.objects.count() == 1 and first["Location"] == changed["Location"]

    def test_a_basket_changed_after_the_quote_is_not_sold(self, client, world, member):
        login(client)
        data, _page = quoted(client, world, member)
        resp = sell(client, {**data, "price_1": "150.00"})  # typed after the quote, not quoted again
        html = resp.content.decode()
        assert resp.status_code == 422 and Sale.objects.count() == 0
        assert "The price changed since the quote" in html
        assert 'data-testid="quote-paid">¥150.00<' in html  # the new quote, ready to record
        assert hidden(html, "token") != data["token"]


@pytest.mark.django_db
class TestBadInput:
    @pytest.mark.parametrize(
        ("price", "message"),
        [
            ("", "Enter the amount the member paid."),
            ("abc", "Enter an amount in yuan with at most two decimals"),
            ("12.345", "Enter an amount in yuan with at most two decimals"),
            ("-5", "Enter an amount greater than zero."),
            ("0", "Enter an amount greater than zero."),
            ("99999999999", "This amount is too large."),
        ],
    )
    def test_bad_amounts_are_shown_next_to_the_field(self, client, world, member, price, message):
        login(client)
        html = identify(client, member.card_no).content.decode()
        data = basket_data(world, hidden(html, "ticket"), price_1=price)
        resp = client.post("/merchant/counter/", {**data, "action": "quote"})
        assert resp.status_code == 422
        assert message in resp.content.decode()
        assert Sale.objects.count() == 0

    def test_more_points_than_the_balance_is_an_inline_error(self, client, world, member):
        login(client)
        html = identify(client, member.card_no).content.decode()
        data = basket_data(world, hidden(html, "ticket"), points_to_use="500")
        resp = client.post("/merchant/counter/", {**data, "action": "quote"})
        assert resp.status_code == 422
        assert 'data-testid="counter-error"' in resp.content.decode()

    def test_unknown_and_stale_codes(self, client, world, member):
        login(client)
        resp = identify(client, "13900000000")
        assert resp.status_code == 422 and 'data-testid="counter-lookup-error"' in resp.content.decode()
        resp = identify(client, "661234567890123456")
        assert resp.status_code == 422 and "refresh" in resp.content.decode()
        resp = identify(client, "")
        assert resp.status_code == 422

    def test_a_forged_or_foreign_ticket_asks_to_identify_again(self, client, world, member):
        login(client)
        data = basket_data(world, "forged:ticket")
        resp = client.post("/merchant/counter/", {**data, "action": "quote"})
        assert resp.status_code == 422 and "Identify the member again" in resp.content.decode()
        foreign = counter_flow.member_ticket(merchant_id=world.other_merchant.pk, member_id=member.pk)
        resp = client.post("/merchant/counter/", {**basket_data(world, foreign), "action": "quote"})
        assert resp.status_code == 422 and "Identify the member again" in resp.content.decode()

    def test_sell_without_a_quote_or_with_a_bad_token(self, client, world, member):
        login(client)
        html = identify(client, member.card_no).content.decode()
        data = basket_data(world, hidden(html, "ticket"))
        for extra in ({}, {"token": "../../etc", "expect_paid": "12800"}, {"token": "a" * 32, "expect_paid": "-1"}):
            resp = sell(client, {**data, **extra})
            assert resp.status_code == 422
            assert "Quote the basket first" in resp.content.decode()
        assert Sale.objects.count() == 0

    def test_a_store_of_another_merchant_is_refused(self, client, world, member):
        from galleria.merchants.models import Store

        foreign = Store.objects.exclude(merchant=world.merchant).first()
        login(client)
        html = identify(client, member.card_no).content.decode()
        data = basket_data(world, hidden(html, "ticket"), store=foreign.pk)
        resp = client.post("/merchant/counter/", {**data, "action": "quote"})
        assert resp.status_code == 422 and Sale.objects.count() == 0


@pytest.mark.django_db
class TestRefunds:
    def _sale(self, client, world, member, **extra):
        login(client)
        data, _page = quoted(client, world, member, **extra)
        sell(client, data)
        client.logout()
        return Sale.objects.order_by("-id").first()

    def _refund_token(self, client, sale) -> str:
        return hidden(client.get(f"/merchant/counter/sales/{sale.pk}/").content.decode(), "token")

    def test_a_clerk_cannot_refund_a_manager_can_refund_the_whole_sale(self, client, world, member):
        sale = self._sale(client, world, member)
        login(client, "heytea-clerk")
        html = client.get(f"/merchant/counter/sales/{sale.pk}/").content.decode()
        assert "A manager or the owner can refund this sale." in html
        resp = client.post(f"/merchant/counter/sales/{sale.pk}/refund/", {"what": "all", "token": "b" * 32})
        assert resp.status_code == 403
        client.logout()

        login(client, "heytea-manager")
        token = self._refund_token(client, sale)
        resp = client.post(f"/merchant/counter/sales/{sale.pk}/refund/", {"what": "all", "token": token})
        assert resp.status_code == 302
        sale.refresh_from_db()
        assert sale.status == "refunded" and sale.refunded_fen == 12800
        assert points_balance(member_id=member.pk) == 0
        assert AuditEvent.objects.filter(action="sale.counter_refund", target_id=str(sale.pk)).count() == 1
        again = client.post(f"/merchant/counter/sales/{sale.pk}/refund/", {"what": "all", "token": token})
        assert again.status_code == 302 and Refund.objects.count() == 1
        assert "This refund was already recorded." in client.get(again["Location"]).content.decode()

    def test_a_partial_refund_by_units(self, client, world, member):
        sale = self._sale(client, world, member, price_1="10.00", quantity_1="3", name_2="B", price_2="20.00")
        login(client, "heytea-owner")
        token = self._refund_token(client, sale)
        resp = client.post(
            f"/merchant/counter/sales/{sale.pk}/refund/", {"what": "lines", "token": token, "qty_1": "2", "qty_2": "0"}
        )
        assert resp.status_code == 302
        sale.refresh_from_db()
        assert sale.status == "partially_refunded" and sale.refunded_fen == 2000
        assert points_balance(member_id=member.pk) == 50 - 20

    def test_bad_refund_input_is_inline(self, client, world, member):
        sale = self._sale(client, world, member)
        login(client, "heytea-owner")
        token = self._refund_token(client, sale)
        url = f"/merchant/counter/sales/{sale.pk}/refund/"
        resp = client.post(url, {"what": "lines", "token": token, "qty_1": "0"})
        assert resp.status_code == 422 and "Enter how many units" in resp.content.decode()
        resp = client.post(url, {"what": "lines", "token": token, "qty_1": "5"})
        assert resp.status_code == 422
        resp = client.post(url, {"what": "lines", "token": "nope", "qty_1": "1"})
        assert resp.status_code == 422
        assert Refund.objects.count() == 0

    def test_a_pos_sale_is_not_refunded_at_the_counter(self, client, world, member):
        from galleria.sales.services import sale_commit
        from galleria.sales.tests.helpers import sale_in

        result = sale_commit(data=sale_in(world, member_id=member.pk), actor=Actor.system())
        login(client, "heytea-owner")
        url = f"/merchant/counter/sales/{result.sale_id}/"
        assert "refund it there" in client.get(url).content.decode()
        resp = client.post(url + "refund/", {"what": "all", "token": "c" * 32})
        assert resp.status_code == 422 and Refund.objects.count() == 0


@pytest.mark.django_db
class TestScopeAndScreens:
    def test_another_merchant_sees_neither_the_sale_nor_its_refund(self, client, world, member):
        login(client)
        data, _page = quoted(client, world, member)
        sale_url = sell(client, data)["Location"]
        client.logout()
        login(client, "uniqlo-owner")
        assert client.get(sale_url).status_code == 404
        assert client.post(sale_url + "refund/", {"what": "all", "token": "d" * 32}).status_code == 404
        assert "counter:" not in client.get("/merchant/counter/sales/").content.decode()

    def test_mall_staff_get_403(self, client, world):
        login(client, "admin")
        assert client.get("/merchant/counter/").status_code == 403

    def test_the_sales_list_shows_counter_sales_only(self, client, world, member):
        from galleria.sales.services import sale_commit
        from galleria.sales.tests.helpers import sale_in

        sale_commit(data=sale_in(world, member_id=member.pk, pos_id="POS-1"), actor=Actor.system())
        login(client)
        data, _page = quoted(client, world, member)
        sell(client, data)
        html = client.get("/merchant/counter/sales/").content.decode()
        assert "counter:" in html and "POS-1" not in html and "138****5678" in html

    def test_lookup_offers_a_sale_and_a_coupon_redemption(self, client, world, member):
        claim(member, template(world, name="满200减30"))
        login(client)
        html = client.post("/merchant/lookup/", {"q": member.card_no}).content.decode()
        assert "满200减30" in html and 'data-testid="lookup-points">0<' in html
        link = re.search(r'href="(/merchant/counter/\?m=[^"]+)" data-testid="lookup-sell"', html).group(1)
        assert 'data-testid="lookup-redeem"' in html
        counter = client.get(link.replace("&amp;", "&")).content.decode()
        assert 'data-testid="counter-member"' in counter and "138****5678" in counter

    def test_home_shows_todays_figures(self, client, world, member):
        login(client)
        data, _page = quoted(client, world, member)
        sell(client, data)
        html = client.get("/merchant/").content.decode()
        assert 'data-testid="today-member-sales">1<' in html
        assert 'data-testid="today-points">128<' in html
        assert 'data-testid="today-receipts">0<' in html
        assert 'data-testid="today-coupons">0<' in html

    def test_home_counts_the_coupons_redeemed_here_today_until_refunded(self, client, world, member):
        claim(member, template(world, name="满200减30"))
        login(client)
        data, _page = quoted(client, world, member, price_1="500.00")
        sell(client, data)
        assert 'data-testid="today-coupons">1<' in client.get("/merchant/").content.decode()
        sale = Sale.objects.get()
        assert sale.discount_fen == 3000
        sale_refund(merchant_id=sale.merchant_id, pos_sale_id=sale.pos_sale_id, pos_refund_id="r-1", lines=None)
        assert 'data-testid="today-coupons">0<' in client.get("/merchant/").content.decode()


@pytest.mark.django_db
def test_the_demo_counter_sales_go_through_the_pipeline(world, member):
    from galleria.demo.counter import SALES_PER_SHOP, seed_counter_sales
    from galleria.ledger.selectors import ledger_check

    result = seed_counter_sales(mall_group_id=world.group.pk, seed=7)
    assert (result.sales, result.refunds) == (2 * SALES_PER_SHOP, 2)  # 喜茶 and 优衣库 (the test world has no 迪卡侬)
    sales = Sale.objects.filter(channel="counter")
    assert sales.count() == 2 * SALES_PER_SHOP and not sales.exclude(pos_sale_id__startswith="counter:").exists()
    assert sales.filter(status="refunded").count() == 1 and sales.filter(status="partially_refunded").count() == 1
    assert points_balance(member_id=member.pk) == sum(s.points_earned - s.points_used for s in sales) - sum(
        r.points_clawed_back - r.points_returned for r in Refund.objects.all()
    )
    assert ledger_check().ok
