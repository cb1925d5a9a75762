"""The sandbox "WeChat app" for 智慧商圈 members: web authorisation (网页授权) and the 商圈 points authorisation.

- `GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope=snsapi_base&state` — the page that
  asks "允许 星河广场 获取你的身份信息？"; Allow sends the browser to `redirect_uri?code=…&state=…` (a code lives
  5 minutes and works once), Deny to `redirect_uri?state=…` (no code).
- `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code` — the code for the openid, as
  WeChat answers it: always HTTP 200, JSON with `errcode` on failure (40029 invalid code, 40163 code been used,
  40125 invalid appsecret, 40013 invalid appid, 40002 invalid grant_type), errmsg with a `rid`.
- `GET|POST /sandbox/wechat/mall-auth?return_url&notify_url` — stands for WeChat's own 商圈 authorisation UI (in
  reality a WeChat Pay page the mall opens from its Official Account or mini-program): Authorise records the
  authorisation and sends MALL_AUTH.ACTIVATE_CARD to `notify_url` (in reality the 商圈 callback configured at the
  merchant platform), then goes back to `return_url`.
- `POST /sandbox/control/oauth-app {name}` — the Official Account's display name on these pages (default: the
  merchant name in keys.json); `GET /sandbox/control/mall-txn?transaction_id=` — the sandbox's record of a 商圈
  payment (whether its points were reported, and what).

Who is the WeChat user? The browser: a cookie `sbx_wx_user` (set on first visit; the page lets a tester act as
another user). The openid is derived from the appid and that user, so the same browser always gets the same openid
under one appid, like WeChat. The AppSecret is derived from keys.json (`oauth_secret`), so the keys file keeps its
format and Galleria's sandbox credentials compute the same value. Codes are kept in memory only (5-minute life).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import weakref
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from . import control
from .keys import rand_ascii
from .pages import _CSS, _message, _page
from .server import Request, Response, route

if TYPE_CHECKING:
    from .server import Sandbox

CODE_TTL_S = 300.0
USER_COOKIE = "sbx_wx_user"
_JSON_CT = "application/json; encoding=utf-8"  # what api.weixin.qq.com sends


def oauth_secret(raw_keys: dict[str, Any]) -> str:
    """The sandbox Official Account's AppSecret: 32 hex characters derived from keys.json."""
    wx = raw_keys["wechat"]
    return hashlib.sha256(f"oauth-secret:{wx['appid']}:{wx['apiv3_key']}".encode()).hexdigest()[:32]


def openid_for(appid: str, user: str) -> str:
    """A WeChat user's openid under one appid: stable, 28 characters, `o` + URL-safe base64 (like WeChat's)."""
    digest = hashlib.sha256(f"openid:{appid}:{user}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    app_name: str = ""


_states: weakref.WeakKeyDictionary[Sandbox, _State] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def _state(sandbox: Sandbox) -> _State:
    with _states_lock:
        found = _states.get(sandbox)
        if found is None:
            found = _states[sandbox] = _State()
        return found


def _app_name(sandbox: Sandbox) -> str:
    return _state(sandbox).app_name or sandbox.keys.wx["merchant_name"]


def _user(request: Request) -> tuple[str, bool]:
    """The browser's sandbox WeChat user, and whether it is new (no cookie yet)."""
    cookie = SimpleCookie()
    try:
        cookie.load(request.headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header: a new user
        cookie = SimpleCookie()
    morsel = cookie.get(USER_COOKIE)
    value = morsel.value if morsel is not None else ""
    if value and len(value) <= 40 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return "user-" + secrets.token_hex(4), True


def _with_user_cookie(response: Response, user: str) -> Response:
    response.headers["Set-Cookie"] = f"{USER_COOKIE}={user}; Path=/; Max-Age=31536000; SameSite=Lax"
    return response


def _append_query(url: str, params: dict[str, str]) -> str:
    split = urlsplit(url)
    query = "&".join(filter(None, [split.query, urlencode(params)]))
    return split._replace(query=query, fragment="").geturl()


def _valid_redirect(url: str) -> bool:
    split = urlsplit(url)
    return split.scheme in ("http", "https") and bool(split.netloc)


_NOT_REAL = (
    '<p class="note">这是本地沙箱，不是真正的微信。<span class="en">Local sandbox: not the real WeChat.</span></p>'
)


def _button(css: str, action: str, zh: str, en: str, testid: str) -> str:
    return (
        f'<button class="{css}" name="action" value="{action}" data-testid="{testid}">'
        f'{zh}<span class="en">{en}</span></button>'
    )


def _wechat_page(body: str, status: int = 200) -> Response:
    """A page of the sandbox "WeChat" itself (not its Pay cashier): the same look, WeChat's own header."""
    return Response.html(
        f"""<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>微信 · WeChat (sandbox)</title>
<style>:root{{--brand:#07c160}}{_CSS}</style></head><body><header>微信 · WeChat <small>(sandbox 沙箱)</small></header>
<main>{body}</main></body></html>""",
        status,
    )


def _wx_error(errcode: int, errmsg: str) -> Response:
    body = {"errcode": errcode, "errmsg": f"{errmsg}, rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"}
    response = Response.json(200, body)
    response.content_type = _JSON_CT
    return response


# --- 网页授权 ------------------------------------------------------------------------------------------------------


def _check_authorize(sandbox: Sandbox, fields: dict[str, str]) -> str:
    """Why WeChat would refuse this authorisation request ("" when fine)."""
    if fields.get("appid") != sandbox.keys.wx["appid"]:
        return "appid 参数错误 / unknown appid"
    if fields.get("response_type") != "code":
        return "response_type 须为 code / response_type must be code"
    if fields.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
        return "scope 参数错误 / scope must be snsapi_base or snsapi_userinfo"
    if not _valid_redirect(fields.get("redirect_uri", "")):
        return "redirect_uri 参数错误 / redirect_uri must be an absolute http(s) URL"
    if len(fields.get("state", "")) > 128:
        return "state 参数过长 / state longer than 128"
    return ""


def authorize_page(sandbox: Sandbox, request: Request) -> Response:
    q = request.query
    problem = _check_authorize(sandbox, q)
    if problem:
        return _message("wechat", f"授权请求无效：{problem}", "This authorisation request is invalid", 400)
    user, new = _user(request)
    name = _app_name(sandbox)
    openid = openid_for(q["appid"], user)
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(q.get(k, ""))}">'
        for k in ("appid", "redirect_uri", "response_type", "scope", "state")
    )
    body = f"""<form class="card" method="post" action="/connect/oauth2/authorize" data-testid="oauth-page">
<div class="payee">{html.escape(name)}</div>
<p class="desc" data-testid="oauth-question">允许 {html.escape(name)} 获取你的身份信息？
<span class="en">Allow {html.escape(name)} to know who you are?</span></p>
<p class="note">仅获取你在该公众号下的用户标识（openid），不获取昵称和头像。
<span class="en">Only your user id for this account (openid) is shared — not your name or picture.</span></p>
{hidden}
<p class="note">沙箱微信用户 <span class="en">Sandbox WeChat user</span>
<input name="user" value="{html.escape(user)}" maxlength="40" data-testid="oauth-user"
 style="font:inherit;padding:4px 6px;width:100%"> openid <code data-testid="oauth-openid">{openid}</code></p>
<div class="actions">{_button("cancel", "deny", "拒绝", "Deny", "oauth-deny")}
{_button("pay", "allow", "允许", "Allow", "oauth-allow")}</div>{_NOT_REAL}</form>"""
    response = _wechat_page(body)
    return _with_user_cookie(response, user) if new else response


def authorize_decide(sandbox: Sandbox, request: Request) -> Response:
    form = request.form()
    problem = _check_authorize(sandbox, form)
    if problem:
        return _message("wechat", f"授权请求无效：{problem}", "This authorisation request is invalid", 400)
    user = (form.get("user") or "").strip()[:40] or _user(request)[0]
    if not user.replace("-", "").replace("_", "").isalnum():
        return _message("wechat", "用户名只能含字母、数字、- 和 _", "User names are letters, digits, - and _", 400)
    back = {"state": form.get("state", "")}
    if form.get("action") == "allow":
        code = rand_ascii(32)
        state = _state(sandbox)
        now = time.time()
        with state.lock:
            for old in [c for c, v in state.codes.items() if v["expires"] < now - CODE_TTL_S]:
                del state.codes[old]
            state.codes[code] = {
                "appid": form["appid"],
                "openid": openid_for(form["appid"], user),
                "scope": form["scope"],
                "expires": now + CODE_TTL_S,
                "used": False,
            }
        back = {"code": code, **back}
    return _with_user_cookie(Response.redirect(_append_query(form["redirect_uri"], back)), user)


def access_token(sandbox: Sandbox, request: Request) -> Response:
    q = request.query
    if q.get("grant_type") != "authorization_code":
        return _wx_error(40002, "invalid grant_type")
    if q.get("appid") != sandbox.keys.wx["appid"]:
        return _wx_error(40013, "invalid appid")
    if not secrets.compare_digest(q.get("secret", "").encode(), oauth_secret(sandbox.keys.raw).encode()):
        return _wx_error(40125, "invalid appsecret")
    state = _state(sandbox)
    with state.lock:
        found = state.codes.get(q.get("code", ""))
        if found is None or found["appid"] != q["appid"] or found["expires"] < time.time():
            return _wx_error(40029, "invalid code")
        if found["used"]:
            return _wx_error(40163, "code been used")
        found["used"] = True
    response = Response.json(
        200,
        {
            "access_token": rand_ascii(88),
            "expires_in": 7200,
            "refresh_token": rand_ascii(88),
            "openid": found["openid"],
            "scope": found["scope"],
        },
    )
    response.content_type = _JSON_CT
    return response


# --- 商圈 authorisation (WeChat's own UI, emulated) -----------------------------------------------------------------


def mall_auth_page(sandbox: Sandbox, request: Request) -> Response:
    fields = request.form() if request.method == "POST" else dict(request.query)
    back = fields.get("return_url", "")
    if back and not _valid_redirect(back):
        return _message("wechat", "return_url 参数错误", "return_url must be an absolute http(s) URL", 400)
    user, new = _user(request)
    openid = openid_for(sandbox.keys.wx["appid"], user)
    if request.method == "POST":
        if fields.get("action") == "authorise":
            control.mall_auth(sandbox, {"openid": openid, "notify_url": fields.get("notify_url", "")})
            if not back:
                return _message("wechat", "已开通商圈积分", "商圈 points are on")
        elif not back:
            return _message("wechat", "已取消", "Cancelled")
        return Response.redirect(back)
    with sandbox.store.lock:
        done = openid in sandbox.store.mall_auth
    name = html.escape(_app_name(sandbox))
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(fields.get(k, ""))}">'
        for k in ("return_url", "notify_url")
    )
    already = (
        '<p class="note" data-testid="mall-auth-done">你已开通 <span class="en">Already on</span></p>' if done else ""
    )
    body = f"""<form class="card" method="post" action="/sandbox/wechat/mall-auth" data-testid="mall-auth-page">
<div class="payee">微信支付 · 智慧商圈 <span class="en">WeChat Pay · business circle</span></div>
<p class="desc">开通 {name} 商圈积分：在商圈内的商户用微信支付消费，积分自动累积到你的会员账户。
<span class="en">Turn on {name} points: pay with WeChat Pay at its shops and points reach your membership
by themselves.</span></p>{already}
<p class="note">微信用户 <span class="en">WeChat user</span> {html.escape(user)} · openid <code>{openid}</code>
</p>{hidden}<div class="actions">{_button("cancel", "cancel", "取消", "Cancel", "mall-auth-cancel")}
{_button("pay", "authorise", "授权", "Authorise", "mall-auth-allow")}</div>{_NOT_REAL}</form>"""
    response = _page("wechat", body)
    return _with_user_cookie(response, user) if new else response


def mall_txn(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's record of one 商圈 payment (synced? the points reported), for tests and the demo."""
    with sandbox.store.lock:
        found = sandbox.store.mall_txns.get(str(body.get("transaction_id", "")))
        if found is None:
            raise control.ControlError(404, "no such 商圈 transaction")
        answer: dict[str, Any] = json.loads(json.dumps(found))
        return answer


def oauth_app(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    name = str(body.get("name", "")).strip()[:40]
    _state(sandbox).app_name = name
    return {"name": _app_name(sandbox)}


ROUTES = [
    route("GET", r"/connect/oauth2/authorize", authorize_page),
    route("POST", r"/connect/oauth2/authorize", authorize_decide),
    route("GET", r"/sns/oauth2/access_token", access_token),
    route("*", r"/sandbox/wechat/mall-auth", mall_auth_page),
    route("POST", r"/sandbox/control/oauth-app", control.endpoint(oauth_app)),
    route("GET", r"/sandbox/control/mall-txn", control.endpoint(mall_txn)),
]
