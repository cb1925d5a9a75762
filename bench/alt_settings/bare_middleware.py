"""Production settings with only Django's own middleware of a session-2 stack (security, whitenoise, sessions,
locale, common, CSRF, auth, messages, clickjacking): what Galleria's own middleware (POS nonce, staff session, CSP,
htmx) adds to every request, measured on the minimal-write baseline."""

from config.settings.production import *  # noqa: F403
from config.settings.production import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if m.startswith(("django.", "whitenoise."))]
