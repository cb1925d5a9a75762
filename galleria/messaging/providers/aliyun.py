"""Aliyun Dysmsapi 2017-05-25 on `alibabacloud-dysmsapi20170525` (+ `alibabacloud-tea-openapi`).

The SDK signs with ACS3-HMAC-SHA256 (its default `signature_algorithm`); `Config.endpoint` (host[:port]) and
`Config.protocol` ("https" / "http") point it at the real service or the local sandbox — nothing else differs.
SendSms answers HTTP 200 with `Code` "OK" or an `isv.*` refusal; gateway refusals come as `ClientException` /
`ServerException` / `ThrottlingException` (HTTP 4xx / 5xx); no answer comes as `UnretryableException` wrapping the
transport error. `OutId` carries Galleria's message id; `QuerySendDetails` lists a number's messages of one day
(China time) with their OutId, which is how a retry after a lost answer finds the message already sent.
"""

from __future__ import annotations

import datetime as dt
import json

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as open_api_models
from darabonba.exceptions import ResponseException, UnretryableException
from darabonba.runtime import RuntimeOptions

from .base import Found, SmsProviderError, SmsRequest, classify, network_error

CN = dt.timezone(dt.timedelta(hours=8))
PAGE_SIZE = 50


def aliyun_phone(e164: str) -> str:
    """Mainland numbers without +86 (as Aliyun expects); others as country code + number, no plus."""
    digits = e164.lstrip("+")
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


class AliyunSms:
    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str = "dysmsapi.aliyuncs.com",
        protocol: str = "https",
        region_id: str = "cn-hangzhou",
        timeout_s: float = 10.0,
    ) -> None:
        self.timeout_ms = int(timeout_s * 1000)
        config = open_api_models.Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            endpoint=endpoint,
            protocol=protocol,
            region_id=region_id,
            read_timeout=self.timeout_ms,
            connect_timeout=min(self.timeout_ms, 5000),
        )
        self.client = Client(config)

    def _runtime(self) -> RuntimeOptions:
        return RuntimeOptions(read_timeout=self.timeout_ms, connect_timeout=min(self.timeout_ms, 5000))

    def _call(self, fn, request):  # type: ignore[no-untyped-def]
        try:
            return fn(request, self._runtime())
        except ResponseException as exc:  # an HTTP error answer from the gateway
            raise classify(str(exc.code or ""), str(exc.message or ""), status=exc.status_code) from exc
        except UnretryableException as exc:  # no answer
            raise network_error(str(exc.inner_exception)) from exc

    def send(self, request: SmsRequest) -> str:
        body = self._call(
            self.client.send_sms_with_options,
            sms_models.SendSmsRequest(
                phone_numbers=aliyun_phone(request.phone),
                sign_name=request.sign_name,
                template_code=request.template_id,
                template_param=json.dumps(dict(request.params), ensure_ascii=False, separators=(",", ":")),
                out_id=request.out_id,
            ),
        ).body
        if body.code != "OK":
            raise classify(str(body.code or ""), str(body.message or ""))
        return str(body.biz_id or "")

    def lookup(self, *, phone: str, out_id: str, since: dt.datetime) -> Found | None:
        day = since.astimezone(CN).date()
        today = dt.datetime.now(CN).date()
        while day <= today:
            page = 1
            while True:
                body = self._call(
                    self.client.query_send_details_with_options,
                    sms_models.QuerySendDetailsRequest(
                        phone_number=aliyun_phone(phone),
                        send_date=day.strftime("%Y%m%d"),
                        page_size=PAGE_SIZE,
                        current_page=page,
                    ),
                ).body
                if body.code != "OK":
                    raise classify(str(body.code or ""), str(body.message or ""))
                rows = (body.sms_send_detail_dtos.sms_send_detail_dto or []) if body.sms_send_detail_dtos else []
                for row in rows:
                    if row.out_id == out_id:
                        status = int(row.send_status or 1)
                        return Found(
                            ref="", delivered=None if status == 1 else status == 3, code=str(row.err_code or "")
                        )
                if len(rows) < PAGE_SIZE or page * PAGE_SIZE >= int(body.total_count or 0):
                    break
                page += 1
            day += dt.timedelta(days=1)
        return None


__all__ = ["AliyunSms", "SmsProviderError", "aliyun_phone"]
