"""The multipart forms of the recommend routes, one frozen dataclass per route.

FastAPI fills a dataclass dependency from its fields exactly as it would fill the route's own
parameters (same names, same order, same OpenAPI body), so a route takes one ``form`` instead
of a dozen parameters. A field's position is part of the published schema: keep the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import File, Form, Query, UploadFile

ImageField = Annotated[
    UploadFile | None,
    File(description="the picture (JPEG, PNG, WebP, GIF, BMP or TIFF)"),
]
ContextField = Annotated[
    str | None,
    Form(description="optional words about the moment, e.g. 'rainy Sunday morning'"),
]
LangField = Annotated[str | None, Form(description="language of the texts (default `en`)")]
LangQuery = Annotated[str | None, Query(alias="lang", description="same as the form field")]
ExcludeField = Annotated[
    list[str] | None,
    Form(description="track ids to leave out: repeat the field or separate ids with commas"),
]
HeatmapField = Annotated[
    str | None,
    Form(
        description="`true` adds `explanation.heatmap` (a PNG data URL of the saliency overlay) "
        "and `explanation.hot_regions`"
    ),
]
ConsentField = Annotated[
    str | None,
    Form(
        description="`true` keeps the picture to improve tunelens (stored without EXIF/GPS, "
        "deletable by its sha256); absent or `false`: it is not kept"
    ),
]
ClientField = Annotated[
    str | None,
    Form(
        description="client token whose feedback shapes the results (from "
        "`POST /api/v1/clients`; default: `Authorization: Bearer`, the `X-Client-Id` header "
        "or the page's cookie)"
    ),
]


@dataclass(frozen=True)
class PictureForm:
    """``POST /api/v1/recommend``: one picture and how to answer it."""

    image: ImageField = None
    top_k: Annotated[str | None, Form(description="songs to return, 1..50 (default 10)")] = None
    context: ContextField = None
    lang: LangField = None
    lang_query: LangQuery = None
    exclude: ExcludeField = None
    heatmap: HeatmapField = None
    consent: ConsentField = None
    client_id: ClientField = None


@dataclass(frozen=True)
class DylumoPictureForm(PictureForm):
    """DyLuMo's ``POST /recommend``: the same fields; only ``top_k``'s rule differs (a field
    redefined in a dataclass subclass keeps its place, so the schema's order stays)."""

    top_k: Annotated[
        str | None,
        Form(description="songs to return; default 10, clamped to 1..50, not a number → 10"),
    ] = None


@dataclass(frozen=True)
class BatchForm:
    """``POST /api/v1/recommend/batch``: several pictures answered alike."""

    images: Annotated[
        list[UploadFile] | None,
        File(description="the pictures: repeat the `images` field (up to the configured max)"),
    ] = None
    top_k: Annotated[str | None, Form(description="songs per picture, 1..50")] = None
    context: ContextField = None
    lang: LangField = None
    lang_query: LangQuery = None
    exclude: ExcludeField = None
    client_id: ClientField = None
