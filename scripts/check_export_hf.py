#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Checks `spikequant export` against the Python tools that consume its output (no GPU).

For each case (the tiny Llama fixture with an AQ1 and an AQ3 recipe, the sliding-window
Mistral fixture with AQ1 and, when ../shared/data is there, stories260K with AQ1 and AQ3; the
recipes calibrated by `spikequant eval --write-recipe`):
  1. `spikequant export ... --reference-logits` writes the folder and the logits spikequant
     predicts for it;
  2. Python `safetensors` reads every file on its own: INT8 weights are I8 with each row's
     largest |code| 127 (absmax scales), weight_scale is F32 (out, 1), input_scale F32 (1)
     only for AQ3; for an unsmoothed Hugging Face source the codes equal torch's own
     round(w / (absmax / 127)) of the source weights;
  3. compressed-tensors' QuantizationConfig validates config.json's quantization_config;
  4. transformers + compressed-tensors load the folder on the CPU and run a forward:
     - quantization disabled (the decompressed INT8 weights, float activations) against
       spikequant's W8A16 emulation of the export: max |diff| <= 1e-5 * max(1, max |logit|);
     - quantization enabled (compressed-tensors' fake-quantized W8A8) against spikequant's
       served W8A8 plan (same scheme, ignored modules float): AQ3 uses the same input_scale on
       both sides, budget max |diff| <= 1e-4 * max(1, max |logit|) (checked on tokens that
       stay inside the calibrated range: beyond it compressed-tensors saturates at -128,
       spikequant at -127); AQ1 scales differ by
       design (compressed-tensors divides the token absmax by 127.5, spikequant by 127), so
       its budget is relative: ||diff|| <= 0.05 ||logits|| and <= 1.5x spikequant's own
       W8A8-vs-W8A16 gap (the INT8 activation noise);
     and the modules left float are exactly the `ignore` list;
  5. llm-compressor's QuantizationModifier (W8A8, data-free) given the exported `ignore`
     list leaves exactly those Linear modules unquantized and saves the same list;
  and the dynamic per-tensor scheme (AQ2) is refused by the export with the alternatives.

Runs in its own virtual environment ($SPIKEQUANT_PY_CACHE, default ~/.cache/spikequant,
venv-export/), created and filled from PyPI on first use (torch, transformers,
compressed-tensors, llmcompressor, safetensors; pinned below). Exits 77 (CTest: skipped) with
a message when those packages are missing and PyPI cannot be reached.

  python3 scripts/check_export_hf.py --spikequant build/tools/spikequant/spikequant \
      [--workdir DIR] [--data DIR]
"""
import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("SPIKEQUANT_PY_CACHE", os.path.join(os.path.expanduser("~"), ".cache",
                                                           "spikequant"))
VENV = os.path.join(CACHE, "venv-export")
# Versions this check was written against (llmcompressor 0.14 caps torch at 2.14).
REQUIREMENTS = ["torch==2.14.0", "transformers==5.17.0", "compressed-tensors==0.19.0",
                "llmcompressor==0.14.0.1", "safetensors"]
PROBE = ("import torch, transformers, compressed_tensors, llmcompressor, safetensors; "
         "assert torch.__version__.startswith('2.14.0'), torch.__version__; "
         "assert transformers.__version__ == '5.17.0', transformers.__version__; "
         "assert compressed_tensors.__version__.startswith('0.19.0')")
SKIP = 77


def pypi_reachable():
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=15).read(1)
        return True
    except Exception as e:  # any network failure means: skip
        print(f"check_export_hf: PyPI unreachable ({e})")
        return False


def bootstrap():
    """Re-runs this script inside the venv, creating and filling it first when needed."""
    if os.environ.get("SPIKEQUANT_EXPORT_VENV") == "1":
        return
    py = os.path.join(VENV, "bin", "python")
    ready = os.path.exists(py) and subprocess.run(
        [py, "-c", PROBE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    if not ready:
        if not pypi_reachable():
            print("SKIPPED: torch / transformers / compressed-tensors / llmcompressor are not "
                  f"installed in {VENV} and PyPI cannot be reached")
            sys.exit(SKIP)
        print(f"check_export_hf: installing {' '.join(REQUIREMENTS)} into {VENV} "
              "(several GB the first time)", flush=True)
        os.makedirs(CACHE, exist_ok=True)
        if not os.path.exists(py):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q"] + REQUIREMENTS, check=True)
        subprocess.run([py, "-c", PROBE], check=True)
    # TQDM_DISABLE: the loaders' progress bars would drown the report.
    env = dict(os.environ, SPIKEQUANT_EXPORT_VENV="1", TQDM_DISABLE="1")
    os.execve(py, [py, os.path.abspath(__file__)] + sys.argv[1:], env)


# ------------------------------------------------------------------------------------------
# Running spikequant

def sq(args, cli, check=True):
    r = subprocess.run([cli] + args, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"spikequant {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r


def make_cases(cli, work, data):
    """(name, model, recipe, tokens, hf_source) per case; recipes calibrated by spikequant."""
    cases = []
    fixture = os.path.join(ROOT, "test", "fixtures", "hf", "llama")
    rng = random.Random(7)
    stream = os.path.join(work, "fixture_tokens.txt")
    ids = [rng.randrange(3, 64) for _ in range(31 * 8)]
    with open(stream, "w") as f:
        f.write(" ".join(map(str, ids)))
    tokens = [1, 5, 17, 42, 3, 60, 9, 9, 33, 2, 50, 11]
    # AQ3 is checked on the first calibration window (BOS + 31 tokens), so no activation
    # leaves the calibrated range: past it compressed-tensors saturates negative values at
    # -128, spikequant at -127 (symmetric codes), and a random fixture gets there.
    calib_window = [1] + ids[:31]
    common = ["--model", fixture, "--tokens", stream, "--calib-tokens", stream, "--seq-len", "32",
              "--calib-samples", "8"]
    # AQ3 with SmoothQuant and a QFeM threshold that excludes some groups.
    r3 = os.path.join(work, "fixture_aq3.json")
    sq(["eval"] + common + ["--scheme", "w8a8-static", "--smoothquant", "0.5", "--qfem", "1.5",
                            "--write-recipe", r3], cli)
    cases.append(("llama-fixture-aq3", fixture, r3, calib_window, None))
    # AQ1, no smoothing: the codes can be re-derived from the source weights.
    r1 = os.path.join(work, "fixture_aq1.json")
    sq(["eval"] + common + ["--scheme", "w8a8-per-token", "--qfem", "1.5",
                            "--write-recipe", r1], cli)
    cases.append(("llama-fixture-aq1", fixture, r1, tokens, fixture))
    # Mistral with a 4-token sliding window and tied embeddings: the source config's keys
    # (sliding_window) must survive the export for the logits to agree over 12 tokens.
    swa = os.path.join(ROOT, "test", "fixtures", "hf", "mistral_swa")
    rs = os.path.join(work, "mistral_swa_aq1.json")
    sq(["eval", "--model", swa] + common[2:] + ["--scheme", "w8a8-per-token", "--qfem", "1.5",
                                                 "--write-recipe", rs], cli)
    cases.append(("mistral-swa-fixture-aq1", swa, rs, tokens, swa))
    if data:
        model = os.path.join(data, "models", "stories260K", "stories260K.bin")
        text = os.path.join(data, "text", "tinystories_val.txt")
        if os.path.exists(model) and os.path.exists(text):
            s3 = os.path.join(work, "stories260K_aq3.json")
            sq(["eval", "--model", model, "--text", text, "--max-tokens", "2048", "--calib", text,
                "--calib-samples", "4", "--scheme", "w8a8-static", "--smoothquant", "0.5",
                "--qfem", "3.5", "--write-recipe", s3], cli)
            s1 = os.path.join(work, "stories260K_aq1.json")
            recipe = json.load(open(s3))
            recipe["scheme"] = "w8a8-per-token"
            json.dump(recipe, open(s1, "w"))
            toks = [1, 403, 407, 261, 378, 12, 260, 45, 300, 17, 71, 5, 6, 287, 400, 13]
            cases.append(("stories260K-aq3", model, s3, toks, None))
            cases.append(("stories260K-aq1", model, s1, toks, None))
    return cases


# ------------------------------------------------------------------------------------------
# The checks (inside the venv)

def check_files(out, qc, hf_source, smoothed):
    import torch
    from safetensors import safe_open
    static = qc["config_groups"]["group_0"]["input_activations"]["dynamic"] is False
    index = os.path.join(out, "model.safetensors.index.json")
    files = (sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index)
             else ["model.safetensors"])
    tensors = {}
    for name in files:
        with safe_open(os.path.join(out, name), "pt") as f:
            for k in f.keys():
                tensors[k] = f.get_tensor(k)
    source = {}
    if hf_source and not smoothed:
        idx = os.path.join(hf_source, "model.safetensors.index.json")
        src_files = (sorted(set(json.load(open(idx))["weight_map"].values()))
                     if os.path.exists(idx) else ["model.safetensors"])
        for name in src_files:
            with safe_open(os.path.join(hf_source, name), "pt") as f:
                for k in f.keys():
                    source[k] = f.get_tensor(k)
    n_int8 = n_rederived = 0
    for k, t in tensors.items():
        if not k.endswith(".weight") or t.dtype != torch.int8:
            continue
        base = k[: -len(".weight")]
        n_int8 += 1
        scale = tensors[base + ".weight_scale"]
        assert scale.dtype == torch.float32 and tuple(scale.shape) == (t.shape[0], 1), k
        row_max = t.to(torch.int32).abs().amax(dim=1)
        assert bool(((row_max == 127) | (row_max == 0)).all()), f"{k}: a row's max |code| != 127"
        assert (base + ".input_scale" in tensors) == static, k
        if static:
            s = tensors[base + ".input_scale"]
            assert s.dtype == torch.float32 and tuple(s.shape) == (1,), k
        if k in source:
            w = source[k].to(torch.float32)
            ref = torch.round(w / (w.abs().amax(dim=1, keepdim=True) / 127)).clamp(-127, 127)
            assert torch.equal(ref.to(torch.int8), t), f"{k}: codes differ from torch's"
            n_rederived += 1
    ignored = [k[: -len(".weight")] for k, t in tensors.items()
               if k.endswith("_proj.weight") and t.dtype != torch.int8]
    assert sorted(ignored) == sorted(n for n in qc["ignore"] if n != "lm_head"), ignored
    return n_int8, n_rederived


def compare(name, got, want, budget):
    d = (got - want).abs().max().item()
    rel = ((got - want).norm() / want.norm()).item()
    ok = budget(d, rel)
    print(f"    {name}: max|diff| {d:.3g}  rel_l2 {rel:.3g}  (max|logit| "
          f"{want.abs().max().item():.3g})  {'ok' if ok else 'OVER BUDGET'}")
    return ok


def check_case(name, cli, model, recipe, tokens, hf_source, work):
    import torch
    from compressed_tensors.quantization import QuantizationConfig
    from transformers import AutoModelForCausalLM
    out = os.path.join(work, name)
    ref_path = out + ".reference.json"
    shutil.rmtree(out, ignore_errors=True)
    sq(["export", "--model", model, "--recipe", recipe, "--out", out, "--max-shard-size", "64KB",
        "--reference-logits", ref_path, "--tokens", " ".join(map(str, tokens))], cli)
    ref = json.load(open(ref_path))
    cfg = json.load(open(os.path.join(out, "config.json")))
    qc = cfg["quantization_config"]
    QuantizationConfig.model_validate(qc)
    smoothed = json.load(open(recipe)).get("smoothquant") is not None
    n_int8, n_rederived = check_files(out, qc, hf_source, smoothed)
    print(f"  {name}: {ref['scheme']}, {n_int8} INT8 modules ({n_rederived} re-derived from the "
          f"source), ignore {qc['ignore']}")

    m = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32, attn_implementation="eager")
    m.eval()
    ids = torch.tensor([tokens])

    def logits():
        with torch.no_grad():
            return m(ids).logits[0].reshape(-1).to(torch.float64)

    a8 = logits()  # decompresses on the first forward
    linear = {n: mod for n, mod in m.named_modules() if isinstance(mod, torch.nn.Linear)}
    unquantized = sorted(n for n, mod in linear.items()
                         if getattr(mod, "quantization_scheme", None) is None)
    assert unquantized == sorted(qc["ignore"]), unquantized
    for mod in linear.values():
        mod.quantization_enabled = False
    a16 = logits()
    for mod in linear.values():
        mod.quantization_enabled = True
    assert torch.equal(logits(), a8)

    def t(key):
        return torch.tensor(ref[key], dtype=torch.float64)

    ok = compare("W8A16 (quantization off) vs spikequant exported_w8a16", a16,
                 t("exported_w8a16"), lambda d, rel: d <= 1e-5 * max(1.0, t("exported_w8a16")
                                                                  .abs().max().item()))
    served = t("served_w8a8")
    if ref["scheme"] == "w8a8-static":
        ok &= compare("W8A8 (compressed-tensors fake quant) vs spikequant served_w8a8", a8,
                      served, lambda d, rel: d <= 1e-4 * max(1.0, served.abs().max().item()))
    else:
        noise = ((served - t("exported_w8a16")).norm() / served.norm()).item()
        ok &= compare(f"W8A8 (compressed-tensors fake quant) vs spikequant served_w8a8 [own "
                      f"W8A8 noise {noise:.3g}]", a8, served,
                      lambda d, rel: rel <= 0.05 and rel <= 1.5 * noise)
    ok &= check_llmcompressor(out, qc["ignore"], work)
    return ok


def check_llmcompressor(out, ignore, work):
    import torch
    from llmcompressor import oneshot
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from transformers import AutoConfig, AutoModelForCausalLM
    plain = out + ".float_config"
    shutil.rmtree(plain, ignore_errors=True)
    os.makedirs(plain)
    cfg = json.load(open(os.path.join(out, "config.json")))
    cfg.pop("quantization_config")
    json.dump(cfg, open(os.path.join(plain, "config.json"), "w"))
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(plain),
                                             dtype=torch.float32)
    oneshot(model=model, recipe=QuantizationModifier(targets="Linear", scheme="W8A8",
                                                     ignore=ignore))
    left = sorted(n for n, mod in model.named_modules() if isinstance(mod, torch.nn.Linear)
                  and getattr(mod, "quantization_scheme", None) is None)
    model.save_pretrained(plain + "/saved", save_compressed=True)
    saved = json.load(open(plain + "/saved/config.json"))["quantization_config"]["ignore"]
    ok = left == sorted(ignore) and sorted(saved) == sorted(ignore)
    print(f"    llm-compressor QuantizationModifier: unquantized {left}, saved ignore "
          f"{sorted(saved)}  {'ok' if ok else 'MISMATCH'}")
    return ok


def check_aq2_refused(cli, cases, work):
    name, model, recipe, tokens, _ = cases[0]
    r = json.load(open(recipe))
    r["scheme"] = "w8a8-per-tensor"
    path = os.path.join(work, "aq2.json")
    json.dump(r, open(path, "w"))
    out = os.path.join(work, "aq2")
    res = sq(["export", "--model", model, "--recipe", path, "--out", out], cli, check=False)
    ok = res.returncode == 1 and "w8a8-per-token" in res.stderr and "w8a8-static" in res.stderr
    res2 = sq(["export", "--model", model, "--recipe", path, "--out", out, "--allow-unservable"],
              cli, check=False)
    from compressed_tensors.quantization import QuantizationConfig
    qc = json.load(open(os.path.join(out, "config.json")))["quantization_config"]
    QuantizationConfig.model_validate(qc)
    acts = qc["config_groups"]["group_0"]["input_activations"]
    ok &= res2.returncode == 0 and acts["strategy"] == "tensor" and acts["dynamic"] is True
    print(f"  AQ2: refused without --allow-unservable, written (and validated) with it  "
          f"{'ok' if ok else 'FAILED'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spikequant", required=True, help="the spikequant binary")
    ap.add_argument("--workdir", default=os.path.join(CACHE, "check_export_hf"))
    default_data = os.environ.get("SPIKEQUANT_DATA", os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--data", default=default_data, help="shared data folder (stories260K)")
    args = ap.parse_args()
    bootstrap()
    import compressed_tensors
    import torch
    import transformers
    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    print(f"check_export_hf: torch {torch.__version__}, transformers {transformers.__version__}, "
          f"compressed-tensors {compressed_tensors.__version__}")
    os.makedirs(args.workdir, exist_ok=True)
    cli = os.path.abspath(args.spikequant)
    data = args.data if os.path.isdir(args.data) else None
    if data is None:
        print("check_export_hf: no shared data, stories260K cases skipped")
    cases = make_cases(cli, args.workdir, data)
    ok = True
    for case in cases:
        ok &= check_case(*case[:1], cli, *case[1:], args.workdir)
    ok &= check_aq2_refused(cli, cases, args.workdir)
    print("check_export_hf: " + ("all checks passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
