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
