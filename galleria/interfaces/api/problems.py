"""RFC 9457 problem+json for every API error: a stable `code`, a translated title/detail, field errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.params.models import BodyModel

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


BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def body_guard(api: NinjaAPI) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For operations that take a JSON body, before anything reads it: a body over Django's upload limit is 413
    `request.too_large` (reading it would raise RequestDataTooBig, which Django answers with an HTML 400), and a
    body that is not JSON is 415 `request.unsupported_media_type` (a text/plain or form POST is also what a
    cross-site form can send)."""

    def decorator(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        operation = getattr(run, "__self__", None)  # the bound Operation.run (or an earlier decorator's wrapper)
        models = getattr(operation, "models", None)
        takes_body = models is None or any(issubclass(m, BodyModel) for m in models)

        @wraps(run)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if takes_body and request.method in BODY_METHODS:
                length = _content_length(request)
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                if limit is not None and length > limit:
                    return too_large(request, api)
                if length and not _is_json(request.content_type or ""):
                    return problem(
                        request,
                        api,
                        status=415,
                        code="request.unsupported_media_type",
                        title=_("Send the request body as JSON (Content-Type: application/json)."),
                    )
            return run(request, *args, **kwargs)

        return guarded

    return decorator


def too_large(request: HttpRequest, api: NinjaAPI) -> HttpResponse:
    return problem(
        request,
        api,
        status=413,
        code="request.too_large",
        title=_("The request body is too large."),
        extra={"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
    )


def install(api: NinjaAPI) -> None:
    api.add_decorator(body_guard(api), mode="view")

    @api.exception_handler(RequestDataTooBig)
    def request_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return too_large(request, api)

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
        if exc.status_code == 429:  # a throttle (throttles.py); ninja adds Retry-After to this answer
            return problem(
                request, api, status=429, code="rate_limited", title=_("Too many requests: retry after Retry-After.")
            )
        code = {
            400: "request.malformed",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "request.too_large",
            415: "request.unsupported_media_type",
        }.get(exc.status_code, "http_error")
        return problem(request, api, status=exc.status_code, code=code, title=str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(request, api, status=404, code="not_found", title=_("Not found."))

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(request, api, status=404, code="not_found", title=_("Not found."))


PROBLEM_MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/"

# Errors answered outside our handlers (Django's URL resolver, ninja's method check, Django's 500 page): the
# stable code and title each becomes under /api/.
STATUS_PROBLEMS = {
    400: ("request.malformed", gettext_lazy("The request is malformed.")),
    403: ("forbidden", gettext_lazy("You may not do this.")),
    404: ("not_found", gettext_lazy("Not found.")),
    405: ("method_not_allowed", gettext_lazy("This method is not allowed here.")),
    413: ("request.too_large", gettext_lazy("The request body is too large.")),
    500: ("server_error", gettext_lazy("Something went wrong on our side.")),
}


class ApiProblemMiddleware:
    """Every error answer under /api/ is `application/problem+json`, as docs/api.md promises — also those that
    never reach a handler of ours: an unknown path (Django's HTML 404), a method the path does not take (ninja's
    bare 405), an unhandled exception (Django's HTML 500, still logged by Django as a server error). The original
    status and headers such as `Allow` are kept; nothing of an HTML error page is passed on. Outermost in
    MIDDLEWARE, so it also sees what other middleware answers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path_info.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith(PROBLEM_MEDIA_TYPE)
        ):
            return as_problem(request, response)
        return response


def as_problem(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    from .api import api  # the API module imports this one

    status = response.status_code
    known = STATUS_PROBLEMS.get(status)
    if known is not None:
        code, title = known[0], str(known[1])
    else:
        try:
            code, title = "http_error", HTTPStatus(status).phrase
        except ValueError:
            code, title = "http_error", "HTTP error"
    answer = problem(request, api, status=status, code=code, title=title)
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            answer[header] = response[header]
    return answer


def document_problem_responses(schema: Any) -> Any:
    """Rewrite an OpenAPI document so that it tells the truth about errors: error responses (status >= 400) are
    served as `application/problem+json`, and every operation that takes a body may answer 413 and 415 (body_guard)
    and 400 (unparsable JSON)."""
    problem_ref = {"$ref": "#/components/schemas/ProblemOut"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                for status, description in (
                    (400, "The body is not valid JSON"),
                    (413, "The body is larger than the server accepts"),
                    (415, "The body is not JSON"),
                ):
                    responses.setdefault(
                        status, {"description": description, "content": {"application/json": {"schema": problem_ref}}}
                    )
            for status, response in responses.items():
                content = response.get("content")
                if str(status)[:1] in "45" and content and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    return schema
