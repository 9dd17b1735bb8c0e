#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Builds tiny random Hugging Face checkpoints and their reference logits for spikequant's
io and model tests.

Writes test/fixtures/hf/<name>/ for name in (llama, mistral, gemma, mistral_swa, mixtral):
  config.json, model.safetensors (or model-0000X-of-0000N.safetensors +
  model.safetensors.index.json for the sharded one), logits.json.
Needs: pip install torch transformers safetensors (CPU is enough). Deterministic: fixed seeds,
fp32, eager attention. Run from anywhere:  python3 scripts/make_hf_fixtures.py [OUT_DIR]
"""
import json
import os
import sys

import torch
import transformers
from safetensors import safe_open
from transformers import (GemmaConfig, GemmaForCausalLM, LlamaConfig, LlamaForCausalLM,
                          MistralConfig, MistralForCausalLM, MixtralConfig, MixtralForCausalLM)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "hf")

# 12 tokens, BOS (1) first; all < 64 so every fixture's vocab covers them.
TOKENS = [1, 5, 17, 42, 3, 60, 9, 9, 33, 2, 50, 11]

COMMON = dict(vocab_size=64, hidden_size=32, intermediate_size=40, num_hidden_layers=2,
              max_position_embeddings=64, bos_token_id=1, eos_token_id=2, pad_token_id=0,
              attn_implementation="eager")

FIXTURES = {
    # GQA (4 heads, 2 KV heads), untied lm_head, rope_theta 50000, sharded.
    "llama": (LlamaConfig, LlamaForCausalLM,
              dict(num_attention_heads=4, num_key_value_heads=2, rope_theta=50000.0,
                   rms_norm_eps=1e-5, tie_word_embeddings=False, hidden_act="silu"),
              dict(max_shard_size="16KB")),
    # GQA (4 heads, 1 KV head), tied embeddings.
    "mistral": (MistralConfig, MistralForCausalLM,
                dict(num_attention_heads=4, num_key_value_heads=1, rope_theta=10000.0,
                     rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
                     sliding_window=None),
                dict()),
    # Tied, head_dim 16 != hidden / heads = 8, GeGLU (tanh), embedding scale sqrt(32).
    "gemma": (GemmaConfig, GemmaForCausalLM,
              dict(num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                   rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
                   hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh"),
              dict()),
    # Sliding window 4: each query sees itself and the 3 keys before it, so over 12 tokens the
    # mask cuts off most of the context. Last, so the fixtures above keep their seeds.
    "mistral_swa": (MistralConfig, MistralForCausalLM,
                    dict(num_attention_heads=4, num_key_value_heads=2, rope_theta=10000.0,
                         rms_norm_eps=1e-6, tie_word_embeddings=False, hidden_act="silu",
                         sliding_window=4),
                    dict()),
    # Sparse MoE FFN: 4 experts per layer, top-2 routing, GQA 4/2, untied. Appended last so the
    # fixtures above keep their seeds. transformers 5 holds the experts fused in memory but
    # saves them as block_sparse_moe.experts.E.w1/w2/w3 (+ block_sparse_moe.gate, the router).
    "mixtral": (MixtralConfig, MixtralForCausalLM,
                dict(num_attention_heads=4, num_key_value_heads=2, num_local_experts=4,
                     num_experts_per_tok=2, rope_theta=10000.0, rms_norm_eps=1e-5,
                     tie_word_embeddings=False, hidden_act="silu", sliding_window=None),
                dict()),
}

# Mixtral's per-expert tensors exist only in the saved file (in memory they are fused).
MIXTRAL_SAMPLES = ["model.embed_tokens.weight", "model.layers.1.self_attn.k_proj.weight",
                   "model.layers.0.block_sparse_moe.gate.weight",
                   "model.layers.0.block_sparse_moe.experts.2.w2.weight",
                   "model.layers.1.block_sparse_moe.experts.3.w1.weight",
                   "model.layers.1.block_sparse_moe.experts.1.w3.weight",
                   "model.layers.1.input_layernorm.weight", "model.norm.weight",
                   "lm_head.weight"]


def build(name, seed):
    config_cls, model_cls, extra, save_kw = FIXTURES[name]
    torch.manual_seed(seed)
    config = config_cls(**COMMON, **extra)
    model = model_cls(config).float().eval()
    # Random init is tiny (std 0.02); widen the norms and weights so the logits are not all
    # near zero and a wrong layout shows up clearly.
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(torch.randn_like(p) * 0.1 + (0.0 if name == "gemma" else 1.0))
            else:
                p.copy_(torch.randn_like(p) * 0.15)
    out_dir = os.path.join(OUT, name)
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith((".safetensors", ".json")):
            os.remove(os.path.join(out_dir, f))
    model.save_pretrained(out_dir, safe_serialization=True, **save_kw)
    for f in os.listdir(out_dir):  # keep only what the readers need
        if f == "generation_config.json":
            os.remove(os.path.join(out_dir, f))
    with torch.no_grad():
        logits = model(torch.tensor([TOKENS])).logits[0].float()  # (seq, vocab)
    # A few raw stored values (before any Gemma (1 + w) folding), for the reader tests.
    state = model.state_dict()
    names = ["model.embed_tokens.weight", "model.layers.1.self_attn.k_proj.weight",
             "model.layers.0.mlp.down_proj.weight", "model.layers.1.input_layernorm.weight",
             "model.norm.weight"]
    if not config.tie_word_embeddings:
        names.append("lm_head.weight")
    if name == "mixtral":
        names = MIXTRAL_SAMPLES
        with safe_open(os.path.join(out_dir, "model.safetensors"), "pt") as f:
            state = {n: f.get_tensor(n) for n in names}
    samples = {n: {"shape": list(state[n].shape),
                   "first": [float(f"{x:.9g}") for x in state[n].reshape(-1)[:4].tolist()],
                   "last": float(f"{state[n].reshape(-1)[-1].item():.9g}"),
                   "sum": float(state[n].double().sum().item())} for n in names}
    with open(os.path.join(out_dir, "logits.json"), "w") as f:
        json.dump({
            "tensor_samples": samples,
            "model_type": config.model_type,
            "tokens": TOKENS,
            "shape": list(logits.shape),
            # 9 significant digits round-trip a float32 exactly.
            "logits": [float(f"{x:.9g}") for x in logits.reshape(-1).tolist()],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }, f)
    print(name, "->", out_dir, sorted(os.listdir(out_dir)))


def main():
    torch.use_deterministic_algorithms(True)
    for seed, name in enumerate(FIXTURES):
        build(name, 1234 + seed)


if __name__ == "__main__":
    main()
