"""The HTTP API: /api/v1/, OpenAPI 3 at /api/v1/openapi.json, interactive docs (served locally) at /api/v1/docs."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from . import (
    dedupe,
    member_app,
    member_coupons,
    member_notifications,
    member_tokens,
    parking,
    pos,
    privacy,
    problems,
    staff,
)
from .pos_online import router as pos_online_router
from .throttles import THROTTLES


class GalleriaAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        """The document ninja builds, told the truth about errors: every 4xx/5xx answer is
        `application/problem+json` (problems.problem), not the renderer's `application/json`."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return problems.document_problem_responses(schema)


api = GalleriaAPI(
    title="Galleria API",
    version="1.0.0",
    description=(
        "Galleria's open API. Errors are RFC 9457 application/problem+json with a stable `code`. "
        "See docs/api.md for the integrator guide."
    ),
    urls_namespace="api",
    throttle=THROTTLES,  # per IP and per POS key / member / staff user / car park (docs/api.md)
)
problems.install(api)
api.add_router("/pos", pos.router)
api.add_router("/pos", pos_online_router)
api.add_router("/parking", parking.router)
api.add_router("/app", member_app.router)
api.add_router("/app", member_coupons.router)
api.add_router("/app", member_notifications.router)
api.add_router("/app", member_tokens.router)
api.add_router("/console", staff.console)
api.add_router("/merchant", staff.merchant)
api.add_router("/console", dedupe.router)
api.add_router("/app", privacy.app_router)
api.add_router("/console", privacy.console_router)
