"""What a marketing e-mail links to (docs/marketing.md, "How ROI is computed"): the open pixel, the tracked link into
the member app and the "stop these e-mails" page. Public (an e-mail is read anywhere, signed in or not): each URL
carries the send's random token, and only records what its recipient did."""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from galleria.campaigns import services
from galleria.core.errors import ApplicationError

# a transparent 1×1 GIF
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@require_http_methods(["GET", "HEAD"])
def opened(request: HttpRequest, token: str) -> HttpResponse:
    services.marketing_opened(token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD"])
def clicked(request: HttpRequest, token: str) -> HttpResponse:
    services.marketing_clicked(token=token)
    return HttpResponseRedirect(reverse("app:inbox"))


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links: nothing changes on GET); POST withdraws the consent."""
    state = "ask"
    if request.method == "POST":
        try:
            state = "done" if services.marketing_unsubscribe(token=token) else "unknown"
        except ApplicationError:  # the member is no longer active
            state = "unknown"
    return render(
        request, "app/marketing_unsubscribe.html", {"state": state}, status=404 if state == "unknown" else 200
    )
