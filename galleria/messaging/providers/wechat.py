"""WeChat messages on `wechatpy` (1.8.18): mini-program subscribe messages (订阅消息), official-account template
messages (模板消息) and WeCom customer messages (企业微信 `externalcontact/add_msg_template`).

wechatpy's clients are used for what they do well — the requests session, JSON encoding of Chinese text, the
errcode handling — pointed at the real hosts or the local sandbox by `API_BASE_URL` (a subclass per instance, see
`_client_class`). Three things are Galleria's own, because wechatpy does them in a way that does not fit:

- **The token**: wechatpy keeps the expiry in the client object (per process) and retries a 40001 without limit.
  Here the token lives in a shared `TokenStore` (the messaging app gives one backed by a table, so every worker uses
  the same token) until shortly before its expiry, is fetched with `POST /cgi-bin/stable_token` (mini-program and
  official account; the stable token does not invalidate the token other servers hold) or `GET /cgi-bin/gettoken`
  (WeCom), and a send answered 40001/42001/40014 drops it, fetches a new one (`force_refresh` for the stable token)
  and is retried **once**.
- **The sends**: wechatpy's `wxa.send_subscribe_message` carries a fixed api.weixin.qq.com base, so the sends go
  through `client.post(<path>)` with the same bodies wechatpy builds.
- **Errors** become `WechatError` with a retry class (`classify`).

Plain Python: no Django here (an import-linter contract checks it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import requests

# wechatpy itself is imported where it is used (≈ 0.1 s): every process that imports messaging's services need not
# pay for it, only the ones that send.

MP_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
WECOM_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/"
TOKEN_MARGIN_S = 300  # a token is replaced this long before WeChat's expires_in runs out
TOKEN_INVALID = frozenset({40001, 42001, 40014})  # invalid credential, expired token, invalid token
RETRYABLE = frozenset({-1, 45009, 45011, 44002})  # system busy; API frequency limits; empty post (a broken proxy)
# Final refusals worth a name in the docs: 43101 user refused / no quota, 40003 invalid openid, 47003 bad template
# data, 40037 invalid template id, 43116 template banned, 48001 API unauthorised, 40013 invalid appid. Anything not
# retryable is final.


class TokenStore(Protocol):
    """Where access tokens are shared between processes (the messaging app's table)."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, token: str, ttl_s: int) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryTokenStore:
    """A per-process store (tests of the adapter alone)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, float]] = {}

    def get(self, key: str) -> str | None:
        row = self._rows.get(key)
        return row[0] if row and row[1] > time.time() else None

    def set(self, key: str, token: str, ttl_s: int) -> None:
        self._rows[key] = (token, time.time() + ttl_s)

    def delete(self, key: str) -> None:
        self._rows.pop(key, None)


class WechatError(Exception):
    """A send that did not (or may not have) happen. `retryable`: worth another attempt later."""

    def __init__(self, code: str, detail: str = "", *, retryable: bool) -> None:
        super().__init__(f"{code}: {detail}"[:300])
        self.code = code[:80]
        self.detail = detail
        self.retryable = retryable


def classify(errcode: int | None, errmsg: str = "", *, status: int | None = None) -> WechatError:
    if errcode is None:  # an HTTP error without a WeChat body
        return WechatError(f"http_{status or 0}", errmsg, retryable=status is None or status >= 500 or status == 429)
    return WechatError(str(errcode), errmsg, retryable=errcode in RETRYABLE)


@dataclass(frozen=True)
class WechatApp:
    """Credentials of one WeChat app: a mini-program or official account (appid/secret) or a WeCom corp
    (corpid/corpsecret of the 客户联系 secret)."""

    kind: str  # "mini" | "mp" | "wecom"
    appid: str
    secret: str
    base_url: str  # https://api.weixin.qq.com/cgi-bin/ (or the sandbox's …/cgi-bin/)

    @property
    def token_key(self) -> str:
        return f"wechat:{self.kind}:{self.appid}"


def _client_class(base: type[Any], base_url: str) -> type[Any]:
    return type(base.__name__ + "AtBase", (base,), {"API_BASE_URL": base_url})


class WechatSender:
    """Sends through one WeChat app. Built once per process and configuration; no network call in the constructor."""

    def __init__(self, *, app: WechatApp, tokens: TokenStore, timeout_s: float = 10.0) -> None:
        self.app = app
        self.tokens = tokens
        self.timeout_s = timeout_s
        from wechatpy.client import WeChatClient
        from wechatpy.enterprise.client import WeChatClient as WeComClient

        base = app.base_url if app.base_url.endswith("/") else app.base_url + "/"
        if app.kind == "wecom":
            self.client = _client_class(WeComClient, base)(app.appid, app.secret, timeout=timeout_s, auto_retry=False)
        else:
            self.client = _client_class(WeChatClient, base)(app.appid, app.secret, timeout=timeout_s, auto_retry=False)
        self.base_url = base

    # -- tokens ------------------------------------------------------------------------------------------------
    def _fetch_token(self, *, force: bool) -> str:
        try:
            if self.app.kind == "wecom":
                res = self.client._http.get(
                    self.base_url + "gettoken",
                    params={"corpid": self.app.appid, "corpsecret": self.app.secret},
                    timeout=self.timeout_s,
                )
            else:
                res = self.client._http.post(
                    self.base_url + "stable_token",
                    json={
                        "grant_type": "client_credential",
                        "appid": self.app.appid,
                        "secret": self.app.secret,
                        "force_refresh": force,
                    },
                    timeout=self.timeout_s,
                )
        except requests.RequestException as exc:
            raise WechatError("network", f"token: {type(exc).__name__}", retryable=True) from exc
        if res.status_code >= 400:
            raise classify(None, "token request refused", status=res.status_code)
        try:
            data = res.json()
        except ValueError as exc:
            raise WechatError("bad_answer", "token answer is not JSON", retryable=True) from exc
        if int(data.get("errcode") or 0) != 0 or not data.get("access_token"):
            raise classify(int(data.get("errcode") or -2), str(data.get("errmsg") or "no access_token"))
        token = str(data["access_token"])
        ttl = max(60, int(data.get("expires_in") or 7200) - TOKEN_MARGIN_S)
        self.tokens.set(self.app.token_key, token, ttl)
        return token

    def access_token(self, *, force: bool = False) -> str:
        if not force:
            cached = self.tokens.get(self.app.token_key)
            if cached:
                return cached
        else:
            self.tokens.delete(self.app.token_key)
        return self._fetch_token(force=force)

    # -- calls -------------------------------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST through wechatpy's client with the shared token; on an invalid/expired token: refresh, retry once."""
        from wechatpy.exceptions import WeChatClientException

        for attempt in (1, 2):
            token = self.access_token(force=attempt == 2)
            try:
                result = self.client.post(path, params={"access_token": token}, data=body)
            except WeChatClientException as exc:
                if exc.errcode is None:  # HTTP error status, no WeChat body
                    status = getattr(getattr(exc, "response", None), "status_code", None)
                    raise classify(None, "HTTP error", status=status) from exc
                code = int(exc.errcode)
                if code in TOKEN_INVALID and attempt == 1:
                    continue
                raise classify(code, str(exc.errmsg or "")) from exc
            except requests.RequestException as exc:
                raise WechatError("network", type(exc).__name__, retryable=True) from exc
            if not isinstance(result, dict):
                raise WechatError("bad_answer", "answer is not JSON", retryable=True)
            return result
        raise WechatError("40001", "token refused twice", retryable=True)  # pragma: no cover - loop always returns

    def send_subscribe(self, *, openid: str, template_id: str, data: dict[str, str], page: str = "") -> str:
        """subscribeMessage.send: POST /cgi-bin/message/subscribe/send. Returns the msgid ("" if none given)."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if page:
            body["page"] = page
        return str(self._post("message/subscribe/send", body).get("msgid") or "")

    def send_template(
        self, *, openid: str, template_id: str, data: dict[str, str], url: str = "", miniprogram: dict[str, str] | None
    ) -> str:
        """模板消息: POST /cgi-bin/message/template/send. Returns the msgid."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            body["url"] = url
        if miniprogram:
            body["miniprogram"] = miniprogram
        return str(self._post("message/template/send", body).get("msgid") or "")

    def wecom_add_msg_template(self, *, sender: str, external_userids: list[str], text: str) -> str:
        """企业微信 客户联系 群发: POST /cgi-bin/externalcontact/add_msg_template. Creates the task; the staff member
        `sender` confirms it in WeCom before anything reaches the customer. Returns the msgid."""
        body = {
            "chat_type": "single",
            "external_userid": external_userids,
            "sender": sender,
            "text": {"content": text},
        }
        result = self._post("externalcontact/add_msg_template", body)
        fails = result.get("fail_list") or []
        if fails and len(fails) >= len(external_userids):
            raise WechatError("wecom.fail_list", "no customer could be sent to", retryable=False)
        return str(result.get("msgid") or "")


__all__ = [
    "MemoryTokenStore",
    "TokenStore",
    "WechatApp",
    "WechatError",
    "WechatEvent",
    "WechatSender",
    "classify",
    "parse_events",
]


@dataclass(frozen=True)
class WechatEvent:
    """A delivery receipt pushed to the server URL: subscribe_msg_sent_event (one per List item) or
    TEMPLATESENDJOBFINISH. `status`: "success", or WeChat's failure text ("failed:user block", "fail_system" …)."""

    event: str
    msgid: str
    openid: str
    status: str

    @property
    def delivered(self) -> bool:
        return self.status == "success"


def parse_events(body: bytes) -> list[WechatEvent]:
    """The receipts in a plain-text (明文模式) XML push; other events and messages give []. ValueError for a body
    that is not WeChat's XML. Entities are not expanded (xmltodict's default)."""
    import xmltodict  # wechatpy's dependency

    try:
        doc = xmltodict.parse(body, disable_entities=True)
    except Exception as exc:  # expat's errors
        raise ValueError("not XML") from exc
    xml = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(xml, dict):
        raise ValueError("no <xml> root")
    event = str(xml.get("Event") or "")
    openid = str(xml.get("FromUserName") or "")
    if event == "TEMPLATESENDJOBFINISH":
        return [WechatEvent(event, str(xml.get("MsgID") or ""), openid, str(xml.get("Status") or ""))]
    if event == "subscribe_msg_sent_event":
        items = (xml.get("SubscribeMsgSentEvent") or {}).get("List") or []
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            raise ValueError("SubscribeMsgSentEvent without List")
        return [
            WechatEvent(event, str(i.get("MsgID") or ""), openid, str(i.get("ErrorStatus") or ""))
            for i in items
            if isinstance(i, dict)
        ]
    return []


@dataclass(frozen=True)
class MiniProgramSession:
    """What auth.code2Session returns for a wx.login code (the session_key is not kept: Galleria decrypts nothing)."""

    openid: str
    unionid: str


class MiniProgramAuth:
    """Mini-program sign-in against WeChat (or the sandbox at the same paths): `code2session` turns a wx.login code
    into the user's openid (and unionid when the mini-program is bound to an open platform account); `phone_number`
    turns a getPhoneNumber button's code into the verified phone number (phonenumber.getPhoneNumber, with the
    mini-program's access token from the shared store). Plain HTTPS through `requests`."""

    def __init__(self, *, sender: WechatSender) -> None:
        if sender.app.kind != "mini":
            raise ValueError("a mini-program app is needed")
        self.sender = sender
        root = sender.base_url[: -len("cgi-bin/")] if sender.base_url.endswith("cgi-bin/") else sender.base_url
        self.root = root if root.endswith("/") else root + "/"

    def _answer(self, res: requests.Response) -> dict[str, Any]:
        if res.status_code >= 400:
            raise classify(None, "HTTP error", status=res.status_code)
        try:
            data = res.json()
        except ValueError as exc:
            raise WechatError("bad_answer", "answer is not JSON", retryable=True) from exc
        if not isinstance(data, dict):
            raise WechatError("bad_answer", "answer is not an object", retryable=True)
        code = int(data.get("errcode") or 0)
        if code != 0:
            raise classify(code, str(data.get("errmsg") or ""))
        return data

    def code2session(self, *, js_code: str) -> MiniProgramSession:
        """GET /sns/jscode2session. 40029 (invalid code) and 40163 (code used) are final."""
        try:
            res = self.sender.client._http.get(
                self.root + "sns/jscode2session",
                params={
                    "appid": self.sender.app.appid,
                    "secret": self.sender.app.secret,
                    "js_code": js_code,
                    "grant_type": "authorization_code",
                },
                timeout=self.sender.timeout_s,
            )
        except requests.RequestException as exc:
            raise WechatError("network", type(exc).__name__, retryable=True) from exc
        data = self._answer(res)
        if not data.get("openid"):
            raise WechatError("bad_answer", "no openid", retryable=True)
        return MiniProgramSession(openid=str(data["openid"]), unionid=str(data.get("unionid") or ""))

    def phone_number(self, *, code: str) -> str:
        """POST /wxa/business/getuserphonenumber: the phone number the user chose to share (purePhoneNumber with
        its countryCode as +<cc><number>). An invalid or expired token is fetched again once."""
        for attempt in (1, 2):
            token = self.sender.access_token(force=attempt == 2)
            try:
                res = self.sender.client._http.post(
                    self.root + "wxa/business/getuserphonenumber",
                    params={"access_token": token},
                    json={"code": code},
                    timeout=self.sender.timeout_s,
                )
            except requests.RequestException as exc:
                raise WechatError("network", type(exc).__name__, retryable=True) from exc
            try:
                data = self._answer(res)
            except WechatError as exc:
                if exc.code.isdigit() and int(exc.code) in TOKEN_INVALID and attempt == 1:
                    continue
                raise
            info = data.get("phone_info") or {}
            pure, country = str(info.get("purePhoneNumber") or ""), str(info.get("countryCode") or "86")
            if not pure:
                raise WechatError("bad_answer", "no phone number", retryable=True)
            return f"+{country}{pure}"
        raise WechatError("40001", "token refused twice", retryable=True)  # pragma: no cover
