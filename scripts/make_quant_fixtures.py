#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Writes test/fixtures/hf/<name>/quant_logits.json: the logits of each tiny Hugging Face
fixture under W8A8 quantization, computed by the independent PyTorch fake-quantization in
scripts/torch_reference.py (the paper's reference-code quantizer). test/model/
torch_quant_test.cpp runs spikequant's int8 path on the same checkpoints and compares.

Cases (one entry each in "cases"):
  per-token, per-tensor       every decoder linear module W8A8 with that dynamic scheme;
  static                      static per-tensor scales calibrated on the same tokens in the
                              float model (largest token-wise absmax / 127), stored per module;
  per-tensor+qfem             per-tensor, with layer 0 down and layer 1 {q,k,v} W8A16
                              (Mixtral: layer 0 expert 1's down, layer 1 {q,k,v} and layer 1
                              expert 3's {gate,up});
  per-tensor+bmm              per-tensor everywhere plus BMM quantization: the q/k/v outputs
                              fake-quantized with one dynamic per-tensor scale each (the entry
                              has "bmm": "per-tensor"; the other entries have no "bmm" key).

Module keys are "LAYER.KIND" ("0.down", "1.q") and, for Mixtral experts, "LAYER.eE.KIND"
("0.e1.down": layer 0, expert 1, its w2); the router is never quantized.

Needs: pip install torch transformers safetensors. Run after make_hf_fixtures.py:
  python3 scripts/make_quant_fixtures.py [FIXTURE_ROOT [NAME ...]]
NAMEs limit the run to those fixture folders (e.g. `mixtral`); default: every folder.
"""
import json
import os
import sys

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as tr  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "hf")
ONLY = set(sys.argv[2:])

CASES = [  # (name, act, exclude, bmm)
    ("per-token", "per-token", [], None),
    ("per-tensor", "per-tensor", [], None),
    ("static", "static", [], None),
    ("per-tensor+qfem", "per-tensor", [(0, "down"), (1, "q")], None),
    ("per-tensor+bmm", "per-tensor", [], "per-tensor"),
]
# The same exclusion idea where the FFN is a set of experts (layer 0 has no dense down).
MOE_QFEM_EXCLUDE = [(0, "e1.down"), (1, "q"), (1, "e3.up")]


def load(path):
    model = transformers.AutoModelForCausalLM.from_pretrained(
        path, torch_dtype=torch.float32, attn_implementation="eager")
    return model.float().eval()


def logits_of(model, tokens):
    with torch.no_grad():
        return model(torch.tensor([tokens])).logits[0]


def fmt(values):
    return [float(f"{v:.9g}") for v in values]


def main():
    for name in sorted(os.listdir(FIXTURES)):
        path = os.path.join(FIXTURES, name)
        ref_path = os.path.join(path, "logits.json")
        if not os.path.isfile(ref_path) or (ONLY and name not in ONLY):
            continue
        with open(ref_path) as f:
            tokens = json.load(f)["tokens"]
        float_logits = logits_of(load(path), tokens)
        scales = tr.static_scales_from(tr.record_token_scales(load(path), [tokens]))
        out = {"model_type": name, "tokens": tokens, "shape": list(float_logits.shape),
               "torch": torch.__version__, "transformers": transformers.__version__,
               "cases": []}
        moe = any(kind.startswith("e") for _, kind in scales)
        for case, act, exclude, bmm in CASES:
            if moe and case == "per-tensor+qfem":
                exclude = MOE_QFEM_EXCLUDE
            excluded = tr.expand_siblings(set(exclude))
            model = tr.quantize_bmm(tr.quantize_model(load(path), act, excluded, scales), bmm)
            logits = logits_of(model, tokens)
            entry = {"name": case, "act": act,
                     "exclude": sorted(f"{layer}.{kind}" for layer, kind in excluded),
                     "max_abs_diff_from_fp32": float((logits - float_logits).abs().max()),
                     "logits": fmt(logits.reshape(-1).tolist())}
            if bmm is not None:
                entry["bmm"] = bmm
            if act == "static":
                entry["static_scales"] = {f"{layer}.{kind}": s for (layer, kind), s in sorted(scales.items())}
            out["cases"].append(entry)
            print(f"{name:8s} {case:16s} max |quant - fp32| = {entry['max_abs_diff_from_fp32']:.4f}")
        with open(os.path.join(path, "quant_logits.json"), "w") as f:
            json.dump(out, f)
            f.write("\n")


if __name__ == "__main__":
    main()
