// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file llama2.c checkpoints: the real stories260K against raw reads, and synthetic legacy /
//! version-1 files with a separate classifier.
#include "io_test_util.hpp"
#include "spikequant/io/llama2c.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <vector>

using namespace spikequant;
using spikequant_test::fread_floats;

TEST_CASE("llama2c: stories260K loads with its documented config and weights") {
  auto const path = spikequant_test::shared_file("models/stories260K/stories260K.bin");
  if (path.empty()) {
    return;
  }
  auto const w = io::load_llama2c(path);
  auto const& c = w.config;
  CHECK(c.family == "llama2c");
  CHECK(c.dim == 64);
  CHECK(c.hidden_dim == 172);
  CHECK(c.n_layers == 5);
  CHECK(c.n_heads == 8);
  CHECK(c.n_kv_heads == 4);
  CHECK(c.head_dim == 8);
  CHECK(c.vocab_size == 512);
  CHECK(c.max_seq_len == 512);
  CHECK(c.rope == llama::RopeStyle::kInterleaved);
  CHECK(c.activation == GluKind::kSwiGlu);
  CHECK(c.rope_theta == 10000.0f);
  CHECK(c.norm_eps == 1e-5f);
  CHECK(c.tied_embeddings);
  CHECK(w.lm_head.empty());
  REQUIRE(w.layers.size() == 5);
  CHECK(w.embedding.size() == 512u * 64u);
  CHECK(w.final_norm.size() == 64u);
  for (auto const& L : w.layers) {
    CHECK(L.attn_norm.size() == 64u);
    CHECK(L.wq.size() == 64u * 64u);
    CHECK(L.wk.size() == 32u * 64u);
    CHECK(L.wv.size() == 32u * 64u);
    CHECK(L.wo.size() == 64u * 64u);
    CHECK(L.w_gate.size() == 172u * 64u);
    CHECK(L.w_up.size() == 172u * 64u);
    CHECK(L.w_down.size() == 64u * 172u);
  }

  // Offsets computed by hand from run.c's memory_map_weights (floats after the 28-byte header).
  long const D = 64, H = 172, L = 5, KV = 32, V = 512;
  long off = 28;
  auto const at = [&](long floats_before) { return 28 + 4 * floats_before; };
  long const emb = 0, rms_att = V * D, wq = rms_att + L * D, wk = wq + L * D * D,
             wv = wk + L * D * KV;
  long const wo = wv + L * D * KV, rms_ffn = wo + L * D * D, w1 = rms_ffn + L * D,
             w2 = w1 + L * D * H;
  long const w3 = w2 + L * D * H, rms_final = w3 + L * D * H;
  (void)off;
  CHECK(
      fread_floats(path, at(emb), 64) ==
      std::vector<float>(w.embedding.begin(), w.embedding.begin() + 64));
  CHECK(
      fread_floats(path, at(emb + 300 * D), 64) ==
      std::vector<float>(w.embedding.begin() + 300 * 64, w.embedding.begin() + 301 * 64));
  CHECK(fread_floats(path, at(rms_att + 3 * D), 64) == w.layers[3].attn_norm);
  CHECK(fread_floats(path, at(wq + 2 * D * D), 64 * 64) == w.layers[2].wq);
  CHECK(fread_floats(path, at(wk + 4 * D * KV), 64 * 32) == w.layers[4].wk);
  CHECK(fread_floats(path, at(wv + 1 * D * KV), 64 * 32) == w.layers[1].wv);
  CHECK(fread_floats(path, at(wo + 0 * D * D), 64 * 64) == w.layers[0].wo);
  CHECK(fread_floats(path, at(rms_ffn + 4 * D), 64) == w.layers[4].ffn_norm);
  CHECK(fread_floats(path, at(w1 + 3 * D * H), 64 * 172) == w.layers[3].w_gate);
  CHECK(fread_floats(path, at(w2 + 2 * D * H), 64 * 172) == w.layers[2].w_down);
  CHECK(fread_floats(path, at(w3 + 1 * D * H), 64 * 172) == w.layers[1].w_up);
  CHECK(fread_floats(path, at(rms_final), 64) == w.final_norm);
  // The RMSNorm weights of a trained model are O(1) and positive on average; matrices are not.
  double mean = 0;
  for (float x : w.final_norm) {
    mean += x;
  }
  CHECK(mean / 64 > 0.2);
}

namespace {

// A synthetic model whose every float is distinct: value = tensor_tag * 1000 + index.
struct Synthetic {
  int dim = 8, hidden = 12, layers = 2, heads = 4, kv_heads = 2, vocab = 10, seq = 6;
  [[nodiscard]] int kv_dim() const { return dim / heads * kv_heads; }
  static std::vector<float> fill(int tag, int n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      v[static_cast<std::size_t>(i)] = static_cast<float>(tag * 1000 + i);
    }
    return v;
  }
  // tags: 1 emb, 10+l att norm, 20+l wq, 30+l wk, 40+l wv, 50+l wo, 60+l ffn norm,
  //       70+l w1, 80+l w2, 90+l w3, 2 final norm, 3 wcls
  [[nodiscard]] std::vector<std::byte> legacy(bool shared) const {
    std::vector<std::byte> b;
    for (int v : {dim, hidden, layers, heads, kv_heads, shared ? vocab : -vocab, seq}) {
      spikequant_test::append_pod(b, static_cast<std::int32_t>(v));
    }
    auto put = [&](std::vector<float> const& v) {
      for (float x : v) {
        spikequant_test::append_pod(b, x);
      }
    };
    put(fill(1, vocab * dim));
    for (int base : {10, 20, 30, 40, 50, 60, 70, 80, 90}) {
      for (int l = 0; l < layers; ++l) {
        put(fill(base + l, size_of(base)));
      }
    }
    put(fill(2, dim));
    put(fill(4, seq * (dim / heads) / 2 * 2));  // freq_cis real + imag
    if (!shared) {
      put(fill(3, vocab * dim));
    }
    return b;
  }
  [[nodiscard]] std::vector<std::byte> version1(bool shared) const {
    std::vector<std::byte> b;
    spikequant_test::append_pod(b, std::uint32_t{0x616b3432});
    spikequant_test::append_pod(b, std::int32_t{1});
    for (int v : {dim, hidden, layers, heads, kv_heads, vocab, seq}) {
      spikequant_test::append_pod(b, static_cast<std::int32_t>(v));
    }
    b.push_back(std::byte{shared ? std::uint8_t{1} : std::uint8_t{0}});
    b.resize(256);
    auto put = [&](std::vector<float> const& v) {
      for (float x : v) {
        spikequant_test::append_pod(b, x);
      }
    };
    for (int l = 0; l < layers; ++l) {
      put(fill(10 + l, dim));
    }
    for (int l = 0; l < layers; ++l) {
      put(fill(60 + l, dim));
    }
    put(fill(2, dim));
    put(fill(1, vocab * dim));
    for (int base : {20, 30, 40, 50, 70, 80, 90}) {
      for (int l = 0; l < layers; ++l) {
        put(fill(base + l, size_of(base)));
      }
    }
    if (!shared) {
      put(fill(3, vocab * dim));
    }
    return b;
  }
  [[nodiscard]] int size_of(int base) const {
    switch (base) {
    case 10:
    case 60:
      return dim;
    case 20:
    case 50:
      return dim * dim;
    case 30:
    case 40:
      return dim * kv_dim();
    default:
      return dim * hidden;
    }
  }
  void check(llama::Weights const& w, bool shared) const {
    CHECK(w.config.dim == dim);
    CHECK(w.config.hidden_dim == hidden);
    CHECK(w.config.n_layers == layers);
    CHECK(w.config.n_kv_heads == kv_heads);
    CHECK(w.config.vocab_size == vocab);
    CHECK(w.config.tied_embeddings == shared);
    CHECK(w.embedding == fill(1, vocab * dim));
    CHECK(w.final_norm == fill(2, dim));
    CHECK(w.lm_head == (shared ? std::vector<float>{} : fill(3, vocab * dim)));
    REQUIRE(w.layers.size() == static_cast<std::size_t>(layers));
    for (int l = 0; l < layers; ++l) {
      auto const& L = w.layers[static_cast<std::size_t>(l)];
      CHECK(L.attn_norm == fill(10 + l, dim));
      CHECK(L.wq == fill(20 + l, dim * dim));
      CHECK(L.wk == fill(30 + l, dim * kv_dim()));
      CHECK(L.wv == fill(40 + l, dim * kv_dim()));
      CHECK(L.wo == fill(50 + l, dim * dim));
      CHECK(L.ffn_norm == fill(60 + l, dim));
      CHECK(L.w_gate == fill(70 + l, dim * hidden));  // w1
      CHECK(L.w_down == fill(80 + l, dim * hidden));  // w2
      CHECK(L.w_up == fill(90 + l, dim * hidden));    // w3
    }
  }
};

}  // namespace

TEST_CASE("llama2c: synthetic legacy and version-1 files map every tensor") {
  Synthetic const s;
  for (bool shared : {true, false}) {
    CAPTURE(shared);
    s.check(io::parse_llama2c(s.legacy(shared)), shared);
    s.check(io::parse_llama2c(s.version1(shared)), shared);
  }
  spikequant_test::TempDir dir("llama2c");
  spikequant_test::write_bytes(dir / "m.bin", s.legacy(false));
  s.check(io::load_llama2c(dir / "m.bin"), false);
}

TEST_CASE("llama2c: inconsistent headers and sizes are format errors") {
  Synthetic const s;
  auto const good = s.legacy(true);
  // one byte more or less than the header implies
  auto longer = good;
  longer.push_back(std::byte{0});
  SPIKEQUANT_CHECK_ERROR_KIND(io::parse_llama2c(longer), ErrorKind::kFormat);
  for (std::size_t cut :
       {std::size_t{0},
        std::size_t{3},
        std::size_t{27},
        std::size_t{28},
        good.size() / 2,
        good.size() - 1}) {
    CAPTURE(cut);
    SPIKEQUANT_CHECK_ERROR_KIND(
        io::parse_llama2c(std::span<std::byte const>(good.data(), cut)), ErrorKind::kFormat);
  }
  auto patch = [&](int field, std::int32_t v) {
    auto b = good;
    std::memcpy(b.data() + 4 * field, &v, 4);
    return b;
  };
  SPIKEQUANT_CHECK_ERROR_KIND(io::parse_llama2c(patch(0, 0)), ErrorKind::kFormat);   // dim 0
  SPIKEQUANT_CHECK_ERROR_KIND(io::parse_llama2c(patch(0, 7)), ErrorKind::kFormat);   // dim % heads
  SPIKEQUANT_CHECK_ERROR_KIND(io::parse_llama2c(patch(4, 3)), ErrorKind::kFormat);   // heads % kv
  SPIKEQUANT_CHECK_ERROR_KIND(io::parse_llama2c(patch(2, -1)), ErrorKind::kFormat);  // layers < 0
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::parse_llama2c(patch(5, INT32_MIN)), ErrorKind::kFormat);  // |vocab| overflows
  // sizes whose products overflow int64 must not wrap around to the file size
  auto big = patch(0, 0x40000000);
  std::int32_t const h = 0x7fffffff, heads = 1;
  std::memcpy(big.data() + 4, &h, 4);
  std::memcpy(big.data() + 12, &heads, 4);
  std::memcpy(big.data() + 16, &heads, 4);
  std::memcpy(big.data() + 8, &h, 4);
  SPIKEQUANT_CHECK_ERROR_KIND(io::parse_llama2c(big), ErrorKind::kFormat);
  // version 2 (int8) is a valid llama2.c format this reader does not handle
  auto v2 = s.version1(true);
  std::int32_t const two = 2;
  std::memcpy(v2.data() + 4, &two, 4);
  SPIKEQUANT_CHECK_ERROR_KIND(io::parse_llama2c(v2), ErrorKind::kUnsupported);
  spikequant_test::TempDir dir("llama2c_missing");
  SPIKEQUANT_CHECK_ERROR_KIND(io::load_llama2c(dir / "nope.bin"), ErrorKind::kIo);
  SPIKEQUANT_CHECK_ERROR_KIND(io::load_llama2c(dir.path()), ErrorKind::kIo);
}
