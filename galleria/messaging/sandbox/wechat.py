"""WeChat as the sandbox speaks it: access tokens, mini-program subscribe messages, official-account template
messages, WeCom customer messages, and the events WeChat pushes back to the developer's server URL.

    POST /cgi-bin/stable_token                          {grant_type, appid, secret, force_refresh} → token
    GET  /cgi-bin/token?grant_type=client_credential&appid=…&secret=…
    GET  /cgi-bin/gettoken?corpid=…&corpsecret=…        (qyapi.weixin.qq.com, WeCom)
    POST /cgi-bin/message/subscribe/send?access_token=… (mini-program 订阅消息)
    POST /cgi-bin/message/template/send?access_token=…  (official account 模板消息)
    POST /cgi-bin/externalcontact/add_msg_template?access_token=… (WeCom 客户联系)
    GET  /sns/jscode2session?appid=…&secret=…&js_code=…&grant_type=authorization_code (mini-program sign-in)
    POST /wxa/business/getuserphonenumber?access_token=… {"code"} (mini-program phone number)

Answers are WeChat's `{"errcode": …, "errmsg": …}` with HTTP 200. Checked as WeChat does: the appid/secret
(40013 invalid appid, 40125 invalid appsecret; WeCom 40013 / 40001), the token (40001 unknown or of another app,
42001 expired — `POST /sandbox/control/wechat-expire-tokens` expires every issued token), the openid (40003: not one
of the app's users), the template id (40037), the data (47003: a keyword missing, extra, empty or over its type's
length — thing ≤ 20, number ≤ 32 digits, …), the subscription quota (43101: the user has no accept left for that
template; `POST /sandbox/control/wechat-quota {"openid", "template_id", "count"}` is what wx.requestSubscribeMessage
tells WeChat), and injected faults (`{"provider": "wechat", "mode": "busy"}` → errcode -1 system busy).

After each accepted send the event is pushed to the app's server URL (`--wechat-event-url-mini` / `-mp`), signed as
WeChat signs it (query `signature` = sha1 of the sorted token, timestamp and nonce; plain-text XML body): a
`subscribe_msg_sent_event` (mini-program) or `TEMPLATESENDJOBFINISH` (official account). An answer other than
HTTP 200 with an empty body or `success` is pushed again (3 tries in all, as WeChat does).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from .common import Request, Response

if TYPE_CHECKING:
    from .server import Sandbox

log = logging.getLogger("galleria.messaging.sandbox")
TOKEN_TTL_S = 7200
LIMITS = {
    "thing": 20,
    "name": 10,
    "phrase": 5,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "amount": 10,
    "phone_number": 17,
    "car_number": 8,
    "time": 40,
    "date": 40,
    "const": 20,
}
KEYWORD_RE = re.compile(r"^([a-z_]+?)(\d+)$")
EXTERNAL_RE = re.compile(r"^wm[A-Za-z0-9_-]{10,60}$")


@dataclass
class WechatMessage:
    id: int
    app: str  # mini | mp | wecom
    msgid: str
    recipient: str
    template_id: str
    data: dict[str, Any]
    text: str
    accepted_at: float
    event_pushes: int = 0
    event_acked: bool = False
    event_status: str = "success"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app": self.app,
            "msgid": self.msgid,
            "recipient": self.recipient,
            "template_id": self.template_id,
            "data": self.data,
            "text": self.text,
            "accepted_at": self.accepted_at,
            "event": {"pushes": self.event_pushes, "acked": self.event_acked, "status": self.event_status},
        }


@dataclass
class WechatState:
    tokens: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # token → (app, appid, expires_at)
    quota: dict[tuple[str, str], int] = field(default_factory=dict)  # (openid, template_id) → accepts left
    messages: list[WechatMessage] = field(default_factory=list)
    stable: dict[str, str] = field(default_factory=dict)  # appid → its current stable token
    extra_users: set[str] = field(default_factory=set)  # openids made known by a control call (tests, the demo)
    next_id: int = 1
    event_urls: dict[str, str] = field(default_factory=dict)  # mini | mp → the server URL
    # mini-program sign-in: wx.login codes → (openid, unionid, expires_at, used); getPhoneNumber codes → (phone, …)
    login_codes: dict[str, tuple[str, str, float, bool]] = field(default_factory=dict)
    phone_codes: dict[str, tuple[str, float, bool]] = field(default_factory=dict)
    event_delay: float = 0.5


def _err(code: int, msg: str, **extra: Any) -> Response:
    return Response.json(200, {"errcode": code, "errmsg": msg, **extra})


def _issue(state: WechatState, app: str, appid: str, now: float) -> tuple[str, int]:
    token = secrets.token_urlsafe(96)[:136]
    state.tokens[token] = (app, appid, now + TOKEN_TTL_S)
    return token, TOKEN_TTL_S


def _app_by_appid(keys: dict[str, Any], appid: str) -> str:
    for app in ("mini", "mp"):
        if keys[app]["appid"] == appid:
            return app
    return ""


def token_endpoint(sandbox: Sandbox, request: Request) -> Response:
    keys = sandbox.keys["wechat"]
    state = sandbox.wechat
    now = sandbox.store.now()
    if request.path == "/cgi-bin/gettoken":
        q = dict(parse_qsl(request.raw_query))
        if q.get("corpid") != keys["wecom"]["corpid"]:
            return _err(40013, "invalid corpid")
        if q.get("corpsecret") != keys["wecom"]["secret"]:
            return _err(40001, "invalid secret")
        with sandbox.store.lock:
            token, ttl = _issue(state, "wecom", q["corpid"], now)
        return _err(0, "ok", access_token=token, expires_in=ttl)
    if request.path == "/cgi-bin/stable_token":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _err(47001, "data format error")
        if not isinstance(body, dict):
            return _err(47001, "data format error")
        force = bool(body.get("force_refresh"))
    else:
        body = dict(parse_qsl(request.raw_query))
        force = True  # /cgi-bin/token always issues a new token (and invalidates the previous one)
    if body.get("grant_type") != "client_credential":
        return _err(40002, "invalid grant_type")
    appid = str(body.get("appid") or "")
    app = _app_by_appid(keys, appid)
    if not app:
        return _err(40013, "invalid appid")
    if body.get("secret") != keys[app]["secret"]:
        return _err(40125, "invalid appsecret")
    with sandbox.store.lock:
        current = state.stable.get(appid)
        if current and not force and current in state.tokens and state.tokens[current][2] > now + 300:
            return Response.json(200, {"access_token": current, "expires_in": int(state.tokens[current][2] - now)})
        if current and force:
            state.tokens.pop(current, None)  # the previous token stops working (5 minutes later on WeChat)
        token, ttl = _issue(state, app, appid, now)
        state.stable[appid] = token
    return Response.json(200, {"access_token": token, "expires_in": ttl})


def _token_app(sandbox: Sandbox, request: Request, app: str) -> Response | None:
    token = dict(parse_qsl(request.raw_query)).get("access_token", "")
    with sandbox.store.lock:
        found = sandbox.wechat.tokens.get(token)
    if found is None or found[0] != app:
        return _err(40001, "invalid credential, access_token is invalid or not latest")
    if found[2] <= sandbox.store.now():
        return _err(42001, "access_token expired")
    return None


def _data_problem(fields: dict[str, str], data: Any) -> str:
    if not isinstance(data, dict) or set(data) != set(fields):
        return "argument invalid! data keywords do not match the template"
    for key, item in data.items():
        value = item.get("value") if isinstance(item, dict) else None
        match = KEYWORD_RE.match(key)
        limit = LIMITS.get(match.group(1)) if match else None
        if not isinstance(value, str) or not value or limit is None or len(value) > limit:
            return f"argument invalid! data.{key}.value invalid"
        if match and match.group(1) == "number" and not re.fullmatch(r"[0-9.]+", value):
            return f"argument invalid! data.{key}.value invalid"
    return ""


def _render(data: dict[str, Any]) -> str:
    return " / ".join(f"{k}: {v.get('value')}" for k, v in data.items())


def send_endpoint(sandbox: Sandbox, request: Request) -> Response:
    keys = sandbox.keys["wechat"]
    app = {
        "/cgi-bin/message/subscribe/send": "mini",
        "/cgi-bin/message/template/send": "mp",
        "/cgi-bin/externalcontact/add_msg_template": "wecom",
    }[request.path]
    refused = _token_app(sandbox, request, app)
    verdict = "refused"
    try:
        if refused is not None:
            return refused
        fault = sandbox.store.take_fault("wechat")
        if fault is not None and fault.mode == "busy":
            verdict = "fault: busy"
            return _err(-1, "system error")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _err(47001, "data format error")
        if not isinstance(body, dict):
            return _err(47001, "data format error")
        response = _wecom(sandbox, body) if app == "wecom" else _send(sandbox, app, keys, body)
        verdict = "accepted" if json.loads(response.body).get("errcode") == 0 else "refused"
        return response
    finally:
        sandbox.store.log_request(
            {"provider": "wechat", "action": request.path, "verdict": verdict, "authorization": ""}
        )


def _send(sandbox: Sandbox, app: str, keys: dict[str, Any], body: dict[str, Any]) -> Response:
    openid = str(body.get("touser") or "")
    template_id = str(body.get("template_id") or "")
    if openid not in keys["users"] and openid not in sandbox.wechat.extra_users:
        return _err(40003, "invalid openid")
    spec = keys[app]["templates"].get(template_id)
    if spec is None:
        return _err(40037, "invalid template_id")
    problem = _data_problem(spec["fields"], body.get("data"))
    if problem:
        return _err(47003, problem)
    with sandbox.store.lock:
        state = sandbox.wechat
        if app == "mini":
            left = state.quota.get((openid, template_id), 0)
            if left <= 0:
                return _err(43101, "user refuse to accept the msg")
            state.quota[(openid, template_id)] = left - 1
        n = state.next_id
        state.next_id += 1
        msgid = str(int(time.time() * 1000) * 1000 + n % 1000)
        message = WechatMessage(
            id=n,
            app=app,
            msgid=msgid,
            recipient=openid,
            template_id=template_id,
            data=body["data"],
            text=_render(body["data"]),
            accepted_at=sandbox.store.now(),
        )
        state.messages.append(message)
    sandbox.wechat_events.schedule(message)
    return _err(0, "ok", msgid=int(msgid))


def _wecom(sandbox: Sandbox, body: dict[str, Any]) -> Response:
    keys = sandbox.keys["wechat"]["wecom"]
    sender = str(body.get("sender") or "")
    if sender not in keys["staff"]:
        return _err(60111, "invalid string value `sender`")
    text = body.get("text") or {}
    if not isinstance(text, dict) or not text.get("content") or len(str(text["content"]).encode()) > 4000:
        return _err(41035, "missing text content or content too long")
    ids = body.get("external_userid") or []
    if not isinstance(ids, list) or not ids or len(ids) > 10000:
        return _err(40003, "invalid external_userid list")
    fail = [i for i in ids if not isinstance(i, str) or not EXTERNAL_RE.match(i)]
    with sandbox.store.lock:
        state = sandbox.wechat
        n = state.next_id
        state.next_id += 1
        msgid = "msg" + secrets.token_urlsafe(20)
        state.messages.append(
            WechatMessage(
                id=n,
                app="wecom",
                msgid=msgid,
                recipient=",".join(i for i in ids if i not in fail),
                template_id="",
                data={"sender": sender},
                text=f"[{sender} to confirm] {text['content']}",
                accepted_at=sandbox.store.now(),
                event_status="waiting for the staff member",
            )
        )
    return _err(0, "ok", fail_list=fail, msgid=msgid)


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode(), usedforsecurity=False).hexdigest()


def event_xml(sandbox: Sandbox, message: WechatMessage) -> str:
    keys = sandbox.keys["wechat"]
    now = int(sandbox.store.now())
    to = "gh_" + keys[message.app]["appid"][2:14]
    if message.app == "mini":
        return (
            f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{message.recipient}]]>"
            f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            "<Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent><List>"
            f"<TemplateId><![CDATA[{message.template_id}]]></TemplateId><MsgID>{message.msgid}</MsgID>"
            f"<ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[{message.event_status}]]></ErrorStatus>"
            "</List></SubscribeMsgSentEvent></xml>"
        )
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{message.recipient}]]></FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>{message.msgid}</MsgID>"
        f"<Status><![CDATA[{message.event_status}]]></Status></xml>"
    )


class EventPusher:
    """Pushes each accepted message's event to its app's server URL after `delay` seconds, 3 tries in all."""

    def __init__(self, sandbox: Sandbox, *, delay: float = 0.5, timeout: float = 5.0) -> None:
        self.sandbox = sandbox
        self.delay = delay
        self.timeout = timeout

    def schedule(self, message: WechatMessage) -> None:
        url = self.sandbox.wechat.event_urls.get(message.app, "")
        if not url:
            return
        threading.Thread(target=self._push, args=(message, url), daemon=True, name="wechat-event").start()

    def push_now(self, message: WechatMessage) -> bool:
        url = self.sandbox.wechat.event_urls.get(message.app, "")
        return bool(url) and self._push_once(message, url)

    def _push(self, message: WechatMessage, url: str) -> None:
        time.sleep(self.delay)
        for attempt in range(3):
            if message.event_acked or self._push_once(message, url):
                return
            time.sleep(self.delay * 2**attempt)

    def _push_once(self, message: WechatMessage, url: str) -> bool:
        token = self.sandbox.keys["wechat"][message.app]["token"]
        timestamp = str(int(self.sandbox.store.now()))
        nonce = str(secrets.randbelow(10**10))
        query = urlencode(
            {
                "signature": signature(token, timestamp, nonce),
                "timestamp": timestamp,
                "nonce": nonce,
                "openid": message.recipient,
            }
        )
        full = url + ("&" if "?" in url else "?") + query
        ok = False
        try:
            req = urllib.request.Request(  # noqa: S310 - the configured server URL (http on this machine)
                full,
                data=event_xml(self.sandbox, message).encode(),
                method="POST",
                headers={"Content-Type": "text/xml"},
            )
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                ok = resp.status == 200 and resp.read().strip() in (b"", b"success")
        except Exception as exc:  # the server is down or refused: WeChat tries again
            log.info("wechat event push failed: %s", exc)
        message.event_pushes += 1
        message.event_acked = message.event_acked or ok
        return ok


LOGIN_CODE_TTL_S = 300  # a wx.login code works once, for five minutes


def jscode2session(sandbox: Sandbox, request: Request) -> Response:
    """GET /sns/jscode2session?appid=…&secret=…&js_code=…&grant_type=authorization_code (auth.code2Session):
    {"openid", "session_key", "unionid"?, "errcode": 0, "errmsg": "ok"}; 40013 invalid appid (or not the
    mini-program's), 40125 invalid appsecret, 40029 invalid code (unknown or expired), 40163 code been used."""
    q = dict(parse_qsl(request.raw_query))
    keys = sandbox.keys["wechat"]["mini"]
    if q.get("appid") != keys["appid"]:
        return _err(40013, "invalid appid")
    if q.get("secret") != keys["secret"]:
        return _err(40125, "invalid appsecret")
    if q.get("grant_type") != "authorization_code":
        return _err(40002, "invalid grant_type")
    now = sandbox.store.now()
    with sandbox.store.lock:
        found = sandbox.wechat.login_codes.get(q.get("js_code", ""))
        if found is None or found[2] <= now:
            return _err(40029, "invalid code")
        openid, unionid, expires_at, used = found
        if used:
            return _err(40163, "code been used")
        sandbox.wechat.login_codes[q["js_code"]] = (openid, unionid, expires_at, True)
        sandbox.wechat.extra_users.add(openid)
    answer: dict[str, Any] = {"openid": openid, "session_key": secrets.token_urlsafe(18)[:24]}
    if unionid:
        answer["unionid"] = unionid
    return _err(0, "ok", **answer)


def getuserphonenumber(sandbox: Sandbox, request: Request) -> Response:
    """POST /wxa/business/getuserphonenumber?access_token=… {"code"} (phonenumber.getPhoneNumber, the code from a
    <button open-type="getPhoneNumber">): {"errcode": 0, "errmsg": "ok", "phone_info": {"phoneNumber",
    "purePhoneNumber", "countryCode", "watermark": {"timestamp", "appid"}}}; 40001/42001 token, 40029 invalid code."""
    refused = _token_app(sandbox, request, "mini")
    if refused is not None:
        return refused
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _err(47001, "data format error")
    code = str(body.get("code") or "") if isinstance(body, dict) else ""
    now = sandbox.store.now()
    with sandbox.store.lock:
        found = sandbox.wechat.phone_codes.get(code)
        if found is None or found[1] <= now or found[2]:
            return _err(40029, "invalid code")
        sandbox.wechat.phone_codes[code] = (found[0], found[1], True)
    pure = found[0]
    info = {
        "phoneNumber": pure,
        "purePhoneNumber": pure,
        "countryCode": "86",
        "watermark": {"timestamp": int(now), "appid": sandbox.keys["wechat"]["mini"]["appid"]},
    }
    return _err(0, "ok", phone_info=info)


def control(sandbox: Sandbox, name: str, data: dict[str, Any]) -> Response | None:
    state = sandbox.wechat
    if name == "wechat-login":
        # what wx.login (and a getPhoneNumber button) give a mini-program on a phone: {"openid", "unionid"?,
        # "phone"?} → {"code", "phone_code"}
        openid = str(data.get("openid") or "o" + secrets.token_urlsafe(20)[:27])
        expires_at = sandbox.store.now() + LOGIN_CODE_TTL_S
        code, phone_code = secrets.token_urlsafe(24)[:32], ""
        with sandbox.store.lock:
            state.login_codes[code] = (openid, str(data.get("unionid") or ""), expires_at, False)
            if data.get("phone"):
                phone_code = secrets.token_urlsafe(24)[:32]
                state.phone_codes[phone_code] = (str(data["phone"]), expires_at, False)
        return Response.json(200, {"code": code, "phone_code": phone_code, "openid": openid})
    if name == "wechat-quota":
        openid, template_id = str(data.get("openid") or ""), str(data.get("template_id") or "")
        with sandbox.store.lock:
            if openid not in sandbox.keys["wechat"]["users"]:
                state.extra_users.add(openid)
            state.quota[(openid, template_id)] = max(0, int(data.get("count", 1)))
        return Response.json(200, {"ok": True})
    if name == "wechat-expire-tokens":
        with sandbox.store.lock:
            for token, (app, appid, _) in list(state.tokens.items()):
                state.tokens[token] = (app, appid, 0.0)
        return Response.json(200, {"ok": True, "expired": len(state.tokens)})
    if name == "wechat-user":
        with sandbox.store.lock:
            state.extra_users.add(str(data.get("openid") or ""))
        return Response.json(200, {"ok": True})
    if name == "wechat-events":
        with sandbox.store.lock:
            pending = [m for m in state.messages if m.app != "wecom" and not m.event_acked]
        return Response.json(200, {"pushed": sum(1 for m in pending if sandbox.wechat_events.push_now(m))})
    return None
