// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Safetensors: hand-built bytes, writer round trips (F32 / F16 / BF16), validation.
#include "io_test_util.hpp"
#include "spikequant/io/safetensors.hpp"
#include "spikequant/io/safetensors_writer.hpp"

#include <cstdint>
#include <cstring>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace spikequant;
using spikequant_test::append_pod;

namespace {
// A file built byte by byte, independent of the library's writer.
std::vector<std::byte> hand_file(std::string const& header, std::vector<std::byte> const& data) {
  std::vector<std::byte> b;
  append_pod(b, static_cast<std::uint64_t>(header.size()));
  auto const h = spikequant_test::to_bytes(header);
  b.insert(b.end(), h.begin(), h.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}
}  // namespace

TEST_CASE("safetensors: hand-built file with F32, F16 and BF16 tensors") {
  std::vector<std::byte> data;
  for (float v : {1.5f, -2.0f, 0.25f, 8.0f, 3.0f, -0.5f}) {
    append_pod(data, v);
  }
  for (std::uint16_t v :
       {std::uint16_t{0x3C00},
        std::uint16_t{0xC500},
        std::uint16_t{0x0001},
        std::uint16_t{0x7C00}}) {
    append_pod(data, v);  // 1, -5, 2^-24, inf
  }
  for (std::uint16_t v : {std::uint16_t{0x3F80}, std::uint16_t{0x4040}}) {
    append_pod(data, v);  // 1, 3
  }
  std::string const header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("h":{"dtype":"F16","shape":[4],"data_offsets":[24,32]},"b":{"dtype":"BF16","shape":[1,2],"data_offsets":[32,36]},)"
      R"("e":{"dtype":"F32","shape":[0,5],"data_offsets":[36,36]}})";
  auto const st = io::Safetensors::parse(hand_file(header, data));
  CHECK(st.tensors().size() == 4);
  CHECK(st.metadata().at("format") == "pt");
  CHECK(st.info("a").shape == std::vector<std::int64_t>{2, 3});
  CHECK(st.info("a").dtype == io::Dtype::kF32);
  CHECK(st.to_float("a") == std::vector<float>{1.5f, -2.0f, 0.25f, 8.0f, 3.0f, -0.5f});
  auto const h = st.to_float("h");
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -5.0f);
  CHECK(h[2] == std::ldexp(1.0f, -24));
  CHECK(std::isinf(h[3]));
  CHECK(st.to_float("b") == std::vector<float>{1.0f, 3.0f});
  CHECK(st.to_float("e").empty());
  CHECK_FALSE(st.contains("zz"));
  SPIKEQUANT_CHECK_ERROR_KIND(st.to_float("zz"), ErrorKind::kFormat);
}

TEST_CASE("safetensors: writer round trip through a file, all three dtypes") {
  spikequant_test::TempDir dir("st");
  std::vector<float> values(3 * 5);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(i) * 0.37f - 2.0f;  // not all exactly representable in f16
  }
  std::vector<io::TensorToWrite> const ts = {
      {"w32", {3, 5}, values, io::Dtype::kF32},
      {"w16", {5, 3}, values, io::Dtype::kF16},
      {"wbf", {15}, values, io::Dtype::kBF16},
      {"scalar", {}, {42.0f}, io::Dtype::kF32},
  };
  io::write_safetensors(dir / "t.safetensors", ts, {{"k", "v"}});
  auto const bytes = spikequant_test::slurp(dir / "t.safetensors");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);  // header padded like the reference writer
  for (auto const& st :
       {io::Safetensors::open(dir / "t.safetensors"), io::Safetensors::parse(bytes)}) {
    CHECK(st.metadata().at("k") == "v");
    CHECK(st.to_float("w32") == values);
    CHECK(st.info("w16").shape == std::vector<std::int64_t>{5, 3});
    CHECK(st.info("scalar").shape.empty());
    CHECK(st.to_float("scalar") == std::vector<float>{42.0f});
    auto const f16 = st.to_float("w16");
    auto const bf = st.to_float("wbf");
    for (std::size_t i = 0; i < values.size(); ++i) {
      CHECK(f16[i] == io::f16_to_float(io::float_to_f16(values[i])));
      CHECK(f16[i] == doctest::Approx(values[i]).epsilon(1e-3));
      CHECK(bf[i] == doctest::Approx(values[i]).epsilon(8e-3));
    }
    // tensors come back sorted by offset: writer order
    CHECK(st.tensors()[0].name == "w32");
    CHECK(st.tensors()[3].name == "scalar");
  }
}

TEST_CASE("safetensors: malformed headers are format errors") {
  std::vector<std::byte> data(24);
  auto bad = [&](std::string const& header, ErrorKind k = ErrorKind::kFormat) {
    CAPTURE(header);
    SPIKEQUANT_CHECK_ERROR_KIND(io::Safetensors::parse(hand_file(header, data)), k);
  };
  auto t = [](std::string const& body) { return R"({"t":)" + body + "}"; };
  bad("");                                                           // empty JSON
  bad("{not json");                                                  // bad JSON
  bad("[1,2]");                                                      // not an object
  bad(t(R"({"dtype":"F33","shape":[6],"data_offsets":[0,24]})"));    // unknown dtype
  bad(t(R"({"dtype":"F32","shape":[7],"data_offsets":[0,24]})"));    // size mismatch
  bad(t(R"({"dtype":"F32","shape":[6],"data_offsets":[0,28]})"));    // past the data
  bad(t(R"({"dtype":"F32","shape":[6],"data_offsets":[24,0]})"));    // reversed
  bad(t(R"({"dtype":"F32","shape":[-6],"data_offsets":[0,24]})"));   // negative dim
  bad(t(R"({"dtype":"F32","shape":[6.0],"data_offsets":[0,24]})"));  // non-integer dim
  bad(t(R"({"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,24]})"));  // overflow
  bad(t(R"({"dtype":"F32","shape":[6],"data_offsets":[0,18446744073709551615]})"));
  bad(t(R"({"dtype":"F32","shape":[6],"data_offsets":[0]})"));
  bad(t(R"({"dtype":"F32","shape":[6]})"));
  bad(t(R"({"dtype":7,"shape":[6],"data_offsets":[0,24]})"));
  bad(t("3"));
  bad(R"({"__metadata__":{"a":1}})");
  bad(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})");  // overlap
  bad(std::string(100, '[') + std::string(100, ']'));  // nesting
  // a known dtype that does not convert: parses, then kUnsupported on to_float
  auto const st = io::Safetensors::parse(
      hand_file(t(R"({"dtype":"I64","shape":[3],"data_offsets":[0,24]})"), data));
  SPIKEQUANT_CHECK_ERROR_KIND(st.to_float("t"), ErrorKind::kUnsupported);
}

TEST_CASE("safetensors: header lengths that overflow or exceed the file") {
  std::string const header = R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  auto good = hand_file(header, std::vector<std::byte>(4));
  CHECK(io::Safetensors::parse(good).to_float("t").size() == 1);
  spikequant_test::TempDir dir("st_bad");
  for (std::uint64_t n :
       {std::uint64_t{header.size() + 5},
        std::uint64_t{1} << 40,
        ~std::uint64_t{0},
        std::uint64_t{0x8000000000000000}}) {
    CAPTURE(n);
    auto b = good;
    std::memcpy(b.data(), &n, 8);
    SPIKEQUANT_CHECK_ERROR_KIND(io::Safetensors::parse(b), ErrorKind::kFormat);
    spikequant_test::write_bytes(dir / "x.safetensors", b);
    SPIKEQUANT_CHECK_ERROR_KIND(io::Safetensors::open(dir / "x.safetensors"), ErrorKind::kFormat);
  }
  // every truncation of a valid file fails cleanly, from memory and from disk
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    CAPTURE(cut);
    std::span<std::byte const> const part(good.data(), cut);
    SPIKEQUANT_CHECK_ERROR_KIND(io::Safetensors::parse(part), ErrorKind::kFormat);
    spikequant_test::write_bytes(dir / "cut.safetensors", {part.begin(), part.end()});
    SPIKEQUANT_CHECK_ERROR_KIND(io::Safetensors::open(dir / "cut.safetensors"), ErrorKind::kFormat);
  }
  SPIKEQUANT_CHECK_ERROR_KIND(io::Safetensors::open(dir / "missing.safetensors"), ErrorKind::kIo);
}
