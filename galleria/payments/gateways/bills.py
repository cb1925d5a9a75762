"""Parsing the gateways' daily trade bills into BillRow (fen, exact).

WeChat tradebill (type ALL): a header line, rows whose every field starts with a backtick, then a summary header
(`总交易单数,…`) and a summary row; amounts in yuan, fees with 5 decimals. A refund row has 交易状态 REFUND and
its amount in 申请退款金额 / 退款金额. The row count is checked against the summary.
Alipay trade bill: a zip of GBK CSVs; the detail file (`…_业务明细.csv`) has `#` comment lines around a table
whose fields carry trailing tabs; 业务类型 交易 / 退款, amounts in yuan (refunds negative), 服务费 negative.

`fee_fen` is positive when the gateway charged the merchant, negative when it gave a fee back (refunds).
"""

from __future__ import annotations

import csv
import io
import zipfile

from .base import BillRow, GatewayError
from .wire import fen, fen_rounded, parse_cn_time


class BillFormatError(GatewayError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="bill.format")


def _fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def parse_wechat(text: str) -> list[BillRow]:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = [name.strip() for name in _fields(lines[0])]
    rows: list[BillRow] = []
    expected: int | None = None
    body = lines[1:]
    for i, line in enumerate(body):
        if line.startswith("总交易单数"):
            if i + 1 < len(body):
                expected = int(_fields(body[i + 1])[0].lstrip("`"))
            break
        values = dict(zip(header, (field.lstrip("`").strip() for field in _fields(line)), strict=False))
        try:
            rows.append(_wechat_row(values))
        except (KeyError, ValueError) as exc:
            raise BillFormatError(f"WeChat bill line {i + 2}: {exc}") from exc
    if expected is not None and expected != len(rows):
        raise BillFormatError(f"WeChat bill lists {len(rows)} rows, its summary says {expected}")
    return rows


def _wechat_row(v: dict[str, str]) -> BillRow:
    occurred = parse_cn_time(v["交易时间"]) if v.get("交易时间") else None
    fee = fen_rounded(v.get("手续费") or "0")
    if v.get("交易状态") == "REFUND":
        asked = v.get("申请退款金额") or ""
        amount = fen(asked) if asked and fen(asked) else fen(v["退款金额"])
        return BillRow(
            out_trade_no=v["商户订单号"],
            transaction_id=v["微信订单号"],
            kind="refund",
            amount_fen=amount,
            fee_fen=fee,
            occurred_at=occurred,
            out_refund_no=v.get("商户退款单号", ""),
            refund_id=v.get("微信退款单号", ""),
        )
    return BillRow(
        out_trade_no=v["商户订单号"],
        transaction_id=v["微信订单号"],
        kind="payment",
        amount_fen=fen(v.get("订单金额") or v["应结订单金额"]),
        fee_fen=fee,
        occurred_at=occurred,
    )


def parse_alipay_zip(data: bytes) -> list[BillRow]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BillFormatError("the Alipay bill is not a zip file") from exc
    names = [n for n in archive.namelist() if n.endswith(".csv") and "业务明细" in n and "汇总" not in n]
    if len(names) != 1:
        raise BillFormatError(f"expected one detail CSV in the Alipay bill, found {names}")
    text = archive.read(names[0]).decode("gbk")
    header: list[str] | None = None
    rows: list[BillRow] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [field.strip() for field in _fields(line)]
        if header is None:
            header = fields
            continue
        values = dict(zip(header, fields, strict=False))
        try:
            rows.append(_alipay_row(values))
        except (KeyError, ValueError) as exc:
            raise BillFormatError(f"Alipay bill line {number}: {exc}") from exc
    return rows


def _alipay_row(v: dict[str, str]) -> BillRow:
    when = v.get("完成时间") or v.get("创建时间") or ""
    amount = fen(v["订单金额（元）"])
    fee = -fen(v.get("服务费（元）") or "0")
    if v["业务类型"] == "退款":
        return BillRow(
            out_trade_no=v["商户订单号"],
            transaction_id=v["支付宝交易号"],
            kind="refund",
            amount_fen=abs(amount),
            fee_fen=fee,
            occurred_at=parse_cn_time(when) if when else None,
            out_refund_no=v.get("退款批次号/请求号", ""),
        )
    return BillRow(
        out_trade_no=v["商户订单号"],
        transaction_id=v["支付宝交易号"],
        kind="payment",
        amount_fen=amount,
        fee_fen=fee,
        occurred_at=parse_cn_time(when) if when else None,
    )
