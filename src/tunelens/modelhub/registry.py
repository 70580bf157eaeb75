"""The model registry: which public hub repositories tunelens pulls CLIP models from.

The data is ``models.toml`` beside this module (shipped in the wheel): per model, the hub
repository and revision, the files each precision needs (with the sizes the hub lists), the
preprocessing the repository's ``preprocessor_config.json`` sets, the licence, and the published
zero-shot ImageNet accuracy with its source. The default model is one entry there
(``[default]``). Nothing in here touches the network: :mod:`tunelens.modelhub.download` does.

A repository outside the registry (``TUNELENS_MODEL_REPO``) is treated as a transformers.js
repository with the usual file names (:func:`unregistered`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast, get_args

from tunelens.core.errors import ConfigError
from tunelens.core.settings import Precision, Settings

REGISTRY_FILE = Path(__file__).with_name("models.toml")
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
#: the root files every transformers.js CLIP repository has
ROOT_FILES = ("tokenizer.json", "preprocessor_config.json", "config.json")
#: the int8 file name transformers.js repositories have had longest (``_quantized``)
_CONVENTIONAL_SUFFIX = {"fp32": "", "int8": "_quantized", "fp16": "_fp16"}
#: where ``int8-local`` puts the image graph it quantises from the fp32 one, and how
LOCAL_INT8_VISION = "onnx/vision_model_int8_local.onnx"
LOCAL_INT8_RECIPE = "dynamic-int8-per-channel"


@dataclass(frozen=True)
class Derivation:
    """How a file that the hub does not publish is made on the user's machine: from which
    hub file, by which recipe (:mod:`tunelens.modelhub.derive`)."""

    source: HubFile
    recipe: str


@dataclass(frozen=True)
class HubFile:
    """One file of a repository: its path there and the size the hub lists (MB), if known.

    With ``derive`` the file is not downloaded: a pull fetches ``derive.source`` and makes
    this file from it locally (``mb`` is then the size it comes out at, roughly).
    """

    path: str
    mb: float | None = None
    derive: Derivation | None = None

    @property
    def fetched(self) -> HubFile:
        """The file a pull downloads for this one (itself, or what it is derived from)."""
        return self if self.derive is None else self.derive.source


@dataclass(frozen=True)
class Towers:
    """The two graphs of one precision."""

    vision: HubFile
    text: HubFile


@dataclass(frozen=True)
class Preprocessing:
    """What the repository's ``preprocessor_config.json`` sets (documentation: at load time
    the file itself is read)."""

    size: int
    crop: int
    resample: str
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def describe(self) -> str:
        norm = (
            "no normalisation"
            if set(self.mean) == {0.0} and set(self.std) == {1.0}
            else "CLIP mean/std"
        )
        return f"short side {self.size} ({self.resample}), centre crop {self.crop}, {norm}"


@dataclass(frozen=True)
class RegisteredModel:
    """One model: where it lives on the hub and everything tunelens needs to know about it."""

    name: str
    repo: str
    revision: str
    architecture: str
    licence: str
    licence_url: str
    imagenet_zero_shot_top1: float | None
    accuracy_source: str
    notes: str
    files: tuple[HubFile, ...]
    precisions: Mapping[str, Towers]
    preprocessing: Preprocessing | None
    registered: bool = True

    def files_for(self, precision: str) -> tuple[HubFile, ...]:
        """Every file a pull at ``precision`` downloads: the root files, then both graphs
        (for a graph made locally, the hub file it is made from)."""
        towers = self.towers(precision)
        return (*self.files, towers.vision.fetched, towers.text.fetched)

    def load_files(self, precision: str) -> tuple[HubFile, ...]:
        """Every file loading ``precision`` needs in the folder (derived graphs included)."""
        towers = self.towers(precision)
        return (*self.files, towers.vision, towers.text)

    def derived_files(self, precision: str) -> tuple[HubFile, ...]:
        """The graphs of ``precision`` that a pull makes locally, in the order it makes them."""
        towers = self.towers(precision)
        return tuple(f for f in (towers.vision, towers.text) if f.derive is not None)

    def towers(self, precision: str) -> Towers:
        try:
            return self.precisions[precision]
        except KeyError:
            raise ConfigError(
                f"{self.name} has no {precision} files; it has {', '.join(self.precisions)}.",
                code="invalid_setting",
                details={"model": self.name, "precision": precision},
            ) from None

    def size_mb(self, precision: str) -> float | None:
        """The listed download size of a pull at ``precision`` (None when a graph's size is
        unknown)."""
        sizes = [f.mb for f in self.files_for(precision)]
        graphs = sizes[-2:]
        if any(s is None for s in graphs):
            return None
        return float(sum(s for s in sizes if s is not None))

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``tunelens models list --json``."""
        return {
            "name": self.name,
            "repo": self.repo,
            "revision": self.revision,
            "architecture": self.architecture,
            "licence": self.licence,
            "licence_url": self.licence_url,
            "imagenet_zero_shot_top1": self.imagenet_zero_shot_top1,
            "accuracy_source": self.accuracy_source,
            "notes": self.notes,
            "preprocessing": None if self.preprocessing is None else self.preprocessing.__dict__,
            "precisions": {
                p: {
                    "files": [_file_json(f) for f in self.files_for(p)],
                    "size_mb": self.size_mb(p),
                    "derived": [_file_json(f) for f in self.derived_files(p)],
                }
                for p in self.precisions
            },
        }


@dataclass(frozen=True)
class Registry:
    models: Mapping[str, RegisteredModel]
    default_model: str
    default_precision: Precision

    def get(self, name: str) -> RegisteredModel:
        """The model called ``name`` (or whose repository is ``name``); ``ConfigError`` if none."""
        found = self.models.get(name) or self.by_repo(name)
        if found is None:
            raise ConfigError(
                f"No model {name!r} in the registry; known: {', '.join(self.models)} "
                "(`tunelens models list`).",
                code="invalid_setting",
                details={"model": name},
            )
        return found

    def by_repo(self, repo: str) -> RegisteredModel | None:
        return next((m for m in self.models.values() if m.repo.lower() == repo.lower()), None)

    @property
    def default(self) -> RegisteredModel:
        return self.models[self.default_model]


def _file_json(f: HubFile) -> dict[str, Any]:
    data: dict[str, Any] = {"path": f.path, "mb": f.mb}
    if f.derive is not None:
        data["derived_from"] = f.derive.source.path
        data["recipe"] = f.derive.recipe
    return data


def _file(raw: Mapping[str, Any]) -> HubFile:
    mb = raw.get("mb")
    derive = raw.get("derive")
    return HubFile(
        path=str(raw["path"]),
        mb=float(mb) if mb is not None else None,
        derive=None
        if derive is None
        else Derivation(_file(derive["from"]), recipe=str(derive["recipe"])),
    )


def _model(name: str, raw: Mapping[str, Any]) -> RegisteredModel:
    prep = raw.get("preprocessing")
    precisions = {
        str(p): Towers(_file(t["vision"]), _file(t["text"]))
        for p, t in dict(raw["precisions"]).items()
    }
    unknown = set(precisions) - set(PRECISIONS)
    if unknown:
        raise ValueError(f"unknown precisions {sorted(unknown)}")
    return RegisteredModel(
        name=name,
        repo=str(raw["repo"]),
        revision=str(raw.get("revision", "main")),
        architecture=str(raw.get("architecture", "")),
        licence=str(raw.get("licence", "unknown")),
        licence_url=str(raw.get("licence_url", "")),
        imagenet_zero_shot_top1=(
            float(raw["imagenet_zero_shot_top1"]) if "imagenet_zero_shot_top1" in raw else None
        ),
        accuracy_source=str(raw.get("accuracy_source", "")),
        notes=str(raw.get("notes", "")),
        files=tuple(_file(f) for f in raw.get("files", [])),
        precisions=precisions,
        preprocessing=None
        if prep is None
        else Preprocessing(
            size=int(prep["size"]),
            crop=int(prep["crop"]),
            resample=str(prep["resample"]),
            mean=tuple(float(v) for v in prep["mean"]),
            std=tuple(float(v) for v in prep["std"]),
        ),
    )


def parse_registry(text: str) -> Registry:
    """A registry from TOML text; ``ValueError`` naming the first problem."""
    try:
        data = tomllib.loads(text)
        models = {str(n): _model(str(n), m) for n, m in dict(data["models"]).items()}
        default = dict(data["default"])
        name, precision = str(default["model"]), str(default["precision"])
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"invalid model registry: {exc}") from None
    if name not in models or precision not in models[name].precisions:
        raise ValueError(f"invalid model registry: the default {name} {precision} is not in it")
    return Registry(models, name, cast(Precision, precision))


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The shipped registry (read once per process)."""
    return parse_registry(REGISTRY_FILE.read_text(encoding="utf-8"))


def unregistered(repo: str, revision: str = "main") -> RegisteredModel:
    """A repository outside the registry, assumed to follow transformers.js's file names."""
    precisions = {
        p: Towers(
            HubFile(f"onnx/vision_model{suffix}.onnx"), HubFile(f"onnx/text_model{suffix}.onnx")
        )
        for p, suffix in _CONVENTIONAL_SUFFIX.items()
    }
    # any transformers.js repository has the fp32 image graph to quantise locally
    fp32_vision = HubFile("onnx/vision_model.onnx")
    precisions["int8-local"] = Towers(
        HubFile(LOCAL_INT8_VISION, derive=Derivation(fp32_vision, LOCAL_INT8_RECIPE)),
        precisions["int8"].text,
    )
    return RegisteredModel(
        name=repo.rsplit("/", 1)[-1],
        repo=repo,
        revision=revision,
        architecture="unregistered transformers.js repository",
        licence="see the repository",
        licence_url=f"https://huggingface.co/{repo}",
        imagenet_zero_shot_top1=None,
        accuracy_source="",
        notes="",
        files=tuple(HubFile(p) for p in ROOT_FILES),
        precisions=precisions,
        preprocessing=None,
        registered=False,
    )


@dataclass(frozen=True)
class Choice:
    """The model, revision and precision the settings ask for."""

    model: RegisteredModel
    revision: str
    precision: Precision


def choose(settings: Settings, reg: Registry | None = None) -> Choice:
    """What ``TUNELENS_MODEL`` / ``_REPO`` / ``_REVISION`` / ``_PRECISION`` select, with the
    registry default for whatever is unset. ``ConfigError`` for an unknown name or a precision
    the model does not have."""
    reg = reg or registry()
    if settings.model:
        model = reg.get(settings.model)
    elif settings.model_repo:
        model = reg.by_repo(settings.model_repo) or unregistered(settings.model_repo)
    else:
        model = reg.default
    precision = settings.model_precision or settings.model_variant
    if precision is None:
        precision = reg.default_precision if model.name == reg.default_model else "fp32"
    model.towers(precision)  # ConfigError when this model lacks it
    return Choice(model, settings.model_revision or model.revision, precision)
