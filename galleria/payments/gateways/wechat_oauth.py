"""WeChat web authorisation (网页授权, OAuth 2.0, scope `snsapi_base`): how the member app learns the member's
openid under the mall's appid — the id 智慧商圈 notifications and JSAPI payments name the member by.

1. `authorize_url` — the browser goes to
   `{authorize_base}/connect/oauth2/authorize?appid=…&redirect_uri=…&response_type=code&scope=snsapi_base&state=…
   #wechat_redirect`; WeChat sends it back to `redirect_uri?code=…&state=…`.
2. `code_exchange` — the server trades the code at
   `{api_base}/sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code` for
   `{"access_token","expires_in","refresh_token","openid","scope"[,"unionid","is_snapshotuser"]}`, or an error
   `{"errcode": 40029, "errmsg": "invalid code, rid: …"}` — always HTTP 200, so the JSON decides.

Real hosts: open.weixin.qq.com (the page) and api.weixin.qq.com (the API); the sandbox gateway serves both paths.
A code is single-use and lives five minutes; the exchange is therefore NOT retried (a lost answer would make the
second try fail with 40163 "code been used"): the member starts again. The caller binds `state` to the member's
session (CSRF) and consumes it once. Plain Python: no Django here (an import-linter contract).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from .base import GatewayRefusedError, GatewayUnavailableError

AUTHORIZE_BASE = "https://open.weixin.qq.com"
API_BASE = "https://api.weixin.qq.com"
SCOPE_BASE = "snsapi_base"
CONNECT_TIMEOUT_S = 3.0

# errcodes of the code exchange worth naming (the rest are shown as they come)
INVALID_CODE = 40029
CODE_USED = 40163
INVALID_SECRET = 40125
INVALID_APPID = 40013


@dataclass(frozen=True)
class OAuthConfig:
    app_id: str  # the Official Account's appid (= the WeChat Pay credential's appid)
    app_secret: str  # its AppSecret
    authorize_base: str = AUTHORIZE_BASE
    api_base: str = API_BASE
    timeout_s: float = 10.0


@dataclass(frozen=True)
class OAuthToken:
    openid: str
    access_token: str
    expires_in: int
    scope: str
    unionid: str = ""
    is_snapshot_user: bool = False  # WeChat's "snapshot page" mode: a virtual openid, not the member's


class OAuthRefusedError(GatewayRefusedError):
    """WeChat answered an errcode (`errcode` holds it; `code` is "oauth.<errcode>")."""

    def __init__(self, message: str, *, errcode: int) -> None:
        super().__init__(message, code=f"oauth.{errcode}")
        self.errcode = errcode


def authorize_url(config: OAuthConfig, *, redirect_uri: str, state: str, scope: str = SCOPE_BASE) -> str:
    """Where to send the member's browser. WeChat wants the parameters in this order and the fragment."""
    if not state or len(state) > 128:
        raise ValueError("state must be 1–128 characters")
    query = urlencode(
        [
            ("appid", config.app_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", scope),
            ("state", state),
        ]
    )
    return f"{config.authorize_base.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"


def code_exchange(config: OAuthConfig, *, code: str, session: requests.Session | None = None) -> OAuthToken:
    """Trade the code for the openid. GatewayUnavailableError: network, timeout, 5xx, an answer that is not
    JSON; OAuthRefusedError: an errcode (a bad, expired or used code, a wrong AppSecret, …)."""
    if not code or len(code) > 128:
        raise OAuthRefusedError("empty or oversized code", errcode=INVALID_CODE)
    params = {"appid": config.app_id, "secret": config.app_secret, "code": code, "grant_type": "authorization_code"}
    http = session or requests
    try:
        answer = http.get(
            f"{config.api_base.rstrip('/')}/sns/oauth2/access_token",
            params=params,
            timeout=(CONNECT_TIMEOUT_S, config.timeout_s),
        )
    except requests.RequestException as exc:
        raise GatewayUnavailableError(f"oauth.access_token: {exc}", code="unavailable") from exc
    if answer.status_code >= 500 or answer.status_code == 429:
        raise GatewayUnavailableError(f"oauth.access_token: HTTP {answer.status_code}", code="unavailable")
    try:
        data = json.loads(answer.content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise GatewayUnavailableError("oauth.access_token: not JSON", code="unavailable") from exc
    if not isinstance(data, dict):
        raise GatewayUnavailableError("oauth.access_token: not a JSON object", code="unavailable")
    errcode = data.get("errcode")
    if errcode:
        raise OAuthRefusedError(f"oauth.access_token: {errcode} {data.get('errmsg', '')}"[:300], errcode=int(errcode))
    openid = str(data.get("openid") or "")
    if answer.status_code != 200 or not openid:
        raise GatewayUnavailableError(
            f"oauth.access_token: HTTP {answer.status_code} without openid", code="unavailable"
        )
    return OAuthToken(
        openid=openid,
        access_token=str(data.get("access_token") or ""),
        expires_in=int(data.get("expires_in") or 0),
        scope=str(data.get("scope") or ""),
        unionid=str(data.get("unionid") or ""),
        is_snapshot_user=bool(data.get("is_snapshotuser")),
    )
