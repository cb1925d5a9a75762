"""Access matrix of the messaging hooks: SMS delivery receipts pushed by the providers (no session; a token in the
path, galleria/interfaces/hooks/sms.py), WeChat events (signed query, galleria/interfaces/hooks/wechat.py); and the
member API's notification endpoints (galleria/interfaces/api/member_notifications.py)."""

from __future__ import annotations

from .access_matrix import NOT_ALLOWED, Entry, Outcome, api_member, op, page, public, status

_PUSH_BODY = {
    "endpoint": "https://push.example.com/send/abc",
    "keys": {
        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
        "auth": "tBHItJI5svbpez7KI4CCXg",
    },
}

MATRIX_MESSAGING: dict[str, Entry] = {
    "sms_receipt": Entry(
        url=lambda ew: "/hooks/sms/aliyun/not-the-token/",
        get=public(NOT_ALLOWED),
        post=public(status(403)),
        note="a provider's receipt push: no session; without the installation's token it is 403",
    ),
    "wechat_event": Entry(
        url=lambda ew: "/hooks/wechat/mini/?signature=bad&timestamp=1&nonce=2",
        get=public(status(403)),
        post=public(status(403)),
        note="WeChat's server URL: no session; without WeChat's signature (the app's token) it is 403",
    ),
    "app:service_worker": page(
        public(Outcome("ok")),
        post=public(NOT_ALLOWED),
        note="the member app's service worker script: public, like a static file",
    )(lambda ew: "/app/sw.js"),
    "api:GET /app/me/wechat/subscriptions": op("GET", api_member())(lambda ew: "/api/v1/app/me/wechat/subscriptions"),
    "api:POST /app/me/wechat/subscriptions": op("POST", api_member(), body=lambda ew: {"results": {"tpl1": "accept"}})(
        lambda ew: "/api/v1/app/me/wechat/subscriptions"
    ),
    "api:GET /app/push/key": op("GET", api_member())(lambda ew: "/api/v1/app/push/key"),
    "api:POST /app/me/push/subscriptions": op("POST", api_member(), body=lambda ew: _PUSH_BODY)(
        lambda ew: "/api/v1/app/me/push/subscriptions"
    ),
    "api:POST /app/me/push/unsubscribe": op("POST", api_member(), body=lambda ew: {"endpoint": _PUSH_BODY["endpoint"]})(
        lambda ew: "/api/v1/app/me/push/unsubscribe"
    ),
}
