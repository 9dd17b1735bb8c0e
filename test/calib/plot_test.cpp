// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file SVG plots are well-formed XML with the expected elements.
#include "spikequant/calib/plot_svg.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace spikequant;
using namespace spikequant::calib;

namespace {
//! A tiny XML well-formedness check: balanced tags, quoted attributes, one root. Returns the
//! element names in document order.
std::vector<std::string> check_xml(std::string const& s) {
  std::vector<std::string> stack;
  std::vector<std::string> names;
  std::size_t i = 0;
  int roots = 0;
  while ((i = s.find('<', i)) != std::string::npos) {
    auto const end = s.find('>', i);
    REQUIRE(end != std::string::npos);
    std::string tag = s.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.starts_with("?")) {
      REQUIRE(tag.ends_with("?"));
      continue;
    }
    REQUIRE(tag.find('<') == std::string::npos);
    // attribute quotes balanced
    REQUIRE(std::count(tag.begin(), tag.end(), '"') % 2 == 0);
    if (tag.starts_with("/")) {
      REQUIRE(!stack.empty());
      CHECK(stack.back() == tag.substr(1));
      stack.pop_back();
      continue;
    }
    bool const self_closing = tag.ends_with("/");
    std::string name = tag.substr(0, tag.find_first_of(" /"));
    names.push_back(name);
    if (stack.empty()) {
      ++roots;
    }
    if (!self_closing) {
      stack.push_back(name);
    }
  }
  CHECK(stack.empty());
  CHECK(roots == 1);
  // no bare ampersands
  for (std::size_t p = s.find('&'); p != std::string::npos; p = s.find('&', p + 1)) {
    auto const semi = s.find(';', p);
    REQUIRE(semi != std::string::npos);
    CHECK(semi - p <= 6);
  }
  return names;
}
}  // namespace

TEST_CASE("layer_max_chart renders one series per kind on a log axis") {
  std::vector<ModuleStats> stats;
  for (int l = 0; l < 5; ++l) {
    for (ModuleKind k : kRepresentativeKinds) {
      ModuleStats s;
      s.id = {l, k, -1};
      s.max = k == ModuleKind::kDown && (l == 0 || l == 4) ? 2000.0f : 3.0f + static_cast<float>(l);
      stats.push_back(s);
    }
  }
  auto svg = render_svg(layer_max_chart(stats, "max input <per layer> & kind"));
  auto names = check_xml(svg);
  CHECK(names.front() == "svg");
  CHECK(std::count(names.begin(), names.end(), "polyline") == 4);
  CHECK(std::count(names.begin(), names.end(), "circle") == 20);
  CHECK(svg.find("down input") != std::string::npos);
  CHECK(svg.find("1e3") != std::string::npos);  // a decade tick reaching the spike
  CHECK(svg.find("&lt;per layer&gt; &amp; kind") != std::string::npos);
}

TEST_CASE("token_scale_chart draws the per-tensor scale as a horizontal line") {
  std::vector<float> scales = {900.0f, 1.0f, 2.0f, 1.5f, 30.0f, 1.2f};
  auto svg = render_svg(token_scale_chart(scales, "L4.down"));
  auto names = check_xml(svg);
  CHECK(std::count(names.begin(), names.end(), "polyline") == 1);
  CHECK(svg.find("class=\"hline\"") != std::string::npos);
  CHECK(svg.find("per-tensor scale") != std::string::npos);
}
