"""A full-size, randomly initialised CLIP ViT-B/32 for benchmarks (needs ``tunelens[torch]``).

The benchmark must pay exactly what the real model costs, without the hub: ``CLIPConfig()``'s
defaults *are* ViT-B/32's shapes (vision 768×12 layers, patch 32, 224²; text 512×12 layers,
77 tokens, 49,408-entry embedding; projection 512), so a seeded random model built from them
has the same parameters, FLOPs and memory as openai/clip-vit-base-patch32. Only the tokenizer
is small: a byte-level BPE trained on a few sentences with CLIP's pre-tokenisation, so prompts
tokenise the way CLIP's do (the embedding table keeps the full 49,408 rows).

The weights are random: nothing measured with them says anything about reading quality.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tunelens.modelhub.export import export_clip
from tunelens.vision.layout import CLIP_MEAN, CLIP_STD, MANIFEST_NAME

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
_CORPUS = [
    "a photo of a happy dog on the beach at sunset",
    "a calm blue lake under a grey sky, a sad rainy street in autumn",
    "a crowded night city with neon lights and people dancing",
    "mountains, forests and rivers; music for a road trip!",
    "jazz, rock, pop, classical, electronic, hip-hop, latin and r&b music",
    "a picture that feels joyful, peaceful, scary, angry, awe-inspiring or gloomy",
]
_SPLIT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def _small_bpe() -> tuple[dict[str, int], list[tuple[str, str]]]:
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import BPE
    from tokenizers.trainers import BpeTrainer

    tok = Tokenizer(BPE(continuing_subword_prefix="", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    trainer = BpeTrainer(
        vocab_size=800,
        min_frequency=2,
        initial_alphabet=alphabet,
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    learned: dict[str, int] = tok.get_vocab()
    ordered = sorted(learned, key=lambda t: learned[t])
    base = [*alphabet, *(c + "</w>" for c in alphabet)]
    tokens = [*dict.fromkeys([*base, *ordered]), BOS, EOS]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges: list[tuple[str, str]] = []
    for m in json.loads(tok.to_str())["model"]["merges"]:
        left, right = m.split(" ", 1) if isinstance(m, str) else m
        merges.append((str(left), str(right)))
    return vocab, merges


def build_random_vit_b32(out_dir: Path, *, seed: int = 0) -> Path:
    """Write a seeded random CLIP ViT-B/32 transformers checkpoint to ``out_dir``."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    vocab, merges = _small_bpe()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges)  # type: ignore[arg-type]
    tokenizer.model_max_length = 77
    bos_id, eos_id = vocab[BOS], vocab[EOS]
    defaults: Any = CLIPConfig()
    text = defaults.text_config.to_dict()
    text.update(bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=eos_id)
    config: Any = CLIPConfig(
        text_config=text,
        vision_config=defaults.vision_config.to_dict(),
        projection_dim=defaults.projection_dim,
    )
    torch.manual_seed(seed)
    model: Any = CLIPModel(config)
    model.eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    size = int(config.vision_config.image_size)
    processor = {
        "image_processor_type": "CLIPImageProcessor",
        "do_resize": True,
        "size": {"shortest_edge": size},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": {"height": size, "width": size},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": list(CLIP_MEAN),
        "image_std": list(CLIP_STD),
        "do_convert_rgb": True,
    }
    (out_dir / "preprocessor_config.json").write_text(json.dumps(processor, indent=2))
    return out_dir


def ensure_random_vit_b32(work_dir: Path, *, seed: int = 0) -> tuple[Path, Path]:
    """Build and export the random ViT-B/32 under ``work_dir`` once; reuse it afterwards.

    Returns ``(checkpoint_dir, onnx_dir)``; the ONNX directory holds fp32 and int8 graphs.
    """
    ckpt = work_dir / f"vit-b32-random-{seed}"
    onnx_dir = work_dir / f"vit-b32-random-{seed}-onnx"
    if not (ckpt / "config.json").is_file() or not (ckpt / "model.safetensors").is_file():
        build_random_vit_b32(ckpt, seed=seed)
    if not (onnx_dir / MANIFEST_NAME).is_file():
        export_clip(ckpt, onnx_dir, int8=True, pretrained=False, name="vit-b32-random")
    return ckpt, onnx_dir
