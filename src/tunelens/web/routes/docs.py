"""``/docs``: the API's Swagger UI, served from this server (no CDN), so it works offline.

Swagger UI's files come from the ``swagger-ui-bundle`` package (mounted under
``/static/swagger``); FastAPI's own ``/docs`` would load them from a CDN, which a server
without internet — and every page here, by its CSP — cannot reach.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

#: where Swagger UI's files are served from
ASSETS_URL = "/static/swagger"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="tunelens API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


def mount_docs_assets(app: FastAPI) -> None:
    """Serve Swagger UI's files (before the app's own ``/static``, which would shadow them)."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(swagger_ui_path)), name="swagger")
