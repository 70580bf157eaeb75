"""CLIP on ONNX Runtime: the default encoder, no PyTorch at run time.

A model directory is what :func:`tunelens.modelhub.export.export_clip` writes (or what
:mod:`tunelens.modelhub.download` fetches): ``tunelens-model.json`` plus the ONNX graphs and
``tokenizer.json``. :meth:`ClipOnnxEncoder.from_dir` checks the manifest and the files before
anything runs, so a missing or truncated download is a ``ModelUnavailable`` naming the path,
not an ONNX Runtime traceback. The text graph and tokenizer load lazily on the first
``embed_texts``, so the image path never pays for them.

The graphs output projected, unnormalised embeddings; rows are L2-normalised here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import ModelUnavailable
from tunelens.vision.base import FloatArray, PixelRecipe, embed_in_chunks, l2_normalise
from tunelens.vision.layout import (
    FILE_NAMES,
    IMAGE_INPUT,
    IMAGE_OUTPUT,
    TEXT_INPUTS,
    TEXT_OUTPUT,
    ExportManifest,
    check_file,
)
from tunelens.vision.tokenizer import ClipTokenizer

if TYPE_CHECKING:
    from tunelens.vision.imaging import LoadedImage

Variant = Literal["fp32", "int8"]


def available_cpus() -> int:
    """CPUs this process may run on (cgroup/affinity aware where the OS tells us)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def session_options(threads: int = 0) -> Any:
    """ONNX Runtime options for small CPUs: full graph optimisation, one sequential stream.

    Intra-op threads = the CPUs this process may use, and they do not spin while idle: with
    spinning (ORT's default) a session's threads burn their cores between calls, and on a
    two-core machine that also runs the web server, decoding, FAISS or a second batch worker,
    that doubled the encoder's latency under load (ViT-B/32 int8: ≈100 → ≈175 ms per call)
    while gaining nothing measurable when the machine was idle (≈50 ms either way); see
    docs/performance.md.
    """
    import onnxruntime as ort  # noqa: PLC0415 - see _open_session

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads if threads > 0 else available_cpus()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    return options


class ClipOnnxEncoder:
    """The :class:`~tunelens.vision.base.Encoder` protocol over an exported CLIP."""

    supports_text = True
    #: pictures per image-graph call, and texts per text-graph call (an instance may change
    #: them, as the tests do to exercise chunking)
    batch_size = 32
    text_batch_size = 256

    def __init__(
        self,
        model_dir: Path,
        manifest: ExportManifest,
        *,
        variant: Variant = "fp32",
        threads: int = 0,
    ) -> None:
        self.model_dir = model_dir
        self.manifest = manifest
        self.variant: Variant = variant
        self.threads = threads
        self.kind = "clip"  # its entry in tunelens.vision.registry.ENCODERS
        self.name = f"clip-onnx:{manifest.name}" + ("" if variant == "fp32" else f"-{variant}")
        self.dim = manifest.dim
        self.is_pretrained = manifest.pretrained
        # int8 graphs give slightly different vectors: caches keyed by model_id must not mix
        self.model_id = manifest.model_id if variant == "fp32" else f"{manifest.model_id}-{variant}"
        self.logit_scale = manifest.logit_scale
        self.image_size = manifest.image_size
        self.mean = manifest.mean
        self.std = manifest.std
        self.context_length = manifest.context_length
        self._image_session = self._open_session(self._file("image"))
        self._check_image_session()
        self._text_session: Any = None
        self._tokenizer: ClipTokenizer | None = None
        self._text_lock = threading.Lock()

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dir(
        cls,
        path: Path,
        *,
        variant: Variant = "fp32",
        threads: int = 0,
        verify: bool = False,
    ) -> ClipOnnxEncoder:
        """Validate ``path`` (manifest, files, sizes; sha256 too with ``verify``) and load it.

        Raises ``ModelUnavailable`` with code ``model_missing`` (no directory, manifest or
        file) or ``model_corrupt`` (unreadable manifest, wrong size/hash, unloadable graph).
        """
        path = Path(path).expanduser()
        if not path.is_dir():
            raise ModelUnavailable(
                f"Model directory {path} does not exist.",
                code="model_missing",
                details={"path": str(path)},
            )
        if variant not in ("fp32", "int8"):
            raise ModelUnavailable(
                f"Unknown model variant {variant!r}; use 'fp32' or 'int8'.",
                code="model_missing",
            )
        manifest = ExportManifest.load(path)
        suffix = "" if variant == "fp32" else f".{variant}"
        for key in (f"image{suffix}", f"text{suffix}", "tokenizer"):
            entry = manifest.files.get(key)
            if entry is None:
                raise ModelUnavailable(
                    f"The model in {path} has no {variant} {key.split('.')[0]} graph; "
                    "re-export it with int8=True or use the fp32 variant.",
                    code="model_missing",
                    details={"path": str(path), "variant": variant},
                )
            check_file(path, entry, verify=verify)
        return cls(path, manifest, variant=variant, threads=threads)

    def _file(self, tower: str) -> Path:
        graph = tower in ("image", "text") and self.variant != "fp32"
        key = f"{tower}.{self.variant}" if graph else tower
        entry = self.manifest.files.get(key)
        name = entry.path if entry is not None else FILE_NAMES[key]
        return self.model_dir / name

    def _open_session(self, path: Path) -> Any:
        # ONNX Runtime takes ~0.13 s to import: the CLI's start and colour-only processes,
        # which import this module through the encoder registry, never pay for it
        import onnxruntime as ort  # noqa: PLC0415 - see above

        try:
            return ort.InferenceSession(
                str(path),
                sess_options=session_options(self.threads),
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf/NoSuchFile types
            missing = not path.is_file()
            raise ModelUnavailable(
                f"The ONNX graph {path} "
                + ("is missing" if missing else f"cannot be loaded ({_first_line(exc)})")
                + "; re-export or re-download the model.",
                code="model_missing" if missing else "model_corrupt",
                details={"path": str(path)},
            ) from None

    def _check_image_session(self) -> None:
        inputs = [i.name for i in self._image_session.get_inputs()]
        outputs = self._image_session.get_outputs()
        width = outputs[0].shape[-1] if outputs else None
        if inputs != [IMAGE_INPUT] or not outputs or width != self.dim:
            raise ModelUnavailable(
                f"The ONNX graph {self._file('image')} does not match its manifest "
                f"(inputs {inputs}, output width {width}, expected {self.dim}).",
                code="model_corrupt",
                details={"path": str(self._file("image"))},
            )

    def _text(self) -> tuple[Any, ClipTokenizer]:
        with self._text_lock:
            if self._text_session is None or self._tokenizer is None:
                self._tokenizer = ClipTokenizer(
                    self._file("tokenizer"),
                    context_length=self.context_length,
                    pad_id=self.manifest.pad_id,
                )
                session = self._open_session(self._file("text"))
                names = [i.name for i in session.get_inputs()]
                if sorted(names) != sorted(TEXT_INPUTS):
                    raise ModelUnavailable(
                        f"The ONNX graph {self._file('text')} has inputs {names}, "
                        f"expected {list(TEXT_INPUTS)}.",
                        code="model_corrupt",
                        details={"path": str(self._file("text"))},
                    )
                self._text_session = session
            return self._text_session, self._tokenizer

    # ------------------------------------------------------------------ inference
    def embed_pixels(self, pixel_values: NDArray[np.float32]) -> FloatArray:
        """Embed preprocessed ``(N, 3, S, S)`` float32 arrays (skips decoding/resizing)."""
        rows: list[NDArray[np.float32]] = []
        for start in range(0, len(pixel_values), self.batch_size):
            chunk = np.ascontiguousarray(
                pixel_values[start : start + self.batch_size], dtype=np.float32
            )
            rows.append(self._image_session.run([IMAGE_OUTPUT], {IMAGE_INPUT: chunk})[0])
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(np.concatenate(rows).astype(np.float32, copy=False))

    def embed_images(self, images: Sequence[LoadedImage]) -> FloatArray:
        return embed_in_chunks(
            images,
            self.embed_pixels,
            dim=self.dim,
            batch_size=self.batch_size,
            recipe=PixelRecipe(self.image_size, self.mean, self.std),
        )

    def tokenize(self, texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The ``(input_ids, attention_mask)`` the text graph sees (padded to the longest)."""
        return self._text()[1].encode(texts)

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        if isinstance(texts, str):
            raise TypeError("embed_texts takes a sequence of strings, not one string")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        session, tokenizer = self._text()
        rows: list[NDArray[np.float32]] = []
        for start in range(0, len(texts), self.text_batch_size):
            ids, mask = tokenizer.encode(texts[start : start + self.text_batch_size])
            feeds = {TEXT_INPUTS[0]: ids, TEXT_INPUTS[1]: mask}
            rows.append(session.run([TEXT_OUTPUT], feeds)[0])
        return l2_normalise(np.concatenate(rows).astype(np.float32, copy=False))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
