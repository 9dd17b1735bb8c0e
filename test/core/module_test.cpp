// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file ModuleId names (Hugging Face round trip), kinds, siblings and representatives.
#include "spikequant/core/module.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <string>

using namespace spikequant;

TEST_CASE("hf_name: hand-written names") {
  CHECK(hf_name({3, ModuleKind::kQ, -1}) == "model.layers.3.self_attn.q_proj");
  CHECK(hf_name({0, ModuleKind::kO, -1}) == "model.layers.0.self_attn.o_proj");
  CHECK(hf_name({31, ModuleKind::kDown, -1}) == "model.layers.31.mlp.down_proj");
  CHECK(hf_name({1, ModuleKind::kGate, -1}) == "model.layers.1.mlp.gate_proj");
  CHECK(hf_name({3, ModuleKind::kGate, 2}) == "model.layers.3.block_sparse_moe.experts.2.w1");
  CHECK(hf_name({3, ModuleKind::kUp, 2}) == "model.layers.3.block_sparse_moe.experts.2.w3");
  CHECK(hf_name({3, ModuleKind::kDown, 7}) == "model.layers.3.block_sparse_moe.experts.7.w2");
  CHECK(short_name({3, ModuleKind::kDown, -1}) == "L3.down");
  CHECK(short_name({3, ModuleKind::kDown, 2}) == "L3.e2.down");
}

TEST_CASE("parse_hf_name inverts hf_name for dense modules") {
  for (int layer : {0, 1, 9, 10, 31, 79, 12345}) {
    for (ModuleKind kind : kAllModuleKinds) {
      ModuleId const id{layer, kind, -1};
      auto const back = parse_hf_name(hf_name(id));
      REQUIRE(back.has_value());
      CHECK(*back == id);
    }
  }
  CHECK_FALSE(parse_hf_name("model.layers.3.mlp.foo_proj").has_value());
  CHECK_FALSE(parse_hf_name("model.layers..mlp.down_proj").has_value());
  CHECK_FALSE(parse_hf_name("lm_head").has_value());
  CHECK_FALSE(parse_hf_name("model.layers.3.mlp.down_proj.weight").has_value());
  CHECK_FALSE(parse_hf_name("model.layers.99999999999999.mlp.down_proj").has_value());
  CHECK_FALSE(parse_hf_name("").has_value());
}

TEST_CASE("parse_hf_name inverts hf_name for Mixtral experts") {
  for (int layer : {0, 3, 31}) {
    for (int expert : {0, 1, 7, 63}) {
      for (ModuleKind kind : {ModuleKind::kGate, ModuleKind::kUp, ModuleKind::kDown}) {
        ModuleId const id{layer, kind, expert};
        auto const back = parse_hf_name(hf_name(id));
        REQUIRE(back.has_value());
        CHECK(*back == id);
      }
    }
  }
  CHECK(
      parse_hf_name("model.layers.2.block_sparse_moe.experts.5.w2") ==
      ModuleId{2, ModuleKind::kDown, 5});
  CHECK_FALSE(parse_hf_name("model.layers.2.block_sparse_moe.experts.5.w4").has_value());
  CHECK_FALSE(parse_hf_name("model.layers.2.block_sparse_moe.experts..w1").has_value());
  CHECK_FALSE(parse_hf_name("model.layers.2.block_sparse_moe.experts.5.w1.weight").has_value());
  CHECK_FALSE(parse_hf_name("model.layers.2.block_sparse_moe.gate").has_value());  // the router
  CHECK_FALSE(parse_hf_name("model.layers.2.block_sparse_moe.experts.99999999.w1").has_value());
  CHECK_FALSE(parse_hf_name("model.layers.2.block_sparse_moe.experts.05.w1").has_value());
  CHECK_FALSE(parse_hf_name("model.layers.02.block_sparse_moe.experts.5.w1").has_value());
  CHECK_FALSE(parse_hf_name("model.layers.01.mlp.down_proj").has_value());
}

TEST_CASE("module kinds parse and print") {
  for (ModuleKind kind : kAllModuleKinds) {
    CHECK(parse_module_kind(to_string(kind)) == kind);
    CHECK(parse_module_kind(std::string(to_string(kind)) + "_proj") == kind);
  }
  try {
    (void)parse_module_kind("mlp");
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
    CHECK(std::string(e.what()).find("'mlp'") != std::string::npos);
  }
}

TEST_CASE("siblings and representatives") {
  auto const contains = [](auto span, ModuleKind k) {
    return std::find(span.begin(), span.end(), k) != span.end();
  };
  for (ModuleKind k : {ModuleKind::kQ, ModuleKind::kK, ModuleKind::kV}) {
    auto const s = siblings(k);
    CHECK(s.size() == 3);
    CHECK(contains(s, ModuleKind::kQ));
    CHECK(contains(s, ModuleKind::kK));
    CHECK(contains(s, ModuleKind::kV));
    CHECK(representative(k) == ModuleKind::kQ);
  }
  for (ModuleKind k : {ModuleKind::kGate, ModuleKind::kUp}) {
    auto const s = siblings(k);
    CHECK(s.size() == 2);
    CHECK(contains(s, ModuleKind::kGate));
    CHECK(contains(s, ModuleKind::kUp));
    CHECK(representative(k) == ModuleKind::kUp);
  }
  CHECK(siblings(ModuleKind::kO).size() == 1);
  CHECK(siblings(ModuleKind::kO)[0] == ModuleKind::kO);
  CHECK(siblings(ModuleKind::kDown).size() == 1);
  CHECK(siblings(ModuleKind::kDown)[0] == ModuleKind::kDown);
  CHECK(representative(ModuleKind::kO) == ModuleKind::kO);
  CHECK(representative(ModuleKind::kDown) == ModuleKind::kDown);
  // Every module is in its own sibling group, and the representative is too.
  for (ModuleKind k : kAllModuleKinds) {
    CHECK(contains(siblings(k), k));
    CHECK(contains(siblings(k), representative(k)));
    CHECK(contains(kRepresentativeKinds, representative(k)));
  }
}

TEST_CASE("ModuleId ordering and expert flag") {
  CHECK(ModuleId{0, ModuleKind::kDown, -1} < ModuleId{1, ModuleKind::kQ, -1});
  CHECK(ModuleId{1, ModuleKind::kQ, -1} < ModuleId{1, ModuleKind::kK, -1});
  CHECK_FALSE(ModuleId{1, ModuleKind::kQ, -1}.is_expert());
  CHECK(ModuleId{1, ModuleKind::kUp, 0}.is_expert());
}
