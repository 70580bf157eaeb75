"""The saved feedback prior: the strength ``m`` fitted on stored votes, versioned on disk.

``tunelens train --from-feedback`` (:mod:`tunelens.training.prior`) writes each fit that
passed as ``<reranking_dir>/<UTC time>/prior.json``; the recommender's feedback effects
(:mod:`tunelens.recommend.feedback`) read the newest one back. The file's layout lives here,
between the two, so neither has to import the other.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tunelens.core.settings import Settings
from tunelens.heads.store import new_version, publish, staging

PRIOR_FILE = "prior.json"


def save_prior_fit(parent: Path, report: dict[str, Any]) -> Path:
    """Write a passing fit's report as a new version under ``parent`` (staged, then renamed
    into place); ``report`` gains its ``version``. Returns the version's folder."""
    with staging(parent) as staged:
        version = new_version(parent)
        report["version"] = version
        (staged / PRIOR_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return publish(staged, version)


def load_prior_strength(settings: Settings) -> tuple[float | None, str | None]:
    """(strength, version) of the newest saved feedback fit that passed, or (None, None)."""
    parent = settings.reranking_dir
    if not parent.is_dir():
        return None, None
    for directory in sorted(
        (p for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
        reverse=True,
    ):
        try:
            data = json.loads((directory / PRIOR_FILE).read_text(encoding="utf-8"))
            strength = float(data["prior_strength"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if data.get("passed") and math.isfinite(strength) and strength > 0:
            return strength, directory.name
    return None, None
