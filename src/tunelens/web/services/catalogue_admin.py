"""Catalogue changes through the admin API: the same code as ``tunelens catalog add|remove``.

Songs sent as JSON objects go through the JSON Lines loader (same validation, same merging),
the change is written as a new version, and the watch is asked to switch at once, so the
answer's version is the one this worker serves when the response is sent (other workers
follow within ``catalog_check_seconds``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from tunelens.catalogue.changes import ChangeResult, add_tracks, remove_tracks
from tunelens.catalogue.jsonl_loader import load_jsonl
from tunelens.catalogue.remote import remote_url
from tunelens.core.errors import CatalogError, InvalidRequest
from tunelens.web.services.state import ServiceState


def local_dir(state: ServiceState) -> Path:
    """The catalogue directory this server may change; a shared ``s3://`` one is refused."""
    location = str(state.catalog_dir) if state.catalog_dir else state.settings.catalog_location
    if remote_url(location) is not None:
        raise InvalidRequest(
            "this server opens a shared s3:// catalogue: change it where it is built and "
            "publish it with `tunelens catalog push`",
            code="catalog_remote",
        )
    return Path(location).expanduser()


def _switch(state: ServiceState) -> None:
    if state.watch is not None:
        state.watch.refresh(state)


def add_songs(state: ServiceState, tracks: list[dict[str, Any]]) -> dict[str, Any]:
    """Validate and add ``tracks``; the change as the API answers it."""
    root = local_dir(state)
    with tempfile.TemporaryDirectory(prefix="tunelens-add-") as tmp:
        source = Path(tmp) / "tracks.jsonl"
        lines = (json.dumps(t, ensure_ascii=False) for t in tracks)
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            report = load_jsonl(source)
        except CatalogError as exc:
            raise InvalidRequest(exc.message, code="catalog_invalid") from exc
    skipped = [f"track {p.line}: {p.reason}" for p in report.problems]
    if len(report.catalogue) == 0:
        raise InvalidRequest(
            "none of the songs is valid: " + "; ".join(skipped[:5]),
            code="catalog_invalid",
            details={"skipped": skipped[:100]},
        )
    result: ChangeResult = add_tracks(root, report.catalogue)
    _switch(state)
    return {**result.to_dict(), "skipped": skipped[:100]}


def remove_songs(state: ServiceState, ids: list[str]) -> dict[str, Any]:
    """Remove the songs with ``ids``; the change as the API answers it."""
    result = remove_tracks(local_dir(state), ids)
    _switch(state)
    return {**result.to_dict(), "skipped": []}
