"""Settings shared by every environment. Everything that differs comes from the environment."""

from __future__ import annotations

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "galleria.core",
    "galleria.malls",
    "galleria.merchants",
    "galleria.accounts",
    "galleria.audit",
    "galleria.messaging",
    "galleria.content",
    "galleria.members",
    "galleria.ledger",
    "galleria.wallet",
    "galleria.tiers",
    "galleria.points",
    "galleria.coupons",
    "galleria.sales",
    "galleria.imports",
    "galleria.dedupe",
    "galleria.privacy",
    "galleria.receipts",
    "galleria.payments",
    "galleria.settlement",
    "galleria.reconcile",
    "galleria.parking",
    "galleria.commerce",
    "galleria.events",
    "galleria.amenities",
    "galleria.games",
    "galleria.audience",
    "galleria.campaigns",
    "galleria.journeys",
    "galleria.webhooks",
    "galleria.apiauth",
    "galleria.analytics",
    "galleria.recommendations",
    "galleria.demo",
    "galleria.interfaces",
]

MIDDLEWARE = [
    "galleria.interfaces.api.problems.ApiProblemMiddleware",  # every error under /api/ is problem+json
    "django.middleware.security.SecurityMiddleware",
    "galleria.interfaces.api.pos_auth.PosNonceMiddleware",  # claims a signed POS write's nonce if its view did not
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "galleria.interfaces.console.session_security.StaffSessionMiddleware",  # staff idle/absolute expiry, 2-step
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Content Security Policy: no inline or third-party scripts anywhere in our pages (JS lives in static files,
# data reaches it through json_script). Inline *styles* stay allowed (htmx indicators, progress bars).
# The API's interactive docs and Django's admin bring their own inline scripts and are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/v1/docs", "/django-admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "galleria.interfaces.context.staff",
            ],
        },
    },
]

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'galleria.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout make the embedded demo usable by a web server and a worker at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Django's cache: the API's rate limits count requests in it (docs/api.md, "Rate limits"). Redis in production
# (GALLERIA_CACHE_URL=redis://127.0.0.1:6379/1) so every worker and machine shares the counts; unset, each process
# counts in its own memory.
_CACHE_URL = env.str("GALLERIA_CACHE_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
        if _CACHE_URL.startswith(("redis://", "rediss://", "unix://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# API rate limits, "<requests>/<s|min|hour|day>" per client IP and per principal (empty: no limit).
GALLERIA_API_RATES: dict[str, str] = {
    "ip": env.str("GALLERIA_RATE_IP", default="1200/min"),
    "pos": env.str("GALLERIA_RATE_POS", default="1200/min"),
    "member": env.str("GALLERIA_RATE_MEMBER", default="120/min"),
    "staff": env.str("GALLERIA_RATE_STAFF", default="600/min"),
    "car_park": env.str("GALLERIA_RATE_CAR_PARK", default="1200/min"),
    "token": env.str("GALLERIA_RATE_TOKEN", default="600/min"),
}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Staff sign-in security (docs/operations.md, "Staff sign-in security"). The member app sets its own 30-day expiry.
GALLERIA_SIGNIN = {
    "ACCOUNT_MAX_FAILURES": env.int("GALLERIA_SIGNIN_ACCOUNT_MAX_FAILURES", default=5),
    "ACCOUNT_WINDOW_SECONDS": env.int("GALLERIA_SIGNIN_ACCOUNT_WINDOW_SECONDS", default=15 * 60),
    "ACCOUNT_LOCK_SECONDS": env.int("GALLERIA_SIGNIN_ACCOUNT_LOCK_SECONDS", default=15 * 60),
    "IP_MAX_FAILURES": env.int("GALLERIA_SIGNIN_IP_MAX_FAILURES", default=20),
    "IP_WINDOW_SECONDS": env.int("GALLERIA_SIGNIN_IP_WINDOW_SECONDS", default=3600),
    "IP_BLOCK_SECONDS": env.int("GALLERIA_SIGNIN_IP_BLOCK_SECONDS", default=3600),
    "SECOND_STEP_SECONDS": 300,  # time between the password and the 2-step code
}
# Reverse proxies in front of Galleria (nginx, a load balancer): the client address for per-IP sign-in limits and
# the audit trail is then the N-th X-Forwarded-For entry from the right. 0 = clients connect directly.
GALLERIA_TRUSTED_PROXIES = env.int("GALLERIA_TRUSTED_PROXIES", default=0)
GALLERIA_STAFF_SESSION_IDLE_SECONDS = env.int("GALLERIA_STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
GALLERIA_STAFF_SESSION_MAX_SECONDS = env.int("GALLERIA_STAFF_SESSION_MAX_SECONDS", default=12 * 3600)
# Roles that must use 2-step sign-in (e.g. "platform_admin,group_admin"), or "all"; empty = optional for everyone.
GALLERIA_TWO_STEP_REQUIRED = env.list("GALLERIA_TWO_STEP_REQUIRED", default=[])
GALLERIA_TWO_STEP_KEY = env.str("GALLERIA_TWO_STEP_KEY", default="")  # seals TOTP secrets; default SECRET_KEY
GALLERIA_TWO_STEP_ISSUER = env.str("GALLERIA_TWO_STEP_ISSUER", default="Galleria")
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "galleria" / "locale"]
# zh-Hans groups numbers by thousands with a comma under `intcomma` (Django's own zh_Hans format does not group).
# USE_THOUSAND_SEPARATOR stays False: form inputs and plain `{{ n }}` never get separators.
FORMAT_MODULE_PATH = ["galleria.interfaces.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
GALLERIA_DEFAULT_MALL_TZ = env.str("GALLERIA_DEFAULT_MALL_TZ", default="Asia/Shanghai")

STATIC_URL = "static/"
# collectstatic writes here (`galleria demo` runs it); a test that runs the demo points it at a directory of its own
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    # Third-party front-end files come from npm (package.json + lock), never committed copies.
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
    ("vendor/zxing", BASE_DIR / "node_modules" / "@zxing" / "browser" / "umd"),  # the counter's camera scanner
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

# Member identity
GALLERIA_PHONE_REGIONS = env.list("GALLERIA_PHONE_REGIONS", default=["CN"])
GALLERIA_MEMBER_CODE_KEY = env.str("GALLERIA_MEMBER_CODE_KEY", default="")
GALLERIA_MEMBER_CODE_STEP_SECONDS = 60
GALLERIA_OTP = {
    "TTL_SECONDS": 300,
    "RESEND_INTERVAL_SECONDS": 60,
    "MAX_PER_PHONE_PER_DAY": 10,
    "MAX_PER_IP_PER_HOUR": 30,
    "MAX_ATTEMPTS": 5,
    "LOCKOUT_SECONDS": 900,
}
GALLERIA_EVENT_HANDLERS: dict[str, list[str]] = {
    "member.joined": [
        "galleria.tiers.tasks.on_member_joined",
        "galleria.points.tasks.on_member_joined",
        "galleria.coupons.tasks.on_member_joined",
        "galleria.journeys.tasks.on_member_joined",
    ],
    "member.profile_updated": ["galleria.points.tasks.on_profile_updated"],
    "member.tier_changed": ["galleria.coupons.tasks.on_tier_changed", "galleria.journeys.tasks.on_tier_changed"],
    "event.registered": ["galleria.journeys.tasks.on_event_registered"],
    "event.attended": ["galleria.journeys.tasks.on_event_attended"],
    "receipt.rejected": ["galleria.journeys.tasks.on_receipt_rejected"],
    "payment.store_fulfilled": ["galleria.reconcile.tasks.profit_share_task"],
}
# Called by core.events.publish with (event=, payload=) synchronously, inside the publisher's transaction, before the
# handlers above are enqueued: the webhooks outbox (docs/api.md, "Webhooks").
GALLERIA_EVENT_OUTBOXES: list[str] = ["galleria.webhooks.services.outbox_record"]
# Webhook endpoints may use plain http:// (development, tests); production requires https://.
GALLERIA_WEBHOOKS_ALLOW_HTTP = env.bool("GALLERIA_WEBHOOKS_ALLOW_HTTP", default=False)
# Called by the privacy erasure inside its transaction, with (member_id, mall_group_id, phone, values): areas that
# keep copies of a member's personal data outside the member's own rows and that privacy does not import (its
# siblings in the layering) erase them here. A test sweeps every table after an erasure (tests/test_erasure_sweep.py).
GALLERIA_ERASURE_HANDLERS: list[str] = [
    "galleria.imports.services.member_erase_in_tx",
    "galleria.dedupe.services.member_erase_in_tx",
    "galleria.parking.services_plates.member_erase_in_tx",
    "galleria.commerce.services_refunds.member_erase_in_tx",
    "galleria.audience.services.member_erase_in_tx",
    "galleria.journeys.services.member_erase_in_tx",
    "galleria.apiauth.services.member_erase_in_tx",
    "galleria.amenities.services_bookings.member_erase_in_tx",
    "galleria.games.services.member_erase_in_tx",
    "galleria.events.services.member_erase_in_tx",  # free-text answers to registration questions
]
# Called by the privacy data export (PIPL right of access) with (member_id, mall_group_id): areas above privacy in
# the layering, which it cannot import, return their sections of the member's document, {name: [JSON-ready rows]}
# (docs/privacy.md "Data export"). A section name used twice is an error; a test fails for a table keyed by a member
# that is neither exported nor listed as left out with a reason (tests/test_export_sweep.py).
GALLERIA_EXPORT_SECTIONS: list[str] = [
    "galleria.parking.selectors_privacy.member_export_sections",
    "galleria.commerce.selectors_privacy.member_export_sections",
    "galleria.events.selectors_privacy.member_export_sections",
    "galleria.amenities.selectors_privacy.member_export_sections",
    "galleria.audience.selectors_privacy.member_export_sections",
    "galleria.campaigns.selectors_privacy.member_export_sections",
    "galleria.journeys.selectors_privacy.member_export_sections",
    "galleria.apiauth.selectors_privacy.member_export_sections",
    "galleria.games.selectors_privacy.member_export_sections",
    "galleria.recommendations.selectors_privacy.member_export_sections",
]
# The sandbox payment gateway credits wallets without real money: off unless a settings module turns it on
# (config/settings/dev.py for the demo, once its DEBUG is known; test.py). A default taken from DEBUG here would be
# the base module's DEBUG, read before dev.py turns DEBUG on: the demo's top-ups would always be refused.
GALLERIA_SANDBOX_PAYMENTS = env.bool("GALLERIA_SANDBOX_PAYMENTS", default=False)
# A service-desk refund of wallet money above this amount (fen) waits for a second person's approval
# (wallet.refund_approve), as points adjustments above the points policy's threshold do. 0: every refund waits.
# Where gateways reach this installation (their notifications): the scheme, host and port the outside world uses.
GALLERIA_PUBLIC_URL = env.str("GALLERIA_PUBLIC_URL", default="http://127.0.0.1:8000")
# Outbound gateway calls: seconds per HTTP request (retries with backoff come on top, docs/payments.md).
GALLERIA_PAYMENT_TIMEOUT_S = env.float("GALLERIA_PAYMENT_TIMEOUT_S", default=10.0)
# How long a member has to pay a started payment before the gateway closes it (minutes).
GALLERIA_PAYMENT_EXPIRY_MINUTES = env.int("GALLERIA_PAYMENT_EXPIRY_MINUTES", default=15)
# The demo's sandbox payment gateway keeps its generated keys and its trades here (galleria/demo/payments.py).
GALLERIA_SANDBOX_DIR = Path(env.str("GALLERIA_SANDBOX_DIR", default=str(VAR_DIR / "sandbox")))
# Where members authorise 智慧商圈 points in production (WeChat's own page, from the WeChat Pay merchant platform);
# empty: the member app links the sandbox's stand-in in the demo (docs/payments.md, "Payment-linked points").
GALLERIA_WECHAT_MALL_AUTH_URL = env.str("GALLERIA_WECHAT_MALL_AUTH_URL", default="")
# 分账: at most this share of a payment goes to the merchant through WeChat Pay (the gateway's own limit; the rest
# is settled on the statement), and payments older than this many days are no longer shared by the sweep.
GALLERIA_PROFIT_SHARE_MAX_BP = env.int("GALLERIA_PROFIT_SHARE_MAX_BP", default=3000)
GALLERIA_PROFIT_SHARE_WINDOW_DAYS = env.int("GALLERIA_PROFIT_SHARE_WINDOW_DAYS", default=2)
# Key for secrets stored at rest (gateway private keys, APIv3 keys); empty = derived from SECRET_KEY.
GALLERIA_SECRETS_KEY = env.str("GALLERIA_SECRETS_KEY", default="")
# Gateways that refund a top-up to where it came from (wallet.gateway.refund_gateway_get): the payments app's
# adapters. A top-up from any other gateway (the service desk's cash) is paid back in cash.
GALLERIA_WALLET_REFUND_GATEWAYS: dict[str, str] = {
    "wechat": "galleria.payments.services.TopUpRefundGateway",
    "alipay": "galleria.payments.services.TopUpRefundGateway",
}
GALLERIA_WALLET_REFUND_APPROVAL_FEN = env.int("GALLERIA_WALLET_REFUND_APPROVAL_FEN", default=50_000)
# Cash top-ups at the service desk above this many fen wait for a second person's approval (docs/wallet-cash.md).
GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN = env.int("GALLERIA_WALLET_CASH_TOPUP_APPROVAL_FEN", default=200_000)
GALLERIA_POS_KEY_SECRET = env.str("GALLERIA_POS_KEY_SECRET", default="")
# --- Messaging channels (docs/messaging.md) ---------------------------------------------------------------------
# SMS: "outbox" (logs the text, sends nothing: the default), "aliyun", "tencent", or a dotted path of an SmsBackend.
GALLERIA_SMS_BACKEND = env.str("GALLERIA_SMS_BACKEND", default="galleria.messaging.sms.OutboxSmsBackend")
GALLERIA_SMS_SIGN_NAME = env.str("GALLERIA_SMS_SIGN_NAME", default="")  # the approved 签名, without 【】
# Galleria template → the provider's template code/ID, or {"id": …, "sign": …} for another sign name, as JSON:
# GALLERIA_SMS_TEMPLATES='{"otp": "SMS_154950909", "marketing_notice": {"id": "SMS_2", "sign": "星河广场"}}'
GALLERIA_SMS_TEMPLATES = env.json("GALLERIA_SMS_TEMPLATES", default={})
GALLERIA_SMS_ALIYUN = {
    "ACCESS_KEY_ID": env.str("GALLERIA_SMS_ALIYUN_ACCESS_KEY_ID", default=""),
    "ACCESS_KEY_SECRET": env.str("GALLERIA_SMS_ALIYUN_ACCESS_KEY_SECRET", default=""),
    "ENDPOINT": env.str("GALLERIA_SMS_ALIYUN_ENDPOINT", default="dysmsapi.aliyuncs.com"),
    "PROTOCOL": env.str("GALLERIA_SMS_ALIYUN_PROTOCOL", default="https"),
    "REGION": env.str("GALLERIA_SMS_ALIYUN_REGION", default="cn-hangzhou"),
}
GALLERIA_SMS_TENCENT = {
    "SECRET_ID": env.str("GALLERIA_SMS_TENCENT_SECRET_ID", default=""),
    "SECRET_KEY": env.str("GALLERIA_SMS_TENCENT_SECRET_KEY", default=""),
    "SDK_APP_ID": env.str("GALLERIA_SMS_TENCENT_SDK_APP_ID", default=""),
    "ENDPOINT": env.str("GALLERIA_SMS_TENCENT_ENDPOINT", default="sms.tencentcloudapi.com"),
    "PROTOCOL": env.str("GALLERIA_SMS_TENCENT_PROTOCOL", default="https"),
    "REGION": env.str("GALLERIA_SMS_TENCENT_REGION", default="ap-guangzhou"),
}
GALLERIA_SMS_TIMEOUT_S = env.float("GALLERIA_SMS_TIMEOUT_S", default=10.0)
# Retries of SMS and e-mail: attempts in all, the first gap (doubling, ± 20 % jitter) and the longest gap, seconds;
# a message whose last attempt may have reached the provider waits at least IN_DOUBT_MIN_SECONDS before the lookup
# that precedes its next attempt (Tencent lists a message only once its receipt exists).
GALLERIA_MESSAGING_RETRY = {
    "MAX_ATTEMPTS": env.int("GALLERIA_MESSAGING_MAX_ATTEMPTS", default=6),
    "BASE_SECONDS": env.float("GALLERIA_MESSAGING_RETRY_BASE_SECONDS", default=30.0),
    "MAX_SECONDS": env.float("GALLERIA_MESSAGING_RETRY_MAX_SECONDS", default=3600.0),
    "IN_DOUBT_MIN_SECONDS": env.float("GALLERIA_MESSAGING_IN_DOUBT_MIN_SECONDS", default=60.0),
}
# Log each SMS text ("SMS to 138****5678: …") when a real gateway accepts it, as the outbox backend does: the demo
# turns it on so sign-in codes show in its terminal; production leaves it off.
GALLERIA_SMS_ECHO = env.bool("GALLERIA_SMS_ECHO", default=False)
# `galleria demo` starts the SMS sandbox and sends through it (galleria/demo/sms.py) while the backend is the outbox.
GALLERIA_DEMO_SMS_SANDBOX = env.bool("GALLERIA_DEMO_SMS_SANDBOX", default=True)
# Receipts (状态报告) reach POST /hooks/sms/<provider>/<token>/: the token is this secret (empty: receipts refused).
GALLERIA_SMS_RECEIPT_TOKEN = env.str("GALLERIA_SMS_RECEIPT_TOKEN", default="")
# WeChat (docs/messaging.md "WeChat"): the mini-program (subscribe messages), the official account (template
# messages) and the WeCom corp (customer messages). *_TOKEN is the token of the app's server URL (消息推送) that signs
# the events WeChat pushes to /hooks/wechat/<app>/. Empty appid: that channel is not configured (sends fail).
GALLERIA_WECHAT = {
    "MINI_APPID": env.str("GALLERIA_WECHAT_MINI_APPID", default=""),
    "MINI_SECRET": env.str("GALLERIA_WECHAT_MINI_SECRET", default=""),
    "MINI_TOKEN": env.str("GALLERIA_WECHAT_MINI_TOKEN", default=""),
    "MP_APPID": env.str("GALLERIA_WECHAT_MP_APPID", default=""),
    "MP_SECRET": env.str("GALLERIA_WECHAT_MP_SECRET", default=""),
    "MP_TOKEN": env.str("GALLERIA_WECHAT_MP_TOKEN", default=""),
    "WECOM_APPID": env.str("GALLERIA_WECHAT_WECOM_CORPID", default=""),
    "WECOM_SECRET": env.str("GALLERIA_WECHAT_WECOM_SECRET", default=""),
    "API_BASE_URL": env.str("GALLERIA_WECHAT_API_BASE_URL", default="https://api.weixin.qq.com/cgi-bin/"),
    "WECOM_BASE_URL": env.str("GALLERIA_WECHAT_WECOM_BASE_URL", default="https://qyapi.weixin.qq.com/cgi-bin/"),
}
# Galleria template → per channel ("subscribe" | "template") WeChat's template id and keyword fields, as JSON:
# {"marketing_notice": {"subscribe": {"id": "…", "fields": {"thing1": "title", "thing2": "detail"}}}}
GALLERIA_WECHAT_TEMPLATES = env.json("GALLERIA_WECHAT_TEMPLATES", default={})
GALLERIA_WECHAT_TIMEOUT_S = env.float("GALLERIA_WECHAT_TIMEOUT_S", default=10.0)
# Web Push (docs/messaging.md "Web push"): the VAPID contact (mailto: or https:), the key pair (empty: generated on
# first use and stored sealed in the database; or a PEM here), how long push services keep an undelivered message.
GALLERIA_WEBPUSH = {
    "SUBJECT": env.str("GALLERIA_WEBPUSH_SUBJECT", default="mailto:admin@localhost"),
    "VAPID_PRIVATE_KEY": env.str("GALLERIA_WEBPUSH_VAPID_PRIVATE_KEY", default=""),
    "TTL_S": env.int("GALLERIA_WEBPUSH_TTL_S", default=86400),
    "TIMEOUT_S": env.float("GALLERIA_WEBPUSH_TIMEOUT_S", default=10.0),
}
# E-mail through Django's mail API: EMAIL_URL as django-environ reads it (smtp+tls://user:password@host:587,
# smtps://…, consolemail:// prints mails — the default, dummymail:// drops them).
_EMAIL = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = int(_EMAIL.get("EMAIL_PORT") or 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_EMAIL.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_EMAIL.get("EMAIL_USE_SSL"))
del _EMAIL  # not a setting of its own (it holds the password)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Galleria <no-reply@localhost>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# --- end of messaging channels ------------------------------------------------------------------------------------

# Every handler carries the `redact` filter: phone numbers masked, secrets and SMS codes replaced (core/logging.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "galleria.core.logging.RedactingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},  # not Django's unfiltered ones
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "pyBarcode": {"level": "WARNING"},  # python-barcode says "Pillow not found" at import: we draw SVG ourselves
    },
}
