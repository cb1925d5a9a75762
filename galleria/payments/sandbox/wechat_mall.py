"""WeChat Pay 智慧商圈 (business-circle points) and 分账 (profit sharing), as the sandbox serves them.

商圈: payments at participating shops (other merchant numbers) are created with `/sandbox/control/mall-payment` and
notified to the mall (MALL_TRANSACTION.SUCCESS); the mall reports points with `points/notify`, which marks the
transaction synced — only synced transactions get MALL_REFUND.SUCCESS when refunded, like the real gateway.

分账: an order shares a paid `profit_sharing` trade among added receivers, up to `--share-max-bp` of the amount
(default 30 %); refusals say why in Chinese and English. Receiver names arrive RSA-OAEP encrypted with the platform
public key and are decrypted here. An order is PROCESSING when accepted and FINISHED a moment later.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from . import signing
from .keys import rand_digits
from .server import Request, Response, route
from .state import Record, parse_rfc3339, rfc3339_cn
from .wechat_api import error, guarded, signed

if TYPE_CHECKING:
    from .server import Sandbox

SHARE_SETTLE_S = 1.0


# --- 商圈 ----------------------------------------------------------------------------------------------------------


def points_notify(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    earn = body.get("earn_points")
    if not isinstance(earn, bool):
        return error(400, "PARAM_ERROR", "earn_points 须为布尔值 / earn_points must be a boolean")
    points = body.get("increased_points")
    if not isinstance(points, int) or points < 0 or (earn and points == 0):
        return error(400, "PARAM_ERROR", "increased_points 须为非负整数，积分时须大于0 / increased_points")
    if not earn and not body.get("no_points_remarks"):
        return error(400, "PARAM_ERROR", "不积分时须填 no_points_remarks / no_points_remarks required")
    try:
        parse_rfc3339(str(body.get("points_update_time", "")))
    except ValueError:
        return error(400, "PARAM_ERROR", "points_update_time 须为 RFC3339")
    if body.get("appid") != sandbox.keys.wx["appid"]:
        return error(400, "PARAM_ERROR", "appid 不正确 / wrong appid")
    with sandbox.store.lock:
        txn = sandbox.store.mall_txns.get(str(body.get("transaction_id", "")))
        if txn is None:
            return error(404, "RESOURCE_NOT_EXISTS", "交易不存在 / no such 商圈 transaction")
        if txn["openid"] != body.get("openid"):
            return error(400, "PARAM_ERROR", "openid 与交易不符 / openid does not match the transaction")
        txn["synced"] = True
        txn["points"] = {k: body.get(k) for k in ("earn_points", "increased_points", "points_update_time")}
    sandbox.store.save()
    return signed(sandbox, 204)


def user_authorization(sandbox: Sandbox, request: Request) -> Response:
    if request.query.get("appid") != sandbox.keys.wx["appid"]:
        return error(400, "PARAM_ERROR", "appid 不正确 / wrong appid")
    openid = request.params["openid"]
    with sandbox.store.lock:
        auth = sandbox.store.mall_auth.get(openid)
    answer: dict[str, Any] = {"openid": openid, "authorize_state": "UNAUTHORIZED"}
    if auth:
        answer.update(authorize_state="AUTHORIZED", authorize_time=auth["authorize_time"])
    return signed(sandbox, 200, answer)


def commit_status(sandbox: Sandbox, request: Request) -> Response:
    brandid = request.query.get("brandid", "")
    if not brandid.isdigit():
        return error(400, "PARAM_ERROR", "brandid 必填")
    return signed(
        sandbox, 200, {"openid": request.params["openid"], "brandid": int(brandid), "point_status": "PENDING"}
    )


def parkings(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    return signed(sandbox, 200, {"plate_number": body["plate_number"], "total_parking_time": 0})


# --- 分账 ----------------------------------------------------------------------------------------------------------


def _receiver_key(kind: str, account: str) -> str:
    return f"{kind}:{account}"


def add_receiver(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    kind, account = str(body.get("type", "")), str(body.get("account", ""))
    if kind not in ("MERCHANT_ID", "PERSONAL_OPENID") or not account:
        return error(400, "PARAM_ERROR", "type 须为 MERCHANT_ID/PERSONAL_OPENID，account 必填")
    if not body.get("relation_type"):
        return error(400, "PARAM_ERROR", "relation_type 必填")
    name = ""
    if body.get("name"):
        try:
            name = signing.oaep_decrypt(sandbox.keys.platform_private, body["name"])
        except ValueError:
            return error(400, "PARAM_ERROR", "name 解密失败（须用平台公钥 RSA-OAEP 加密）/ name does not decrypt")
    if kind == "MERCHANT_ID" and not name:
        return error(400, "PARAM_ERROR", "商户接收方须填 name（商户全称）/ name required for MERCHANT_ID")
    with sandbox.store.lock:
        sandbox.store.ps_receivers[_receiver_key(kind, account)] = {
            "type": kind,
            "account": account,
            "name": name,
            "relation_type": body["relation_type"],
        }
    sandbox.store.save()
    return signed(sandbox, 200, {"type": kind, "account": account, "relation_type": body["relation_type"]})


def _trade_by_txn(sandbox: Sandbox, transaction_id: str) -> Record | None:
    for trade in sandbox.store.wx_trades.values():
        if trade["transaction_id"] == transaction_id and trade["state"] in ("SUCCESS", "REFUND"):
            return trade
    return None


def _order_answer(sandbox: Sandbox, order: Record) -> dict[str, Any]:
    done = sandbox.store.now().timestamp() >= order["settle_at"]
    receivers = [
        {
            "amount": r["amount"],
            "description": r["description"],
            "type": r["type"],
            "account": r["account"],
            "result": "SUCCESS" if done else "PENDING",
            "fail_reason": "",
            "detail_id": r["detail_id"],
            "create_time": order["create_time"],
            "finish_time": order["finish_time"] if done else "",
        }
        for r in order["receivers"]
    ]
    return {
        "transaction_id": order["transaction_id"],
        "out_order_no": order["out_order_no"],
        "order_id": order["order_id"],
        "state": "FINISHED" if done else "PROCESSING",
        "receivers": receivers,
    }


def _unsplit(sandbox: Sandbox, trade: Record) -> int:
    if trade["unfrozen"]:
        return 0
    return max(0, trade["paid_fen"] - trade["refunded_fen"] - trade["shared_fen"])


def profitsharing_order(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    out_order_no = str(body.get("out_order_no", ""))
    raw_receivers = body.get("receivers")
    if not out_order_no or not isinstance(raw_receivers, list) or not raw_receivers:
        return error(400, "PARAM_ERROR", "out_order_no 与 receivers 必填")
    if not isinstance(body.get("unfreeze_unsplit"), bool):
        return error(400, "PARAM_ERROR", "unfreeze_unsplit 须为布尔值")
    receivers = []
    for raw in raw_receivers:
        amount = raw.get("amount")
        if not isinstance(amount, int) or amount <= 0 or not raw.get("description"):
            return error(400, "PARAM_ERROR", "receivers[].amount 须为正整数、description 必填")
        name = ""
        if raw.get("name"):
            try:
                name = signing.oaep_decrypt(sandbox.keys.platform_private, raw["name"])
            except ValueError:
                return error(400, "PARAM_ERROR", "name 解密失败 / receiver name does not decrypt")
        receivers.append({**{k: raw.get(k) for k in ("type", "account", "amount", "description")}, "name": name})
    store = sandbox.store
    with store.lock:
        existing = store.ps_orders.get(out_order_no)
        if existing is not None:
            if existing["request"] != {"transaction_id": body.get("transaction_id"), "receivers": receivers}:
                return error(400, "INVALID_REQUEST", "商户分账单号重复 / out_order_no reused with another body")
            return signed(sandbox, 200, _order_answer(sandbox, existing))
        trade = _trade_by_txn(sandbox, str(body.get("transaction_id", "")))
        if trade is None:
            return error(404, "RESOURCE_NOT_EXISTS", "订单不存在或未支付 / no such paid transaction")
        if not trade["req"].get("settle_info", {}).get("profit_sharing"):
            return error(
                400, "INVALID_REQUEST", "该订单下单时未指定分账 / the order was not placed with profit_sharing"
            )
        for r in receivers:
            known = store.ps_receivers.get(_receiver_key(r["type"], r["account"]))
            if known is None:
                return error(400, "RECEIVER_INVALID", f"分账接收方 {r['account']} 未添加 / receiver not added")
            if r["name"] and r["name"] != known["name"]:
                return error(400, "RECEIVER_INVALID", f"分账接收方 {r['account']} 全称不匹配 / receiver name mismatch")
        wanted = sum(r["amount"] for r in receivers)
        limit = trade["paid_fen"] * sandbox.share_max_bp // 10000
        if trade["shared_fen"] + wanted > limit:
            return error(
                400,
                "INVALID_REQUEST",
                f"分账金额超出最大分账比例 {sandbox.share_max_bp / 100:g}%：订单 {trade['paid_fen']} 分，"
                f"最多可分 {limit} 分，已分 {trade['shared_fen']} 分，本次 {wanted} 分 / "
                f"above the maximum share ratio {sandbox.share_max_bp / 100:g}%: at most {limit} fen of "
                f"{trade['paid_fen']}, {trade['shared_fen']} already shared, {wanted} asked",
            )
        if wanted > _unsplit(sandbox, trade):
            return error(400, "NOT_ENOUGH", "剩余待分金额不足 / not enough left to share")
        now = store.now()
        settle = now + dt.timedelta(seconds=SHARE_SETTLE_S * sandbox.time_scale)
        order = {
            "out_order_no": out_order_no,
            "order_id": "3008" + rand_digits(24),
            "transaction_id": trade["transaction_id"],
            "request": {"transaction_id": body.get("transaction_id"), "receivers": receivers},
            "receivers": [{**r, "detail_id": "3601" + rand_digits(24)} for r in receivers],
            "create_time": rfc3339_cn(now),
            "finish_time": rfc3339_cn(settle),
            "settle_at": settle.timestamp(),
        }
        store.ps_orders[out_order_no] = order
        trade["shared_fen"] += wanted
        if body["unfreeze_unsplit"]:
            trade["unfrozen"] = True
        answer = _order_answer(sandbox, order)
    store.save()
    return signed(sandbox, 200, answer)


def profitsharing_query(sandbox: Sandbox, request: Request) -> Response:
    with sandbox.store.lock:
        order = sandbox.store.ps_orders.get(request.params["no"])
        if order is None or order["transaction_id"] != request.query.get("transaction_id"):
            return error(404, "RESOURCE_NOT_EXISTS", "分账单不存在 / no such profit-sharing order")
        answer = _order_answer(sandbox, order)
    return signed(sandbox, 200, answer)


def profitsharing_unfreeze(sandbox: Sandbox, request: Request) -> Response:
    body = request.json()
    with sandbox.store.lock:
        trade = _trade_by_txn(sandbox, str(body.get("transaction_id", "")))
        if trade is None:
            return error(404, "RESOURCE_NOT_EXISTS", "订单不存在 / no such transaction")
        rest = _unsplit(sandbox, trade)
        trade["unfrozen"] = True
        now = rfc3339_cn(sandbox.store.now())
    sandbox.store.save()
    mchid = sandbox.keys.wx["mchid"]
    return signed(
        sandbox,
        200,
        {
            "transaction_id": trade["transaction_id"],
            "out_order_no": body.get("out_order_no", ""),
            "order_id": "3008" + rand_digits(24),
            "state": "FINISHED",
            "receivers": [
                {
                    "amount": rest,
                    "description": "解冻给分账方",
                    "type": "MERCHANT_ID",
                    "account": mchid,
                    "result": "SUCCESS",
                    "fail_reason": "",
                    "detail_id": "3601" + rand_digits(24),
                    "create_time": now,
                    "finish_time": now,
                }
            ],
        },
    )


def profitsharing_amounts(sandbox: Sandbox, request: Request) -> Response:
    with sandbox.store.lock:
        trade = _trade_by_txn(sandbox, request.params["id"])
        if trade is None:
            return error(404, "RESOURCE_NOT_EXISTS", "订单不存在 / no such transaction")
        rest = _unsplit(sandbox, trade)
    return signed(sandbox, 200, {"transaction_id": request.params["id"], "unsplit_amount": rest})


ROUTES = [
    route("POST", r"/v3/businesscircle/points/notify", guarded(points_notify)),
    route("GET", r"/v3/businesscircle/user-authorizations/(?P<openid>[^/]+)", guarded(user_authorization)),
    route("GET", r"/v3/businesscircle/users/(?P<openid>[^/]+)/points/commit_status", guarded(commit_status)),
    route("POST", r"/v3/businesscircle/parkings", guarded(parkings)),
    route("POST", r"/v3/profitsharing/receivers/add", guarded(add_receiver)),
    route("POST", r"/v3/profitsharing/orders", guarded(profitsharing_order)),
    route("POST", r"/v3/profitsharing/orders/unfreeze", guarded(profitsharing_unfreeze)),
    route("GET", r"/v3/profitsharing/orders/(?P<no>[^/]+)", guarded(profitsharing_query)),
    route("GET", r"/v3/profitsharing/transactions/(?P<id>[^/]+)/amounts", guarded(profitsharing_amounts)),
]
