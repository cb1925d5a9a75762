"""The adapters lean on private parts of the pinned SDKs (docs/design/payments-gateways.md): these tests fail
the day an upgrade moves them, before a payment does."""

from __future__ import annotations

import datetime as dt
import inspect
from importlib.metadata import version
from zoneinfo import ZoneInfo

import pytest
from alipay import AliPay
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core

from galleria.payments.gateways.alipay import AlipayGateway, GalleriaAliPay
from galleria.payments.gateways.wechat import WechatGateway
from galleria.payments.sandbox import keys as sandbox_keys
from galleria.payments.sandbox.signing import oaep_decrypt
from galleria.payments.testing import alipay_config, wechat_config


@pytest.fixture(scope="module")
def keys():
    return sandbox_keys.generate()


def test_the_pinned_versions_are_installed():
    assert version("wechatpayv3") == "2.0.4"
    assert version("python-alipay-sdk") == "3.4.0"
    assert version("stamina") == "26.1.0"


def test_wechatpay_keeps_its_gateway_in_core_gate_way(keys):
    wx = keys["wechat"]
    sdk = WeChatPay(
        wechatpay_type=WeChatPayType.JSAPI,
        mchid=wx["mchid"],
        private_key=wx["merchant_private_key"],
        cert_serial_no=wx["merchant_serial_no"],
        appid=wx["appid"],
        apiv3_key=wx["apiv3_key"],
        public_key=wx["platform_public_key"],
        public_key_id=wx["platform_public_key_id"],
        timeout=(1, 1),
    )
    assert sdk._core._gate_way == "https://api.mch.weixin.qq.com"
    assert sdk._core._timeout == (1, 1)
    params = inspect.signature(Core.request).parameters
    assert {"path", "method", "data", "skip_verify", "cipher_data"} <= set(params)


def test_the_adapter_points_the_sdk_at_the_configured_base_url(keys):
    gateway = WechatGateway(wechat_config(keys, "http://127.0.0.1:9/", notify_url="http://n/"))
    assert gateway.sdk._core._gate_way == "http://127.0.0.1:9"
    assert gateway.sdk._core._timeout == (3.0, 5.0)


def test_download_bill_strips_the_gateway_prefix_only_for_urls_under_it(keys):
    gateway = WechatGateway(wechat_config(keys, "http://127.0.0.1:9", notify_url="http://n/"))
    seen = []
    gateway.sdk._core.request = lambda path, **kw: seen.append((path, kw)) or (200, b"")
    gateway.sdk.download_bill(url="http://127.0.0.1:9/v3/billdownload/file?token=abc")
    assert seen == [("/v3/billdownload/file?token=abc", {"skip_verify": True})]


def test_alipay_keeps_its_gateway_in_underscore_gateway_and_the_subclass_sends_beijing_time(keys):
    ali = keys["alipay"]
    plain = AliPay(
        appid=ali["app_id"],
        app_private_key_string=ali["app_private_key"],
        alipay_public_key_string=ali["alipay_public_key"],
    )
    assert plain._gateway == "https://openapi.alipay.com/gateway.do"
    assert "biz_content" in inspect.signature(AliPay.build_body).parameters

    gateway = AlipayGateway(alipay_config(keys, "http://127.0.0.1:9", notify_url="http://n/"))
    assert isinstance(gateway.sdk, GalleriaAliPay)
    assert gateway.sdk._gateway == "http://127.0.0.1:9/gateway.do"
    sent = dt.datetime.strptime(
        gateway.sdk.build_body("alipay.trade.query", {"out_trade_no": "x"})["timestamp"], "%Y-%m-%d %H:%M:%S"
    )
    beijing = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs((beijing - sent).total_seconds()) < 60


def test_profitsharing_order_still_encrypts_names_in_place_so_each_attempt_needs_a_fresh_list(keys):
    """Why WechatGateway.profit_share rebuilds its receivers per attempt; if the SDK stops mutating, this fails
    and the comment there can be revisited."""
    gateway = WechatGateway(wechat_config(keys, "http://127.0.0.1:9", notify_url="http://n/"))
    gateway.sdk._core.request = lambda path, **kw: (200, "{}")
    receivers = [{"type": "MERCHANT_ID", "account": "1900000001", "amount": 10, "description": "d", "name": "商户甲"}]
    gateway.sdk.profitsharing_order(transaction_id="42", out_order_no="P1", receivers=receivers, unfreeze_unsplit=False)
    assert receivers[0]["name"] != "商户甲"
    assert oaep_decrypt(sandbox_keys.GatewayKeys.from_raw(keys).platform_private, receivers[0]["name"]) == "商户甲"
