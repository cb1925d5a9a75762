"""The HTTP API: /api/v1/, OpenAPI 3 at /api/v1/openapi.json, interactive docs (served locally) at /api/v1/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from . import member_app, pos, problems, staff

api = NinjaAPI(
    title="Galleria API",
    version="1.0.0",
    description=(
        "Galleria's open API. Errors are RFC 9457 application/problem+json with a stable `code`. "
        "See docs/api.md for the integrator guide."
    ),
    urls_namespace="api",
)
problems.install(api)
api.add_router("/pos", pos.router)
api.add_router("/app", member_app.router)
api.add_router("/console", staff.console)
api.add_router("/merchant", staff.merchant)
