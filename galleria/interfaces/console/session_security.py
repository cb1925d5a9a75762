"""Staff session rules, as middleware: idle and absolute expiry, and 2-step set-up when policy requires it.

Only signed-in Django users (staff) are concerned; the member app keeps members in the session without a Django user
and its own 30-day expiry, untouched here.

- A staff session ends after `GALLERIA_STAFF_SESSION_IDLE_SECONDS` without a request, and at the latest
  `GALLERIA_STAFF_SESSION_MAX_SECONDS` after sign-in. The last-seen time is written at most once a minute, so a busy
  page does not rewrite its session on every request. An expired session is signed out and the request goes on as
  anonymous (pages then send to the sign-in page, the API answers 401).
- A user whose role must use 2-step sign-in (`GALLERIA_TWO_STEP_REQUIRED`) and has not set it up is sent to the
  set-up page from every staff page until it is on.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from galleria.accounts.models import User
from galleria.accounts.selectors import two_step_enabled, two_step_required

AUTH_AT = "_staff_auth_at"
SEEN_AT = "_staff_seen_at"
TOUCH_EVERY_SECONDS = 60


def stamp_staff_session(request: HttpRequest) -> None:
    """Start the clocks of a fresh staff session (called right after sign-in); the cookie lasts the absolute max."""
    now = int(time.time())
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session.set_expiry(int(settings.GALLERIA_STAFF_SESSION_MAX_SECONDS))


def stamp_on_login(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """`user_logged_in` receiver (connected in `InterfacesConfig.ready`)."""
    if request is not None and hasattr(request, "session"):
        stamp_staff_session(request)


def _enrolment_exempt(path: str) -> bool:
    allowed = (
        reverse("console:two_step"),
        reverse("console:login"),
        reverse("console:login_verify"),
        reverse("console:logout"),
        reverse("set_language"),
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL,
        "/app/",
    )
    return path.startswith(allowed)


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self._check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: User) -> HttpResponse | None:
        session = request.session
        now = int(time.time())
        auth_at, seen_at = session.get(AUTH_AT), session.get(SEEN_AT)
        if not isinstance(auth_at, int) or not isinstance(seen_at, int):
            stamp_staff_session(request)  # a session from before this rule existed
            auth_at = seen_at = now
        idle = int(settings.GALLERIA_STAFF_SESSION_IDLE_SECONDS)
        if now - seen_at > idle or now - auth_at > int(settings.GALLERIA_STAFF_SESSION_MAX_SECONDS):
            logout(request)
            if now - seen_at > idle:
                message = _("You were signed out after %(minutes)d minutes without activity. Please sign in again.")
                messages.info(request, message % {"minutes": idle // 60})
            else:
                messages.info(request, _("Your session has ended. Please sign in again."))
            return None
        if now - seen_at >= TOUCH_EVERY_SECONDS:
            session[SEEN_AT] = now
        if two_step_required(user) and not _enrolment_exempt(request.path) and not two_step_enabled(user_id=user.pk):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "type": "about:blank",
                        "title": str(_("Set up 2-step sign-in first.")),
                        "status": 403,
                        "code": "auth.two_step_required",
                    },
                    status=403,
                    content_type="application/problem+json",
                )
            return redirect("console:two_step")
        return None
