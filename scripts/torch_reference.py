#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""An independent PyTorch implementation of the paper's W8A8 baseline, written the way its
reference code (and SmoothQuant's fake_quant.py, on which it builds) does it: every linear
module of the decoder layers is replaced by a fake-quantized one (quantize, dequantize, then a
float matmul), on a Hugging Face transformers model. spikequant computes the same thing with
int8 codes, an int32 GEMM and a dequantizing epilogue; this script is what it is checked
against.

Used two ways:
  * as a module, by scripts/make_quant_fixtures.py (the W8A8 logits of the tiny HF fixtures
    that test/model/torch_quant_test.cpp compares against);
  * as a command, to compare perplexities on the real stories260K model with `spikequant
    eval` and to time both (docs/comparison.md):

    python3 scripts/torch_reference.py --model ../shared/data/models/stories260K/stories260K.bin \
        --tokens eval.txt --calib-tokens calib.txt --seq-len 128 [--exclude 0.down,4.down] [--json]

  where eval.txt / calib.txt hold whitespace-separated token ids without BOS (`spikequant
  tokenize --no-bos`), so the two sides see the same tokens.

Quantizer, as PAPER.md states the reference code's choices:
  * weights: per output channel, scale = absmax(row) / 127, code = round(w / scale);
  * activations: AQ1 per token (scale per row), AQ2 per tensor (one scale for the whole
    (tokens, features) input of one forward), AQ3 static (a calibrated scale per module:
    the largest token-wise absmax seen in the float model over the calibration windows / 127);
  * torch.round is round-half-to-even, like spikequant. The reference code does not
    saturate; spikequant does (needed for static scales), so this script clamps to [-127, 127]
    too: with dynamic scales the clamp never binds, with static ones it is spikequant's
    documented choice;
  * not quantized: embeddings, norms, lm_head, the attention products.
  * QFeM-excluded modules (--exclude LAYER.KIND,...): W8A16, the int8 weight dequantized and
    multiplied with float activations.

Needs: pip install torch transformers (CPU is enough).
"""
import argparse
import json
import math
import struct
import sys
import time

import torch

# spikequant's module kinds -> the attribute path inside a transformers decoder layer.
KIND_TO_HF = {
    "q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
    "o": "self_attn.o_proj", "gate": "mlp.gate_proj", "up": "mlp.up_proj",
    "down": "mlp.down_proj",
}
SIBLINGS = [("q", "k", "v"), ("o",), ("gate", "up"), ("down",)]


def fake_quant(x, scale):
    """round(x / scale) clamped to [-127, 127], times scale (scale broadcasts)."""
    return torch.clamp(torch.round(x / scale), -127, 127) * scale


class FakeQuantLinear(torch.nn.Module):
    """A linear layer run as W8A8 (act in per-token, per-tensor, static) or W8A16 (act None)."""

    def __init__(self, linear, act, static_scale=None):
        super().__init__()
        dtype = linear.weight.dtype  # the codes are always found in float32, like spikequant's
        w = linear.weight.detach().float()
        w_scale = w.abs().amax(dim=1, keepdim=True) / 127.0
        self.register_buffer("weight", fake_quant(w, w_scale).to(dtype))
        self.bias = None if linear.bias is None else linear.bias.detach()
        self.act = act
        self.static_scale = static_scale

    def forward(self, x):
        if self.act == "per-token":
            x = fake_quant(x, x.abs().amax(dim=-1, keepdim=True) / 127.0)
        elif self.act == "per-tensor":
            x = fake_quant(x, x.abs().max() / 127.0)
        elif self.act == "static":
            x = fake_quant(x, torch.tensor(self.static_scale, dtype=x.dtype))
        elif self.act is not None:
            raise ValueError(f"unknown activation scheme {self.act}")
        return torch.nn.functional.linear(x, self.weight, self.bias)


def module_names(model):
    """(layer, kind, module) for every linear module of the decoder layers."""
    out = []
    for layer, block in enumerate(model.model.layers):
        for kind, path in KIND_TO_HF.items():
            out.append((layer, kind, block.get_submodule(path)))
    return out


def replace(model, layer, kind, new):
    parent_path, attr = KIND_TO_HF[kind].rsplit(".", 1)
    setattr(model.model.layers[layer].get_submodule(parent_path), attr, new)


def quantize_model(model, act, exclude=(), static_scales=None):
    """Replaces every decoder linear module in place: W8A16 for (layer, kind) in `exclude`,
    else W8A8 with activation scheme `act` (static: scale from static_scales[(layer, kind)])."""
    for layer, kind, lin in module_names(model):
        if (layer, kind) in exclude:
            replace(model, layer, kind, FakeQuantLinear(lin, None))
        else:
            scale = static_scales[(layer, kind)] if act == "static" else None
            replace(model, layer, kind, FakeQuantLinear(lin, act, scale))
    return model


def record_token_scales(model, windows):
    """Runs the float model on each window and returns {(layer, kind): [per-window tensor of
    token-wise absmax of the module's input]} (the statistics behind r(m) and static scales)."""
    seen = {}
    hooks = []
    for layer, kind, lin in module_names(model):
        def hook(_mod, inputs, key=(layer, kind)):
            seen.setdefault(key, []).append(inputs[0].detach().abs().amax(dim=-1).reshape(-1))
        hooks.append(lin.register_forward_pre_hook(hook))
    with torch.no_grad():
        for w in windows:
            model(torch.tensor([w]))
    for h in hooks:
        h.remove()
    return seen


def static_scales_from(token_scales):
    return {key: float(max(s.max() for s in per_window)) / 127.0
            for key, per_window in token_scales.items()}


def max_median_ratio(token_scales):
    """r(m): mean over windows of max_t s_t / lower-median_t s_t (torch.median is the lower)."""
    return {key: float(sum(float(s.max() / s.median()) for s in per_window) / len(per_window))
            for key, per_window in token_scales.items()}


def expand_siblings(exclude):
    out = set()
    for layer, kind in exclude:
        group = next(g for g in SIBLINGS if kind in g)
        out.update((layer, k) for k in group)
    return out


# ----- the stories260K comparison: llama2.c checkpoint -> transformers LlamaForCausalLM -----

def load_llama2c(path):
    """A legacy (version 0) llama2.c checkpoint as a transformers LlamaForCausalLM (fp32)."""
    from transformers import LlamaConfig, LlamaForCausalLM
    data = open(path, "rb").read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack_from("7i", data, 0)
    shared = vocab > 0
    vocab = abs(vocab)
    head = dim // n_heads
    kv_dim = n_kv * head
    flat = torch.frombuffer(bytearray(data[28:]), dtype=torch.float32)
    pos = 0

    def take(*shape):
        nonlocal pos
        n = math.prod(shape)
        t = flat[pos:pos + n].reshape(shape).clone()
        pos += n
        return t

    emb = take(vocab, dim)
    rms_att = take(n_layers, dim)
    wq, wk = take(n_layers, dim, dim), take(n_layers, kv_dim, dim)
    wv, wo = take(n_layers, kv_dim, dim), take(n_layers, dim, dim)
    rms_ffn = take(n_layers, dim)
    w1, w2, w3 = take(n_layers, hidden, dim), take(n_layers, dim, hidden), take(n_layers, hidden, dim)
    rms_final = take(dim)
    take(seq_len, head // 2)  # freq_cis_real
    take(seq_len, head // 2)  # freq_cis_imag
    wcls = emb if shared else take(vocab, dim)

    config = LlamaConfig(vocab_size=vocab, hidden_size=dim, intermediate_size=hidden,
                         num_hidden_layers=n_layers, num_attention_heads=n_heads,
                         num_key_value_heads=n_kv, max_position_embeddings=seq_len,
                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=shared,
                         bos_token_id=1, eos_token_id=2, attn_implementation="eager")
    model = LlamaForCausalLM(config).float().eval()

    # llama2.c rotates interleaved pairs (x[2i], x[2i+1]); transformers rotates halves. Reorder
    # each head's output rows of wq / wk from (pair, 2) to (2, pair), as Meta's converter does.
    def to_rotate_half(w, heads):
        return w.reshape(heads, head // 2, 2, dim).transpose(1, 2).reshape(heads * head, dim)

    sd = {"model.embed_tokens.weight": emb, "model.norm.weight": rms_final, "lm_head.weight": wcls}
    for i in range(n_layers):
        p = f"model.layers.{i}."
        sd[p + "input_layernorm.weight"] = rms_att[i]
        sd[p + "post_attention_layernorm.weight"] = rms_ffn[i]
        sd[p + "self_attn.q_proj.weight"] = to_rotate_half(wq[i], n_heads)
        sd[p + "self_attn.k_proj.weight"] = to_rotate_half(wk[i], n_kv)
        sd[p + "self_attn.v_proj.weight"] = wv[i]
        sd[p + "self_attn.o_proj.weight"] = wo[i]
        sd[p + "mlp.gate_proj.weight"] = w1[i]
        sd[p + "mlp.down_proj.weight"] = w2[i]
        sd[p + "mlp.up_proj.weight"] = w3[i]
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("rotary_emb.inv_freq")]
    if missing or unexpected:
        raise SystemExit(f"error: state dict mismatch: missing {missing}, unexpected {unexpected}")
    return model


def read_tokens(path):
    with open(path) as f:
        ids = [int(t) for t in f.read().split()]
    if not ids:
        raise SystemExit(f"error: {path}: no token ids")
    return ids


def make_windows(stream, seq_len, bos):
    """BOS + consecutive chunks of seq_len - 1 tokens (spikequant eval's protocol)."""
    return [[bos] + stream[i:i + seq_len - 1] for i in range(0, len(stream), seq_len - 1)]


def perplexity(model, windows):
    nll, count = 0.0, 0
    with torch.no_grad():
        for w in windows:
            logits = model(torch.tensor([w])).logits[0].double()
            logp = torch.log_softmax(logits[:-1], dim=-1)
            target = torch.tensor(w[1:])
            nll -= float(logp[torch.arange(len(target)), target].sum())
            count += len(target)
    return math.exp(nll / count)


def parse_exclude(text):
    out = set()
    for item in filter(None, (text or "").split(",")):
        layer, kind = item.split(".")
        if kind not in KIND_TO_HF:
            raise SystemExit(f"error: --exclude {item}: kind must be one of {list(KIND_TO_HF)}")
        out.add((int(layer), kind))
    return expand_siblings(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="llama2.c .bin (version 0)")
    ap.add_argument("--tokens", required=True, help="evaluation token ids, no BOS")
    ap.add_argument("--calib-tokens", help="calibration token ids, no BOS (for static and r(m))")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--schemes", default="fp32,per-token,per-tensor,static")
    ap.add_argument("--exclude", help="QFeM: LAYER.KIND,... run W8A16 (siblings too)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--float64", action="store_true",
                    help="run the model in float64: shows how much the quantized perplexity moves "
                         "when only the float arithmetic changes (codes near .5 flip)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    base = load_llama2c(args.model)
    bos = base.config.bos_token_id
    windows = make_windows(read_tokens(args.tokens), args.seq_len, bos)
    calib = make_windows(read_tokens(args.calib_tokens), args.seq_len, bos) if args.calib_tokens else None
    exclude = parse_exclude(args.exclude)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(),
              "dtype": "float64" if args.float64 else "float32",
              "seq_len": args.seq_len, "eval_windows": len(windows),
              "exclude": sorted(f"{l}.{k}" for l, k in exclude), "ppl": {}, "seconds": {}}
    if calib:
        token_scales = record_token_scales(base, calib)
        result["ratio"] = {f"{l}.{k}": r for (l, k), r in sorted(max_median_ratio(token_scales).items())}
        scales = static_scales_from(token_scales)
    for scheme in args.schemes.split(","):
        if scheme == "static" and not calib:
            raise SystemExit("error: the static scheme needs --calib-tokens")
        model = load_llama2c(args.model)
        if args.float64:
            model = model.double()
        if scheme != "fp32":
            quantize_model(model, scheme, exclude, scales if scheme == "static" else None)
        start = time.perf_counter()
        result["ppl"][scheme] = perplexity(model, windows)
        result["seconds"][scheme] = time.perf_counter() - start
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        for scheme, ppl in result["ppl"].items():
            print(f"{scheme:12s} ppl {ppl:.4f}  ({result['seconds'][scheme]:.1f} s)")


if __name__ == "__main__":
    main()
