"""The model registry: the shipped data names the real hub repositories, and settings choose
from it the way the docs say."""

from __future__ import annotations

import dataclasses

import pytest

from tunelens.core.errors import ConfigError
from tunelens.core.settings import Settings
from tunelens.modelhub.derive import RECIPES
from tunelens.modelhub.registry import (
    PRECISIONS,
    REGISTRY_FILE,
    choose,
    parse_registry,
    registry,
    unregistered,
)

#: the repositories the issue lists, read from their hub file listings
REAL_REPOS = {
    "Xenova/clip-vit-base-patch32",
    "Xenova/mobileclip_s1",
    "Xenova/mobileclip_s2",
    "Xenova/mobileclip_b",
}


def test_the_shipped_registry_names_only_real_repositories() -> None:
    reg = registry()
    assert {m.repo for m in reg.models.values()} == REAL_REPOS
    for model in reg.models.values():
        assert {"fp32", "int8", "fp16"} <= set(model.precisions) <= set(PRECISIONS)
        for precision in model.precisions:
            paths = [f.path for f in model.files_for(precision)]
            assert paths[:3] == ["tokenizer.json", "preprocessor_config.json", "config.json"]
            assert paths[3].startswith("onnx/vision_model") and paths[4].startswith(
                "onnx/text_model"
            )
            assert model.size_mb(precision) is not None
        assert model.imagenet_zero_shot_top1 is not None and model.accuracy_source
        assert model.licence and model.licence_url.startswith("https://")
        assert model.revision == "main" or len(model.revision) == 40
        assert model.preprocessing is not None
    # ViT-B/32's int8 pull is the listing's 89.1 + 64.5 MB graphs plus the tokenizer
    clip = reg.get("clip-vit-base-patch32")
    assert clip.size_mb("int8") == pytest.approx(89.1 + 64.5 + 2.22)
    assert clip.towers("int8").vision.path == "onnx/vision_model_quantized.onnx"
    assert reg.get("mobileclip-s1").towers("int8").vision.path == "onnx/vision_model_int8.onnx"


def test_the_default_is_one_registered_model_and_precision() -> None:
    reg = registry()
    assert reg.default_model in reg.models
    assert reg.default_precision in reg.default.precisions
    text = REGISTRY_FILE.read_text(encoding="utf-8")
    assert text.count("[default]") == 1


def test_choose_follows_the_settings() -> None:
    reg = registry()
    default = choose(Settings())
    assert default.model is reg.default and default.precision == reg.default_precision
    assert default.revision == reg.default.revision

    s2 = choose(Settings(model="mobileclip-s2"))
    assert s2.model.repo == "Xenova/mobileclip_s2" and s2.precision == "fp32"
    assert choose(Settings(model="mobileclip-s2", model_precision="int8")).precision == "int8"
    assert choose(Settings(model="mobileclip-s2", model_variant="int8")).precision == "int8"
    pinned = choose(Settings(model="mobileclip-b", model_revision="abc"))
    assert pinned.revision == "abc"
    # a registered repository gets its registry entry; any other the transformers.js names
    by_repo = choose(Settings(model_repo="xenova/MOBILECLIP_S1"))
    assert by_repo.model.name == "mobileclip-s1" and by_repo.model.registered
    other = choose(Settings(model_repo="someone/clip-onnx", model_precision="int8"))
    assert not other.model.registered and other.revision == "main"
    assert other.model.towers("int8").text.path == "onnx/text_model_quantized.onnx"
    # the registry name wins over the repository
    both = choose(Settings(model="mobileclip-s1", model_repo="someone/clip-onnx"))
    assert both.model.name == "mobileclip-s1"


def test_unknown_names_and_precisions_are_config_errors() -> None:
    with pytest.raises(ConfigError) as info:
        choose(Settings(model="vit-huge"))
    assert info.value.code == "invalid_setting"
    assert "mobileclip-s1" in info.value.message  # says what exists
    full = unregistered("a/b")
    model = dataclasses.replace(full, precisions={"fp32": full.precisions["fp32"]})
    with pytest.raises(ConfigError) as info:
        model.towers("int8")
    assert "has no int8 files" in info.value.message


def test_parse_registry_refuses_bad_data() -> None:
    good = REGISTRY_FILE.read_text(encoding="utf-8")
    parse_registry(good)
    with pytest.raises(ValueError, match="default"):
        parse_registry(good.replace('model = "clip-vit-base-patch32"', 'model = "nope"'))
    with pytest.raises(ValueError, match="unknown precisions"):
        parse_registry(good.replace("fp16 = {", "bf16 = {", 1))
    with pytest.raises(ValueError, match="invalid model registry"):
        parse_registry("[default]\nmodel = 1\n")


def test_json_form_has_what_models_list_prints() -> None:
    data = registry().get("mobileclip-s1").to_dict()
    assert data["repo"] == "Xenova/mobileclip_s1"
    assert data["imagenet_zero_shot_top1"] == 72.6
    int8 = data["precisions"]["int8"]
    assert [f["path"] for f in int8["files"]][-2:] == [
        "onnx/vision_model_int8.onnx",
        "onnx/text_model_int8.onnx",
    ]
    assert int8["size_mb"] == pytest.approx(22.4 + 64.1 + 2.22)
    assert data["preprocessing"]["size"] == 256 and data["preprocessing"]["resample"] == "bilinear"


def test_int8_local_downloads_the_fp32_graph_and_makes_its_own() -> None:
    """The default precision's image graph is made locally from a file the hub lists, by a
    recipe this tunelens knows; the pull downloads the source, the load uses the made file."""
    reg = registry()
    clip = reg.get("clip-vit-base-patch32")
    assert (reg.default_model, reg.default_precision) == ("clip-vit-base-patch32", "int8-local")
    vision = clip.towers("int8-local").vision
    assert vision.derive is not None and vision.derive.recipe in RECIPES
    assert vision.derive.source == clip.towers("fp32").vision  # the listed 352 MB graph
    downloaded = [f.path for f in clip.files_for("int8-local")]
    loaded = [f.path for f in clip.load_files("int8-local")]
    assert downloaded[3:] == ["onnx/vision_model.onnx", "onnx/text_model_quantized.onnx"]
    assert loaded[3:] == ["onnx/vision_model_int8_local.onnx", "onnx/text_model_quantized.onnx"]
    assert clip.size_mb("int8-local") == pytest.approx(352 + 64.5 + 2.22)
    assert clip.derived_files("int8-local") == (vision,)
    assert clip.derived_files("int8") == ()
    for model in reg.models.values():  # every recipe the shipped registry names is known
        for precision in model.precisions:
            for made in model.derived_files(precision):
                assert made.derive is not None and made.derive.recipe in RECIPES
    listed = clip.to_dict()["precisions"]["int8-local"]["derived"]
    assert listed == [
        {
            "path": "onnx/vision_model_int8_local.onnx",
            "mb": 95.7,
            "derived_from": "onnx/vision_model.onnx",
            "recipe": "dynamic-int8-per-channel",
        }
    ]
    # a repository outside the registry gets int8-local too, from its fp32 image graph
    other = unregistered("someone/clip").towers("int8-local")
    assert other.vision.derive is not None
    assert other.vision.derive.source.path == "onnx/vision_model.onnx"
