// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file GGUF reader and dequantization against the fixtures gguf-py wrote
//! (scripts/make_gguf_fixtures.py): every block type bit-exact with gguf.quants.dequantize,
//! metadata of every value type, tensor shapes, alignment, version 2.
#include "gguf_builder.hpp"
#include "io_test_util.hpp"
#include "spikequant/io/gguf.hpp"
#include "spikequant/io/gguf_permute.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <doctest/doctest.h>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace spikequant;
using spikequant_test::append_pod;

namespace {

std::filesystem::path fixture(std::string const& name) {
  return spikequant_test::source_path("test/fixtures/gguf/" + name);
}

struct ManifestLine {
  std::string name;
  std::string type;
  std::int64_t ne0 = 0;
  std::int64_t ne1 = 0;
  long first = 0;
  std::size_t count = 0;
};

std::vector<ManifestLine> read_manifest() {
  std::ifstream in(fixture("quants.manifest"));
  REQUIRE(in.is_open());
  std::vector<ManifestLine> out;
  ManifestLine m;
  while (in >> m.name >> m.type >> m.ne0 >> m.ne1 >> m.first >> m.count) {
    out.push_back(m);
  }
  return out;
}

// Number of positions where the two differ bit for bit; NaN matches any NaN (numpy converts
// fp16 NaN with the host's instruction, whose payload rules are not ours to copy).
std::size_t bit_mismatches(std::vector<float> const& got, std::vector<float> const& want) {
  REQUIRE(got.size() == want.size());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    bool const same = std::isnan(want[i]) ? std::isnan(got[i])
                                          : std::bit_cast<std::uint32_t>(got[i]) ==
                                                std::bit_cast<std::uint32_t>(want[i]);
    if (!same && bad++ < 3) {
      MESSAGE("element ", i, ": got ", got[i], ", gguf-py ", want[i]);
    }
  }
  return bad;
}

}  // namespace

TEST_CASE("gguf: every block type dequantizes bit-exactly like gguf.quants.dequantize") {
  auto const g = io::Gguf::open(fixture("quants.gguf"));
  auto const manifest = read_manifest();
  REQUIRE(manifest.size() == g.tensors().size());
  std::set<std::string> types;
  for (auto const& m : manifest) {
    CAPTURE(m.name);
    auto const& t = g.tensor(m.name);
    CHECK(io::to_string(t.type) == m.type);
    CHECK(t.ne == std::vector<std::int64_t>{m.ne0, m.ne1});
    CHECK(static_cast<std::size_t>(t.n_elements) == m.count);
    auto const want =
        spikequant_test::fread_floats(fixture("quants.ref.f32"), m.first * 4, m.count);
    CHECK(bit_mismatches(g.to_float(t), want) == 0);
    // The free function on the raw bytes, one block at a time, agrees too.
    auto const tr = io::ggml_type_traits(t.type);
    auto const raw = g.raw(t);
    std::vector<float> one(static_cast<std::size_t>(tr.block_size));
    std::vector<float> blocks;
    for (std::int64_t b = 0; b < t.n_elements / tr.block_size; ++b) {
      io::dequantize(
          t.type,
          raw.subspan(
              static_cast<std::size_t>(b * tr.type_size), static_cast<std::size_t>(tr.type_size)),
          one);
      blocks.insert(blocks.end(), one.begin(), one.end());
    }
    CHECK(bit_mismatches(blocks, want) == 0);
    types.insert(m.type);
  }
  // The types the issue asks for, and the other K-quants we read.
  CHECK(
      types == std::set<std::string>{
                   "F32",
                   "F16",
                   "BF16",
                   "Q4_0",
                   "Q4_1",
                   "Q5_0",
                   "Q5_1",
                   "Q8_0",
                   "Q2_K",
                   "Q3_K",
                   "Q4_K",
                   "Q5_K",
                   "Q6_K"});
}

TEST_CASE("gguf: hand-computed Q8_0 Q4_0 Q4_1 and Q6_K blocks give the formula values") {
  // Independent of gguf-py: values worked out from the block layouts in ggml-quants.c.
  std::vector<std::byte> q8;
  append_pod(q8, std::uint16_t{0x3800});  // d = 0.5
  for (int j = 0; j < 32; ++j) {
    append_pod(q8, static_cast<std::int8_t>(j - 16));
  }
  std::vector<float> y(32);
  io::dequantize(io::GgmlType::kQ8_0, q8, y);
  for (int j = 0; j < 32; ++j) {
    CHECK(y[j] == 0.5f * static_cast<float>(j - 16));
  }
  std::vector<std::byte> q4;
  append_pod(q4, std::uint16_t{0x4000});  // d = 2
  append_pod(q4, std::uint16_t{0xBC00});  // m = -1 (Q4_1 only)
  for (int j = 0; j < 16; ++j) {
    append_pod(q4, static_cast<std::uint8_t>(j | ((15 - j) << 4)));
  }
  std::vector<std::byte> q40(q4.begin(), q4.begin() + 2);
  q40.insert(q40.end(), q4.begin() + 4, q4.end());
  io::dequantize(io::GgmlType::kQ4_0, q40, y);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == 2.0f * static_cast<float>(j - 8));
    CHECK(y[j + 16] == 2.0f * static_cast<float>(15 - j - 8));
  }
  io::dequantize(io::GgmlType::kQ4_1, q4, y);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[j] == 2.0f * static_cast<float>(j) - 1.0f);
    CHECK(y[j + 16] == 2.0f * static_cast<float>(15 - j) - 1.0f);
  }
  // Q6_K: element i = d * scale[i / 16] * (q - 32) with q = 33 everywhere (ql nibble 1,
  // qh bits 2) and scale[g] = g - 8.
  std::vector<std::byte> q6(210, std::byte{0});
  for (int i = 0; i < 128; ++i) {
    q6[static_cast<std::size_t>(i)] = std::byte{0x11};
  }
  for (int i = 0; i < 64; ++i) {
    q6[static_cast<std::size_t>(128 + i)] = std::byte{0xAA};
  }
  for (int g = 0; g < 16; ++g) {
    q6[static_cast<std::size_t>(192 + g)] = static_cast<std::byte>(static_cast<std::int8_t>(g - 8));
  }
  std::uint16_t const quarter = 0x3400;  // 0.25
  std::memcpy(q6.data() + 208, &quarter, 2);
  std::vector<float> y6(256);
  io::dequantize(io::GgmlType::kQ6_K, q6, y6);
  for (int i = 0; i < 256; ++i) {
    CHECK(y6[static_cast<std::size_t>(i)] == 0.25f * static_cast<float>(i / 16 - 8) * 1.0f);
  }
}

TEST_CASE("gguf: dequantize refuses mismatched sizes and unsupported types") {
  std::vector<std::byte> b(34);
  std::vector<float> y(32);
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::dequantize(io::GgmlType::kQ8_0, std::span(b).first(33), y), ErrorKind::kInvalidArgument);
  std::vector<float> y31(31);
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::dequantize(io::GgmlType::kQ8_0, b, y31), ErrorKind::kInvalidArgument);
  std::vector<std::byte> iq(
      static_cast<std::size_t>(io::ggml_type_traits(io::GgmlType::kIQ2_XXS).type_size));
  std::vector<float> y256(256);
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::dequantize(io::GgmlType::kIQ2_XXS, iq, y256), ErrorKind::kUnsupported);
  CHECK_FALSE(io::can_dequantize(io::GgmlType::kQ8_K));
  CHECK(io::can_dequantize(io::GgmlType::kQ5_K));
}

TEST_CASE("gguf: metadata of every value type as gguf-py wrote it") {
  auto const g = io::Gguf::open(fixture("metadata.gguf"));
  CHECK(g.version() == 3);
  CHECK(g.alignment() == 64);
  CHECK(g.data_offset() % 64 == 0);
  CHECK(g.get_string("general.architecture") == "spikequant-test");
  CHECK(g.get<std::uint8_t>("t.u8") == 200);
  CHECK(g.get<std::int8_t>("t.i8") == -100);
  CHECK(g.get<std::uint16_t>("t.u16") == 60000);
  CHECK(g.get<std::int16_t>("t.i16") == -30000);
  CHECK(g.get<std::uint32_t>("t.u32") == 4000000000u);
  CHECK(g.get<std::int32_t>("t.i32") == -2000000000);
  CHECK(g.get<float>("t.f32") == 0.1f);
  CHECK(g.get_float("t.f32") == static_cast<double>(0.1f));
  CHECK(g.get_bool("t.bool_true"));
  CHECK_FALSE(g.get_bool("t.bool_false"));
  CHECK(g.get_string("t.str") == "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xF0\x9F\x98\x80");
  CHECK(g.get_string("t.empty_str").empty());
  CHECK(g.get<std::uint64_t>("t.u64") == 18000000000000000000ull);
  CHECK(g.get<std::int64_t>("t.i64") == -9000000000000000000ll);
  CHECK(g.get<double>("t.f64") == 2.718281828459045);
  CHECK(g.get_float("t.f64") == 2.718281828459045);
  CHECK(g.get_int("t.u8") == 200);
  CHECK(g.get_int("t.i16") == -30000);
  CHECK(g.get_int("t.u32") == 4000000000ll);
  CHECK(g.get_int("t.i64") == -9000000000000000000ll);
  SPIKEQUANT_CHECK_ERROR_KIND(g.get_int("t.u64"), ErrorKind::kFormat);  // > INT64_MAX
  SPIKEQUANT_CHECK_ERROR_KIND(g.get_int("t.str"), ErrorKind::kFormat);
  SPIKEQUANT_CHECK_ERROR_KIND(g.get_string("t.u8"), ErrorKind::kFormat);
  SPIKEQUANT_CHECK_ERROR_KIND(g.value("no.such.key"), ErrorKind::kFormat);
  CHECK(g.find("no.such.key") == nullptr);

  CHECK(g.get_array<std::uint8_t>("t.arr_u8") == std::vector<std::uint8_t>{0, 1, 255});
  CHECK(g.get_array<std::int8_t>("t.arr_i8") == std::vector<std::int8_t>{-128, 0, 127});
  CHECK(g.get_array<std::uint16_t>("t.arr_u16") == std::vector<std::uint16_t>{0, 65535});
  CHECK(g.get_array<std::int16_t>("t.arr_i16") == std::vector<std::int16_t>{-32768, 32767});
  CHECK(g.get_array<std::uint32_t>("t.arr_u32") == std::vector<std::uint32_t>{1, 4294967295u});
  CHECK(g.get_array<std::int32_t>("t.arr_i32") == std::vector<std::int32_t>{-1, 2, -3});
  CHECK(g.get_array<float>("t.arr_f32") == std::vector<float>{0.5f, -1.25f, 3e38f});
  CHECK(g.get_array<bool>("t.arr_bool") == std::vector<bool>{true, false, true});
  CHECK(
      g.get_array<std::string>("t.arr_str") ==
      std::vector<std::string>{"a", "", "\xC3\xBCn\xC3\xAF", "<0x0A>", "\xE2\x96\x81the"});
  CHECK(
      g.get_array<std::uint64_t>("t.arr_u64") ==
      std::vector<std::uint64_t>{0, 18446744073709551615ull});
  CHECK(
      g.get_array<std::int64_t>("t.arr_i64") ==
      std::vector<std::int64_t>{
          std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()});
  CHECK(g.get_array<double>("t.arr_f64") == std::vector<double>{1e-300, -2.5});
  CHECK(g.get<io::GgufArray>("t.arr_str").type() == io::GgufValueType::kString);
  CHECK(g.get<io::GgufArray>("t.arr_str").size() == 5);
  SPIKEQUANT_CHECK_ERROR_KIND(g.get_array<float>("t.arr_i32"), ErrorKind::kFormat);

  // Keys in file order: the writer's own first, then ours.
  std::vector<std::string> keys;
  for (auto const& [k, v] : g.metadata()) {
    keys.push_back(k);
  }
  CHECK(keys.front() == "general.architecture");
  CHECK(keys.back() == "t.arr_f64");
  CHECK(keys.size() == 28);  // architecture, alignment and our 26
}

TEST_CASE("gguf: tensors of 1 to 4 dimensions in ggml order aligned to 64") {
  auto const g = io::Gguf::open(fixture("metadata.gguf"));
  REQUIRE(g.tensors().size() == 4);
  CHECK(g.tensor("d1").ne == std::vector<std::int64_t>{6});
  CHECK(g.tensor("d2").ne == std::vector<std::int64_t>{3, 2});
  CHECK(g.tensor("d3").ne == std::vector<std::int64_t>{4, 3, 2});
  CHECK(g.tensor("d4").ne == std::vector<std::int64_t>{2, 2, 2, 2});
  CHECK(g.tensor("d4").type == io::GgmlType::kF16);
  CHECK(g.tensor("d3").rows() == 6);
  CHECK(g.tensor("d3").row_length() == 4);
  for (auto const& t : g.tensors()) {
    CHECK(t.offset % 64 == 0);
  }
  CHECK(g.to_float("d1") == std::vector<float>{0, 1, 2, 3, 4, 5});
  CHECK(g.to_float("d2") == std::vector<float>{10, 11, 12, 13, 14, 15});
  auto const d3 = g.to_float("d3");
  for (std::size_t i = 0; i < d3.size(); ++i) {
    CHECK(d3[i] == static_cast<float>(i));
  }
  CHECK(
      g.rows_to_float(g.tensor("d3"), 4, 2) == std::vector<float>{16, 17, 18, 19, 20, 21, 22, 23});
  auto const d4 = g.to_float("d4");
  for (std::size_t i = 0; i < d4.size(); ++i) {
    CHECK(d4[i] == static_cast<float>(i));
  }
  SPIKEQUANT_CHECK_ERROR_KIND(g.rows_to_float(g.tensor("d3"), 5, 2), ErrorKind::kInvalidArgument);
  SPIKEQUANT_CHECK_ERROR_KIND(g.tensor("missing"), ErrorKind::kFormat);
}

TEST_CASE("gguf: version 2 reads like version 3 and parse from memory equals the mapped file") {
  auto bytes = spikequant_test::slurp(fixture("metadata.gguf"));
  auto const v3 = io::Gguf::parse(bytes);
  std::uint32_t const two = 2;
  std::memcpy(bytes.data() + 4, &two, 4);
  auto const v2 = io::Gguf::parse(bytes, "v2");
  CHECK(v2.version() == 2);
  CHECK(v2.metadata().size() == v3.metadata().size());
  CHECK(v2.to_float("d3") == v3.to_float("d3"));
  CHECK(v2.source() == "v2");
  auto const mapped = io::Gguf::open(fixture("metadata.gguf"));
  CHECK(mapped.data_offset() == v3.data_offset());
  CHECK(mapped.to_float("d2") == v3.to_float("d2"));
}

TEST_CASE("gguf: empty arrays and zero tensors and an empty tensor") {
  spikequant_test::GgufBuilder b;
  b.kv_array("a.empty", 5, 0, {});
  b.kv_array("a.strs", 8, 0, {});
  auto g = io::Gguf::parse(b.bytes());
  CHECK(g.get_array<std::int32_t>("a.empty").empty());
  CHECK(g.get_array<std::string>("a.strs").empty());
  CHECK(g.tensors().empty());

  spikequant_test::GgufBuilder e;
  e.tensor("zero", {0, 4}, 8, {});  // Q8_0 with ne0 = 0
  e.tensor("x", {32}, 8, std::vector<std::byte>(34));
  auto const ge = io::Gguf::parse(e.bytes());
  CHECK(ge.tensor("zero").n_elements == 0);
  CHECK(ge.to_float("zero").empty());
  CHECK(ge.to_float("x") == std::vector<float>(32, 0.0f));
}

TEST_CASE("gguf: the ggml type table (block geometry as in ggml-common.h)") {
  // Sizes from the block structs: e.g. block_q4_K = {half d, dmin; u8 scales[12], qs[128]}.
  CHECK(io::ggml_type_traits(io::GgmlType::kQ8_0).type_size == 34);
  CHECK(io::ggml_type_traits(io::GgmlType::kQ4_1).type_size == 20);
  CHECK(io::ggml_type_traits(io::GgmlType::kQ5_0).type_size == 22);
  CHECK(io::ggml_type_traits(io::GgmlType::kQ2_K).type_size == 84);
  CHECK(io::ggml_type_traits(io::GgmlType::kQ3_K).type_size == 110);
  CHECK(io::ggml_type_traits(io::GgmlType::kQ4_K).type_size == 144);
  CHECK(io::ggml_type_traits(io::GgmlType::kQ5_K).type_size == 176);
  CHECK(io::ggml_type_traits(io::GgmlType::kQ6_K).type_size == 210);
  CHECK(io::ggml_type_traits(io::GgmlType::kQ6_K).block_size == 256);
  CHECK(io::ggml_type_traits(io::GgmlType::kBF16).type_size == 2);
  CHECK(io::to_string(io::GgmlType::kIQ4_XS) == "IQ4_XS");
  CHECK_FALSE(io::ggml_type_traits(std::uint32_t{4}).has_value());  // the removed Q4_2
  CHECK_FALSE(io::ggml_type_traits(std::uint32_t{31}).has_value());
  CHECK(io::to_string(static_cast<io::GgmlType>(31)) == "?");
  std::vector<float> y(1);
  std::vector<std::byte> none;
  SPIKEQUANT_CHECK_ERROR_KIND(
      io::dequantize(static_cast<io::GgmlType>(31), none, y), ErrorKind::kUnsupported);
}

TEST_CASE("gguf: unpermute_llama_qk inverts llama.cpp's converter permutation") {
  // The converter's permute, written out from its numpy: w.reshape(n_head, 2, d / 2, cols)
  // .swapaxes(1, 2) puts HF row h*d + j*(d/2) + i at GGUF row h*d + 2i + j.
  std::int64_t const n_head = 3, d = 8, cols = 5, rows = n_head * d;
  std::vector<float> hf(static_cast<std::size_t>(rows * cols));
  for (std::size_t k = 0; k < hf.size(); ++k) {
    hf[k] = static_cast<float>(k);
  }
  std::vector<float> gguf(hf.size());
  for (std::int64_t h = 0; h < n_head; ++h) {
    for (std::int64_t j = 0; j < 2; ++j) {
      for (std::int64_t i = 0; i < d / 2; ++i) {
        for (std::int64_t c = 0; c < cols; ++c) {
          gguf[static_cast<std::size_t>((h * d + 2 * i + j) * cols + c)] =
              hf[static_cast<std::size_t>((h * d + j * (d / 2) + i) * cols + c)];
        }
      }
    }
  }
  CHECK(gguf != hf);
  io::unpermute_llama_qk(gguf, rows, cols, n_head);
  CHECK(gguf == hf);
  // transformers' reverse_permute_weights on an 8 x 1 matrix with 2 heads (printed by it):
  // rows 0, 2, 1, 3, 4, 6, 5, 7.
  std::vector<float> w{0, 1, 2, 3, 4, 5, 6, 7};
  io::unpermute_llama_qk(w, 8, 1, 2);
  CHECK(w == std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7});
  SPIKEQUANT_CHECK_ERROR_KIND(io::unpermute_llama_qk(w, 8, 1, 3), ErrorKind::kInvalidArgument);
  SPIKEQUANT_CHECK_ERROR_KIND(io::unpermute_llama_qk(w, 4, 1, 2), ErrorKind::kInvalidArgument);
}
