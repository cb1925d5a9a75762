"""Delivery receipts (状态报告) pushed as the providers push them, by one background thread.

Aliyun (HTTP batch push of SmsReport): `POST <url>` JSON array of `{phone_number, send_time, report_time, success,
err_code, err_msg, sms_size, biz_id, out_id}`; acknowledged by `{"code": 0, "msg": "接收成功"}`.
Tencent (状态回调): `POST <url>` JSON array of `{user_receive_time, nationcode, mobile, report_status, errmsg,
description, sid}`; acknowledged by `{"result": 0, "errmsg": "OK"}`.
Anything else (another status, another body, no answer) is pushed again: after 1, 2, 4, 8, 16 × `retry_gap` seconds,
then given up (the receipt stays readable through the pull APIs, as with the real providers).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import urllib.request
from dataclasses import dataclass

from .state import Message, Store

log = logging.getLogger("galleria.messaging.sandbox")
CN = dt.timezone(dt.timedelta(hours=8))
MAX_PUSHES = 6


def _cn(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, CN).strftime("%Y-%m-%d %H:%M:%S")


def aliyun_report(m: Message) -> dict[str, object]:
    return {
        "phone_number": m.phone,
        "send_time": _cn(m.accepted_at),
        "report_time": _cn(m.report_due),
        "success": m.delivered,
        "err_code": m.receipt_code,
        "err_msg": "用户接收成功" if m.delivered else "空号",
        "sms_size": "1",
        "biz_id": m.ref,
        "out_id": m.out_id,
    }


def tencent_report(m: Message) -> dict[str, object]:
    national = m.phone[3:] if m.phone.startswith("+86") else m.phone.lstrip("+")
    return {
        "user_receive_time": _cn(m.report_due),
        "nationcode": "86",
        "mobile": national,
        "report_status": "SUCCESS" if m.delivered else "FAIL",
        "errmsg": m.receipt_code,
        "description": "用户短信送达成功" if m.delivered else "空号",
        "sid": m.ref,
    }


def acknowledged(provider: str, status: int, body: bytes) -> bool:
    if status != 200:
        return False
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    return data.get("code") == 0 if provider == "aliyun" else data.get("result") == 0


@dataclass
class _Due:
    at: float
    message: Message


class ReceiptPusher:
    def __init__(self, *, store: Store, urls: dict[str, str], retry_gap: float = 1.0, timeout: float = 5.0) -> None:
        self.store = store
        self.urls = urls
        self.retry_gap = retry_gap
        self.timeout = timeout
        self._due: list[_Due] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="sms-receipts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def schedule(self, message: Message, at: float | None = None) -> None:
        if not self.urls.get(message.provider):
            return
        with self._cond:
            self._due.append(_Due(message.report_due if at is None else at, message))
            self._cond.notify_all()

    def push_due_now(self) -> int:
        """Push every scheduled receipt now (the control endpoint's `deliver-receipts`)."""
        with self._cond:
            due, self._due = self._due, []
        for item in due:
            item.message.report_due = min(item.message.report_due, self.store.now())
        self._push([d.message for d in due])
        return len(due)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stop:
                    return
                now = self.store.now()
                ready = [d for d in self._due if d.at <= now]
                self._due = [d for d in self._due if d.at > now]
                if not ready:
                    wait = min((d.at for d in self._due), default=now + 1.0) - now
                    self._cond.wait(timeout=max(0.01, min(wait, 1.0)))
                    continue
            self._push([d.message for d in ready])

    def _push(self, messages: list[Message]) -> None:
        for provider in ("aliyun", "tencent"):
            batch = [m for m in messages if m.provider == provider and m.receipt_acked_at is None]
            if not batch:
                continue
            build = aliyun_report if provider == "aliyun" else tencent_report
            body = json.dumps([build(m) for m in batch], ensure_ascii=False).encode("utf-8")
            ok = False
            try:
                req = urllib.request.Request(  # noqa: S310 - the configured receipt URL (http on this machine)
                    self.urls[provider],
                    data=body,
                    method="POST",
                    headers={"Content-Type": "application/json; charset=utf-8"},
                )
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                    ok = acknowledged(provider, resp.status, resp.read())
            except Exception as exc:  # the receiver is down or refused: push again later
                log.info("%s receipt push failed: %s", provider, exc)
            now = self.store.now()
            for m in batch:
                m.receipt_pushes += 1
                if ok:
                    m.receipt_acked_at = now
                elif m.receipt_pushes < MAX_PUSHES:
                    self.schedule(m, at=now + self.retry_gap * 2 ** (m.receipt_pushes - 1))
