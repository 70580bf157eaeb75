"""What the ONNX CLIP encoder needs to know about a model folder, whichever layout it has.

Two layouts open as the same encoder:

* **tunelens export** (``tunelens-model.json`` + ``image.onnx``/``text.onnx``, what
  ``tunelens models export`` writes): the manifest gives sizes, preprocessing and checksums.
* **transformers.js** (``onnx/vision_model*.onnx``, ``onnx/text_model*.onnx``, root
  ``tokenizer.json``, ``preprocessor_config.json``, ``config.json``: the layout of the public hub
  repositories in the model registry): the preprocessor config gives preprocessing, and a
  ``tunelens-lock.json`` written at download gives the checksums every load verifies.

:func:`open_spec` checks the files before any graph is loaded and returns a :class:`ClipSpec`;
the encoder reads tensor names and widths from the graphs themselves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tunelens.core.digest import sha256_file
from tunelens.core.errors import ModelUnavailable
from tunelens.vision import hf_layout
from tunelens.vision.base import PixelRecipe
from tunelens.vision.layout import MANIFEST_NAME, ExportManifest, check_file
from tunelens.vision.lock import ModelLock

PRECISIONS = ("fp32", "int8", "fp16", "int8-local")


@dataclass(frozen=True)
class ClipSpec:
    """One model at one precision: its files, preprocessing and identity."""

    name: str
    folder: Path
    layout: str
    precision: str
    pretrained: bool
    #: stable id of these exact graphs (keys caches of text embeddings and trained heads)
    model_id: str
    image_file: Path
    text_file: Path
    tokenizer_file: Path
    recipe: PixelRecipe
    logit_scale: float
    #: the text context; None: the text graph's fixed length, else 77
    context_length: int | None
    #: the padding token; None: the tokenizer's own, else its end-of-text token
    pad_id: int | None
    #: the embedding width the folder promises (the graphs must agree), None when it does not say
    dim: int | None
    manifest: ExportManifest | None = None


def open_spec(folder: Path, precision: str = "fp32", *, verify: bool = False) -> ClipSpec:
    """The spec of the model in ``folder`` at ``precision``; ``ModelUnavailable`` naming what
    is missing or wrong (``model_missing`` / ``model_corrupt``) before anything runs."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelUnavailable(
            f"Model directory {folder} does not exist.",
            code="model_missing",
            details={"path": str(folder)},
        )
    if precision not in PRECISIONS:
        raise ModelUnavailable(
            f"Unknown model precision {precision!r}; use one of {', '.join(PRECISIONS)}.",
            code="model_missing",
        )
    if (folder / MANIFEST_NAME).is_file():
        return _export_spec(folder, precision, verify=verify)
    if hf_layout.is_hf_layout(folder):
        return _hf_spec(folder, precision)
    found = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())[:12]
    raise ModelUnavailable(
        f"{folder} is not a model folder tunelens knows: it has neither {MANIFEST_NAME} (a "
        "`tunelens models export`) nor onnx/vision_model*.onnx (the transformers.js layout "
        f"of the hub repositories); it holds {', '.join(found) or 'nothing'}.",
        code="model_missing",
        details={"path": str(folder), "found": found},
    )


def _export_spec(folder: Path, precision: str, *, verify: bool) -> ClipSpec:
    manifest = ExportManifest.load(folder)
    suffix = "" if precision == "fp32" else f".{precision}"
    for key in (f"image{suffix}", f"text{suffix}", "tokenizer"):
        entry = manifest.files.get(key)
        if entry is None:
            raise ModelUnavailable(
                f"The model in {folder} has no {precision} {key.split('.')[0]} graph; "
                "re-export it with int8=True or use the fp32 variant.",
                code="model_missing",
                details={"path": str(folder), "variant": precision},
            )
        check_file(folder, entry, verify=verify)
    files = {k: folder / manifest.files[k].path for k in (f"image{suffix}", f"text{suffix}")}
    model_id = manifest.model_id if precision == "fp32" else f"{manifest.model_id}-{precision}"
    return ClipSpec(
        name=manifest.name,
        folder=folder,
        layout="tunelens-export",
        precision=precision,
        pretrained=manifest.pretrained,
        model_id=model_id,
        image_file=files[f"image{suffix}"],
        text_file=files[f"text{suffix}"],
        tokenizer_file=folder / manifest.files["tokenizer"].path,
        recipe=PixelRecipe(manifest.image_size, manifest.mean, manifest.std),
        logit_scale=manifest.logit_scale,
        context_length=manifest.context_length,
        pad_id=manifest.pad_id,
        dim=manifest.dim,
        manifest=manifest,
    )


def _hf_spec(folder: Path, precision: str) -> ClipSpec:
    """A transformers.js folder; with a lock file, every file used is checked against it."""
    lock = ModelLock.load(folder)
    image = hf_layout.tower_file(folder, "image", precision)
    text = hf_layout.tower_file(folder, "text", precision)
    tokenizer = folder / hf_layout.TOKENIZER_FILE
    if not tokenizer.is_file():
        raise ModelUnavailable(
            f"The model folder {folder} has no {hf_layout.TOKENIZER_FILE}; pull the model again.",
            code="model_missing",
            details={"path": str(tokenizer)},
        )
    used = [image, text, hf_layout.TOKENIZER_FILE]
    if lock is not None:  # every root file it recorded must still be there, unchanged
        used += [name for name in hf_layout.ROOT_FILES[1:] if name in lock.files]
        digests = lock.verify(folder, used)
    else:  # a folder put together by hand: its graphs' hashes still identify the model
        digests = {rel: sha256_file(folder / rel) for rel in (image, text)}
    config = hf_layout.read_config(folder, lock.model if lock is not None else None)
    pretrained = config.pretrained and (lock.pretrained if lock is not None else True)
    model_id = hashlib.sha256(f"{digests[image]}:{digests[text]}".encode()).hexdigest()[:16]
    return ClipSpec(
        name=config.name,
        folder=folder,
        layout="transformers.js",
        precision=precision,
        pretrained=pretrained,
        model_id=model_id,
        image_file=folder / image,
        text_file=folder / text,
        tokenizer_file=tokenizer,
        recipe=hf_layout.pixel_recipe(folder),
        logit_scale=hf_layout.DEFAULT_LOGIT_SCALE,
        context_length=config.context_length,
        pad_id=None,
        dim=None,
    )
