"""Tencent Cloud SMS 2021-01-11 as the sandbox speaks it: SendSms and PullSmsSendStatusByPhoneNumber, API 3.0
(`POST /` with a JSON body, `X-TC-Action` / `X-TC-Version` / `X-TC-Timestamp` headers), TC3-HMAC-SHA256 signatures.

Every answer is HTTP 200 `Content-Type: application/json` with `{"Response": {…, "RequestId"}}` (the SDK reads errors
only from that content type): errors as `Response.Error {Code, Message}` (AuthFailure.SignatureFailure,
AuthFailure.SecretIdNotFound, AuthFailure.SignatureExpire, RequestLimitExceeded,
FailedOperation.SignatureIncorrectOrUnapproved, FailedOperation.TemplateIncorrectOrUnapproved,
FailedOperation.TemplateParamSetNotMatchApprovedTemplate, InvalidParameterValue.SdkAppIdNotExist, InternalError);
per-number results in `SendStatusSet` (Code "Ok", InvalidParameterValue.IncorrectPhoneNumber,
LimitExceeded.PhoneNumberThirtySecondLimit). An injected outage answers 503, which the SDK reports as
ServerNetworkError.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from . import signing
from .common import Request, Response, phone_valid, render_numbered, request_id

if TYPE_CHECKING:
    from .server import Sandbox

log = logging.getLogger("galleria.messaging.sandbox")
MAX_SKEW_S = 300
VERSION = "2021-01-11"


def _error(code: str, message: str) -> Response:
    return Response.json(200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id()}})


def _ok(**body: Any) -> Response:
    return Response.json(200, {"Response": {**body, "RequestId": request_id()}})


def authenticate(sandbox: Sandbox, request: Request) -> tuple[Response | None, str]:
    auth = signing.parse_authorization(request.headers.get("authorization", ""))
    if auth is None or auth.algorithm != signing.TC3:
        return _error("AuthFailure.InvalidAuthorization", "Authorization header is not valid."), "unsigned"
    parts = auth.credential.split("/")
    keys = sandbox.keys["tencent"]
    if len(parts) != 4 or parts[3] != "tc3_request":
        return _error("AuthFailure.InvalidAuthorization", "Credential is not valid."), "credential"
    secret_id, date, service, _ = parts
    if not signing.same(secret_id, keys["secret_id"]):
        return _error("AuthFailure.SecretIdNotFound", "The SecretId is not found."), "unknown key"
    if not {"content-type", "host"} <= set(auth.signed_headers):
        return _error("AuthFailure.InvalidAuthorization", "content-type and host must be signed."), "headers not signed"
    timestamp = request.headers.get("x-tc-timestamp", "")
    if not timestamp.isdigit():
        return _error("AuthFailure.InvalidAuthorization", "X-TC-Timestamp is not valid."), "timestamp"
    if abs(time.time() - int(timestamp)) > MAX_SKEW_S:
        return _error("AuthFailure.SignatureExpire", "Signature expired."), "expired"
    if dt.datetime.fromtimestamp(int(timestamp), dt.UTC).strftime("%Y-%m-%d") != date or service != "sms":
        return _error("AuthFailure.SignatureFailure", "The provided credentials could not be validated."), "scope"
    expected = signing.tc3_signature(
        secret_key=keys["secret_key"],
        method=request.method,
        path=request.path,
        query=request.raw_query if request.method == "GET" else "",
        headers=request.headers,
        signed_headers=auth.signed_headers,
        body=request.body if request.method != "GET" else b"",
        timestamp=timestamp,
        date=date,
        service=service,
    )
    if not signing.same(expected, auth.signature):
        return _error(
            "AuthFailure.SignatureFailure", "The provided credentials could not be validated."
        ), "bad signature"
    return None, "signed"


def handle(sandbox: Sandbox, request: Request) -> Response:
    refusal, verdict = authenticate(sandbox, request)
    action = request.headers.get("x-tc-action", "")
    try:
        params = json.loads(request.body or b"{}")
    except ValueError:
        params = None
    sandbox.store.log_request(
        {
            "provider": "tencent",
            "action": action,
            "verdict": verdict,
            "params": params,
            "authorization": request.headers.get("authorization", "")[:120],
        }
    )
    if refusal is not None:
        log.info("tencent %s refused: %s", action, verdict)
        return refusal
    if not isinstance(params, dict):
        return _error("InvalidParameter", "The request body is not a JSON object.")
    if request.headers.get("x-tc-version") != VERSION:
        return _error("InvalidAction", "The version is not supported.")
    if action == "SendSms":
        return send_sms(sandbox, params)
    if action == "PullSmsSendStatusByPhoneNumber":
        return pull_status(sandbox, params)
    return _error("InvalidAction", "The action does not exist.")


def send_sms(sandbox: Sandbox, params: dict[str, Any]) -> Response:
    fault = sandbox.store.take_fault("tencent")
    if fault and fault.mode == "throttle":
        return _error("RequestLimitExceeded", "The number of requests exceeds the frequency limit.")
    if fault and fault.mode == "unavailable":
        return Response(503, b"<html><body>503 Service Unavailable</body></html>", "text/html")
    keys = sandbox.keys["tencent"]
    if str(params.get("SmsSdkAppId", "")) != keys["sdk_app_id"]:
        return _error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId does not exist.")
    if params.get("SignName", "") not in keys["sign_names"]:
        return _error("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误。")
    template = keys["templates"].get(str(params.get("TemplateId", "")))
    if template is None:
        return _error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配。")
    values = params.get("TemplateParamSet") or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return _error("InvalidParameterValue.TemplateParameterFormatError", "验证码模板参数格式错误。")
    text, matches = render_numbered(template["content"], values)
    if not matches:
        return _error(
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "请求内容与审核通过的模版内容不匹配。"
        )
    phones = params.get("PhoneNumberSet") or []
    if not isinstance(phones, list) or not 1 <= len(phones) <= 200:
        return _error("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误。")
    session = str(params.get("SessionContext") or "")
    statuses = []
    for phone in phones:
        base = {"PhoneNumber": phone, "SessionContext": session, "IsoCode": "CN"}
        if not isinstance(phone, str) or not phone_valid(phone):
            statuses.append(
                {
                    **base,
                    "SerialNo": "",
                    "Fee": 0,
                    "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                    "Message": "手机号格式错误",
                }
            )
            continue
        limit = sandbox.store.per_phone_per_minute
        if (fault and fault.mode == "limit") or (limit and sandbox.store.recent_count(phone, 60) >= limit):
            statuses.append(
                {
                    **base,
                    "SerialNo": "",
                    "Fee": 0,
                    "Code": "LimitExceeded.PhoneNumberThirtySecondLimit",
                    "Message": "单个手机号30秒内下发短信条数超过设定的上限",
                }
            )
            continue
        message = sandbox.store.accept(
            provider="tencent",
            phone=phone,
            sign_name=params["SignName"],
            template=str(params["TemplateId"]),
            params=values,
            text=f"【{params['SignName']}】{text}",
            out_id=session,
        )
        sandbox.receipts.schedule(message)
        statuses.append({**base, "SerialNo": message.ref, "Fee": 1, "Code": "Ok", "Message": "send success"})
    response = _ok(SendStatusSet=statuses)
    if fault and fault.mode == "timeout_after_accept":
        response.delay = fault.delay
    return response


def pull_status(sandbox: Sandbox, params: dict[str, Any]) -> Response:
    """Receipts (only those already reported, as Tencent's pull API returns) of one number since BeginTime."""
    if str(params.get("SmsSdkAppId", "")) != sandbox.keys["tencent"]["sdk_app_id"]:
        return _error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId does not exist.")
    try:
        begin = int(params.get("BeginTime", 0))
        offset = int(params.get("Offset", 0))
        limit = int(params.get("Limit", 0))
        end = int(params["EndTime"]) if params.get("EndTime") is not None else None
    except (TypeError, ValueError):
        return _error("InvalidParameter", "参数错误。")
    if not 1 <= limit <= 100 or offset < 0:
        return _error("InvalidParameterValue.InvalidLimit", "Limit 取值范围 1-100。")
    phone = str(params.get("PhoneNumber", ""))
    now = sandbox.store.now()
    rows = []
    with sandbox.store.lock:
        for m in sandbox.store.messages:
            if m.provider != "tencent" or m.phone != phone or not m.reported(now) or m.accepted_at < begin:
                continue
            if end is not None and m.accepted_at > end:
                continue
            national = phone[3:] if phone.startswith("+86") else phone.lstrip("+")
            rows.append(
                {
                    "UserReceiveTime": int(m.report_due),
                    "CountryCode": "86",
                    "SubscriberNumber": national,
                    "PhoneNumber": phone,
                    "SerialNo": m.ref,
                    "ReportStatus": "SUCCESS" if m.delivered else "FAIL",
                    "Description": "用户短信送达成功" if m.delivered else "空号",
                    "SessionContext": m.out_id,
                }
            )
    return _ok(PullSmsSendStatusSet=rows[offset : offset + limit])
