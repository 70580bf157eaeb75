"""Open the encoder a process runs with, and say so when it is not the real thing.

``load_encoder`` finds the model folder and opens it through the encoder registry:

1. ``TUNELENS_MODEL_DIR``: a folder in either layout (tunelens export or transformers.js),
   used as is;
2. else the registry's choice (``TUNELENS_MODEL`` / ``_REPO`` / ``_REVISION`` /
   ``_PRECISION``, defaults from :mod:`tunelens.modelhub.registry`) from the cache, its files
   verified against the lock file written when they were downloaded;
3. else that model pulled from the hub now, when downloads are allowed
   (``TUNELENS_ALLOW_DOWNLOAD``) and the hub is not offline (``HF_HUB_OFFLINE``).

A precision whose image graph is made locally (``int8-local``) is made from the cached
download when only that graph is missing, without the network.

``clip`` fails with a clear error when none of these works; ``auto`` falls back to the
weight-free colour encoder with one notice for the operator (CLI banner, logs, ``/health``).
The notice names no file path: the log line beside it does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from tunelens.core.errors import DownloadError, ModelUnavailable
from tunelens.core.notices import COLOUR_FALLBACK, RANDOM_WEIGHTS, Notice
from tunelens.core.settings import Settings
from tunelens.modelhub.cache import cached_snapshot
from tunelens.modelhub.download import PullProgress, derive_missing, hub_offline, pull
from tunelens.modelhub.registry import Choice, choose
from tunelens.vision.base import Encoder
from tunelens.vision.registry import ENCODERS

log = logging.getLogger(__name__)

RANDOM_WEIGHTS_NOTICE = (
    "The CLIP model {name} has random weights: readings are meaningless, for testing only."
)
FALLBACK_NOTICE = (
    "No CLIP model could be loaded ({reason}); using the weight-free colour encoder — "
    "readings come from colour and light only. {fix}"
)


def resolve_model_dir(
    settings: Settings, *, progress: PullProgress | None = None
) -> tuple[Path, Choice | None]:
    """The folder to load CLIP from (explicit folder, cache, or a fresh pull) and the choice."""
    if settings.model_dir is not None:
        folder = Path(settings.model_dir).expanduser()
        if not folder.is_dir():
            raise ModelUnavailable(
                f"TUNELENS_MODEL_DIR points at {folder}, which does not exist.",
                code="model_missing",
                details={"path": str(folder)},
            )
        return folder, None
    choice = choose(settings)
    cached = cached_snapshot(settings.models_dir, choice, downloaded=True)
    if cached is not None:
        # a graph made locally (int8-local) that is missing or stale is made again from the
        # cached download, offline; when it is in place this costs a stat
        derive_missing(cached, choice, progress=progress)
        return cached, choice
    where = f"{choice.model.name} ({choice.model.repo}@{choice.revision}, {choice.precision})"
    if not settings.allow_download:
        raise ModelUnavailable(
            f"{where} is not in the cache ({settings.models_dir}) and downloads are disabled "
            "(TUNELENS_ALLOW_DOWNLOAD=false): run `tunelens models pull` on a machine with "
            "internet, or set TUNELENS_MODEL_DIR to a model folder.",
            code="model_missing",
            details={"path": str(settings.models_dir), "model": choice.model.name},
        )
    if hub_offline():
        raise ModelUnavailable(
            f"{where} is not in the cache ({settings.models_dir}) and the Hugging Face hub is "
            "in offline mode (HF_HUB_OFFLINE): unset it to download, or set TUNELENS_MODEL_DIR.",
            code="model_missing",
            details={"path": str(settings.models_dir), "model": choice.model.name},
        )
    log.warning("pulling %s into %s (first use)", where, settings.models_dir)
    return pull(choice, settings.models_dir, progress=progress).folder, choice


def open_clip(folder: Path, choice: Choice | None, settings: Settings) -> Encoder:
    """The ONNX CLIP in ``folder`` at the chosen precision (the settings' for a bare folder)."""
    if choice is not None:
        settings = settings.model_copy(update={"model_precision": choice.precision})
    return ENCODERS["clip"].open(folder, settings)


def load_clip(settings: Settings) -> tuple[Encoder, list[str]]:
    """Resolve (folder / cache / download) and load the ONNX CLIP the settings describe."""
    folder, choice = resolve_model_dir(settings)
    encoder = open_clip(folder, choice, settings)
    notices: list[str] = []
    if not encoder.is_pretrained:
        notices.append(Notice(RANDOM_WEIGHTS_NOTICE.format(name=encoder.name), RANDOM_WEIGHTS))
    return encoder, notices


def load_colour(settings: Settings) -> Encoder:
    return ENCODERS["colour"].open(None, settings)


def fallback_notice(error: ModelUnavailable | DownloadError, settings: Settings) -> str:
    """One sentence for the operator: why there is no CLIP model and the one step that fixes
    it, without file paths (``/health`` is public); the log has the full error."""
    if settings.model_dir is not None:
        reason, fix = "the folder TUNELENS_MODEL_DIR names cannot be used", "Fix that folder."
    elif not settings.allow_download:
        reason = "none is cached and TUNELENS_ALLOW_DOWNLOAD is off"
        fix = "Run `tunelens models pull` once with internet."
    elif hub_offline():
        reason = "none is cached and HF_HUB_OFFLINE is set"
        fix = "Run `tunelens models pull` once with internet."
    elif isinstance(error, DownloadError):
        reason, fix = "the download failed", "Check the network and run `tunelens models pull`."
    else:
        reason = f"the model files failed their check ({error.code})"
        fix = "Run `tunelens models pull --force`."
    return FALLBACK_NOTICE.format(reason=reason, fix=fix)


def load_encoder(
    choice: Literal["auto", "clip", "colour"], settings: Settings
) -> tuple[Encoder, list[str]]:
    """The encoder for ``choice`` and the notices to show operators about it.

    ``clip`` raises ``ModelUnavailable`` / ``DownloadError`` when CLIP cannot be loaded;
    ``auto`` turns those into a fallback to the colour encoder with one notice.
    """
    if choice == "colour":
        return load_colour(settings), []
    if choice == "clip":
        return load_clip(settings)
    if choice != "auto":
        raise ValueError(f"unknown encoder choice {choice!r}; use auto, clip or colour")
    try:
        return load_clip(settings)
    except (ModelUnavailable, DownloadError) as exc:
        log.warning("no CLIP model, falling back to the colour encoder: %s", exc.message)
        # the code is what visitors' words are chosen by (web/services/visitor_notices.py)
        return load_colour(settings), [Notice(fallback_notice(exc, settings), COLOUR_FALLBACK)]
