"""The member-facing pages of the sandbox "WeChat" and "Alipay" apps: one cashier per way of paying, showing the
payee, the description and the amount with Pay / Cancel (Chinese and English side by side, no external assets).

Pay marks the trade paid, schedules the notification and sends the browser back (WeChat H5: `redirect_url`;
the JSAPI page: `return_url`; Alipay: `return_url` with the signed return parameters). Cancel goes back too and
leaves the trade unpaid. The Native page stands for the phone that scanned the QR code: it shows the result.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import alipay_api, signing, wechat_api
from .server import Request, Response, route
from .state import Record, yuan

if TYPE_CHECKING:
    from .server import Sandbox

_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 -apple-system,"PingFang SC","Noto Sans CJK SC",
"Microsoft YaHei",sans-serif;background:#f2f3f5;color:#1f2329}
header{background:var(--brand);color:#fff;padding:14px 18px;font-weight:600}
main{max-width:420px;margin:0 auto;padding:18px}
.card{background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.payee{color:#646a73;font-size:14px}.desc{margin:6px 0 14px}.amount{font-size:36px;font-weight:700}
.amount small{font-size:20px;margin-right:2px}.en{color:#8f959e;font-size:13px;display:block}
.actions{display:flex;gap:12px;margin-top:22px}button{flex:1;border:0;border-radius:8px;padding:13px;
font-size:16px;cursor:pointer}.pay{background:var(--brand);color:#fff}.cancel{background:#e4e6eb;color:#1f2329}
.note{margin-top:16px;font-size:12px;color:#8f959e}.error{color:#d83931}
"""
_BRANDS = {
    "wechat": ("#07c160", "微信支付", "WeChat Pay"),
    "alipay": ("#1677ff", "支付宝", "Alipay"),
}


def _page(provider: str, body: str, status: int = 200) -> Response:
    color, zh, en = _BRANDS[provider]
    return Response.html(
        f"""<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{zh} · {en} (sandbox)</title>
<style>:root{{--brand:{color}}}{_CSS}</style></head><body><header>{zh} · {en} <small>(sandbox 沙箱)</small></header>
<main>{body}</main></body></html>""",
        status,
    )


def _message(provider: str, zh: str, en: str, status: int = 200, back: str = "") -> Response:
    link = (
        f'<p><a href="{html.escape(back)}">返回商户 <span class="en">Back to the merchant</span></a></p>'
        if back
        else ""
    )
    return _page(
        provider,
        f'<div class="card"><p>{html.escape(zh)}<span class="en">{html.escape(en)}</span></p>{link}</div>',
        status,
    )


def _cashier(provider: str, *, action: str, payee: str, description: str, fen: int, hidden: dict[str, str]) -> Response:
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in hidden.items()
    )
    body = f"""<form class="card" method="post" action="{html.escape(action)}">
<div class="payee">收款方 <span class="en">Payee</span> {html.escape(payee)}</div>
<div class="desc">{html.escape(description)}</div>
<div class="amount" data-fen="{fen}"><small>¥</small>{yuan(fen)}</div>{fields}
<div class="actions"><button class="cancel" name="action" value="cancel">取消<span class="en">Cancel</span></button>
<button class="pay" name="action" value="pay">确认支付<span class="en">Pay</span></button></div>
<p class="note">这是本地沙箱，不会产生真实扣款。
<span class="en">Local sandbox: no real money moves.</span></p></form>"""
    return _page(provider, body)


def _back(url: str, extra: dict[str, str] | None = None) -> str:
    if not extra:
        return url
    split = urlsplit(url)
    query = urlencode([*parse_qsl(split.query, keep_blank_values=True), *extra.items()])
    return split._replace(query=query).geturl()


# --- WeChat ----------------------------------------------------------------------------------------------------------


def _wx_page(sandbox: Sandbox, trade: Record | None, back: str) -> Response:
    if trade is None:
        return _message("wechat", "订单不存在", "No such order", 404)
    wechat_api.refresh(sandbox, trade)
    if trade["state"] in ("SUCCESS", "REFUND"):
        return _message("wechat", "该订单已支付", "This order is already paid", back=back)
    if trade["state"] == "CLOSED":
        return _message("wechat", "订单已关闭", "This order is closed", back=back)
    return _cashier(
        "wechat",
        action="/sandbox/wechat/pay",
        payee=sandbox.keys.wx["merchant_name"],
        description=trade["req"]["description"],
        fen=trade["req"]["amount"]["total"],
        hidden={"out_trade_no": trade["out_trade_no"], "back": back},
    )


def wechat_h5(sandbox: Sandbox, request: Request) -> Response:
    with sandbox.store.lock:
        out_trade_no = sandbox.store.wx_prepay.get(request.query.get("prepay_id", ""))
        trade = sandbox.store.wx_trades.get(out_trade_no or "")
    return _wx_page(sandbox, trade, request.query.get("redirect_url", ""))


def wechat_jsapi(sandbox: Sandbox, request: Request) -> Response:
    q = request.query
    package = q.get("package") or f"prepay_id={q.get('prepay_id', '')}"
    if q.get("paySign"):  # what WeixinJSBridge checks: the merchant's signature over the four values
        message = f"{q.get('appId', '')}\n{q.get('timeStamp', '')}\n{q.get('nonceStr', '')}\n{package}\n"
        if q.get("appId") != sandbox.keys.wx["appid"] or not signing.rsa_verify_b64(
            sandbox.keys.merchant_public, message, q["paySign"]
        ):
            return _message("wechat", "支付验证签名失败", "paySign does not verify", 400)
    with sandbox.store.lock:
        out_trade_no = sandbox.store.wx_prepay.get(package.removeprefix("prepay_id="))
        trade = sandbox.store.wx_trades.get(out_trade_no or "")
    return _wx_page(sandbox, trade, q.get("return_url", ""))


def wechat_native(sandbox: Sandbox, request: Request) -> Response:
    code = dict(parse_qsl(urlsplit(request.query.get("code_url", "")).query)).get("pr", "")
    with sandbox.store.lock:
        trade = sandbox.store.wx_trades.get(sandbox.store.wx_codes.get(code, ""))
    return _wx_page(sandbox, trade, "")


def wechat_pay(sandbox: Sandbox, request: Request) -> Response:
    form = request.form()
    back = form.get("back", "")
    with sandbox.store.lock:
        trade = sandbox.store.wx_trades.get(form.get("out_trade_no", ""))
    if trade is None:
        return _message("wechat", "订单不存在", "No such order", 404)
    if form.get("action") == "pay":
        wechat_api.mark_paid(sandbox, trade)
        if not back:
            return _message("wechat", "支付成功", "Payment successful")
    elif not back:
        return _message("wechat", "已取消支付", "Payment cancelled")
    return Response.redirect(back)


# --- Alipay ----------------------------------------------------------------------------------------------------------


def _ali_page(sandbox: Sandbox, trade: Record) -> Response:
    alipay_api.refresh(sandbox, trade)
    if trade["trade_status"] in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        return _message("alipay", "该订单已支付", "This order is already paid", back=trade["return_url"])
    if trade["trade_status"] == "TRADE_CLOSED":
        return _message("alipay", "交易已关闭", "This trade is closed", back=trade["return_url"])
    return _cashier(
        "alipay",
        action="/sandbox/alipay/pay",
        payee=sandbox.keys.ali["merchant_name"],
        description=trade["subject"],
        fen=trade["total_fen"],
        hidden={"out_trade_no": trade["out_trade_no"]},
    )


def alipay_cashier_open(sandbox: Sandbox, method: str, params: dict[str, str]) -> Response:
    """The browser arrives at gateway.do?method=alipay.trade.wap.pay|page.pay&…&sign=…"""
    sub_code, sub_msg = alipay_api.check(sandbox, params)
    if sub_code:
        return _message("alipay", f"参数错误 {sub_code}：{sub_msg}", "The payment request is invalid", 400)
    try:
        biz: dict[str, Any] = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        return _message("alipay", "biz_content 不是 JSON", "Invalid request", 400)
    problem = alipay_api.valid_order(biz)
    if problem or biz.get("product_code") != alipay_api.product_for(method):
        return _message("alipay", f"参数错误：{problem or 'product_code'}", "The payment request is invalid", 400)
    with sandbox.store.lock:
        if sandbox.store.ali_orders.get(biz["out_trade_no"], {}).get("closed"):
            return _message("alipay", "交易已关闭", "This trade is closed", back=params.get("return_url", ""))
        trade = sandbox.store.ali_trades.get(biz["out_trade_no"])
        if trade is None:
            trade = alipay_api.new_trade(sandbox, biz, params, alipay_api.product_for(method))
            sandbox.store.ali_trades[trade["out_trade_no"]] = trade
        elif not alipay_api.same_order(trade, biz):
            return _message("alipay", "ACQ.CONTEXT_INCONSISTENT 交易信息被篡改", "Order details changed", 400)
    sandbox.store.save()
    return _ali_page(sandbox, trade)


def alipay_qr(sandbox: Sandbox, request: Request) -> Response:
    code = request.query.get("qr_code", "").rsplit("/bax", 1)[-1]
    with sandbox.store.lock:
        trade = next((t for t in sandbox.store.ali_trades.values() if t.get("code") == code), None)
    if trade is None:
        return _message("alipay", "二维码无效", "Unknown QR code", 404)
    return _ali_page(sandbox, trade)


def alipay_pay(sandbox: Sandbox, request: Request) -> Response:
    form = request.form()
    with sandbox.store.lock:
        trade = sandbox.store.ali_trades.get(form.get("out_trade_no", ""))
    if trade is None:
        return _message("alipay", "交易不存在", "No such trade", 404)
    back = trade["return_url"]
    if form.get("action") != "pay":
        return Response.redirect(back) if back else _message("alipay", "已取消支付", "Payment cancelled")
    alipay_api.mark_paid(sandbox, trade)
    if not back:
        return _message("alipay", "支付成功", "Payment successful")
    return Response.redirect(_back(back, alipay_api.return_params(sandbox, trade)))


ROUTES = [
    route("GET", r"/sandbox/wechat/h5", wechat_h5),
    route("GET", r"/sandbox/wechat/jsapi", wechat_jsapi),
    route("GET", r"/sandbox/wechat/native", wechat_native),
    route("POST", r"/sandbox/wechat/pay", wechat_pay),
    route("GET", r"/sandbox/alipay/qr", alipay_qr),
    route("POST", r"/sandbox/alipay/pay", alipay_pay),
]
