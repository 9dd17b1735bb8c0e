#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spikequant authors
# SPDX-License-Identifier: MIT
"""Writes transformers' references for the Llama-architecture GGUF model (SmolLM2-135M-Instruct
Q4_1) that test/io/gguf_tokenizer_test.cpp and test/model/gguf_llama_logits_test.cpp compare
with. Output goes beside the model (a cache outside the repository, never committed):

  python3 scripts/make_gguf_llama_refs.py [MODELS_DIR=${SPIKEQUANT_MODELS:-~/.cache/spikequant/models}]
      [--text WIKITEXT=../shared/data/text/wikitext2_test.raw]

  <model>.gguf.ref/tokens_wikitext.txt  token ids of the whole WikiText-2 test file (no BOS)
  <model>.gguf.ref/tokens_awkward.txt   one line per awkward string: its UTF-8 in hex, a tab,
                                        its ids (unicode, whitespace runs, digits, emoji,
                                        control characters, special tokens, a sweep of code
                                        points U+0000..U+2FFF)
  <model>.gguf.ref/logits.txt           line 1: the token ids of the fixed sequence (BOS then
                                        the first 63 WikiText tokens); then one line per
                                        checked position: position, then its float32 logits
                                        (transformers loading the same GGUF, float32, eager)
  <model>.gguf.ref/ppl.txt              fp32 perplexity of the first 2044 WikiText tokens,
                                        windows of 512 = BOS + 511 (spikequant eval's protocol)

The tokenizer is transformers' AutoTokenizer loaded from the GGUF file itself, with the
pre-tokenizer of SmolLM2's tokenizer.json (Digits(individual_digits=True) then ByteLevel,
which transformers' GGUF converter replaces by a plain ByteLevel); the script prints how many
WikiText ids the plain converter's tokenizer would give differently.

Needs torch, transformers, gguf; when they are not importable the script uses the venv
~/.cache/spikequant/venv-export (the one scripts/check_export_hf.py makes, so CI downloads
torch once), installs what is missing there (torch from PyPI, large; the same pinned versions)
and reruns itself with it.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(os.path.expanduser("~"), ".cache", "spikequant", "venv-export")

try:
    import accelerate  # noqa: F401  (transformers needs it to load a GGUF file)
    import gguf  # noqa: F401
    import numpy as np
    import torch
    import transformers  # noqa: F401
except ImportError:
    py = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.executable) == os.path.abspath(py):
        raise
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    # torch / transformers pinned as in check_export_hf.py, which shares this venv.
    subprocess.check_call([py, "-m", "pip", "install", "-q", "torch==2.14.0",
                           "transformers==5.17.0", "gguf==0.19.0", "numpy", "sentencepiece",
                           "protobuf", "accelerate"])
    os.execv(py, [py] + sys.argv)

from tokenizers import pre_tokenizers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

MODEL_REL = os.path.join("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
LOGIT_POSITIONS = [0, 1, 31, 63]
PPL_TOKENS, PPL_SEQ_LEN = 2044, 512

AWKWARD = [
    "Hello world", "  leading", "trailing   ", "tabs\t\tand\nnewlines\r\n", "a  1", "x   22 333",
    "1234567890", "3.14159 1,000,000 -42 +7e10", "don't I'll we've THEY'RE it's 'quoted'",
    "héllo wörld ñ ç ÅØ", "日本語のテキスト", "Привет, мир!", "مرحبا بالعالم", "नमस्ते",
    "emoji 😀👍🏽 🇫🇷 👨‍👩‍👧 ✨", "\x00\x01\x07\x1b[0m\x7f end", "\u00a0nbsp\u2003em\u3000ideo",
    "zero\u200bwidth\u200djoin\ufeffbom", "<|im_start|>user\nhi<|im_end|>\n",
    "<|endoftext|><|endoftext|>x<|im_end|>", "", " ", "\n\n\n", "\r\n\r\n  \t", "😀😀😀",
    "a" * 300, " " * 40 + "x", "ǅ ß ﬁ Ǆ", "١٢٣ ²³ ½ Ⅻ ５", "\u0085 \u2028 \u180e \u1680 x",
    "code: if (x <= 0) { return -1; } // done", "http://example.com/a?b=c&d=e#f",
    "@-@ @,@ @.@ = = Heading = =", "<|im_start", "<|im_start|", "\U0010ffff\U0001f600\U000e0001",
]
SWEEP = "".join(chr(c) + " " for c in range(0x3000) if not 0xD800 <= c < 0xE000)


def smollm_pre_tokenizer():
    return pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])


def main():
    args = [a for a in sys.argv[1:]]
    text_path = os.path.join(ROOT, "..", "shared", "data", "text", "wikitext2_test.raw")
    if "--text" in args:
        i = args.index("--text")
        text_path = args[i + 1]
        del args[i:i + 2]
    models = args[0] if args else os.environ.get(
        "SPIKEQUANT_MODELS", os.path.join(os.path.expanduser("~"), ".cache", "spikequant", "models"))
    path = os.path.join(models, MODEL_REL)
    refdir = path + ".ref"
    os.makedirs(refdir, exist_ok=True)
    d, f = os.path.split(path)

    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    plain = tok.backend_tokenizer
    from tokenizers import Tokenizer
    smol = Tokenizer.from_str(plain.to_str())
    smol.pre_tokenizer = smollm_pre_tokenizer()

    def ids(t, s):
        return t.encode(s, add_special_tokens=False).ids

    with open(text_path, "rb") as fh:
        text = fh.read().decode("utf-8")
    wiki = ids(smol, text)
    wiki_plain = ids(plain, text)
    ndiff = sum(a != b for a, b in zip(wiki, wiki_plain)) + abs(len(wiki) - len(wiki_plain))
    print(f"WikiText-2 test: {len(wiki)} tokens; the plain GGUF converter's tokenizer: "
          f"{len(wiki_plain)} tokens, {ndiff} positions differ")
    with open(os.path.join(refdir, "tokens_wikitext.txt"), "w") as out:
        out.write(" ".join(map(str, wiki)) + "\n")
    with open(os.path.join(refdir, "tokens_awkward.txt"), "w") as out:
        for s in AWKWARD + [SWEEP]:
            a, b = ids(smol, s), ids(plain, s)
            if a != b:
                print(f"  plain converter differs on {s[:30]!r}")
            out.write(s.encode("utf-8").hex() + "\t" + " ".join(map(str, a)) + "\n")

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, torch_dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    bos = model.config.bos_token_id
    seq = [bos] + wiki[:63]
    with torch.no_grad():
        logits = model(torch.tensor([seq])).logits[0].float().numpy()
    with open(os.path.join(refdir, "logits.txt"), "w") as out:
        out.write(" ".join(map(str, seq)) + "\n")
        for p in LOGIT_POSITIONS:
            out.write(str(p) + " " + " ".join(repr(float(v)) for v in logits[p]) + "\n")

    stream = wiki[:PPL_TOKENS]
    nll, n = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(stream), PPL_SEQ_LEN - 1):
            chunk = stream[s:s + PPL_SEQ_LEN - 1]
            lg = model(torch.tensor([[bos] + chunk])).logits[0].double()
            lp = torch.log_softmax(lg, dim=-1)
            for i, t in enumerate(chunk):
                nll -= lp[i, t].item()
                n += 1
    ppl = float(np.exp(nll / n))
    with open(os.path.join(refdir, "ppl.txt"), "w") as out:
        out.write(f"{PPL_TOKENS} {PPL_SEQ_LEN} {ppl!r}\n")
    print(f"fp32 perplexity (transformers, {n} tokens, windows of {PPL_SEQ_LEN}): {ppl:.6f}")
    print(f"references in {refdir}")


if __name__ == "__main__":
    main()
