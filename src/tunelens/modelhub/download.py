"""Where model weights come from: the ONLY module that touches the network for models.

:func:`pull` fetches one registered model at one precision from the Hugging Face hub (or any
server speaking its download API at ``HF_ENDPOINT``) into the cache
(:mod:`tunelens.modelhub.cache`), through ``huggingface_hub``:

1. one ``HEAD …/resolve/<revision>/<file>`` resolves the revision to a commit
   (``X-Repo-Commit``); every file is then fetched *at that commit*, so a branch moving
   mid-pull cannot mix two versions;
2. each file is downloaded with ``hf_hub_download`` (a cut connection is resumed with an HTTP
   ``Range`` request, a file already pulled is not fetched again), its sha256 is checked against
   the hub's own (the ``X-Linked-Etag`` of LFS files) and recorded in the folder's lock file
   (:mod:`tunelens.vision.lock`) the first time; every later load verifies it.

Every failure becomes a ``ModelUnavailable`` or ``DownloadError`` saying what to do; no HTTP
traceback reaches the user. ``HF_HUB_OFFLINE=1`` or ``TUNELENS_ALLOW_DOWNLOAD=false`` stop
before any connection.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tunelens.core.digest import sha256_file
from tunelens.core.errors import DownloadError, ModelUnavailable, TunelensError
from tunelens.core.settings import get_settings
from tunelens.modelhub.cache import safe, snapshot_dir, write_ref
from tunelens.modelhub.derive import derive_file, up_to_date
from tunelens.modelhub.registry import Choice
from tunelens.vision.layout import FileEntry
from tunelens.vision.lock import ModelLock

log = logging.getLogger(__name__)

_TRUE = {"1", "on", "yes", "true"}
_SHA256 = re.compile(r"[0-9a-f]{64}")
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


class PullProgress(Protocol):
    """Told about each file of a pull; ``tunelens models pull`` draws it as a progress bar."""

    def begin(self, path: str, total: int | None) -> None: ...

    def advance(self, n_bytes: int) -> None: ...

    def end(self, path: str, fetched: bool) -> None: ...


@dataclass(frozen=True)
class PullResult:
    folder: Path
    commit: str
    #: files fetched now (the rest were already in the folder, checked by size)
    fetched: tuple[str, ...]
    #: graphs made here now from downloaded ones (``int8-local``)
    derived: tuple[str, ...] = ()


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set now (or was when huggingface_hub was imported)."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE:
        return True
    try:
        from huggingface_hub import constants  # noqa: PLC0415 - hub client only when asked
    except ImportError:  # pragma: no cover - a core dependency
        return False
    return bool(constants.HF_HUB_OFFLINE)


def _endpoint() -> str | None:
    # read at call time (huggingface_hub reads HF_ENDPOINT only at import)
    return os.environ.get("HF_ENDPOINT") or None


def pull(
    choice: Choice,
    models_dir: Path,
    *,
    progress: PullProgress | None = None,
    force: bool = False,
) -> PullResult:
    """Fetch ``choice`` (model, revision, precision) into ``models_dir``; return its folder."""
    where = f"{choice.model.repo}@{choice.revision}"
    if hub_offline():
        raise ModelUnavailable(
            f"Cannot download {where}: the Hugging Face hub is in offline mode (HF_HUB_OFFLINE).",
            code="model_missing",
            details={"repo": where},
        )
    files = [f.path for f in choice.model.files_for(choice.precision)]
    repo = choice.model.repo
    with _hub_errors(where) as current:
        current.file = files[0]
        # the first HEAD fails fast (no retries) when the hub is unreachable; once it has
        # answered, later calls retry on 429/5xx and network hiccups
        first = _metadata(repo, files[0], choice.revision, retry=False)
        commit = str(first.commit_hash)
        folder = snapshot_dir(models_dir, repo, commit)
        folder.mkdir(parents=True, exist_ok=True)
        lock = ModelLock.load(folder) or ModelLock(choice.model.name, repo, choice.revision, commit)
        fetched: list[str] = []
        for rel in files:
            current.file = rel
            if not force and _already_there(folder, lock, rel):
                if progress is not None:
                    progress.end(rel, fetched=False)
                continue
            meta = first if rel == files[0] else _metadata(repo, rel, commit, retry=True)
            entry = _fetch(_Remote(repo, rel, commit), folder, meta, progress)
            _check_against_lock(lock, entry, where)
            lock = _with(lock, entry, replace=force)
            lock.write(folder)  # each file is locked as soon as it is in
            fetched.append(rel)
    write_ref(models_dir, choice.model.repo, choice.revision, commit)
    derived = derive_missing(folder, choice, progress=progress, force=force)
    log.info("pulled %s (%s) into %s: %d file(s) fetched", where, commit, folder, len(fetched))
    return PullResult(folder, commit, tuple(fetched), derived)


def derive_missing(
    folder: Path, choice: Choice, *, progress: PullProgress | None = None, force: bool = False
) -> tuple[str, ...]:
    """Make the graphs of ``choice`` that are made locally (``int8-local``) and not yet in
    ``folder``, from its downloaded files; no network. Returns the paths made now."""
    made: list[str] = []
    for target in choice.model.derived_files(choice.precision):
        lock = ModelLock.load(folder)
        if lock is None:
            raise ModelUnavailable(
                f"{folder} has no lock file to make {target.path} from; pull the model again.",
                code="model_missing",
                details={"path": str(folder)},
            )
        if force or not up_to_date(folder, lock, target):
            log.info("making %s in %s (%s)", target.path, folder, choice.precision)
            derive_file(folder, target, lock, force=True, progress=progress).write(folder)
            made.append(target.path)
        elif progress is not None:
            progress.end(target.path, fetched=False)
    return tuple(made)


def _already_there(folder: Path, lock: ModelLock, rel: str) -> bool:
    entry = lock.files.get(rel)
    path = folder / rel
    return entry is not None and path.is_file() and path.stat().st_size == entry.n_bytes


def _with(lock: ModelLock, entry: FileEntry, *, replace: bool) -> ModelLock:
    if replace:
        return dataclasses.replace(lock, files={**lock.files, entry.path: entry})
    return lock.with_files([entry])


def _check_against_lock(lock: ModelLock, entry: FileEntry, where: str) -> None:
    """A file fetched again must be the bytes first locked (same commit, same file)."""
    first = lock.files.get(entry.path)
    if first is not None and first.sha256 != entry.sha256:
        raise DownloadError(
            f"{where} served {entry.path} with sha256 {entry.sha256[:12]}…, but the lock file "
            f"recorded {first.sha256[:12]}… for the same commit when it was first downloaded. "
            "Pull with --force to replace the lock entry if you trust the new bytes.",
            code="download_corrupt",
            details={"repo": where, "path": entry.path},
        )


def _metadata(repo: str, rel: str, revision: str, *, retry: bool) -> Any:
    """``HEAD …/resolve/<revision>/<rel>``: commit, etag, size and location of one file."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url  # noqa: PLC0415 - see _fetch

    url = hf_hub_url(repo, rel, revision=revision, endpoint=_endpoint())
    meta = get_hf_file_metadata(url, endpoint=_endpoint(), retry_on_errors=retry)
    if not meta.commit_hash:
        raise DownloadError(
            f"{url} answered without an X-Repo-Commit header: the server at "
            f"{_endpoint() or 'huggingface.co'} is not a Hugging Face hub (check HF_ENDPOINT).",
            code="download_failed",
        )
    return meta


@dataclass(frozen=True)
class _Remote:
    """One file of a repository at one commit."""

    repo: str
    path: str
    commit: str


def _fetch(remote: _Remote, folder: Path, meta: Any, progress: PullProgress | None) -> FileEntry:
    """Download one file at its commit into ``folder``; its lock entry, checked against the
    hub's sha256 where the hub gives one (LFS files)."""
    # the hub client is loaded only when something is downloaded, never on a cached start
    from huggingface_hub import hf_hub_download  # noqa: PLC0415 - see above

    repo, rel, commit = remote.repo, remote.path, remote.commit

    if progress is not None:
        progress.begin(rel, meta.size)
    path = Path(
        hf_hub_download(
            repo_id=repo,
            filename=rel,
            revision=commit,
            local_dir=folder,
            endpoint=_endpoint(),
            force_download=True,
            tqdm_class=_bar_class(progress),
        )
    )
    digest = sha256_file(path)
    etag = str(meta.etag or "").lower()
    if _SHA256.fullmatch(etag) and etag != digest:
        path.unlink(missing_ok=True)
        raise DownloadError(
            f"{repo}@{commit[:12]}: {rel} arrived with sha256 {digest[:12]}…, the hub says "
            f"{etag[:12]}…; the download was damaged. Pull again.",
            code="download_corrupt",
            details={"repo": repo, "path": rel},
        )
    if progress is not None:
        progress.end(rel, fetched=True)
    return FileEntry(path=rel, sha256=digest, n_bytes=path.stat().st_size)


def _bar_class(progress: PullProgress | None) -> Any:
    """A tqdm class for ``hf_hub_download`` that draws nothing and reports bytes to
    ``progress`` (None: huggingface_hub's own bars stay off too)."""
    from huggingface_hub.utils.tqdm import tqdm as hub_tqdm  # noqa: PLC0415 - see _fetch

    class _Bar(hub_tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]  # tqdm is untyped

        def update(self, n: float | None = 1) -> bool | None:
            if progress is not None and n:
                progress.advance(int(n))
            result: bool | None = super().update(n)
            return result

    return _Bar


@dataclass
class _Current:
    """The file a pull is working on, for the error messages."""

    file: str | None = None


@contextmanager
def _hub_errors(where: str) -> Iterator[_Current]:
    """Turn huggingface_hub's and the network's exceptions into tunelens errors."""
    from huggingface_hub import errors as hf_errors  # noqa: PLC0415 - see _fetch

    hint = "Check TUNELENS_MODEL / TUNELENS_MODEL_REPO / TUNELENS_MODEL_REVISION"
    current = _Current()
    try:
        yield current
    except (hf_errors.RepositoryNotFoundError, hf_errors.GatedRepoError) as exc:
        raise ModelUnavailable(
            f"Cannot download {where}: the repository does not exist or is not accessible "
            f"({type(exc).__name__}). {hint}, or set TUNELENS_MODEL_DIR.",
            code="model_missing",
            details={"repo": where},
        ) from None
    except hf_errors.RevisionNotFoundError:
        raise ModelUnavailable(
            f"Cannot download {where}: the repository has no such revision. {hint}.",
            code="model_missing",
            details={"repo": where},
        ) from None
    except hf_errors.RemoteEntryNotFoundError:
        raise ModelUnavailable(
            f"Cannot download {where}: {current.file} is not in the repository at that "
            f"revision. {hint}, or choose another precision.",
            code="model_missing",
            details={"repo": where, "path": current.file},
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
        file = f" ({current.file})" if current.file else ""
        raise DownloadError(
            f"Downloading {where}{file} failed: {_short(exc)}. Check the network (or "
            "HF_ENDPOINT / proxy settings) and pull again; files already complete are kept.",
            code="download_failed",
            details={"repo": where, "path": current.file, "error": type(exc).__name__},
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
    target = cache_dir / safe(repo_id) / safe(revision)
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    if not allow_download or hub_offline():
        raise ModelUnavailable(
            f"Checkpoint {repo_id}@{revision} is not cached in {target} and downloads are "
            "disabled or the hub is offline; pass a local checkpoint directory.",
            code="model_missing",
            details={"path": str(target), "repo": f"{repo_id}@{revision}"},
        )
    from huggingface_hub import snapshot_download  # noqa: PLC0415 - see _fetch

    target.mkdir(parents=True, exist_ok=True)
    with _hub_errors(f"{repo_id}@{revision}"):
        snapshot_download(
            repo_id=repo_id,
            revision=revision,
            allow_patterns=CHECKPOINT_PATTERNS,
            local_dir=target,
            endpoint=_endpoint(),
        )
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
