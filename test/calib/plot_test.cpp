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

TEST_CASE("render_svg: ticks a reader can add up, a linear axis fitted to the data, the legend "
          "inside the canvas") {
  // 128 token positions (Figure 2): steps of 20, not (127 / 8) = 15.88.
  std::vector<float> scales(128, 1.0f);
  scales[0] = 50.0f;
  auto const fig2 = render_svg(token_scale_chart(scales, "L4.down"));
  for (char const* t : {">0<", ">20<", ">40<", ">120<"}) {
    CHECK(fig2.find(t) != std::string::npos);
  }
  CHECK(fig2.find("15.88") == std::string::npos);
  CHECK(fig2.find(">140<") == std::string::npos);  // no tick past the data

  // A search curve (Figure 4): perplexities 4.2651 .. 4.3077 on a linear axis get ticks
  // 4.26, 4.27, ..., 4.31 (the hand-computed 1-2-5 step for 5% padding), not 0 .. 4.31.
  LineChart c;
  c.log_y = false;
  c.integer_x_ticks = true;
  ChartSeries s;
  s.name = "evaluated points";
  s.x = {0, 3, 20};
  s.y = {4.2841, 4.2700, 4.2651};
  c.series.push_back(s);
  std::string const long_name = "target (1% over all-W8A16) with a long description";
  c.hlines.push_back({long_name, "#d62728", 4.3077});
  auto const fig4 = render_svg(c);
  check_xml(fig4);
  for (char const* t : {">4.26<", ">4.27<", ">4.3<", ">4.31<"}) {
    CHECK(fig4.find(t) != std::string::npos);
  }
  CHECK(fig4.find(">0<") != std::string::npos);    // x axis starts at 0 excluded groups
  CHECK(fig4.find(">0.8") == std::string::npos);   // no y tick near 0
  CHECK(fig4.find(">2.5<") == std::string::npos);  // integer x axis: no half steps
  // The legend's longest label (about 7 px per character) ends inside the canvas.
  auto const w_at = fig4.find("width=\"");
  double const width = std::stod(fig4.substr(w_at + 7));
  auto const label_at = fig4.find(">" + long_name + "<");
  REQUIRE(label_at != std::string::npos);
  auto const x_at = fig4.rfind("<text x=\"", label_at);
  double const x = std::stod(fig4.substr(x_at + 9));
  CHECK(x + 7.0 * static_cast<double>(long_name.size()) <= width);
  CHECK(width > 900.0);
}
