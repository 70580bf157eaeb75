"""The app's routes, one module per area.

:data:`ROUTERS` is the order they are included in, which is also the order of the OpenAPI
document's paths; ``/ready`` and ``/metrics`` (:mod:`.ops`) come last, after the static files.
Adding a route is one function in its area's module (or one new module listed here).
"""

from __future__ import annotations

from fastapi import APIRouter

from tunelens.web.routes import (
    admin,
    catalogue,
    clients,
    docs,
    dylumo,
    explain,
    feedback,
    ops,
    pages,
    playlists,
    predictions,
    recommend,
    similar,
    uploads,
    vocab,
)

ROUTERS: tuple[APIRouter, ...] = (
    dylumo.router,
    recommend.router,
    catalogue.router,
    similar.router,
    vocab.router,
    explain.router,
    predictions.router,
    playlists.router,
    feedback.router,
    clients.router,
    uploads.router,
    admin.api,
    admin.pages,
    pages.router,
    docs.router,
)
#: included after the ``/static`` mount, like every operator route
OPS_ROUTER = ops.router
