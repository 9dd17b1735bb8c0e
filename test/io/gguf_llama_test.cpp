// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file io::load_gguf_llama on hand-built Llama GGUF files (metadata -> Config, tensors in
//! place, attn_q / attn_k rows back in rotate-half order by the documented index formula,
//! tied / untied heads, clear errors), and on SmolLM2-135M when present (suite "slow"):
//! its published shape, and layer 0's un-permuted attn_q / attn_k bit-exact with
//! transformers' reading of the same file (scripts/make_gguf_fixtures.py --model-refs).
#include "common/models.hpp"
#include "gguf_builder.hpp"
#include "io_test_util.hpp"
#include "spikequant/io/gguf_llama.hpp"

#include <bit>
#include <cstdint>
#include <doctest/doctest.h>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

using namespace spikequant;

namespace {

constexpr int kDim = 8, kHeads = 2, kKvHeads = 1, kHeadDim = 4, kHidden = 6, kVocab = 5;

// Distinct values per tensor: tensor number * 1000 + element index.
std::vector<float> values(int tensor, std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<float>(tensor * 1000 + static_cast<int>(i));
  }
  return v;
}

std::vector<std::byte> f32_bytes(std::vector<float> const& v) {
  std::vector<std::byte> b;
  for (float x : v) {
    spikequant_test::append_pod(b, x);
  }
  return b;
}

struct Options {
  std::string arch = "llama";
  bool untied = false;
  bool with_eps = true;
  std::string skip_tensor;
  std::string bad_shape_tensor;
};

// Tensor names with their ggml ne, in the order they get values(i).
std::vector<std::pair<std::string, std::vector<std::uint64_t>>> layout(Options const& o) {
  std::uint64_t const d = kDim, q = kHeads * kHeadDim, kv = kKvHeads * kHeadDim, h = kHidden;
  std::vector<std::pair<std::string, std::vector<std::uint64_t>>> t = {
      {"token_embd.weight", {d, kVocab}},
      {"blk.0.attn_norm.weight", {d}},
      {"blk.0.attn_q.weight", {d, q}},
      {"blk.0.attn_k.weight", {d, kv}},
      {"blk.0.attn_v.weight", {d, kv}},
      {"blk.0.attn_output.weight", {q, d}},
      {"blk.0.ffn_norm.weight", {d}},
      {"blk.0.ffn_gate.weight", {d, h}},
      {"blk.0.ffn_up.weight", {d, h}},
      {"blk.0.ffn_down.weight", {h, d}},
      {"output_norm.weight", {d}}};
  if (o.untied) {
    t.push_back({"output.weight", {d, kVocab}});
  }
  return t;
}

io::Gguf tiny_llama(Options const& o = {}) {
  spikequant_test::GgufBuilder b;
  b.kv_string("general.architecture", o.arch);
  b.kv<std::uint32_t>("llama.block_count", 4, 1);
  b.kv<std::uint32_t>("llama.embedding_length", 4, kDim);
  b.kv<std::uint32_t>("llama.feed_forward_length", 4, kHidden);
  b.kv<std::uint32_t>("llama.attention.head_count", 4, kHeads);
  b.kv<std::uint32_t>("llama.attention.head_count_kv", 4, kKvHeads);
  b.kv<std::uint32_t>("llama.context_length", 4, 64);
  b.kv<std::uint32_t>("llama.vocab_size", 4, kVocab);
  b.kv<float>("llama.rope.freq_base", 6, 100000.0f);
  if (o.with_eps) {
    b.kv<float>("llama.attention.layer_norm_rms_epsilon", 6, 1e-5f);
  }
  b.kv<std::uint32_t>("tokenizer.ggml.bos_token_id", 4, 3);
  b.kv<std::uint32_t>("tokenizer.ggml.eos_token_id", 4, 4);
  int i = 0;
  for (auto [name, ne] : layout(o)) {
    ++i;
    if (name == o.skip_tensor) {
      continue;
    }
    if (name == o.bad_shape_tensor) {
      ne.back() += 1;
    }
    std::size_t n = 1;
    for (auto x : ne)
      n *= x;
    b.tensor(name, ne, 0, f32_bytes(values(i, n)));
  }
  return io::Gguf::parse(b.bytes(), "tiny.gguf");
}

template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (Error const& e) {
    return e;
  }
  FAIL("no spikequant::Error thrown");
  return Error(ErrorKind::kInvalidArgument, "");
}

// GGUF row 2i + j of a head of d rows holds Hugging Face row j * d/2 + i (gguf_permute.hpp).
void check_unpermuted(
    std::vector<float> const& hf, std::vector<float> const& gguf, int heads, int d, int cols) {
  int bad = 0;
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < d / 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        for (int c = 0; c < cols; ++c) {
          float const want = gguf[static_cast<std::size_t>((h * d + 2 * i + j) * cols + c)];
          float const got = hf[static_cast<std::size_t>((h * d + j * (d / 2) + i) * cols + c)];
          bad += got == want ? 0 : 1;
        }
      }
    }
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("load_gguf_llama: metadata, tensors in place, Q/K un-permuted") {
  auto const w = io::load_gguf_llama(tiny_llama());
  auto const& c = w.config;
  CHECK(c.family == "llama");
  CHECK(c.dim == kDim);
  CHECK(c.hidden_dim == kHidden);
  CHECK(c.n_layers == 1);
  CHECK(c.n_heads == kHeads);
  CHECK(c.n_kv_heads == kKvHeads);
  CHECK(c.head_dim == kHeadDim);
  CHECK(c.vocab_size == kVocab);
  CHECK(c.max_seq_len == 64);
  CHECK(c.rope_theta == 100000.0f);
  CHECK(c.norm_eps == 1e-5f);
  CHECK(c.rope == llama::RopeStyle::kRotateHalf);
  CHECK(c.activation == GluKind::kSwiGlu);
  CHECK(c.tied_embeddings);
  CHECK(w.lm_head.empty());
  CHECK(c.bos_id == 3);
  CHECK(c.eos_id == 4);
  CHECK(w.embedding == values(1, kDim * kVocab));
  REQUIRE(w.layers.size() == 1);
  auto const& L = w.layers[0];
  CHECK(L.attn_norm == values(2, kDim));
  check_unpermuted(L.wq, values(3, kHeads * kHeadDim * kDim), kHeads, kHeadDim, kDim);
  check_unpermuted(L.wk, values(4, kKvHeads * kHeadDim * kDim), kKvHeads, kHeadDim, kDim);
  CHECK(L.wq != values(3, kHeads * kHeadDim * kDim));  // the permutation is not the identity
  CHECK(L.wv == values(5, kKvHeads * kHeadDim * kDim));
  CHECK(L.wo == values(6, kDim * kHeads * kHeadDim));
  CHECK(L.ffn_norm == values(7, kDim));
  CHECK(L.w_gate == values(8, kHidden * kDim));
  CHECK(L.w_up == values(9, kHidden * kDim));
  CHECK(L.w_down == values(10, kDim * kHidden));
  CHECK(w.final_norm == values(11, kDim));

  Options untied;
  untied.untied = true;
  auto const u = io::load_gguf_llama(tiny_llama(untied));
  CHECK_FALSE(u.config.tied_embeddings);
  CHECK(u.lm_head == values(12, kDim * kVocab));
}

TEST_CASE("load_gguf_llama: clear errors") {
  Options gemma;
  gemma.arch = "gemma3";
  auto e = error_of([&] { (void)io::load_gguf_llama(tiny_llama(gemma)); });
  CHECK(e.kind() == ErrorKind::kUnsupported);
  CHECK(std::string(e.what()).find("gemma3") != std::string::npos);

  Options missing;
  missing.skip_tensor = "blk.0.ffn_up.weight";
  e = error_of([&] { (void)io::load_gguf_llama(tiny_llama(missing)); });
  CHECK(e.kind() == ErrorKind::kFormat);
  CHECK(std::string(e.what()).find("blk.0.ffn_up.weight") != std::string::npos);

  Options shape;
  shape.bad_shape_tensor = "blk.0.attn_k.weight";
  e = error_of([&] { (void)io::load_gguf_llama(tiny_llama(shape)); });
  CHECK(e.kind() == ErrorKind::kShape);
  CHECK(std::string(e.what()).find("blk.0.attn_k.weight") != std::string::npos);

  Options no_eps;
  no_eps.with_eps = false;
  e = error_of([&] { (void)io::load_gguf_llama(tiny_llama(no_eps)); });
  CHECK(e.kind() == ErrorKind::kFormat);
  CHECK(std::string(e.what()).find("layer_norm_rms_epsilon") != std::string::npos);
}

TEST_CASE("load_gguf_llama on SmolLM2-135M" * doctest::test_suite("slow")) {
  auto const path = spikequant_test::existing_or_skip(
      spikequant_test::smollm2_gguf(), "scripts/download-models.sh");
  if (path.empty()) {
    return;
  }
  auto const w = io::load_gguf_llama(path);
  auto const& c = w.config;
  CHECK(c.n_layers == 30);
  CHECK(c.dim == 576);
  CHECK(c.hidden_dim == 1536);
  CHECK(c.n_heads == 9);
  CHECK(c.n_kv_heads == 3);
  CHECK(c.head_dim == 64);
  CHECK(c.vocab_size == 49152);
  CHECK(c.rope_theta == 100000.0f);
  CHECK(c.tied_embeddings);
  CHECK(c.bos_id == 1);
  CHECK(c.max_seq_len == 8192);

  auto const refdir = std::filesystem::path(path.string() + ".ref");
  std::ifstream in(refdir / "unpermuted");
  if (!in.is_open()) {
    MESSAGE("skipped: no transformers references in '", refdir.string(), "'");
    return;
  }
  // name, n_head, checksum, rows in the file, file: the first rows as transformers loads them.
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string name, file;
    std::size_t heads = 0, rows = 0;
    std::uint64_t sum = 0;
    ls >> name >> heads >> sum >> rows >> file;
    CAPTURE(name);
    auto const& got = name == "blk.0.attn_q.weight" ? w.layers[0].wq : w.layers[0].wk;
    auto const want = spikequant_test::fread_floats(refdir / file, 0, rows * 576);
    REQUIRE(got.size() >= want.size());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      bad += std::bit_cast<std::uint32_t>(got[i]) != std::bit_cast<std::uint32_t>(want[i]) ? 1 : 0;
    }
    CHECK(bad == 0);
  }
}
