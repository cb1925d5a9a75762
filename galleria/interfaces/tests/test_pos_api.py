import json
import time

import pytest

from galleria.audit.types import Actor
from galleria.ledger.selectors import ledger_check
from galleria.members import selectors as member_selectors
from galleria.members import services as member_services
from galleria.merchants.models import PosTerminal
from galleria.merchants.services import pos_key_create, pos_key_revoke
from galleria.sales.models import Sale
from galleria.testing_pos import PosSigner, PosTestClient

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()


@pytest.fixture
def pos(client, world):
    terminal = PosTerminal.objects.create(store=world.store, name="收银台1")
    key, secret = pos_key_create(actor=ACTOR, terminal_id=terminal.pk)
    return PosTestClient(client, PosSigner(key.key_id, secret))


@pytest.fixture
def member(world):
    return member_services.member_register(
        mall=world.mall, phone="13812345678", channel="desk", actor=ACTOR, profile={"name": "王小明"}
    )


def basket(pos_sale_id="R1", amount=12800, member=None, **extra):
    body = {
        "pos_sale_id": pos_sale_id,
        "lines": [
            {"sku": "T1", "name": "多肉葡萄", "quantity": 2, "unit_price_fen": amount // 2, "amount_fen": amount}
        ],
        "payments": [{"method": "wechat", "amount_fen": amount}],
    }
    if member:
        body["member"] = member
    body.update(extra)
    return body


def problem(resp, status, code):
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"] == "application/problem+json"
    assert resp.json()["code"] == code
    return resp.json()


class TestSigning:
    def test_valid_signature_is_accepted(self, pos, member):
        resp = pos.get("/api/v1/pos/members/lookup?code=13812345678")
        assert resp.status_code == 200, resp.content
        assert resp.json()["phone"] == "138****5678" and resp.json()["name"] == "王*明"

    def test_tampered_body_wrong_secret_skew_and_replay_are_rejected(self, client, pos, member):
        body = json.dumps(basket()).encode()
        headers = pos.signer.headers("POST", "/api/v1/pos/sales", body)
        tampered = body.replace(b"12800", b"12801")
        problem(
            client.generic("POST", "/api/v1/pos/sales", tampered, content_type="application/json", headers=headers),
            401,
            "auth.signature_invalid",
        )
        bad = PosTestClient(client, PosSigner(pos.signer.key_id, "not-the-secret"))
        problem(bad.get("/api/v1/pos/members/lookup?code=13812345678"), 401, "auth.signature_invalid")
        problem(
            pos.get("/api/v1/pos/members/lookup?code=13812345678", timestamp=int(time.time()) - 301),
            401,
            "auth.timestamp_skew",
        )
        ok = pos.get("/api/v1/pos/members/lookup?code=13812345678", nonce="nonce-123456")
        assert ok.status_code == 200
        problem(pos.get("/api/v1/pos/members/lookup?code=13812345678", nonce="nonce-123456"), 401, "auth.nonce_reused")
        problem(client.get("/api/v1/pos/members/lookup?code=13812345678"), 401, "auth.required")

    def test_the_query_string_is_signed(self, client, pos, member):
        headers = pos.signer.headers("GET", "/api/v1/pos/members/lookup?code=13812345678", b"")
        problem(
            client.get("/api/v1/pos/members/lookup?code=13900000000", headers=headers), 401, "auth.signature_invalid"
        )

    def test_revoked_key_is_refused(self, pos, member):
        from galleria.merchants.models import PosKey

        pos_key_revoke(actor=ACTOR, key_pk=PosKey.objects.get(key_id=pos.signer.key_id).pk)
        problem(pos.get("/api/v1/pos/members/lookup?code=13812345678"), 401, "auth.key_unknown")

    # A signed write whose key this process already loaded checks the key inside its gate statement (PostgreSQL):
    # a revocation, a switched-off terminal or a configuration change must still count from the very next sale.

    def test_a_sale_with_a_warm_key_cache_is_refused_once_the_key_is_revoked(self, pos, member):
        from galleria.core.models import IdempotencyRecord
        from galleria.merchants.models import PosKey, PosNonce

        assert pos.post("/api/v1/pos/sales", basket("W1")).status_code == 201  # loads the key into the cache
        key = PosKey.objects.get(key_id=pos.signer.key_id)
        pos_key_revoke(actor=ACTOR, key_pk=key.pk)
        before = (Sale.objects.count(), PosNonce.objects.count(), IdempotencyRecord.objects.count())
        problem(pos.post("/api/v1/pos/sales", basket("W2")), 401, "auth.key_unknown")
        problem(pos.post("/api/v1/pos/sales", basket("W3", amount=-1)), 401, "auth.key_unknown")  # invalid body too
        assert (Sale.objects.count(), PosNonce.objects.count(), IdempotencyRecord.objects.count()) == before

    def test_a_sale_with_a_warm_key_cache_is_refused_once_the_terminal_is_switched_off(self, pos, member):
        assert pos.post("/api/v1/pos/sales", basket("T1")).status_code == 201
        PosTerminal.objects.update(is_active=False)
        problem(pos.post("/api/v1/pos/sales", basket("T2")), 401, "auth.key_unknown")
        assert not Sale.objects.filter(pos_sale_id="T2").exists()

    def test_a_sale_with_a_warm_key_cache_runs_on_the_current_configuration(self, world, pos, member):
        from galleria.points.services import points_policy_save

        first = pos.post("/api/v1/pos/sales", basket("C1", member=member.card_no))
        assert first.status_code == 201, first.content
        earned = first.json()["points_earned"]
        assert earned == 128  # 1 point per ¥1
        points_policy_save(mall_group_id=world.group.pk, values={"earn_points": 3, "earn_unit_fen": 100}, actor=ACTOR)
        second = pos.post("/api/v1/pos/sales", basket("C2", member=member.card_no))
        assert second.status_code == 201, second.content
        assert second.json()["points_earned"] == 3 * 128

    # A signed write claims its nonce with the idempotency record, in the sale's own transaction. Every path must
    # still spend it: a captured request can never be sent again, whatever happened to the first one.

    def test_a_replayed_signed_sale_is_refused_not_replayed(self, pos, member):
        first = pos.post("/api/v1/pos/sales", basket("N1"), nonce="sale-nonce-0001", idempotency_key="k-n1")
        assert first.status_code == 201, first.content
        again = pos.post("/api/v1/pos/sales", basket("N1"), nonce="sale-nonce-0001", idempotency_key="k-n1")
        problem(again, 401, "auth.nonce_reused")
        retry = pos.post("/api/v1/pos/sales", basket("N1"), idempotency_key="k-n1")  # a fresh nonce: the retry
        assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
        assert retry.json() == first.json() and Sale.objects.filter(pos_sale_id="N1").count() == 1

    def test_a_failed_sale_still_spends_its_nonce(self, pos, member):
        bad = basket("N2", payments=[{"method": "wechat", "amount_fen": 1}])  # payments do not cover the total
        failed = pos.post("/api/v1/pos/sales", bad, nonce="sale-nonce-0002", idempotency_key="k-n2")
        assert failed.status_code == 422, failed.content
        # sent again unchanged (same nonce, same key): refused as a replay, not run a second time
        problem(
            pos.post("/api/v1/pos/sales", bad, nonce="sale-nonce-0002", idempotency_key="k-n2"),
            401,
            "auth.nonce_reused",
        )

    def test_a_write_that_fails_before_its_use_case_still_spends_its_nonce(self, pos, member):
        # the body fails schema validation, so the view never reaches run_idempotent: the middleware claims it
        invalid = {"pos_sale_id": "N3", "lines": "not a list"}
        assert pos.post("/api/v1/pos/sales", invalid, nonce="sale-nonce-0003").status_code == 422
        problem(pos.post("/api/v1/pos/sales", invalid, nonce="sale-nonce-0003"), 401, "auth.nonce_reused")
        # the quote (a POST that writes nothing) is claimed after the view the same way
        assert pos.post("/api/v1/pos/quote", basket("Q3"), nonce="quote-nonce-0003").status_code == 200
        problem(pos.post("/api/v1/pos/quote", basket("Q3"), nonce="quote-nonce-0003"), 401, "auth.nonce_reused")

    def test_a_used_nonce_refuses_a_different_write(self, pos, member):
        assert pos.get("/api/v1/pos/members/lookup?code=13812345678", nonce="shared-nonce-04").status_code == 200
        problem(pos.post("/api/v1/pos/sales", basket("N4"), nonce="shared-nonce-04"), 401, "auth.nonce_reused")
        assert not Sale.objects.filter(pos_sale_id="N4").exists()


class TestSales:
    def test_quote_then_commit_with_dynamic_code(self, pos, member, world):
        code = member_selectors.member_code_current(member=member).code
        q = pos.post("/api/v1/pos/quote", basket(member=code))
        assert q.status_code == 200, q.content
        assert q.json()["points_to_earn"] == 128 and q.json()["explanation"]["base_fen"] == 12800
        resp = pos.post("/api/v1/pos/sales", basket(member=code))
        assert resp.status_code == 201, resp.content
        body = resp.json()
        assert (
            body["points_earned"] == 128 and body["points_balance"] == 128 and body["member_card_no"] == member.card_no
        )

    def test_same_key_same_body_replays_and_other_body_conflicts(self, pos, member):
        first = pos.post("/api/v1/pos/sales", basket(member="13812345678"), idempotency_key="k-1")
        again = pos.post("/api/v1/pos/sales", basket(member="13812345678"), idempotency_key="k-1")
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
        assert Sale.objects.count() == 1
        problem(
            pos.post("/api/v1/pos/sales", basket("R2", member="13812345678"), idempotency_key="k-1"),
            409,
            "idempotency.key_reused",
        )

    def test_post_without_idempotency_key_is_refused(self, client, pos):
        body = json.dumps(basket()).encode()
        headers = pos.signer.headers("POST", "/api/v1/pos/sales", body)
        del headers["Idempotency-Key"]
        problem(
            client.generic("POST", "/api/v1/pos/sales", body, content_type="application/json", headers=headers),
            422,
            "idempotency.key_required",
        )

    def test_pay_join_and_refund_and_history(self, pos, world):
        resp = pos.post("/api/v1/pos/sales", basket(join_phone="13700000000"))
        assert resp.status_code == 201 and resp.json()["member_joined"] is True
        refund = pos.post(
            "/api/v1/pos/sales/R1/refunds", {"pos_refund_id": "F1", "lines": [{"line_no": 1, "quantity": 1}]}
        )
        assert refund.status_code == 201, refund.content
        assert refund.json()["money_fen"] == 6400 and refund.json()["points_clawed_back"] == 64
        history = pos.get("/api/v1/pos/sales?member=13700000000")
        assert history.status_code == 200 and history.json()[0]["status"] == "partially_refunded"
        assert ledger_check().ok

    @pytest.mark.parametrize(
        ("payload", "status", "code"),
        [
            (basket(amount=100, payments=[{"method": "cash", "amount_fen": 99}]), 422, "sale.payments_mismatch"),
            (basket(member="13900000000"), 404, "members.not_found"),
            (basket(member="661234567890123456"), 422, "members.code_stale"),
            (basket(points_to_use=100), 422, "points.member_required"),
            ({"pos_sale_id": "X", "lines": []}, 422, "request.invalid"),
            (basket(amount=-5), 422, "request.invalid"),
            (basket(amount=10**15), 422, "request.invalid"),
        ],
    )
    def test_bad_input_is_a_clear_problem_and_writes_nothing(self, pos, member, payload, status, code):
        problem(pos.post("/api/v1/pos/sales", payload), status, code)
        assert Sale.objects.count() == 0

    def test_malformed_json_is_a_400(self, pos):
        problem(pos.post("/api/v1/pos/sales", None, raw=b"{oops"), 400, "request.malformed")

    def test_offline_upload_reports_each_sale(self, pos, member):
        pos.post("/api/v1/pos/sales", basket("OFF-1", member=member.card_no))
        batch = {
            "sales": [
                basket("OFF-1", member=member.card_no),
                basket("OFF-2", member=member.card_no),
                basket("OFF-3", amount=100, payments=[{"method": "cash", "amount_fen": 1}]),
            ]
        }
        resp = pos.post("/api/v1/pos/sales/offline", batch)
        assert resp.status_code == 200, resp.content
        body = resp.json()
        assert (body["created"], body["duplicates"], body["errors"]) == (1, 1, 1)
        assert [r["status"] for r in body["results"]] == ["duplicate", "created", "error"]
        assert body["results"][2]["error"]["code"] == "sale.payments_mismatch"
        assert Sale.objects.filter(is_offline=True).count() == 1


class TestCachedTerminalContext:
    def test_a_mall_time_zone_change_reaches_the_cached_terminal(self, pos, member, world):
        """The terminal's rows are kept per process; a configuration change (malls included) reloads them."""
        from galleria.merchants.selectors import pos_key_active

        assert pos.get("/api/v1/pos/members/lookup?code=13812345678").status_code == 200
        world.mall.timezone = "Asia/Urumqi"
        world.mall.save()
        key = pos_key_active(key_id=pos.signer.key_id)
        assert key.terminal.store.merchant.mall.timezone == "Asia/Urumqi"

    def test_terminating_the_merchant_stops_its_keys_at_once(self, pos, member, world):
        assert pos.get("/api/v1/pos/members/lookup?code=13812345678").status_code == 200
        world.merchant.status = "terminated"
        world.merchant.save()
        problem(pos.get("/api/v1/pos/members/lookup?code=13812345678"), 401, "auth.key_unknown")
