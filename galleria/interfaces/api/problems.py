"""RFC 9457 problem+json for every API error: a stable `code`, a translated title/detail, field errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from galleria.core.errors import ApplicationError

PROBLEM_TYPE_BASE = "https://galleria.dev/problems/"


def problem(
    request: HttpRequest,
    api: NinjaAPI,
    *,
    status: int,
    code: str,
    title: str,
    detail: str = "",
    errors: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "detail": detail or title,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return problem(
            request,
            api,
            status=exc.status,
            code=exc.code,
            title=str(exc.message),
            errors={k: str(v) for k, v in exc.fields.items()},
            extra=exc.extra,
        )

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors: dict[str, str] = {}
        for err in exc.errors:
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "payload")]
            errors[".".join(loc) or "__all__"] = str(err.get("msg", "invalid"))
        return problem(
            request, api, status=422, code="request.invalid", title=_("The request is not valid."), errors=errors
        )

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(request, api, status=401, code="auth.required", title=_("Authentication required."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: "request.malformed", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return problem(request, api, status=exc.status_code, code=code, title=str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(request, api, status=404, code="not_found", title=_("Not found."))

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(request, api, status=404, code="not_found", title=_("Not found."))
