"""Graphs tunelens makes on the user's machine from a downloaded one (the ``int8-local``
precision), recorded in the folder's lock file like every downloaded file.

Why: the 8-bit graphs published beside the registry's models are made for transformers.js's
web runtime, not for a server CPU. ``Xenova/clip-vit-base-patch32``'s
``vision_model_quantized.onnx`` quantises every integer-capable op with *uint8* weights (the
graph has a convolution, and onnxruntime-web has no int8-weight ``ConvInteger``), which sends
ONNX Runtime's CPU provider down its slow u8×u8 path. Quantising the fp32 graph here with int8
weights on MatMul/Gemm only (the u8×s8 kernels that AVX2, AVX-512 VNNI and ARM dot-product
instructions run) makes the same model ≈ 1.8× faster at batch 1 and ≈ 2× in batches
(docs/performance.md), at the cost of downloading the 352 MB fp32 graph instead of the 89 MB
8-bit one.

A recipe is a name in the registry (``derive = { from = …, recipe = … }``) mapped here to a
function; the lock file records the recipe, the source file's sha256 and the ONNX Runtime
version, and every load checks the made file's sha256 as it checks a downloaded one.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from tunelens.core.digest import sha256_file
from tunelens.core.errors import ConfigError, ModelUnavailable
from tunelens.modelhub.registry import HubFile
from tunelens.vision.layout import FileEntry
from tunelens.vision.lock import DerivedEntry, ModelLock


class DeriveProgress(Protocol):
    """Told when a graph is being made (the pull's progress bar shows it as a task)."""

    def begin(self, path: str, total: int | None) -> None: ...

    def end(self, path: str, fetched: bool) -> None: ...


@contextmanager
def quiet_quantiser() -> Iterator[None]:
    """ONNX Runtime's quantiser logs advice through the *root* logger, may install a root
    handler and warns freely: keep all three out of the caller's process while it runs."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def quantize_matmul_int8(source: Path, target: Path, *, per_channel: bool) -> None:
    """Dynamic int8 on MatMul/Gemm only: int8 weights (per output channel, or one scale per
    tensor), activations uint8 quantised per call. The patch-embedding convolution stays fp32
    (≈ 3 % of ViT-B/32's work; ONNX Runtime's int8 ``ConvInteger`` is slower than its fp32
    convolution). Shared by the pull's ``int8-local`` recipe and ``tunelens models export``."""
    from onnxruntime.quantization import (  # noqa: PLC0415 - heavy, needed only here
        QuantType,
        quantize_dynamic,
    )

    with quiet_quantiser():
        quantize_dynamic(
            source,
            target,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            op_types_to_quantize=["MatMul", "Gemm"],
        )


def quantize_dynamic_int8_per_channel(source: Path, target: Path) -> None:
    """The ``int8-local`` recipe: :func:`quantize_matmul_int8` with per-channel weights."""
    quantize_matmul_int8(source, target, per_channel=True)


#: recipe name (as the registry writes it) -> the function that makes the file
RECIPES: dict[str, Callable[[Path, Path], None]] = {
    "dynamic-int8-per-channel": quantize_dynamic_int8_per_channel,
}


def tool_version() -> str:
    import onnxruntime  # noqa: PLC0415 - ~0.13 s to import; only when a graph is made

    return f"onnxruntime {onnxruntime.__version__}"


def up_to_date(folder: Path, lock: ModelLock, target: HubFile) -> bool:
    """True when ``target`` was made from the locked source by the same recipe and is still
    the size it was made at (its sha256 is checked on load)."""
    how, made = target.derive, lock.derived.get(target.path)
    entry, path = lock.files.get(target.path), folder / target.path
    if how is None or made is None or entry is None or not path.is_file():
        return False
    source = lock.files.get(how.source.path)
    return (
        source is not None
        and made.source_sha256 == source.sha256
        and made.recipe == how.recipe
        and path.stat().st_size == entry.n_bytes
    )


def derive_file(
    folder: Path,
    target: HubFile,
    lock: ModelLock,
    *,
    force: bool = False,
    progress: DeriveProgress | None = None,
) -> ModelLock:
    """Make ``target`` in ``folder`` from its (downloaded, locked) source unless an up-to-date
    one is there; return the lock with it recorded. The source is checked against the lock
    first, so a damaged download is never quantised into a plausible-looking graph."""
    how = target.derive
    if how is None:
        raise ValueError(f"{target.path} is a downloaded file, not a derived one")
    if not force and up_to_date(folder, lock, target):
        if progress is not None:
            progress.end(target.path, fetched=False)
        return lock
    recipe = RECIPES.get(how.recipe)
    if recipe is None:
        raise ConfigError(
            f"{target.path} asks for the recipe {how.recipe!r}, which this tunelens does not "
            f"know ({', '.join(RECIPES)}); upgrade tunelens or choose another precision.",
            code="invalid_setting",
            details={"path": target.path, "recipe": how.recipe},
        )
    source_sha = lock.verify(folder, [how.source.path])[how.source.path]
    if progress is not None:
        progress.begin(f"{target.path} (made here: {how.recipe})", None)
    path = folder / target.path
    partial = path.with_name(path.name + ".partial")
    try:
        recipe(folder / how.source.path, partial)
    except Exception as exc:  # the quantiser raises whatever onnx/ORT raise
        partial.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"Making {target.path} from {how.source.path} ({how.recipe}) failed: "
            f"{type(exc).__name__}: {str(exc).strip()[:300]}",
            code="model_corrupt",
            details={"path": str(folder / how.source.path), "recipe": how.recipe},
        ) from None
    partial.replace(path)
    entry = FileEntry(target.path, sha256_file(path), path.stat().st_size)
    if progress is not None:
        progress.end(target.path, fetched=True)
    made = DerivedEntry(how.source.path, source_sha, how.recipe, tool_version())
    return lock.with_derived(entry, made)
