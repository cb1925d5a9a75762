"""Delivery receipts (状态报告) as the providers push them, parsed into one shape, and the answers they expect.

Aliyun (SmsReport, HTTP batch push): a JSON array of `{phone_number, send_time, report_time, success, err_code,
err_msg, sms_size, biz_id, out_id}`; the acknowledgement is `{"code": 0, "msg": "接收成功"}` (anything else: pushed
again). Tencent Cloud (status callback): a JSON array of `{user_receive_time, nationcode, mobile, report_status,
errmsg, description, sid}` (sid = the SerialNo SendSms returned); the acknowledgement is `{"result": 0, "errmsg":
"OK"}`. Times are China time (UTC+8) without a zone.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

CN = dt.timezone(dt.timedelta(hours=8))
MAX_ITEMS = 1000


@dataclass(frozen=True)
class Receipt:
    ref: str  # Aliyun biz_id / Tencent sid
    out_id: str  # Aliyun out_id (Tencent's callback does not carry it)
    phone: str
    delivered: bool
    code: str  # DELIVERED / DELIVRD, or the operator's failure code (e.g. MN:0001)
    reported_at: dt.datetime | None


class ReceiptFormatError(ValueError):
    pass


def _cn_time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CN)
    except ValueError:
        return None


def _items(body: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ReceiptFormatError("not JSON") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or len(data) > MAX_ITEMS or not all(isinstance(i, dict) for i in data):
        raise ReceiptFormatError("a JSON array of objects expected")
    return data


def parse(provider: str, body: bytes) -> list[Receipt]:
    out = []
    for item in _items(body):
        if provider == "aliyun":
            success = item.get("success")
            if isinstance(success, str):
                success = success.lower() == "true"
            out.append(
                Receipt(
                    ref=str(item.get("biz_id") or "")[:80],
                    out_id=str(item.get("out_id") or "")[:80],
                    phone=str(item.get("phone_number") or "")[:20],
                    delivered=bool(success),
                    code=str(item.get("err_code") or "")[:80],
                    reported_at=_cn_time(item.get("report_time")),
                )
            )
        elif provider == "tencent":
            out.append(
                Receipt(
                    ref=str(item.get("sid") or "")[:80],
                    out_id="",
                    phone=str(item.get("mobile") or "")[:20],
                    delivered=item.get("report_status") == "SUCCESS",
                    code=str(item.get("errmsg") or "")[:80],
                    reported_at=_cn_time(item.get("user_receive_time")),
                )
            )
        else:
            raise ReceiptFormatError("unknown provider")
    return out


def ack(provider: str, ok: bool) -> bytes:
    if provider == "aliyun":
        answer: dict[str, Any] = {"code": 0, "msg": "接收成功"} if ok else {"code": 1, "msg": "处理失败"}
    else:
        answer = {"result": 0, "errmsg": "OK"} if ok else {"result": 1, "errmsg": "FAIL"}
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")
