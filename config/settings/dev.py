"""Local development and the embedded demo: DEBUG on, a fixed development-only key."""

from .base import *  # noqa: F403
from .base import LOGGING, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
GALLERIA_MEMBER_CODE_KEY = env.str("GALLERIA_MEMBER_CODE_KEY", default="dev-only-member-code-key")
# The demo tops wallets up through the sandbox gateway. Decided here, after DEBUG: base.py cannot know this module's
# DEBUG (the member-app journey test tops up with the value this module produces).
GALLERIA_SANDBOX_PAYMENTS = env.bool("GALLERIA_SANDBOX_PAYMENTS", default=DEBUG)

# The demo's outbox SMS backend prints one-time codes instead of sending them: keep the codes readable in its log
# (phone numbers stay masked). Production masks them.
LOGGING["filters"]["redact"]["keep_sms_codes"] = env.bool("GALLERIA_LOG_SMS_CODES", default=True)  # type: ignore[index]

# `galleria demo` runs the background-task worker and the scheduler in the terminal where it prints its banner.
# django-tasks logs two INFO lines per task (and db_worker sets that logger to INFO when it starts, whatever
# LOGGING says), APScheduler and our scheduler two per job: in the demo they are debug detail, shown at
# LOG_LEVEL=DEBUG only (a failed task or job, an ERROR, always shows), so the lines a person looks for — the sign-in
# codes, "SMS to 138****5678: …" — stand out.
_DEMO_DETAIL_LEVEL = "DEBUG" if env.str("LOG_LEVEL", default="INFO").upper() == "DEBUG" else "WARNING"
LOGGING["handlers"]["background_detail"] = {  # type: ignore[index]
    "class": "logging.StreamHandler",
    "formatter": "plain",
    "filters": ["redact"],
    "level": _DEMO_DETAIL_LEVEL,
}
LOGGING["loggers"]["django_tasks"] = {"handlers": ["background_detail"], "propagate": False}  # type: ignore[index]
LOGGING["loggers"]["apscheduler"] = {"handlers": ["background_detail"], "propagate": False}  # type: ignore[index]
LOGGING["loggers"]["galleria.scheduler"] = {"handlers": ["background_detail"], "propagate": False}  # type: ignore[index]
# A sign-in code gets a line of its own, set apart: ">>> 21:03:13  SMS to +86184****0856: 【Galleria】验证码 154589…".
LOGGING["formatters"]["sms"] = {"format": "\n>>> %(asctime)s  %(message)s\n", "datefmt": "%H:%M:%S"}  # type: ignore[index]
LOGGING["handlers"]["sms"] = {"class": "logging.StreamHandler", "formatter": "sms", "filters": ["redact"]}  # type: ignore[index]
LOGGING["loggers"]["galleria.sms"] = {"handlers": ["sms"], "level": "INFO", "propagate": False}  # type: ignore[index]
