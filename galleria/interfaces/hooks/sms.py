"""`POST /hooks/sms/<provider>/<token>/`: delivery receipts (状态报告) pushed by the SMS providers.

Configure this URL in the provider's console (Aliyun: 短信服务 → 通用设置 → 发送状态回执 → HTTP 批量推送; Tencent
Cloud: 短信 → 应用管理 → 回调配置 → 短信下发状态回调) with the installation's `GALLERIA_SMS_RECEIPT_TOKEN` as the last
path segment. No session, no CSRF (the provider is not a browser); neither provider signs its pushes, so the token
in the path is the authentication: a wrong one is 403 and changes nothing. Applying a receipt twice changes nothing
either (messaging.services.sms_receipts_receive); the answer is the acknowledgement each provider expects.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from galleria.messaging.services import sms_receipts_receive

MAX_BODY = 512 * 1024  # a batch of up to 1000 reports


@csrf_exempt
@require_POST
def sms_receipt(request: HttpRequest, provider: str, token: str) -> HttpResponse:
    if len(request.body) > MAX_BODY:
        return HttpResponse(status=413)
    status, body = sms_receipts_receive(provider=provider, token=token, body=request.body)
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
