"""Where model weights come from: the ONLY module that touches the network for models.

Order of resolution (:func:`resolve_model_dir`):

1. ``settings.model_dir`` (``TUNELENS_MODEL_DIR``): an exported model directory; must exist.
2. The cache ``settings.models_dir / <owner--name> / <revision>`` when it holds a complete
   export for ``settings.model_variant``.
3. A download of just the needed files from the Hugging Face hub into that cache, when
   ``settings.allow_download`` is true and the hub is not in offline mode
   (``HF_HUB_OFFLINE=1``). Every failure becomes a ``ModelUnavailable`` or ``DownloadError``
   with a message saying what to do; no HTTP traceback reaches the user.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tunelens.core.errors import DownloadError, ModelUnavailable, TunelensError
from tunelens.core.settings import Settings, get_settings
from tunelens.vision.layout import FILE_NAMES, MANIFEST_NAME, ExportManifest, check_file

log = logging.getLogger(__name__)

_TRUE = {"1", "on", "yes", "true"}
#: what :func:`fetch_checkpoint` takes from a transformers CLIP repo (for export)
CHECKPOINT_PATTERNS = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "preprocessor_config.json",
]


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set now (or was when huggingface_hub was imported)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE:
        return True
    try:
        from huggingface_hub import constants  # noqa: PLC0415 - hub client only when asked
    except ImportError:  # pragma: no cover - a core dependency
        return False
    return bool(constants.HF_HUB_OFFLINE)


def required_files(variant: str = "fp32") -> list[str]:
    """File names a model directory needs for ``variant`` (manifest first)."""
    suffix = "" if variant == "fp32" else f".{variant}"
    return [
        MANIFEST_NAME,
        FILE_NAMES["tokenizer"],
        FILE_NAMES[f"image{suffix}"],
        FILE_NAMES[f"text{suffix}"],
    ]


def _safe(part: str) -> str:
    return part.replace("/", "--").replace("\\", "--").replace(":", "--")


def cache_dir_for(settings: Settings) -> Path:
    """``<models_dir>/<owner--name>/<revision>`` for the configured repo and revision."""
    return settings.models_dir / _safe(settings.model_repo) / _safe(settings.model_revision)


def is_complete(model_dir: Path, variant: str = "fp32") -> bool:
    return all(
        (model_dir / name).is_file() and (model_dir / name).stat().st_size > 0
        for name in required_files(variant)
    )


def resolve_model_dir(settings: Settings) -> Path:
    """The directory to load CLIP from: explicit dir, cache, or a fresh download."""
    if settings.model_dir is not None:
        model_dir = Path(settings.model_dir).expanduser()
        if not model_dir.is_dir():
            raise ModelUnavailable(
                f"TUNELENS_MODEL_DIR points at {model_dir}, which does not exist.",
                code="model_missing",
                details={"path": str(model_dir)},
            )
        return model_dir
    cached = cache_dir_for(settings)
    if is_complete(cached, settings.model_variant):
        return cached
    return download_model(settings)


def download_model(settings: Settings, *, force: bool = False) -> Path:
    """Fetch the configured repo's manifest + graphs for the variant into the cache dir."""
    target = cache_dir_for(settings)
    where = f"{settings.model_repo}@{settings.model_revision}"
    hint = "set TUNELENS_MODEL_DIR to an exported model directory"
    if not settings.allow_download:
        raise ModelUnavailable(
            f"No CLIP model cached in {target} and downloads are disabled "
            f"(TUNELENS_ALLOW_DOWNLOAD=false); {hint}.",
            code="model_missing",
            details={"path": str(target), "repo": where},
        )
    if hub_offline():
        raise ModelUnavailable(
            f"No CLIP model cached in {target} and the Hugging Face hub is in offline mode "
            f"(HF_HUB_OFFLINE); cannot download {where}. Unset HF_HUB_OFFLINE or {hint}.",
            code="model_missing",
            details={"path": str(target), "repo": where},
        )
    files = required_files(settings.model_variant)
    _snapshot(
        settings.model_repo,
        settings.model_revision,
        target,
        files,
        force=force,
    )
    missing = [name for name in files if not (target / name).is_file()]
    if missing:
        raise ModelUnavailable(
            f"{where} has no {', '.join(missing)}: it is not a tunelens ONNX model repo.",
            code="model_missing",
            details={"path": str(target), "repo": where, "missing": missing},
        )
    _verify_download(target, files)
    return target


def _verify_download(target: Path, files: list[str]) -> None:
    """Check each downloaded file's size and sha256 against the manifest, once."""
    manifest = ExportManifest.load(target)
    by_name = {entry.path: entry for entry in manifest.files.values()}
    for name in files:
        entry = by_name.get(name)
        if entry is not None:
            check_file(target, entry, verify=True)


def _snapshot(
    repo_id: str,
    revision: str,
    target: Path,
    patterns: list[str],
    *,
    force: bool = False,
) -> None:
    """``huggingface_hub.snapshot_download`` with every failure turned into our errors."""
    # the hub client is loaded only when something is downloaded, never on a cached start
    from huggingface_hub import errors as hf_errors  # noqa: PLC0415 - see above
    from huggingface_hub import snapshot_download  # noqa: PLC0415 - see above

    where = f"{repo_id}@{revision}"
    target.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s (%s) into %s", where, ", ".join(patterns), target)
    try:
        snapshot_download(
            repo_id=repo_id,
            revision=revision,
            allow_patterns=patterns,
            local_dir=target,
            force_download=force,
            # read at call time (huggingface_hub reads HF_ENDPOINT only at import)
            endpoint=os.environ.get("HF_ENDPOINT") or None,
        )
    except (
        hf_errors.RepositoryNotFoundError,
        hf_errors.RevisionNotFoundError,
        hf_errors.GatedRepoError,
    ) as exc:
        raise ModelUnavailable(
            f"Cannot download {where}: the repository or revision does not exist or is not "
            f"accessible ({type(exc).__name__}). Check TUNELENS_MODEL_REPO / "
            "TUNELENS_MODEL_REVISION, or set TUNELENS_MODEL_DIR.",
            code="model_missing",
            details={"repo": where},
        ) from None
    except hf_errors.OfflineModeIsEnabled:
        raise ModelUnavailable(
            f"Cannot download {where}: the Hugging Face hub is in offline mode.",
            code="model_missing",
            details={"repo": where},
        ) from None
    except TunelensError:
        raise
    except Exception as exc:  # network, HTTP, disk: the boundary where anything can fail
        raise DownloadError(
            f"Downloading {where} into {target} failed: {_short(exc)}. Check the network "
            "(or HF_ENDPOINT / proxy settings), or set TUNELENS_MODEL_DIR.",
            code="download_failed",
            details={"repo": where, "path": str(target), "error": type(exc).__name__},
        ) from None


def fetch_checkpoint(
    repo_id: str,
    *,
    revision: str = "main",
    cache_dir: Path | None = None,
    allow_download: bool = True,
) -> Path:
    """A transformers CLIP checkpoint (for export / the torch encoder) from the hub cache."""
    if cache_dir is None:
        cache_dir = get_settings().models_dir / "checkpoints"
    target = cache_dir / _safe(repo_id) / _safe(revision)
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    if not allow_download or hub_offline():
        raise ModelUnavailable(
            f"Checkpoint {repo_id}@{revision} is not cached in {target} and downloads are "
            "disabled or the hub is offline; pass a local checkpoint directory.",
            code="model_missing",
            details={"path": str(target), "repo": f"{repo_id}@{revision}"},
        )
    _snapshot(repo_id, revision, target, CHECKPOINT_PATTERNS)
    if not (target / "config.json").is_file():
        raise ModelUnavailable(
            f"{repo_id}@{revision} has no config.json: not a transformers checkpoint.",
            code="model_missing",
            details={"repo": f"{repo_id}@{revision}"},
        )
    return target


def _short(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__
