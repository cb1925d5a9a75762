"""Local development and the embedded demo: DEBUG on, a fixed development-only key."""

from .base import *  # noqa: F403
from .base import LOGGING, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
GALLERIA_MEMBER_CODE_KEY = env.str("GALLERIA_MEMBER_CODE_KEY", default="dev-only-member-code-key")

# The demo's outbox SMS backend prints one-time codes instead of sending them: keep the codes readable in its log
# (phone numbers stay masked). Production masks them.
LOGGING["filters"]["redact"]["keep_sms_codes"] = env.bool("GALLERIA_LOG_SMS_CODES", default=True)  # type: ignore[index]
