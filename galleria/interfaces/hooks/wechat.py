"""`/hooks/wechat/<app>/`: the server URL (消息推送 / 服务器地址) of the mini-program (`mini`) and the official account
(`mp`), where WeChat pushes events — here the delivery receipts `subscribe_msg_sent_event` and
`TEMPLATESENDJOBFINISH`.

Configure it in 微信公众平台 → 开发 → 开发管理 → 开发设置 → 消息推送 (mini-program) / 基本配置 → 服务器配置 (official
account), plain-text mode (明文模式), XML, with the app's GALLERIA_WECHAT_MINI_TOKEN / _MP_TOKEN as Token. WeChat signs
every request: `signature` = sha1 of the sorted token, `timestamp` and `nonce` (query string); a wrong one is 403 and
changes nothing. The GET WeChat sends when the URL is saved is answered with its `echostr`. No session, no CSRF.
Applying an event twice changes nothing (messaging.services.wechat_events_receive); the answer is `success`.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from galleria.messaging.services import wechat_echo, wechat_events_receive

MAX_BODY = 64 * 1024
QUERY_KEYS = ("signature", "timestamp", "nonce", "echostr", "openid")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_event(request: HttpRequest, app: str) -> HttpResponse:
    query = {k: str(request.GET.get(k, ""))[:200] for k in QUERY_KEYS}
    if request.method == "GET":
        status, body = wechat_echo(app=app, query=query)
        return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    if len(request.body) > MAX_BODY:
        return HttpResponse(status=413)
    status, body = wechat_events_receive(app=app, query=query, body=request.body)
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
