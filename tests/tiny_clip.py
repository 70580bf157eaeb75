"""A tiny, randomly initialised CLIP checkpoint built at test time (no network, ~1 MB).

``build_tiny_clip(dir)`` writes a self-contained transformers checkpoint: ``config.json`` +
weights, a small byte-level BPE tokenizer with CLIP's exact pipeline (NFC, whitespace
collapse, lower-case, CLIP's split regex, byte-level, ``</w>`` word suffix, ``<|startoftext|>``
/ ``<|endoftext|>`` around each text) and a ``preprocessor_config.json``. The real CLIP
vocabulary has 49,408 entries; this one has a few hundred, so ``vocab_size`` is set from it.

``exported_tiny_clip(root)`` builds and exports it once per ``root`` (callers pass a
session-scoped temporary directory) and returns ``(checkpoint_dir, export_dir)``.

The weights are random: numbers they produce say nothing about quality.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

_CORPUS = [
    "a photo of a cat",
    "a photo of a dog on the beach at sunset",
    "a calm blue lake under a grey sky",
    "a crowded night city with neon lights",
    "happy people dancing at a summer festival",
    "a sad rainy street in autumn",
    "the quick brown fox jumps over the lazy dog",
    "mountains, forests and rivers; music for a road trip!",
    "jazz, rock, pop, classical and electronic music",
    "it's a bright and joyful morning, isn't it?",
]

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
CONTEXT_LENGTH = 77
IMAGE_SIZE = 224


def _train_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Train a tiny BPE with CLIP's pre-tokenisation; specials go last, as in real CLIP."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer

    tok = Tokenizer(BPE(continuing_subword_prefix="", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(
                    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
                ),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    trainer = BpeTrainer(
        vocab_size=600,
        min_frequency=2,
        initial_alphabet=alphabet,
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    model_vocab: dict[str, int] = tok.get_vocab()
    ordered = sorted(model_vocab, key=lambda t: model_vocab[t])
    # Every byte must exist both inside a word and at a word's end, as in CLIP's vocab,
    # or unseen words would map to the unknown token.
    base = [*alphabet, *(c + "</w>" for c in alphabet)]
    tokens = list(dict.fromkeys([*base, *ordered]))
    tokens += [BOS, EOS]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges_raw = json.loads(tok.to_str())["model"]["merges"]
    merges: list[tuple[str, str]] = []
    for m in merges_raw:
        left, right = m.split(" ", 1) if isinstance(m, str) else m
        merges.append((str(left), str(right)))
    return vocab, merges


def build_tiny_clip(out_dir: Path) -> Path:
    """Write a tiny random CLIP checkpoint (model, tokenizer, processor config) to ``out_dir``."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    vocab, merges = _train_vocab()
    # transformers annotates merges as list[str], but tokenizers' BPE needs (left, right) pairs
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges)  # type: ignore[arg-type]
    tokenizer.model_max_length = CONTEXT_LENGTH
    bos_id, eos_id = vocab[BOS], vocab[EOS]

    config = CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 37,
            "max_position_embeddings": CONTEXT_LENGTH,
            "bos_token_id": bos_id,
            "eos_token_id": eos_id,
            "pad_token_id": eos_id,
        },
        vision_config={
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 37,
            "patch_size": 32,
            "image_size": IMAGE_SIZE,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    model: Any = CLIPModel(config)
    model.eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    # CLIPImageProcessor's config, written directly: instantiating the class in
    # transformers 5 warns about torchvision, and only these fields matter here.
    processor = {
        "image_processor_type": "CLIPImageProcessor",
        "do_resize": True,
        "size": {"shortest_edge": IMAGE_SIZE},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": {"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "do_convert_rgb": True,
    }
    (out_dir / "preprocessor_config.json").write_text(json.dumps(processor, indent=2))
    return out_dir


def exported_tiny_clip(root: Path) -> tuple[Path, Path]:
    """Build and export the tiny CLIP under ``root`` once; return (checkpoint, export dir)."""
    from tunelens.modelhub.export import export_clip

    ckpt = root / "tiny-clip"
    out = root / "tiny-clip-onnx"
    if not (out / "tunelens-model.json").is_file():
        build_tiny_clip(ckpt)
        export_clip(ckpt, out, int8=True, pretrained=False)
    return ckpt, out


# ---------------------------------------------------------------------------------------------
# The same tiny model in the transformers.js layout of the hub repositories
# (Xenova/clip-vit-base-patch32, Xenova/mobileclip_*): onnx/vision_model*.onnx,
# onnx/text_model*.onnx, root tokenizer.json, preprocessor_config.json and config.json.

#: where each graph goes, per precision suffix
HF_GRAPHS = {"vision": "onnx/vision_model{}.onnx", "text": "onnx/text_model{}.onnx"}


def _tower(ckpt: Path, tower: str) -> Any:
    """One tower of the checkpoint's CLIPModel as transformers' ``CLIP*ModelWithProjection``
    (the classes the hub repositories were exported from), with the same weights."""
    from transformers import CLIPModel, CLIPTextModelWithProjection, CLIPVisionModelWithProjection
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    full: Any = CLIPModel.from_pretrained(ckpt, attn_implementation="eager")
    if tower == "vision":
        config = full.config.vision_config
        config.projection_dim = full.config.projection_dim
        model: Any = CLIPVisionModelWithProjection(config)
        model.vision_model.load_state_dict(full.vision_model.state_dict())
        model.visual_projection.load_state_dict(full.visual_projection.state_dict())
    else:
        config = full.config.text_config
        config.projection_dim = full.config.projection_dim
        model = CLIPTextModelWithProjection(config)
        model.text_model.load_state_dict(full.text_model.state_dict())
        model.text_projection.load_state_dict(full.text_projection.state_dict())
    return model.eval()


def _export_vision(ckpt: Path, path: Path) -> None:
    """CLIPVisionModelWithProjection: pixel_values -> image_embeds, last_hidden_state."""
    import torch

    model = _tower(ckpt, "vision")
    pixels = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on constant-folded size checks
        torch.onnx.export(
            model,
            (pixels,),
            str(path),
            input_names=["pixel_values"],
            output_names=["image_embeds", "last_hidden_state"],
            dynamic_axes={
                "pixel_values": {0: "batch_size"},
                "image_embeds": {0: "batch_size"},
                "last_hidden_state": {0: "batch_size"},
            },
            opset_version=17,
            dynamo=False,
        )


def _export_text(ckpt: Path, path: Path, *, with_mask: bool = True) -> None:
    """CLIPTextModelWithProjection: input_ids (+ attention_mask) -> text_embeds, ...; without
    the mask the graph takes a fixed 77-token sequence, like MobileCLIP's text towers."""
    import torch

    model = _tower(ckpt, "text")
    ids = torch.ones(2, CONTEXT_LENGTH, dtype=torch.int64)
    names = ["input_ids", "attention_mask"] if with_mask else ["input_ids"]
    axes: dict[str, dict[int, str]] = {"text_embeds": {0: "batch_size"}}
    if with_mask:
        axes |= {n: {0: "batch_size", 1: "sequence_length"} for n in names}
    else:
        axes["input_ids"] = {0: "batch_size"}
    args = (ids, torch.ones_like(ids)) if with_mask else (ids,)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as above
        torch.onnx.export(
            model,
            args,
            str(path),
            input_names=names,
            output_names=["text_embeds", "last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def build_tiny_hf_layout(
    out_dir: Path, *, int8_suffix: str = "_quantized", text_mask: bool = True
) -> Path:
    """Write the tiny random CLIP in the transformers.js layout to ``out_dir`` (fp32 + int8).

    ``config.json`` carries ``"tunelens_random_weights": true`` so every reading made with it
    says its weights are random.
    """
    from tokenizers import Tokenizer

    from tunelens.modelhub.export import quantize_int8

    ckpt = build_tiny_clip(out_dir.parent / f"{out_dir.name}-checkpoint")
    (out_dir / "onnx").mkdir(parents=True, exist_ok=True)
    _export_vision(ckpt, out_dir / HF_GRAPHS["vision"].format(""))
    _export_text(ckpt, out_dir / HF_GRAPHS["text"].format(""), with_mask=text_mask)
    for graph in HF_GRAPHS.values():
        quantize_int8(out_dir / graph.format(""), out_dir / graph.format(int8_suffix))
    tokenizer = Tokenizer.from_file(str(ckpt / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    tokenizer.save(str(out_dir / "tokenizer.json"))
    processor = json.loads((ckpt / "preprocessor_config.json").read_text())
    (out_dir / "preprocessor_config.json").write_text(json.dumps(processor, indent=2))
    config = {"model_type": "clip", "tunelens_random_weights": True}
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    return out_dir


def tiny_hf_layout(root: Path, **kwargs: Any) -> Path:
    """:func:`build_tiny_hf_layout` once per ``root`` and keyword set (a session cache)."""
    tag = "-".join(f"{k}={v}" for k, v in sorted(kwargs.items())) or "default"
    out = root / f"tiny-hf-clip-{tag}"
    if not (out / "config.json").is_file():
        build_tiny_hf_layout(out, **kwargs)
    return out
