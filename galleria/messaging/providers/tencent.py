"""Tencent Cloud SMS 2021-01-11 on `tencentcloud-sdk-python-sms` (+ `tencentcloud-sdk-python-common`).

The SDK signs with TC3-HMAC-SHA256 (`ClientProfile.signMethod` default); `HttpProfile(endpoint=host[:port],
protocol="https"/"http")` points it at the real service or the local sandbox. Every API error is HTTP 200 with
`Response.Error` and comes as `TencentCloudSDKException(code, message)`; a non-200 answer comes as code
`ServerNetworkError`, no answer as `ClientNetworkError`. SendSms reports per number in `SendStatusSet` (`Code`
"Ok" or a refusal). `SessionContext` carries Galleria's message id and is echoed by the receipts;
`PullSmsSendStatusByPhoneNumber` lists a number's receipts with it (only once the receipt exists — see
docs/messaging.md on retries after a timeout).
"""

from __future__ import annotations

import datetime as dt
import json

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from .base import Found, SmsRequest, classify, network_error

PAGE = 100


class TencentSms:
    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        endpoint: str = "sms.tencentcloudapi.com",
        protocol: str = "https",
        region: str = "ap-guangzhou",
        timeout_s: float = 10.0,
    ) -> None:
        self.sdk_app_id = sdk_app_id
        http = HttpProfile(endpoint=endpoint, protocol=protocol, reqTimeout=max(1, round(timeout_s)))
        self.client = sms_client.SmsClient(
            credential.Credential(secret_id, secret_key), region, ClientProfile(httpProfile=http)
        )

    def _call(self, fn, request):  # type: ignore[no-untyped-def]
        try:
            return fn(request)
        except TencentCloudSDKException as exc:
            code = str(exc.get_code() or "")
            if code == "ClientNetworkError":
                raise network_error(str(exc.get_message())) from exc
            raise classify(code, str(exc.get_message() or "")[:200]) from exc

    def send(self, request: SmsRequest) -> str:
        req = models.SendSmsRequest()
        req.from_json_string(
            json.dumps(
                {
                    "PhoneNumberSet": [request.phone],
                    "SmsSdkAppId": self.sdk_app_id,
                    "SignName": request.sign_name,
                    "TemplateId": request.template_id,
                    "TemplateParamSet": [value for _, value in request.params],
                    "SessionContext": request.out_id,
                }
            )
        )
        resp = self._call(self.client.SendSms, req)
        statuses = resp.SendStatusSet or []
        if not statuses:
            raise classify("EmptySendStatusSet", "no status for the number")
        status = statuses[0]
        if status.Code != "Ok":
            raise classify(str(status.Code or ""), str(status.Message or ""))
        return str(status.SerialNo or "")

    def lookup(self, *, phone: str, out_id: str, since: dt.datetime) -> Found | None:
        offset = 0
        while True:
            req = models.PullSmsSendStatusByPhoneNumberRequest()
            req.from_json_string(
                json.dumps(
                    {
                        "BeginTime": int(since.timestamp()),
                        "Offset": offset,
                        "Limit": PAGE,
                        "PhoneNumber": phone,
                        "SmsSdkAppId": self.sdk_app_id,
                        "EndTime": int(dt.datetime.now(dt.UTC).timestamp()) + 60,
                    }
                )
            )
            rows = self._call(self.client.PullSmsSendStatusByPhoneNumber, req).PullSmsSendStatusSet or []
            for row in rows:
                if row.SessionContext == out_id:
                    return Found(
                        ref=str(row.SerialNo or ""),
                        delivered=row.ReportStatus == "SUCCESS",
                        code=str(row.Description or ""),
                    )
            if len(rows) < PAGE:
                return None
            offset += PAGE


__all__ = ["TencentSms"]
