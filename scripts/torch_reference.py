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
  * not quantized: embeddings, norms, lm_head, the attention products, and in Mixtral models
    the router (block_sparse_moe.gate), which stays float;
  * Mixtral experts: each expert's w1 / w3 / w2 (gate / up / down) is its own linear module,
    run on the rows routed to it only (so a per-tensor scale spans those rows), keyed
    (layer, "eE.kind"), printed "LAYER.eE.KIND" (e.g. "0.e2.down"). transformers 5 keeps the
    experts fused (MixtralExperts: gate_up_proj, down_proj); `unfuse_experts` splits them back
    into per-expert nn.Linear modules w1, w2, w3 (the checkpoint's layout) that compute the same
    function with the same routing, so that the replacement and the hooks below treat them
    like any other linear module;
  * QFeM-excluded modules (--exclude LAYER.KIND,...): W8A16, the int8 weight dequantized and
    multiplied with float activations;
  * optional BMM quantization (--bmm per-tensor|per-token, the paper's appendix B, SmoothQuant's
    `quantize_bmm_input=True`): the OUTPUTS of q_proj, k_proj and v_proj are fake-quantized
    with a dynamic scale (per tensor: one over the whole (tokens, features) output of that
    forward; per token: one per row), before RoPE and the KV cache, however the projections
    themselves run (`quantize_bmm`, independent of `quantize_model`).

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
# Mixtral expert E: kinds "eE.gate" / "eE.up" / "eE.down" -> the checkpoint's w1 / w3 / w2.
EXPERT_KIND_TO_W = {"gate": "w1", "up": "w3", "down": "w2"}


class Expert(torch.nn.Module):
    """One Mixtral expert as the checkpoint stores it: w2(act(w1 x) * w3 x)."""

    def __init__(self, w1, w2, w3, act_fn):
        super().__init__()
        self.w1, self.w2, self.w3 = w1, w2, w3
        self.act_fn = act_fn

    def forward(self, x):
        return self.w2(self.act_fn(self.w1(x)) * self.w3(x))


class UnfusedExperts(torch.nn.ModuleList):
    """transformers 5's MixtralExperts.forward with one Expert module per expert: the same
    routing (top_k_index, top_k_weights from the router), the same loop over the experts that
    receive tokens, in expert order, and the same index_add_ of the weighted outputs."""

    def forward(self, hidden_states, top_k_index, top_k_weights):
        out = torch.zeros_like(hidden_states)
        for e, expert in enumerate(self):
            token_idx, top_k_pos = torch.where(top_k_index == e)  # tokens ascending
            if token_idx.numel() == 0:
                continue
            y = expert(hidden_states[token_idx]) * top_k_weights[token_idx, top_k_pos, None]
            out.index_add_(0, token_idx, y.to(out.dtype))
        return out


def moe_block(block):
    """(attribute path, experts) of a decoder layer's sparse MoE block, or None when dense."""
    for path in ("block_sparse_moe", "mlp"):
        moe = getattr(block, path, None)
        if moe is not None and hasattr(moe, "experts") and hasattr(moe, "gate"):
            return path, moe
    return None


def unfuse_experts(model):
    """Replaces transformers 5's fused MixtralExperts (gate_up_proj (E, 2I, H), down_proj
    (E, H, I)) by an UnfusedExperts of nn.Linear w1, w2, w3 per expert; a no-op for dense
    models and for experts that are already separate modules (transformers 4)."""
    for block in model.model.layers:
        found = moe_block(block)
        if found is None or not hasattr(found[1].experts, "gate_up_proj"):
            continue
        fused = found[1].experts
        inter = fused.intermediate_dim
        experts = UnfusedExperts()
        for e in range(fused.num_experts):
            lin = []
            for w in (fused.gate_up_proj[e, :inter], fused.down_proj[e], fused.gate_up_proj[e, inter:]):
                m = torch.nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=w.dtype)
                with torch.no_grad():
                    m.weight.copy_(w)
                lin.append(m)
            experts.append(Expert(lin[0], lin[1], lin[2], fused.act_fn))
        found[1].experts = experts
    return model


def module_path(block, kind):
    """The attribute path of module `kind` ("q", ..., or "eE.down") inside a decoder layer."""
    if kind in KIND_TO_HF:
        return KIND_TO_HF[kind]
    expert, base = kind.split(".")
    return f"{moe_block(block)[0]}.experts.{int(expert[1:])}.{EXPERT_KIND_TO_W[base]}"


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


class FakeQuantOutput(torch.nn.Module):
    """Runs `inner` (a q/k/v projection) and fake-quantizes its output: BMM quantization with
    a dynamic per-tensor or per-token scale, round(y / scale) clamped to [-127, 127]."""

    def __init__(self, inner, act):
        super().__init__()
        if act not in ("per-tensor", "per-token"):
            raise ValueError(f"BMM quantization is per-tensor or per-token, not {act}")
        self.inner = inner
        self.act = act

    def forward(self, x):
        y = self.inner(x)
        if self.act == "per-token":
            return fake_quant(y, y.abs().amax(dim=-1, keepdim=True) / 127.0)
        return fake_quant(y, y.abs().max() / 127.0)


def quantize_bmm(model, act):
    """BMM quantization: wraps every decoder layer's q_proj, k_proj and v_proj (whatever they
    are: nn.Linear or FakeQuantLinear) so their outputs are fake-quantized with `act`
    ("per-tensor" or "per-token"); None or "off" leaves the model alone."""
    if act in (None, "off"):
        return model
    for block in model.model.layers:
        for kind in ("q", "k", "v"):
            parent_path, attr = KIND_TO_HF[kind].rsplit(".", 1)
            parent = block.get_submodule(parent_path)
            setattr(parent, attr, FakeQuantOutput(getattr(parent, attr), act))
    return model


def module_names(model):
    """(layer, kind, module) for every linear module of the decoder layers: q, k, v, o, then
    gate, up, down, or in a MoE layer "eE.gate", "eE.up", "eE.down" for every expert E (the
    model's experts must be unfused first: unfuse_experts)."""
    out = []
    for layer, block in enumerate(model.model.layers):
        found = moe_block(block)
        kinds = list(KIND_TO_HF) if found is None else ["q", "k", "v", "o"] + [
            f"e{e}.{k}" for e in range(len(found[1].experts)) for k in ("gate", "up", "down")]
        for kind in kinds:
            out.append((layer, kind, block.get_submodule(module_path(block, kind))))
    return out


def replace(model, layer, kind, new):
    block = model.model.layers[layer]
    parent_path, attr = module_path(block, kind).rsplit(".", 1)
    setattr(block.get_submodule(parent_path), attr, new)


def quantize_model(model, act, exclude=(), static_scales=None):
    """Replaces every decoder linear module in place: W8A16 for (layer, kind) in `exclude`,
    else W8A8 with activation scheme `act` (static: scale from static_scales[(layer, kind)]).
    Mixtral experts are unfused first; the router stays float."""
    unfuse_experts(model)
    for layer, kind, lin in module_names(model):
        if (layer, kind) in exclude:
            replace(model, layer, kind, FakeQuantLinear(lin, None))
        else:
            scale = static_scales[(layer, kind)] if act == "static" else None
            replace(model, layer, kind, FakeQuantLinear(lin, act, scale))
    return model


def record_token_scales(model, windows):
    """Runs the float model on each window and returns {(layer, kind): [per-window tensor of
    token-wise absmax of the module's input]} (the statistics behind r(m) and static scales).
    A Mixtral expert sees only its routed rows, and a window that routes it no token adds no
    entry (as spikequant's TokenScaleObserver skips it)."""
    unfuse_experts(model)
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
    """Adds the siblings of every (layer, kind); an expert's {gate, up} stays in the expert."""
    out = set()
    for layer, kind in exclude:
        expert, _, base = kind.rpartition(".")
        group = next(g for g in SIBLINGS if base in g)
        out.update((layer, f"{expert}.{k}" if expert else k) for k in group)
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
    ap.add_argument("--bmm", default="off", choices=["off", "per-tensor", "per-token"],
                    help="BMM quantization of the q/k/v outputs (every scheme, fp32 included)")
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
              "seq_len": args.seq_len, "eval_windows": len(windows), "bmm": args.bmm,
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
        quantize_bmm(model, args.bmm)
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
