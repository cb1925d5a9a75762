"""The SMS sandbox's own checks, on requests built by hand (no SDK, no HTTP): what a forged, replayed, stale or
tampered request gets. (The SDKs' real requests against the sandbox process: test_channels.py.)"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from urllib.parse import urlencode

import pytest

from galleria.messaging.sandbox import keys as sandbox_keys
from galleria.messaging.sandbox import signing
from galleria.messaging.sandbox.common import Request
from galleria.messaging.sandbox.receipts import ReceiptPusher
from galleria.messaging.sandbox.server import Sandbox
from galleria.messaging.sandbox.state import Store


@pytest.fixture
def sandbox():
    store = Store(report_delay=0.0, per_phone_per_minute=0)
    return Sandbox(keys_data=sandbox_keys.generate(), store=store, receipts=ReceiptPusher(store=store, urls={}))


def aliyun_request(sandbox, *, secret=None, nonce=None, date=None, params=None, key_id=None, tamper=False):
    keys = sandbox.keys["aliyun"]
    template = next(iter(keys["templates"]))
    query = params or {
        "PhoneNumbers": "13812345678",
        "SignName": "Galleria",
        "TemplateCode": template,
        "TemplateParam": json.dumps({"code": "123456", "minutes": "5"}),
        "OutId": "gsms-1",
    }
    body = b""
    headers = {
        "host": "127.0.0.1:8766",
        "x-acs-action": "SendSms",
        "x-acs-version": "2017-05-25",
        "x-acs-date": date or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": signing.sha256_hex(body),
        "accept": "application/json",
    }
    signed = sorted(headers)
    signature = signing.acs3_signature(
        secret=secret or keys["access_key_secret"],
        method="POST",
        path="/",
        query=list(query.items()),
        headers=headers,
        signed_headers=signed,
        payload_hash=headers["x-acs-content-sha256"],
    )
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key_id or keys['access_key_id']},SignedHeaders={';'.join(signed)},"
        f"Signature={signature}"
    )
    raw = urlencode(query)
    if tamper:
        raw = raw.replace("123456", "654321")
    return Request("POST", "/?" + raw, "/", raw, headers, body)


def tencent_request(sandbox, *, secret_key=None, secret_id=None, timestamp=None, tamper=False):
    keys = sandbox.keys["tencent"]
    payload = {
        "PhoneNumberSet": ["+8613812345678"],
        "SmsSdkAppId": keys["sdk_app_id"],
        "SignName": "Galleria",
        "TemplateId": next(iter(keys["templates"])),
        "TemplateParamSet": ["123456", "5"],
    }
    body = json.dumps(payload).encode()
    ts = str(timestamp or int(time.time()))
    date = dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%d")
    headers = {
        "content-type": "application/json",
        "host": "127.0.0.1:8766",
        "x-tc-action": "SendSms",
        "x-tc-version": "2021-01-11",
        "x-tc-timestamp": ts,
    }
    signature = signing.tc3_signature(
        secret_key=secret_key or keys["secret_key"],
        method="POST",
        path="/",
        query="",
        headers=headers,
        signed_headers=["content-type", "host"],
        body=body,
        timestamp=ts,
        date=date,
        service="sms",
    )
    headers["authorization"] = (
        f"TC3-HMAC-SHA256 Credential={secret_id or keys['secret_id']}/{date}/sms/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )
    if tamper:
        body = body.replace(b"123456", b"654321")
    return Request("POST", "/", "/", "", headers, body)


def answer(response):
    return response.status, json.loads(response.body)


def test_a_well_signed_aliyun_request_is_accepted(sandbox):
    status, body = answer(sandbox.dispatch(aliyun_request(sandbox)))
    assert status == 200 and body["Code"] == "OK" and body["BizId"]
    assert sandbox.store.messages[0].text == "【Galleria】您的验证码为123456，5分钟内有效，请勿泄露于他人。"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"secret": "wrong"}, 400, "SignatureDoesNotMatch"),
        ({"tamper": True}, 400, "SignatureDoesNotMatch"),
        ({"key_id": "LTAIunknown"}, 404, "InvalidAccessKeyId.NotFound"),
        ({"date": "2020-01-01T00:00:00Z"}, 400, "InvalidTimeStamp.Expired"),
    ],
)
def test_aliyun_refuses_bad_requests(sandbox, change, status, code):
    got_status, body = answer(sandbox.dispatch(aliyun_request(sandbox, **change)))
    assert (got_status, body["Code"]) == (status, code)
    assert not sandbox.store.messages


def test_aliyun_refuses_a_replayed_nonce(sandbox):
    assert answer(sandbox.dispatch(aliyun_request(sandbox, nonce="n-1")))[1]["Code"] == "OK"
    assert answer(sandbox.dispatch(aliyun_request(sandbox, nonce="n-1")))[1]["Code"] == "SignatureNonceUsed"
    assert len(sandbox.store.messages) == 1


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"SignName": "别的签名"}, "isv.SMS_SIGNATURE_ILLEGAL"),
        ({"TemplateCode": "SMS_0"}, "isv.SMS_TEMPLATE_ILLEGAL"),
        ({"TemplateParam": json.dumps({"code": "1"})}, "isv.TEMPLATE_MISSING_PARAMETERS"),
        ({"PhoneNumbers": "1234"}, "isv.MOBILE_NUMBER_ILLEGAL"),
    ],
)
def test_aliyun_checks_sign_template_parameters_and_phone(sandbox, params, code):
    keys = sandbox.keys["aliyun"]
    base = {
        "PhoneNumbers": "13812345678",
        "SignName": "Galleria",
        "TemplateCode": next(iter(keys["templates"])),
        "TemplateParam": json.dumps({"code": "123456", "minutes": "5"}),
    }
    status, body = answer(sandbox.dispatch(aliyun_request(sandbox, params={**base, **params})))
    assert status == 200 and body["Code"] == code  # business refusals are HTTP 200, as Aliyun answers them


def test_a_well_signed_tencent_request_is_accepted(sandbox):
    response = sandbox.dispatch(tencent_request(sandbox))
    assert response.content_type == "application/json"  # exactly: the SDK parses errors only with this type
    [status] = json.loads(response.body)["Response"]["SendStatusSet"]
    assert status["Code"] == "Ok" and status["SerialNo"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"secret_key": "wrong"}, "AuthFailure.SignatureFailure"),
        ({"tamper": True}, "AuthFailure.SignatureFailure"),
        ({"secret_id": "AKIDunknown"}, "AuthFailure.SecretIdNotFound"),
        ({"timestamp": int(time.time()) - 600}, "AuthFailure.SignatureExpire"),
    ],
)
def test_tencent_refuses_bad_requests(sandbox, change, code):
    status, body = answer(sandbox.dispatch(tencent_request(sandbox, **change)))
    assert status == 200 and body["Response"]["Error"]["Code"] == code
    assert not sandbox.store.messages
