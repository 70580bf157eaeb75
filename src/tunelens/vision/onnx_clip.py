"""CLIP on ONNX Runtime: the default encoder, no PyTorch at run time.

A model folder is either what :func:`tunelens.modelhub.export.export_clip` writes
(``tunelens-model.json`` + graphs) or a public hub repository in the transformers.js layout
(``onnx/vision_model*.onnx``, ``onnx/text_model*.onnx``, ``tokenizer.json``,
``preprocessor_config.json``), as :mod:`tunelens.modelhub.download` pulls it.
:func:`tunelens.vision.clip_spec.open_spec` checks the files (sizes and checksums) before
anything runs, so a missing or damaged download is a ``ModelUnavailable`` naming the path, not
an ONNX Runtime traceback. Which tensor is which is read from each graph
(:mod:`tunelens.vision.graphs`). The text graph and tokenizer load lazily on the first
``embed_texts``, so the image path never pays for them.

The graphs output projected, unnormalised embeddings; rows are L2-normalised here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from tunelens.core.errors import ModelUnavailable
from tunelens.vision.base import FloatArray, embed_in_chunks, l2_normalise
from tunelens.vision.clip_spec import ClipSpec, open_spec
from tunelens.vision.graphs import ImageGraph, TextGraph, image_graph, text_graph
from tunelens.vision.tokenizer import ClipTokenizer

if TYPE_CHECKING:
    from tunelens.vision.imaging import LoadedImage

#: CLIP's text context when neither the folder nor the graph says otherwise
DEFAULT_CONTEXT = 77


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
    """The :class:`~tunelens.vision.base.Encoder` protocol over an ONNX CLIP (either layout)."""

    supports_text = True
    #: pictures per image-graph call, and texts per text-graph call (an instance may change
    #: them, as the tests do to exercise chunking)
    batch_size = 32
    text_batch_size = 256

    def __init__(self, spec: ClipSpec, *, threads: int = 0) -> None:
        self.spec = spec
        self.model_dir = spec.folder
        self.manifest = spec.manifest
        self.variant = spec.precision
        self.layout = spec.layout
        self.threads = threads
        self.kind = "clip"  # its entry in tunelens.vision.registry.ENCODERS
        suffix = "" if spec.precision == "fp32" else f"-{spec.precision}"
        self.name = f"clip-onnx:{spec.name}{suffix}"
        self.is_pretrained = spec.pretrained
        # each precision's graphs give slightly different vectors: caches must not mix them
        self.model_id = spec.model_id
        self.logit_scale = spec.logit_scale
        self.recipe = spec.recipe
        self.image_size = spec.recipe.size
        self.mean = spec.recipe.mean
        self.std = spec.recipe.std
        self.context_length = spec.context_length or DEFAULT_CONTEXT
        self._image_session = self._open_session(spec.image_file)
        self._image: ImageGraph = image_graph(self._image_session, spec.image_file)
        self.dim = self._image_width()
        self._text_session: Any = None
        self._text_graph: TextGraph | None = None
        self._tokenizer: ClipTokenizer | None = None
        self._pad_to_context = False
        self._text_lock = threading.Lock()

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dir(
        cls,
        path: Path,
        *,
        variant: str = "fp32",
        threads: int = 0,
        verify: bool = False,
    ) -> ClipOnnxEncoder:
        """Check ``path`` (files, sizes; checksums against the lock file, or the manifest's
        with ``verify``) and load the image graph of precision ``variant``.

        Raises ``ModelUnavailable`` with code ``model_missing`` (no folder, manifest or file)
        or ``model_corrupt`` (unreadable manifest, wrong size/hash, a graph that does not fit).
        """
        return cls(open_spec(Path(path), variant, verify=verify), threads=threads)

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

    def _image_width(self) -> int:
        """The embedding width: declared by the graph, else measured on one blank picture; it
        must agree with the folder's own claim and the preprocessing must fit the graph."""
        graph, path = self._image, self.spec.image_file
        if graph.side is not None and graph.side != self.recipe.size:
            raise ModelUnavailable(
                f"The ONNX graph {path} takes {graph.side}×{graph.side} pictures, but the "
                f"folder's preprocessing crops {self.recipe.size}×{self.recipe.size}.",
                code="model_corrupt",
                details={"path": str(path)},
            )
        width = graph.width
        if width is None:
            blank = np.zeros((1, 3, self.recipe.size, self.recipe.size), dtype=np.float32)
            width = int(self._run_image(blank).shape[-1])
        if self.spec.dim is not None and width != self.spec.dim:
            raise ModelUnavailable(
                f"The ONNX graph {path} gives {width}-wide embeddings, its folder says "
                f"{self.spec.dim}.",
                code="model_corrupt",
                details={"path": str(path)},
            )
        return width

    def _text(self) -> tuple[Any, ClipTokenizer]:
        with self._text_lock:
            if self._text_session is None or self._tokenizer is None:
                path = self.spec.text_file
                session = self._open_session(path)
                graph = text_graph(session, path)
                if graph.width is not None and graph.width != self.dim:
                    raise ModelUnavailable(
                        f"The ONNX graph {path} gives {graph.width}-wide embeddings, the "
                        f"image graph {self.dim}-wide: they are not one model.",
                        code="model_corrupt",
                        details={"path": str(path)},
                    )
                if graph.length is not None:
                    self.context_length = graph.length
                self._tokenizer = ClipTokenizer(
                    self.spec.tokenizer_file,
                    context_length=self.context_length,
                    pad_id=self.spec.pad_id,
                )
                # a graph without a mask sees the padding, and one with a fixed length needs
                # exactly that many tokens: give both the full context, as their exporters did
                self._pad_to_context = graph.mask is None or graph.length is not None
                self._text_graph = graph
                self._text_session = session
            return self._text_session, self._tokenizer

    # ------------------------------------------------------------------ inference
    def _run_image(self, chunk: NDArray[np.float32]) -> NDArray[np.float32]:
        feeds = {self._image.input: chunk.astype(self._image.input_type, copy=False)}
        out = self._image_session.run([self._image.output], feeds)[0]
        return np.asarray(out, dtype=np.float32)

    def embed_pixels(self, pixel_values: NDArray[np.float32]) -> FloatArray:
        """Embed preprocessed ``(N, 3, S, S)`` float32 arrays (skips decoding/resizing)."""
        rows: list[NDArray[np.float32]] = []
        for start in range(0, len(pixel_values), self.batch_size):
            chunk = np.ascontiguousarray(
                pixel_values[start : start + self.batch_size], dtype=np.float32
            )
            rows.append(self._run_image(chunk))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(np.concatenate(rows))

    def embed_images(self, images: Sequence[LoadedImage]) -> FloatArray:
        return embed_in_chunks(
            images,
            self.embed_pixels,
            dim=self.dim,
            batch_size=self.batch_size,
            recipe=self.recipe,
        )

    def tokenize(self, texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The ``(input_ids, attention_mask)`` the text graph sees."""
        tokenizer = self._text()[1]
        return tokenizer.encode(texts, pad_to_context=self._pad_to_context)

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        if isinstance(texts, str):
            raise TypeError("embed_texts takes a sequence of strings, not one string")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        session, tokenizer = self._text()
        graph = self._text_graph
        assert graph is not None  # set by _text()
        rows: list[NDArray[np.float32]] = []
        for start in range(0, len(texts), self.text_batch_size):
            batch = texts[start : start + self.text_batch_size]
            ids, mask = tokenizer.encode(batch, pad_to_context=self._pad_to_context)
            feeds = {graph.ids: ids.astype(graph.ids_type, copy=False)}
            if graph.mask is not None:
                feeds[graph.mask] = mask.astype(graph.ids_type, copy=False)
            rows.append(np.asarray(session.run([graph.output], feeds)[0], dtype=np.float32))
        return l2_normalise(np.concatenate(rows))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
