"""Tensor roles read from ONNX graphs: what fits is found by what the graph declares, and
what does not fit is refused with every tensor named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tunelens.core.errors import ModelUnavailable
from tunelens.vision.graphs import image_graph, text_graph

onnx = pytest.importorskip("onnx", reason="building test graphs needs the onnx package")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402


def _session(
    tmp_path: Path, inputs: list[Any], outputs: list[Any], nodes: list[Any], inits: list[Any]
) -> Any:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    path = tmp_path / "g.onnx"
    onnx.save(model, str(path))
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _image_model(
    tmp_path: Path, *, name: str = "pixel_values", out: str = "image_embeds", dtype: int = 1
) -> Any:
    """input [N, 3, 32, 32] -> mean over pixels [N, 3] -> [N, 8]."""
    weights = helper.make_tensor("w", dtype, [3, 8], np.ones(24, dtype=np.float32).tolist())
    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3])
    nodes = [
        helper.make_node("ReduceMean", [name, "axes"], ["m"], keepdims=0),
        helper.make_node("MatMul", ["m", "w"], [out]),
    ]
    inputs = [helper.make_tensor_value_info(name, dtype, ["batch", 3, 32, 32])]
    outputs = [helper.make_tensor_value_info(out, dtype, ["batch", 8])]
    return _session(tmp_path, inputs, outputs, nodes, [weights, axes])


def test_image_roles_are_read_from_the_graph(tmp_path: Path) -> None:
    graph = image_graph(_image_model(tmp_path, name="image", out="embedding"), tmp_path)
    assert (graph.input, graph.output, graph.width, graph.side) == ("image", "embedding", 8, 32)
    assert graph.input_type is np.float32
    half = image_graph(_image_model(tmp_path, dtype=TensorProto.FLOAT16), tmp_path)
    assert half.input_type is np.float16 and half.output == "image_embeds"


def test_an_image_graph_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    session = _image_model(tmp_path, out="pooler_output")
    with pytest.raises(ModelUnavailable) as info:
        image_graph(session, tmp_path / "g.onnx")
    message = info.value.message
    assert info.value.code == "model_corrupt"
    assert "pixel_values float [batch, 3, 32, 32]" in message
    assert "pooler_output float [batch, 8]" in message and "image_embeds" in message
    assert info.value.details["outputs"] == ["pooler_output"]


def _text_model(tmp_path: Path, names: list[str], *, length: Any = "sequence") -> Any:
    """ids [N, L] (+ others) -> a [N, 4] embedding that depends on the ids."""
    table = helper.make_tensor("t", TensorProto.FLOAT, [100, 4], np.ones(400).tolist())
    nodes = [
        helper.make_node("Gather", ["t", names[0]], ["e"]),
        helper.make_node("ReduceMean", ["e", "ax"], ["text_embeds"], keepdims=0),
    ]
    axes = helper.make_tensor("ax", TensorProto.INT64, [1], [1])
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", length]) for n in names]
    outputs = [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["batch", 4])]
    return _session(tmp_path, inputs, outputs, nodes, [table, axes])


def test_text_roles_are_read_from_the_graph(tmp_path: Path) -> None:
    both = text_graph(_text_model(tmp_path, ["input_ids", "attention_mask"]), tmp_path)
    assert (both.ids, both.mask, both.output, both.length) == (
        "input_ids",
        "attention_mask",
        "text_embeds",
        None,
    )
    fixed = text_graph(_text_model(tmp_path, ["input_ids"], length=77), tmp_path)
    assert fixed.mask is None and fixed.length == 77 and fixed.width == 4


def test_a_text_graph_with_an_unknown_input_is_refused(tmp_path: Path) -> None:
    session = _text_model(tmp_path, ["input_ids", "position_ids"])
    with pytest.raises(ModelUnavailable) as info:
        text_graph(session, tmp_path / "g.onnx")
    assert "position_ids int64 [batch, sequence]" in info.value.message
    assert "attention_mask" in info.value.message  # what it may take
    with pytest.raises(ModelUnavailable):
        text_graph(_text_model(tmp_path, ["tokens_in"]), tmp_path / "g.onnx")
