"""A protocol-faithful local SMS gateway — Aliyun Dysmsapi (2017-05-25) and Tencent Cloud SMS (2021-01-11) — run
as a separate process, the SMS counterpart of galleria.payments.sandbox.

    python -m galleria.messaging.sandbox keys --out var/sms-sandbox/keys.json
    python -m galleria.messaging.sandbox serve --keys var/sms-sandbox/keys.json --port 8766
        [--receipt-url-aliyun URL] [--receipt-url-tencent URL] [--report-delay 1.0] [--per-phone-per-minute 5]

It prints `SMS SANDBOX LISTENING http://127.0.0.1:<port>` on stdout once ready. Both providers' APIs answer on the
server root, as the real endpoints do (`dysmsapi.aliyuncs.com/`, `sms.tencentcloudapi.com/`): a request signed
`ACS3-HMAC-SHA256` (what alibabacloud-tea-openapi sends by default) is Aliyun's, one signed `TC3-HMAC-SHA256` is
Tencent's. Signatures are recomputed from the locally generated secrets exactly as the providers document them;
sign names, template codes/IDs, template parameters and phone numbers are checked; answers and errors have the
providers' shapes and codes. Every accepted message is rendered from its approved template into the outbox
(`GET /sandbox/outbox` as a page, `/sandbox/outbox.json`), and its delivery receipt (状态报告) is pushed to the
configured receipt URL the way each provider does (Aliyun: a JSON array of SmsReport; Tencent: a JSON array of
callback records), retried when the receiver does not acknowledge. `POST /sandbox/control/…` lets tests and
developers inject failures (throttling, 5xx, a timeout after acceptance). It imports no Django: it is the other
party, not part of Galleria. Documentation: docs/messaging.md.

The same process also speaks WeChat (`/cgi-bin/…`: tokens, subscribe/template/WeCom sends, signed event pushes to
`--wechat-event-url-mini` / `--wechat-event-url-mp`; sandbox/wechat.py) and a Web Push service (`/push/…`: simulated
browser subscriptions, VAPID-checked and decrypted pushes; sandbox/webpush.py).
"""
