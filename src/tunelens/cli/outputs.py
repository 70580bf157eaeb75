"""Files ``tunelens recommend`` writes beside its printed answer: the heatmap PNGs.

Kept apart from the command so the naming rules are testable on their own.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from pathlib import Path

from tunelens.core.errors import InvalidRequest

DATA_URL_PNG = "data:image/png;base64,"


def heatmap_paths(given: str | Path, images: Sequence[Path]) -> list[Path]:
    """Where each picture's heatmap goes.

    * ``given`` is an existing directory (or text ending with ``/``, which a ``Path`` cannot
      keep): ``DIR/<photo stem>.heatmap.png`` for each photo (``-2``, ``-3`` … appended when
      two photos share a stem);
    * one photo: ``given`` itself;
    * several photos: ``given`` numbered in argument order — ``out.png`` → ``out-1.png``,
      ``out-2.png`` ….
    """
    target = Path(given)
    if target.is_dir() or str(given).endswith((os.sep, "/")):
        seen: dict[str, int] = {}
        out = []
        for image in images:
            stem = image.stem or "photo"
            seen[stem] = seen.get(stem, 0) + 1
            suffix = "" if seen[stem] == 1 else f"-{seen[stem]}"
            out.append(target / f"{stem}{suffix}.heatmap.png")
        return out
    if len(images) == 1:
        return [target]
    suffix = target.suffix or ".png"
    return [target.with_name(f"{target.stem}-{i}{suffix}") for i in range(1, len(images) + 1)]


def write_data_url(url: str, path: Path) -> Path:
    """Write a ``data:image/png;base64,…`` URL's bytes to ``path`` (parents created)."""
    if not url.startswith(DATA_URL_PNG):
        raise InvalidRequest("expected a PNG data URL", code="invalid_heatmap")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_bytes(base64.b64decode(url[len(DATA_URL_PNG) :]))
    except OSError as exc:
        raise InvalidRequest(
            f"Cannot write {path}: {exc.strerror or exc}.",
            code="output_unwritable",
            details={"path": str(path)},
        ) from None
    return path
