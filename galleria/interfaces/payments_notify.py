"""The one URL payment gateways call: `POST /pay/notify/<provider>/<credential>/`.

No session, no CSRF (the gateway is not a browser): the body is verified by the adapter's own protocol checks
(WeChat Pay: platform-key signature, serial, timestamp window, AES-256-GCM resource; Alipay: RSA2 signature) in
payments.services.notice_receive, which answers what the gateway expects (WeChat 204 / an error status, Alipay
`success` / `fail`). Anything that does not verify is logged and refused without changing anything."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from galleria.payments.services import notice_receive

MAX_BODY = 64 * 1024  # a notification is a few KB


@csrf_exempt
@require_POST
def payment_notify(request: HttpRequest, provider: str, credential_id: int) -> HttpResponse:
    if provider not in ("wechat", "alipay") or len(request.body) > MAX_BODY:
        return HttpResponse(status=404)
    ack = notice_receive(
        provider=provider, credential_id=credential_id, headers=dict(request.headers), body=request.body
    )
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)
