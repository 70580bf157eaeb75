"""The benchmark's model folders: 8-bit files made with the hub's recipe, the view that makes a
loader pick ``_quantized``, the root files tunelens reads, and each graph timed alone.

Tiny hand-built ONNX graphs (a convolution and a matrix product) stand in for the towers;
building the real MobileCLIP needs open_clip, which is not installed in the test environment
(see ``benchmarks/requirements-mobileclip.txt``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from benchmarks.e2e_lineup import Contender, encoder_alone, ensure_local_int8, vision_graphs
from benchmarks.mobileclip import (
    BUILD_FILE,
    MOBILECLIP,
    add_8bit_files,
    q8_weight_type,
    write_root_files,
)

from tunelens.vision.hf_layout import pixel_recipe, read_config, tower_file

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
SIDE = 8


def _graph(path: Path, *, conv: bool) -> Path:
    """pixel_values [N, 3, 8, 8] → image_embeds [N, 16]: (a 3×3 conv, then) a matrix product."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits = [], []
    flat_in = "pixel_values"
    width = 3 * SIDE * SIDE
    if conv:
        inits.append(numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype("f"), "w"))
        nodes.append(helper.make_node("Conv", ["pixel_values", "w"], ["c"], pads=[1, 1, 1, 1]))
        flat_in, width = "c", 4 * SIDE * SIDE
    nodes.append(helper.make_node("Flatten", [flat_in], ["f"], axis=1))
    inits.append(numpy_helper.from_array(rng.normal(size=(width, 16)).astype("f"), "proj"))
    nodes.append(helper.make_node("MatMul", ["f", "proj"], ["image_embeds"]))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["N", 16])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _run(path: Path, pixels: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out: np.ndarray = session.run(None, {"pixel_values": pixels})[0]
    return out


def _weight_types(path: Path, op: str) -> set[int]:
    model = onnx.load(str(path))
    names = {n.input[1] for n in model.graph.node if n.op_type == op}
    return {t.data_type for t in model.graph.initializer if t.name in names}


def test_q8_means_uint8_weights_for_graphs_with_a_convolution(tmp_path: Path) -> None:
    assert q8_weight_type(_graph(tmp_path / "conv.onnx", conv=True)) == "QUInt8"
    assert q8_weight_type(_graph(tmp_path / "mm.onnx", conv=False)) == "QInt8"


def test_8bit_files_quantise_convolutions_like_the_hub(tmp_path: Path) -> None:
    from onnx import TensorProto

    fp32 = _graph(tmp_path / "onnx" / "vision_model.onnx", conv=True)
    add_8bit_files(fp32)
    q8 = fp32.with_name("vision_model_quantized.onnx")
    int8 = fp32.with_name("vision_model_int8.onnx")
    assert _weight_types(q8, "ConvInteger") == {TensorProto.UINT8}
    assert _weight_types(int8, "ConvInteger") == {TensorProto.INT8}
    assert _weight_types(int8, "MatMulInteger") == {TensorProto.INT8}
    pixels = np.random.default_rng(1).random((2, 3, SIDE, SIDE), dtype=np.float32)
    exact = _run(fp32, pixels)
    for path in (q8, int8):
        got = _run(path, pixels)
        cosine = (got * exact).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(exact, axis=1)
        assert got.shape == (2, 16) and cosine.min() > 0.95


def test_without_a_convolution_int8_and_quantized_are_one_file(tmp_path: Path) -> None:
    fp32 = _graph(tmp_path / "onnx" / "text_model.onnx", conv=False)
    add_8bit_files(fp32)
    q8 = fp32.with_name("text_model_quantized.onnx").stat()
    assert fp32.with_name("text_model_int8.onnx").stat().st_ino == q8.st_ino
    vit = _graph(tmp_path / "vit" / "vision_model.onnx", conv=True)
    add_8bit_files(vit, int8=False)
    assert sorted(p.name for p in vit.parent.iterdir()) == [
        "vision_model.onnx",
        "vision_model_quantized.onnx",
    ]


def _folder(root: Path) -> Path:
    folder = root / "mobileclip-s1-random-0"
    tokenizer = root / "tok.json"
    tokenizer.write_text("{}")
    write_root_files(folder, MOBILECLIP["mobileclip-s1"], tokenizer, image_size=SIDE, resample=2)
    add_8bit_files(_graph(folder / "onnx" / "vision_model.onnx", conv=True))
    (folder / BUILD_FILE).write_text(json.dumps({"image_size": SIDE}))
    return folder


def test_root_files_read_as_mobileclip_preprocessing(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    recipe = pixel_recipe(folder)
    assert recipe.size == SIDE and recipe.resample == "bilinear"
    assert recipe.mean == (0.0, 0.0, 0.0) and recipe.std == (1.0, 1.0, 1.0)
    config = read_config(folder)
    assert config.name == "mobileclip_s1" and config.pretrained is False


def test_int8_local_is_made_by_the_pull_recipe_once(tmp_path: Path) -> None:
    from onnx import TensorProto

    folder = _folder(tmp_path)
    messages: list[str] = []
    rel = ensure_local_int8(folder, messages.append)
    made = folder / rel
    assert rel == "onnx/vision_model_int8_local.onnx" and made.is_file()
    assert tower_file(folder, "image", "int8-local") == rel
    assert _weight_types(made, "MatMulInteger") == {TensorProto.INT8}
    assert _weight_types(made, "ConvInteger") == set()  # the convolutions stay fp32
    before = made.stat().st_mtime_ns
    assert ensure_local_int8(folder, messages.append) == rel  # made once
    assert made.stat().st_mtime_ns == before and len(messages) == 1


def test_every_image_graph_is_timed_alone(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    contender = Contender("s1 int8", "mobileclip-s1", "int8", "onnx/x.onnx", folder)
    graphs = vision_graphs([contender])
    assert sorted(graphs) == [
        "mobileclip-s1 vision_model.onnx",
        "mobileclip-s1 vision_model_int8.onnx",
        "mobileclip-s1 vision_model_quantized.onnx",
    ]
    path, side = graphs["mobileclip-s1 vision_model_int8.onnx"]
    assert side == SIDE
    timed = encoder_alone(path, side, batch=4, budget_s=0.0)
    assert timed["mb"] < 0.1 and {"batch1_ms", "batch4_ms_per_image"} <= set(timed)
    # a spent budget still leaves one timed run of each
    assert timed["batch1_ms_runs"] == timed["batch4_ms_per_image_runs"] == 1
