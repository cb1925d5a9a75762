"""Daily trade bills built from the sandbox's own record of trades and refunds per Asia/Shanghai date, plus rows
injected with `/sandbox/control/bill-extra` (a trade the merchant does not know, for reconciliation tests).

WeChat: the tradebill CSV (every field prefixed with a backtick, amounts in yuan, a summary header and row),
handed out gzipped behind a signed download URL; `hash_value` is the SHA1 of the uncompressed text. Alipay: a zip
of GBK CSVs (`…_业务明细.csv` and `…_业务明细(汇总).csv`, `#` comment lines around the table). Free text has its
commas replaced by full-width ones so the unquoted CSV stays parseable.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import secrets
import time
import zipfile
from typing import TYPE_CHECKING, Any

from .state import SHANGHAI, Record, parse_alipay_time, parse_rfc3339, yuan

if TYPE_CHECKING:
    from .server import Sandbox

FEE_PER_MILLE = 6  # 0.6 %, rounded half up to the fen
WECHAT_URL_TTL_S = 300
ALIPAY_URL_TTL_S = 30

WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
WECHAT_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
ALIPAY_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
    "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
    "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def fee(amount_fen: int) -> int:
    return (abs(amount_fen) * FEE_PER_MILLE + 500) // 1000 * (1 if amount_fen >= 0 else -1)


def sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _clean(text: str) -> str:
    return text.replace(",", "，").replace("\n", " ").replace("`", "'")


def _on(moment: dt.datetime, day: dt.date) -> bool:
    return moment.astimezone(SHANGHAI).date() == day


def _cn(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _extras(sandbox: Sandbox, provider: str, day: dt.date) -> list[Record]:
    return [x for x in sandbox.store.bill_extra if x["provider"] == provider and x["bill_date"] == day.isoformat()]


# --- WeChat ----------------------------------------------------------------------------------------------------------


def wechat_bill(sandbox: Sandbox, day: dt.date, bill_type: str) -> tuple[str, int]:
    wx = sandbox.keys.wx
    rows: list[list[str]] = []
    totals = {"settle": 0, "refund": 0, "fee": 0, "order": 0, "asked": 0}

    def payment(at: dt.datetime, txn: str, otn: str, openid: str, kind: str, fen: int, desc: str, attach: str) -> None:
        charge = fee(fen)
        head = [_cn(at), wx["appid"], wx["mchid"], "0", "", txn, otn, openid, kind, "SUCCESS", "OTHERS", "CNY"]
        money = [yuan(fen), "0.00", "0", "0", "0.00", "0.00", "", "", _clean(desc), _clean(attach)]
        rows.append([*head, *money, f"{yuan(charge)}000", "0.60%", yuan(fen), "0.00", ""])
        totals["settle"] += fen
        totals["order"] += fen
        totals["fee"] += charge

    def refund(at: dt.datetime, txn: str, otn: str, openid: str, rid: str, orn: str, fen: int, desc: str) -> None:
        charge = -fee(fen)
        head = [_cn(at), wx["appid"], wx["mchid"], "0", "", txn, otn, openid, "JSAPI", "REFUND", "OTHERS", "CNY"]
        money = ["0.00", "0.00", rid, orn, yuan(fen), "0.00", "ORIGINAL", "SUCCESS", _clean(desc), ""]
        rows.append([*head, *money, f"{yuan(charge)}000", "0.60%", "0.00", yuan(fen), ""])
        totals["refund"] += fen
        totals["asked"] += fen
        totals["fee"] += charge

    with sandbox.store.lock:
        trades = dict(sandbox.store.wx_trades)
        refunds = list(sandbox.store.wx_refunds.values())
        now = sandbox.store.now().timestamp()
        if bill_type in ("ALL", "SUCCESS"):
            for t in trades.values():
                if t["success_time"] and _on(parse_rfc3339(t["success_time"]), day):
                    req = t["req"]
                    payment(
                        parse_rfc3339(t["success_time"]),
                        t["transaction_id"],
                        t["out_trade_no"],
                        t["openid"],
                        t["kind"].upper(),
                        t["paid_fen"],
                        req["description"],
                        req.get("attach", ""),
                    )
        if bill_type in ("ALL", "REFUND"):
            for r in refunds:
                if r["settle_at"] <= now and _on(parse_rfc3339(r["success_time"]), day):
                    t = trades[r["out_trade_no"]]
                    refund(
                        parse_rfc3339(r["success_time"]),
                        r["transaction_id"],
                        r["out_trade_no"],
                        t["openid"],
                        r["refund_id"],
                        r["out_refund_no"],
                        r["refund"],
                        t["req"]["description"],
                    )
        for x in _extras(sandbox, "wechat", day):
            at = parse_rfc3339(x["time"])
            if x["kind"] == "refund" and bill_type in ("ALL", "REFUND"):
                refund(
                    at,
                    x["transaction_id"],
                    x["out_trade_no"],
                    "",
                    x["refund_id"],
                    x["out_refund_no"],
                    x["amount_fen"],
                    "",
                )
            elif x["kind"] == "payment" and bill_type in ("ALL", "SUCCESS"):
                payment(at, x["transaction_id"], x["out_trade_no"], "", "NATIVE", x["amount_fen"], x["description"], "")
    rows.sort(key=lambda row: row[0])
    lines = [WECHAT_HEADER, *("`" + ",`".join(row) for row in rows), WECHAT_SUMMARY]
    summary = [str(len(rows)), yuan(totals["settle"]), yuan(totals["refund"]), "0.00"]
    summary += [f"{yuan(totals['fee'])}000", yuan(totals["order"]), yuan(totals["asked"])]
    lines.append("`" + ",`".join(summary))
    return "\n".join(lines) + "\n", len(rows)


# --- Alipay ----------------------------------------------------------------------------------------------------------


def alipay_bill(sandbox: Sandbox, day: dt.date) -> tuple[bytes, int]:
    ali = sandbox.keys.ali
    rows: list[list[str]] = []
    paid = refunded = 0
    with sandbox.store.lock:
        trades = list(sandbox.store.ali_trades.values())
        refunds = list(sandbox.store.ali_refunds.values())
    for t in trades:
        if t.get("gmt_payment") and _on(parse_alipay_time(t["gmt_payment"]), day):
            fen = t["total_fen"]
            rows.append(_ali_row(t["trade_no"], t["out_trade_no"], "交易", t["subject"], t, fen, "", -fee(fen)))
            paid += 1
    for r in refunds:
        if _on(parse_alipay_time(r["gmt_refund"]), day):
            t = next(x for x in trades if x["out_trade_no"] == r["out_trade_no"])
            fen = -r["refund_fen"]
            rows.append(
                _ali_row(t["trade_no"], t["out_trade_no"], "退款", t["subject"], t, fen, r["out_request_no"], fee(-fen))
            )
            refunded += 1
    for x in _extras(sandbox, "alipay", day):
        fake = {"gmt_create": x["time_cn"], "gmt_payment": x["time_cn"], "buyer_logon_id": ""}
        fen = x["amount_fen"] if x["kind"] == "payment" else -x["amount_fen"]
        kind = "交易" if x["kind"] == "payment" else "退款"
        rows.append(
            _ali_row(
                x["transaction_id"], x["out_trade_no"], kind, x["description"], fake, fen, x["out_refund_no"], -fee(fen)
            )
        )
    start = dt.datetime.combine(day, dt.time.min)
    end = start + dt.timedelta(days=1)
    detail = [
        "#支付宝业务明细查询",
        f"#账号：[{ali['seller_id']}0156]",
        f"#起始日期：[{start:%Y年%m月%d日 %H:%M:%S}]   终止日期：[{end:%Y年%m月%d日 %H:%M:%S}]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ALIPAY_HEADER,
        *(",".join(f"{field}\t" for field in row) for row in rows),
        "#-----------------------------------------业务明细列表结束------------------------------------",
        f"#交易合计：{paid}笔，退款合计：{refunded}笔",
        f"#导出时间：[{sandbox.store.now_cn():%Y年%m月%d日 %H:%M:%S}]",
    ]
    summary = [
        "#支付宝业务汇总查询",
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）",
        f"合计,,{paid},{refunded},,",
    ]
    base = f"{ali['seller_id']}0156_{day:%Y%m%d}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{base}_业务明细.csv", ("\r\n".join(detail) + "\r\n").encode("gbk"))
        archive.writestr(f"{base}_业务明细(汇总).csv", ("\r\n".join(summary) + "\r\n").encode("gbk"))
    return buffer.getvalue(), len(rows)


def _ali_row(
    trade_no: str, otn: str, kind: str, subject: str, t: Record, fen: int, request_no: str, charge: int
) -> list[str]:
    return [
        trade_no,
        otn,
        kind,
        _clean(subject),
        t["gmt_create"],
        t.get("gmt_payment", ""),
        "",
        "",
        "",
        "",
        t.get("buyer_logon_id", ""),
        yuan(fen),
        yuan(fen),
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "",
        "0.00",
        "0.00",
        request_no,
        yuan(charge),
        "0.00",
        "",
    ]


# --- download tokens -------------------------------------------------------------------------------------------------


def issue(sandbox: Sandbox, data: bytes, *, gzipped: bool, ttl_s: float = WECHAT_URL_TTL_S) -> str:
    token = secrets.token_urlsafe(24)
    payload: dict[str, Any] = {"data": gzip.compress(data) if gzipped else data, "expires": time.time() + ttl_s}
    with sandbox.store.lock:
        sandbox.store.bill_tokens = {k: v for k, v in sandbox.store.bill_tokens.items() if v["expires"] > time.time()}
        sandbox.store.bill_tokens[token] = payload
    return token


def redeem(sandbox: Sandbox, token: str) -> bytes | None:
    with sandbox.store.lock:
        entry = sandbox.store.bill_tokens.get(token)
    if entry is None or entry["expires"] < time.time():
        return None
    data: bytes = entry["data"]
    return data
