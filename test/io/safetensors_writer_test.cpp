// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
// The safetensors writer: I8 and F32 tensors and Hugging Face sharding read back through the
// reader (io/safetensors.hpp, hf_checkpoint.hpp's index parser) with hand-computed layouts.
// The independent check with Python's `safetensors` is scripts/check_export_hf.py.
#include "io_test_util.hpp"
#include "spikequant/io/hf_checkpoint.hpp"
#include "spikequant/io/safetensors.hpp"
#include "spikequant/io/safetensors_writer.hpp"

#include <cstdint>
#include <cstring>
#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace io = spikequant::io;
using spikequant::ErrorKind;

namespace {
std::vector<std::int8_t> ramp_codes(std::size_t n) {
  std::vector<std::int8_t> c(n);
  for (std::size_t i = 0; i < n; ++i) {
    c[i] = static_cast<std::int8_t>(static_cast<int>(i * 37 % 256) - 128);  // hits -128 and 127
  }
  return c;
}
}  // namespace

TEST_CASE("safetensors writer: I8 codes and F32 scales read back byte for byte") {
  spikequant_test::TempDir dir("stw");
  auto const codes = ramp_codes(4 * 6);
  std::vector<float> const scales = {0.5f, 1.0e-3f, 3.25f, 7.0f};
  std::vector<io::EncodedTensor> const ts = {
      io::encode_int8_tensor("l.weight", {4, 6}, codes),
      io::encode_tensor({"l.weight_scale", {4, 1}, scales, io::Dtype::kF32}),
  };
  io::write_safetensors(dir / "q.safetensors", std::span<io::EncodedTensor const>(ts));
  auto const st = io::Safetensors::open(dir / "q.safetensors");
  auto const& w = st.info("l.weight");
  CHECK(w.dtype == io::Dtype::kI8);
  CHECK(w.shape == std::vector<std::int64_t>{4, 6});
  CHECK(w.end - w.begin == 24);
  auto const raw = st.raw(w);
  REQUIRE(raw.size() == codes.size());
  CHECK(std::memcmp(raw.data(), codes.data(), codes.size()) == 0);
  CHECK(st.to_float("l.weight_scale") == scales);
  // I8 does not silently convert to float.
  SPIKEQUANT_CHECK_ERROR_KIND(st.to_float("l.weight"), ErrorKind::kUnsupported);
  // The in-memory serializer gives the same bytes as the streaming file writer.
  auto const mem = io::serialize_safetensors(std::span<io::EncodedTensor const>(ts));
  CHECK(mem == spikequant_test::slurp(dir / "q.safetensors"));
}

TEST_CASE("safetensors writer: bad input is a clear error") {
  std::vector<std::int8_t> const three(3);
  SPIKEQUANT_CHECK_ERROR_KIND(io::encode_int8_tensor("x", {2, 2}, three), ErrorKind::kShape);
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::encode_tensor({"x", {2}, {1.0f, 2.0f}, io::Dtype::kI8}), ErrorKind::kUnsupported);
  std::vector<io::EncodedTensor> twice = {
      io::encode_int8_tensor("x", {1}, std::vector<std::int8_t>{1}),
      io::encode_int8_tensor("x", {1}, std::vector<std::int8_t>{2})};
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::serialize_safetensors(std::span<io::EncodedTensor const>(twice)),
      ErrorKind::kInvalidArgument);
  io::EncodedTensor lying{"y", io::Dtype::kF32, {3}, std::vector<std::byte>(8)};
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::serialize_safetensors(std::span<io::EncodedTensor const>(&lying, 1)), ErrorKind::kShape);
}

TEST_CASE("safetensors writer: Hugging Face shards past the limit, one file below it") {
  spikequant_test::TempDir dir("stw_shard");
  // Sizes 40, 40, 100, 8 bytes with a 64-byte limit: [a] [b] [c] [d] since a + b > 64; c is
  // larger than the limit and gets its own shard; d then starts a fourth.
  std::vector<io::EncodedTensor> const ts = {
      io::encode_int8_tensor("a", {40}, ramp_codes(40)),
      io::encode_int8_tensor("b", {5, 8}, ramp_codes(40)),
      io::encode_tensor({"c", {25}, std::vector<float>(25, 1.5f), io::Dtype::kF32}),
      io::encode_tensor({"d", {2}, {-1.0f, 2.0f}, io::Dtype::kF32}),
  };
  auto const files = io::write_hf_safetensors(dir.path(), ts, 64);
  std::vector<std::string> const want = {
      "model-00001-of-00004.safetensors",
      "model-00002-of-00004.safetensors",
      "model-00003-of-00004.safetensors",
      "model-00004-of-00004.safetensors",
      "model.safetensors.index.json"};
  CHECK(files == want);
  std::ifstream in(dir / "model.safetensors.index.json");
  std::stringstream text;
  text << in.rdbuf();
  auto const map = io::parse_hf_index(text.str());
  CHECK(map.at("a") == want[0]);
  CHECK(map.at("b") == want[1]);
  CHECK(map.at("c") == want[2]);
  CHECK(map.at("d") == want[3]);
  CHECK(nlohmann::json::parse(text.str())["metadata"]["total_size"] == 40 + 40 + 100 + 8);
  auto const d = io::Safetensors::open(dir / want[3]);
  CHECK(d.to_float("d") == std::vector<float>{-1.0f, 2.0f});
  CHECK(d.metadata().at("format") == "pt");  // what transformers expects to find
  auto const b = io::Safetensors::open(dir / want[1]);
  CHECK(b.tensors().size() == 1);
  CHECK(b.info("b").shape == std::vector<std::int64_t>{5, 8});

  spikequant_test::TempDir one("stw_one");
  CHECK(
      io::write_hf_safetensors(one.path(), ts, 1000) ==
      std::vector<std::string>{"model.safetensors"});
  CHECK(io::Safetensors::open(one / "model.safetensors").tensors().size() == 4);
  CHECK_FALSE(std::filesystem::exists(one / "model.safetensors.index.json"));
}
