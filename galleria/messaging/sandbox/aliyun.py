"""Aliyun Dysmsapi 2017-05-25 as the sandbox speaks it: SendSms and QuerySendDetails, RPC style (`POST /` with the
parameters in the query, `x-acs-action` / `x-acs-version` headers), ACS3-HMAC-SHA256 signatures.

Answers: success `200 {"Code":"OK","Message":"OK","BizId":…,"RequestId":…}`; business refusals are HTTP 200 with an
`isv.*` Code (isv.MOBILE_NUMBER_ILLEGAL, isv.SMS_SIGNATURE_ILLEGAL, isv.SMS_TEMPLATE_ILLEGAL,
isv.TEMPLATE_MISSING_PARAMETERS, isv.INVALID_JSON_PARAM, isv.BUSINESS_LIMIT_CONTROL); gateway refusals are 4xx
(`SignatureDoesNotMatch`, `IncompleteSignature`, `InvalidAccessKeyId.NotFound` 404, `SignatureNonceUsed`,
`InvalidTimeStamp.Expired`, `Throttling.User`) and 5xx `ServiceUnavailable`, all
`{"RequestId","HostId","Code","Message"}`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from . import signing
from .common import Request, Response, phone_valid, render_named, request_id

if TYPE_CHECKING:
    from .server import Sandbox

log = logging.getLogger("galleria.messaging.sandbox")
HOST_ID = "dysmsapi.aliyuncs.com"
MAX_SKEW_S = 15 * 60


def _gateway_error(status: int, code: str, message: str) -> Response:
    return Response.json(status, {"RequestId": request_id(), "HostId": HOST_ID, "Code": code, "Message": message})


def _business(code: str, message: str, **extra: Any) -> Response:
    return Response.json(200, {"Code": code, "Message": message, "RequestId": request_id(), **extra})


def authenticate(sandbox: Sandbox, request: Request) -> tuple[Response | None, str]:
    """None when the request is signed by the sandbox's access key, else the provider's refusal."""
    auth = signing.parse_authorization(request.headers.get("authorization", ""))
    if auth is None or auth.algorithm != signing.ACS3:
        return _gateway_error(
            400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
        ), "unsigned"
    keys = sandbox.keys["aliyun"]
    if not signing.same(auth.credential, keys["access_key_id"]):
        return _gateway_error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."), "unknown key"
    required = {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"}
    if not required <= set(auth.signed_headers):
        return _gateway_error(
            400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
        ), "headers not signed"
    payload_hash = signing.sha256_hex(request.body)
    if request.headers.get("x-acs-content-sha256", "") != payload_hash:
        return _gateway_error(
            400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
        ), "body hash"
    expected = signing.acs3_signature(
        secret=keys["access_key_secret"],
        method=request.method,
        path=request.path,
        query=parse_qsl(request.raw_query, keep_blank_values=True),
        headers=request.headers,
        signed_headers=auth.signed_headers,
        payload_hash=payload_hash,
    )
    if not signing.same(expected, auth.signature):
        return _gateway_error(
            400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
        ), "bad signature"
    try:
        sent = dt.datetime.strptime(request.headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return _gateway_error(
            400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
        ), "date"
    if abs(time.time() - sent.timestamp()) > MAX_SKEW_S:
        return _gateway_error(
            400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
        ), "expired"
    if not sandbox.store.nonce_fresh("aliyun:" + request.headers.get("x-acs-signature-nonce", "")):
        return _gateway_error(400, "SignatureNonceUsed", "Specified signature nonce was used already."), "nonce reused"
    return None, "signed"


def handle(sandbox: Sandbox, request: Request) -> Response:
    refusal, verdict = authenticate(sandbox, request)
    query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
    action = request.headers.get("x-acs-action", "")
    sandbox.store.log_request(
        {
            "provider": "aliyun",
            "action": action,
            "verdict": verdict,
            "params": query,
            "authorization": request.headers.get("authorization", "")[:120],
        }
    )
    if refusal is not None:
        log.info("aliyun %s refused: %s", action, verdict)
        return refusal
    if request.headers.get("x-acs-version") != "2017-05-25":
        return _gateway_error(400, "InvalidVersion", "Specified parameter Version is not valid.")
    if action == "SendSms":
        return send_sms(sandbox, query)
    if action == "QuerySendDetails":
        return query_send_details(sandbox, query)
    return _gateway_error(
        404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."
    )


def send_sms(sandbox: Sandbox, query: dict[str, str]) -> Response:
    fault = sandbox.store.take_fault("aliyun")
    if fault and fault.mode == "throttle":
        return _gateway_error(400, "Throttling.User", "Request was denied due to user flow control.")
    if fault and fault.mode == "unavailable":
        return _gateway_error(
            503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
        )
    keys = sandbox.keys["aliyun"]
    phones = [p for p in query.get("PhoneNumbers", "").split(",") if p]
    if not phones or not all(phone_valid(p) for p in phones):
        return _business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    if query.get("SignName", "") not in keys["sign_names"]:
        return _business("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
    template = keys["templates"].get(query.get("TemplateCode", ""))
    if template is None:
        return _business("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
    try:
        params = json.loads(query["TemplateParam"]) if query.get("TemplateParam") else {}
        if not isinstance(params, dict):
            raise ValueError
    except ValueError:
        return _business("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
    text, missing = render_named(template["content"], params)
    if missing:
        return _business("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
    if (fault and fault.mode == "limit") or any(
        sandbox.store.per_phone_per_minute and sandbox.store.recent_count(p, 60) >= sandbox.store.per_phone_per_minute
        for p in phones
    ):
        return _business("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控Permits:10")
    ref = ""
    for phone in phones:
        message = sandbox.store.accept(
            provider="aliyun",
            ref=ref,
            phone=phone,
            sign_name=query["SignName"],
            template=query["TemplateCode"],
            params=params,
            text=f"【{query['SignName']}】{text}",
            out_id=query.get("OutId", ""),
        )
        ref = message.ref
        sandbox.receipts.schedule(message)
    response = _business("OK", "OK", BizId=ref)
    if fault and fault.mode == "timeout_after_accept":
        response.delay = fault.delay
    return response


def query_send_details(sandbox: Sandbox, query: dict[str, str]) -> Response:
    phone = query.get("PhoneNumber", "")
    send_date = query.get("SendDate", "")
    try:
        page_size = int(query.get("PageSize", "10"))
        page = int(query.get("CurrentPage", "1"))
    except ValueError:
        return _business("isv.INVALID_PARAMETERS", "参数异常")
    if not phone or len(send_date) != 8 or not 1 <= page_size <= 50 or page < 1:
        return _business("isv.INVALID_PARAMETERS", "参数异常")
    now = sandbox.store.now()
    cn = dt.timezone(dt.timedelta(hours=8))
    rows = []
    with sandbox.store.lock:
        for m in sandbox.store.messages:
            if m.provider != "aliyun" or m.phone != phone:
                continue
            accepted = dt.datetime.fromtimestamp(m.accepted_at, cn)
            if accepted.strftime("%Y%m%d") != send_date:
                continue
            if query.get("BizId") and query["BizId"] != m.ref:
                continue
            reported = m.reported(now)
            rows.append(
                {
                    "PhoneNum": m.phone,
                    "SendStatus": (3 if m.delivered else 2) if reported else 1,
                    "ErrCode": m.receipt_code if reported else "",
                    "TemplateCode": m.template,
                    "Content": m.text,
                    "SendDate": accepted.strftime("%Y-%m-%d %H:%M:%S"),
                    "ReceiveDate": accepted.strftime("%Y-%m-%d %H:%M:%S") if reported else "",
                    "OutId": m.out_id,
                }
            )
    chunk = rows[(page - 1) * page_size : page * page_size]
    return _business("OK", "OK", TotalCount=len(rows), SmsSendDetailDTOs={"SmsSendDetailDTO": chunk})
