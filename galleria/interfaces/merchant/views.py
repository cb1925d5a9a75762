from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from galleria.accounts import permissions as perms
from galleria.interfaces.common import staff_view


@staff_view(perms.PORTAL_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "merchant/home.html", {})
