"""The member app's service worker (`/app/sw.js`, scope `/app/`): it shows web push messages and opens the app when
one is clicked. Served by a view, not from /static/, because a service worker's scope cannot be wider than the
folder it is served from. The "notifications" control that registers it lives on the profile page
(templates/app/profile.html, static/galleria/js/push.js), talking to the member API (api/member_notifications.py)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    scope = reverse("app:home")
    body = render_to_string(
        "app/notifications/sw.js",
        {
            "scope": scope,
            "scope_json": json.dumps(scope),
            "default_title_json": json.dumps(_("New message"), ensure_ascii=False),
        },
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = scope
    response["Cache-Control"] = "no-cache"
    return response
