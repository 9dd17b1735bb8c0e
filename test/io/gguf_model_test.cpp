// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file The real GGUF models (SmolLM2-135M-Instruct Q4_1, Gemma-3-270M Q4_K_M) read against
//! gguf-py: every tensor's dequantization bit-exact (by a position-weighted checksum of the
//! float bits, plus the first and last rows of some tensors element by element), and the
//! metadata the model loaders will need. Skipped with a message when the models are absent:
//! scripts/download-models.sh fetches them and writes the references.
#include "io_test_util.hpp"
#include "spikequant/io/gguf.hpp"
#include "spikequant/io/gguf_permute.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace spikequant;

namespace {

std::filesystem::path models_dir() {
  if (char const* env = std::getenv("SPIKEQUANT_MODELS"); env != nullptr && *env != '\0') {
    return env;
  }
  char const* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".cache" / "spikequant" / "models";
}

std::filesystem::path model_file(std::string const& rel) {
  auto const p = models_dir() / rel;
  if (!std::filesystem::exists(p)) {
    MESSAGE("skipped: model '", p.string(), "' not found (run scripts/download-models.sh)");
    return {};
  }
  return p;
}

// Same as make_gguf_fixtures.py's checksum(): sum of bits[i] * (2i + 1) mod 2^64.
std::uint64_t checksum(std::vector<float> const& v) {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    s += static_cast<std::uint64_t>(std::bit_cast<std::uint32_t>(v[i])) * (2 * i + 1);
  }
  return s;
}

std::string ne_string(std::vector<std::int64_t> const& ne) {
  std::string s;
  for (std::size_t i = 0; i < ne.size(); ++i) {
    if (i > 0) {
      s += ',';
    }
    s += std::to_string(ne[i]);
  }
  return s;
}

// Compares every tensor of `g` with the references gguf-py wrote beside the model.
void compare_with_gguf_py(io::Gguf const& g, std::filesystem::path const& path) {
  auto const refdir = std::filesystem::path(path.string() + ".ref");
  std::ifstream in(refdir / "manifest");
  if (!in.is_open()) {
    MESSAGE(
        "skipped: no gguf-py references in '",
        refdir.string(),
        "' (run scripts/download-models.sh)");
    return;
  }
  std::string line;
  std::size_t n_tensors = 0, n_rows_checked = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name, type, ne, rows_file;
    std::size_t n = 0, head = 0, tail = 0;
    std::uint64_t sum = 0;
    ls >> name >> type >> ne >> n >> sum;
    CAPTURE(name);
    auto const& t = g.tensor(name);
    CHECK(io::to_string(t.type) == type);
    CHECK(ne_string(t.ne) == ne);
    auto const v = g.to_float(t);
    REQUIRE(v.size() == n);
    CHECK(checksum(v) == sum);
    ++n_tensors;
    if (ls >> head >> tail >> rows_file) {
      auto const want = spikequant_test::fread_floats(
          refdir / rows_file, 0, (head + tail) * static_cast<std::size_t>(t.row_length()));
      auto const first = g.rows_to_float(t, 0, static_cast<std::int64_t>(head));
      auto const last = g.rows_to_float(
          t, t.rows() - static_cast<std::int64_t>(tail), static_cast<std::int64_t>(tail));
      std::size_t bad = 0;
      for (std::size_t i = 0; i < want.size(); ++i) {
        float const got = i < first.size() ? first[i] : last[i - first.size()];
        bad += std::bit_cast<std::uint32_t>(got) != std::bit_cast<std::uint32_t>(want[i]) ? 1 : 0;
      }
      CHECK(bad == 0);
      ++n_rows_checked;
    }
  }
  CHECK(n_tensors == g.tensors().size());
  MESSAGE(
      path.filename().string(),
      ": ",
      n_tensors,
      " tensors bit-exact with gguf-py (",
      n_rows_checked,
      " also row by row)");
}

// Layer 0's attn_q / attn_k un-permuted against transformers' reading of the same file.
void compare_unpermuted_with_transformers(io::Gguf const& g, std::filesystem::path const& path) {
  auto const refdir = std::filesystem::path(path.string() + ".ref");
  std::ifstream in(refdir / "unpermuted");
  if (!in.is_open()) {
    MESSAGE("skipped: no transformers reference in '", refdir.string(), "'");
    return;
  }
  std::string name, file;
  std::int64_t n_head = 0;
  std::uint64_t sum = 0;
  std::size_t rows = 0, n = 0;
  while (in >> name >> n_head >> sum >> rows >> file) {
    CAPTURE(name);
    auto const& t = g.tensor(name);
    auto w = g.to_float(t);
    io::unpermute_llama_qk(w, t.rows(), t.row_length(), n_head);
    CHECK(checksum(w) == sum);
    auto const want = spikequant_test::fread_floats(
        refdir / file, 0, rows * static_cast<std::size_t>(t.row_length()));
    CHECK(std::equal(want.begin(), want.end(), w.begin()));
    ++n;
  }
  CHECK(n == 2);
  MESSAGE(
      path.filename().string(),
      ": layer 0 attn_q and attn_k un-permuted equal transformers' reading");
}

}  // namespace

TEST_SUITE("slow") {
  TEST_CASE("gguf model: SmolLM2-135M-Instruct Q4_1 reads like gguf-py") {
    auto const path = model_file("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    if (path.empty()) {
      return;
    }
    auto const g = io::Gguf::open(path);
    CHECK(g.version() == 3);
    CHECK(g.tensors().size() == 272);
    CHECK(g.get_string("general.architecture") == "llama");
    CHECK(g.get_int("llama.block_count") == 30);
    CHECK(g.get_int("llama.embedding_length") == 576);
    CHECK(g.get_int("llama.feed_forward_length") == 1536);
    CHECK(g.get_int("llama.attention.head_count") == 9);
    CHECK(g.get_int("llama.attention.head_count_kv") == 3);
    CHECK(g.get_float("llama.rope.freq_base") == 100000.0);
    CHECK(g.get<float>("llama.attention.layer_norm_rms_epsilon") == 1e-5f);
    CHECK(g.get_string("tokenizer.ggml.model") == "gpt2");
    CHECK(g.get_string("tokenizer.ggml.pre") == "smollm");
    CHECK(g.get_array<std::string>("tokenizer.ggml.tokens").size() == 49152);
    CHECK(g.get_array<std::int32_t>("tokenizer.ggml.token_type").size() == 49152);
    CHECK(g.get_array<std::string>("tokenizer.ggml.merges").size() == 48900);
    CHECK(g.get_int("tokenizer.ggml.bos_token_id") == 1);
    CHECK_FALSE(g.get_bool("tokenizer.ggml.add_bos_token"));
    CHECK(g.tensor("token_embd.weight").type == io::GgmlType::kQ8_0);
    CHECK(g.tensor("token_embd.weight").ne == std::vector<std::int64_t>{576, 49152});
    CHECK(g.tensor("blk.0.ffn_down.weight").type == io::GgmlType::kQ4_1);
    CHECK(g.find_tensor("output.weight") == nullptr);  // tied embeddings
    compare_with_gguf_py(g, path);
    compare_unpermuted_with_transformers(g, path);
  }

  TEST_CASE("gguf model: Gemma-3-270M Q4_K_M reads like gguf-py") {
    auto const path = model_file("gemma3-270m/gemma-3-270m-q4_k_m.gguf");
    if (path.empty()) {
      return;
    }
    auto const g = io::Gguf::open(path);
    CHECK(g.tensors().size() == 236);
    CHECK(g.get_string("general.architecture") == "gemma3");
    CHECK(g.get_int("gemma3.block_count") == 18);
    CHECK(g.get_int("gemma3.embedding_length") == 640);
    CHECK(g.get_int("gemma3.attention.head_count") == 4);
    CHECK(g.get_int("gemma3.attention.head_count_kv") == 1);
    CHECK(g.get_int("gemma3.attention.key_length") == 256);
    CHECK(g.get_int("gemma3.attention.sliding_window") == 512);
    CHECK(g.get_float("gemma3.rope.freq_base") == 1e6);
    CHECK(g.get_string("tokenizer.ggml.model") == "llama");
    CHECK(g.get_array<std::string>("tokenizer.ggml.tokens").size() == 262144);
    CHECK(g.get_array<float>("tokenizer.ggml.scores").size() == 262144);
    CHECK(g.get_bool("tokenizer.ggml.add_bos_token"));
    std::set<io::GgmlType> types;
    for (auto const& t : g.tensors()) {
      types.insert(t.type);
    }
    CHECK(
        types == std::set<io::GgmlType>{
                     io::GgmlType::kF32,
                     io::GgmlType::kQ8_0,
                     io::GgmlType::kQ5_0,
                     io::GgmlType::kQ4_K,
                     io::GgmlType::kQ6_K});
    compare_with_gguf_py(g, path);
  }
}

// docs/gguf.md shows this region (scripts/check-snippets.py keeps the two equal).
namespace gguf_doc {
namespace io = spikequant::io;
// [gguf-usage]
void read_smollm2(std::string const& path) {  // e.g. ".../SmolLM2-135M-Instruct.Q4_1.gguf"
  auto const g = io::Gguf::open(path);        // memory-mapped
  std::string const arch = g.get_string("general.architecture");  // "llama"
  auto const heads = g.get_int("llama.attention.head_count");     // any integer type, as int64
  double const theta = g.get_float("llama.rope.freq_base");       // FLOAT32 or FLOAT64
  auto const vocab = g.get_array<std::string>("tokenizer.ggml.tokens");  // arrays by type
  auto const& t = g.tensor("blk.0.ffn_down.weight");  // type Q4_1, ne = {1536, 576}
  std::vector<float> w = g.to_float(t);               // ne[0] fastest: a [576, 1536] matrix
  std::vector<float> r = g.rows_to_float(t, 10, 2);   // rows 10 and 11 only
  // [gguf-usage]
  CHECK(arch == "llama");
  CHECK(heads == 9);
  CHECK(theta == 100000.0);
  CHECK(vocab.size() == 49152);
  CHECK(w.size() == 576u * 1536u);
  REQUIRE(r.size() == 2u * 1536u);
  CHECK(std::equal(r.begin(), r.end(), w.begin() + 10 * 1536));
}
}  // namespace gguf_doc

TEST_CASE("docs/gguf.md: the usage snippet reads SmolLM2" * doctest::test_suite("slow")) {
  auto const path = model_file("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
  if (path.empty()) {
    return;
  }
  gguf_doc::read_smollm2(path.string());
}
