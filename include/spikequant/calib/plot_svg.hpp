// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Dependency-free SVG plots of calibration statistics: the paper's Figure 1 analog
//! (max input magnitude per layer for each module kind, log y axis) and Figure 2 analog
//! (token-wise scales of one module over one sequence, with the per-tensor scale drawn as a
//! horizontal line). Host only.
#pragma once

#include "spikequant/calib/stats.hpp"
#include "spikequant/core/error.hpp"
#include "spikequant/core/module.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace spikequant::inline v0::calib {

//! One series of a LineChart.
struct ChartSeries {
  std::string name;
  std::string color = "#1f77b4";
  std::vector<double> x;
  std::vector<double> y;
  bool lines = true;
  bool markers = true;
};

//! A horizontal reference line.
struct ChartHLine {
  std::string name;
  std::string color = "#d62728";
  double y = 0.0;
};

//! A minimal 2-D chart rendered to SVG (linear x, linear or log10 y).
struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_y = true;
  bool integer_x_ticks = false;
  std::vector<ChartSeries> series;
  std::vector<ChartHLine> hlines;
};

namespace detail {
inline std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    default:
      // Drop control characters XML 1.0 forbids (tokens can hold them).
      if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') {
        out += c;
      }
    }
  }
  return out;
}
inline std::string fmt(double v) {
  std::ostringstream o;
  o.precision(4);
  o << v;
  return o.str();
}
//! The tick step for about `target` intervals over `span`: 1, 2 or 5 times a power of ten
//! (a reader can add those up), at least 1 for an integer axis.
inline double nice_step(double span, int target, bool integer) {
  double const raw = span / std::max(target, 1);
  double const mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10.0 * mag;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * mag >= raw * (1.0 - 1e-9)) {
      step = m * mag;
      break;
    }
  }
  return integer ? std::max(1.0, std::round(step)) : step;
}
//! Multiples of `step` in [lo, hi].
inline std::vector<double> ticks_in(double lo, double hi, double step) {
  std::vector<double> t;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k += 1.0) {
    double const v = k * step;
    t.push_back(std::abs(v) < 1e-12 * step ? 0.0 : v);  // no "-0"
  }
  return t;
}
//! Width of a legend label at 12 px sans-serif, generously (about 7 px a character).
inline double label_width(std::string const& s) {
  return 7.0 * static_cast<double>(s.size());
}
}  // namespace detail

//! Renders the chart as a standalone SVG document (500 high; 900 wide, wider when the legend
//! needs it). Axis ticks fall on multiples of 1, 2 or 5 x 10^k (integers on an integer axis,
//! decades on a log axis); a linear y axis spans the data (padded), not 0.
inline std::string render_svg(LineChart const& chart) {
  constexpr double H = 500, L = 80, T = 50, B = 60, kPlotWidth = 620;
  double longest = 0.0;
  for (auto const& s : chart.series) {
    longest = std::max(longest, detail::label_width(s.name));
  }
  for (auto const& h : chart.hlines) {
    longest = std::max(longest, detail::label_width(h.name));
  }
  double const R = std::max(200.0, 46.0 + longest + 15.0);  // legend: line, gap, label, margin
  double const W = L + kPlotWidth + R;
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
  double ymin = xmin, ymax = -xmin;
  auto ty = [&](double y) { return chart.log_y ? std::log10(std::max(y, 1e-30)) : y; };
  for (auto const& s : chart.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i]) || (chart.log_y && s.y[i] <= 0.0)) {
        continue;
      }
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, ty(s.y[i]));
      ymax = std::max(ymax, ty(s.y[i]));
    }
  }
  for (auto const& h : chart.hlines) {
    if (std::isfinite(h.y) && (!chart.log_y || h.y > 0.0)) {
      ymin = std::min(ymin, ty(h.y));
      ymax = std::max(ymax, ty(h.y));
    }
  }
  if (!std::isfinite(xmin)) {
    xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  }
  if (xmax <= xmin) {
    xmax = xmin + 1;
  }
  double y_step = 1.0;  // a decade on a log axis
  if (chart.log_y) {
    ymin = std::floor(ymin);
    ymax = std::ceil(ymax);
    if (ymax <= ymin) {
      ymax = ymin + 1;
    }
  } else {
    // Pad the data range by 5% (1% of the value, or 1, when flat) and widen it to whole steps.
    double span = ymax - ymin;
    double const pad = span > 0.0 ? 0.05 * span : std::max(0.01 * std::abs(ymax), 1e-9);
    ymin -= pad;
    ymax += pad;
    span = ymax - ymin;
    y_step = detail::nice_step(span, 5, false);
    ymin = std::floor(ymin / y_step) * y_step;
    ymax = std::ceil(ymax / y_step) * y_step;
  }
  auto px = [&](double x) { return L + (x - xmin) / (xmax - xmin) * (W - L - R); };
  auto py = [&](double y) { return H - B - (ty(y) - ymin) / (ymax - ymin) * (H - T - B); };
  auto pyt = [&](double t) { return H - B - (t - ymin) / (ymax - ymin) * (H - T - B); };

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" viewBox=\"0 0 " << W << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect x=\"0\" y=\"0\" width=\"" << W << "\" height=\"" << H << "\" fill=\"white\"/>\n"
    << "<text x=\"" << W / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">"
    << detail::xml_escape(chart.title) << "</text>\n";
  // Axes.
  o << "<line x1=\"" << L << "\" y1=\"" << H - B << "\" x2=\"" << W - R << "\" y2=\"" << H - B
    << "\" stroke=\"black\"/>\n"
    << "<line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\"" << H - B
    << "\" stroke=\"black\"/>\n";
  // Y ticks: decades on a log axis, 5 steps on a linear one.
  if (chart.log_y) {
    for (double t = ymin; t <= ymax + 1e-9; t += 1.0) {
      o << "<line x1=\"" << L - 4 << "\" y1=\"" << pyt(t) << "\" x2=\"" << W - R << "\" y2=\""
        << pyt(t) << "\" stroke=\"#dddddd\"/>\n"
        << "<text x=\"" << L - 8 << "\" y=\"" << pyt(t) + 4 << "\" text-anchor=\"end\">1e"
        << detail::fmt(t) << "</text>\n";
    }
  } else {
    for (double const t : detail::ticks_in(ymin, ymax, y_step)) {
      o << "<line x1=\"" << L - 4 << "\" y1=\"" << pyt(t) << "\" x2=\"" << W - R << "\" y2=\""
        << pyt(t) << "\" stroke=\"#dddddd\"/>\n"
        << "<text x=\"" << L - 8 << "\" y=\"" << pyt(t) + 4 << "\" text-anchor=\"end\">"
        << detail::fmt(t) << "</text>\n";
    }
  }
  // X ticks: about 8 intervals.
  double const x_step = detail::nice_step(xmax - xmin, 8, chart.integer_x_ticks);
  for (double const x : detail::ticks_in(xmin, xmax, x_step)) {
    o << "<line x1=\"" << px(x) << "\" y1=\"" << H - B << "\" x2=\"" << px(x) << "\" y2=\""
      << H - B + 4 << "\" stroke=\"black\"/>\n"
      << "<text x=\"" << px(x) << "\" y=\"" << H - B + 18 << "\" text-anchor=\"middle\">"
      << detail::fmt(x) << "</text>\n";
  }
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 15 << "\" text-anchor=\"middle\">"
    << detail::xml_escape(chart.x_label) << "</text>\n"
    << "<text x=\"18\" y=\"" << (T + H - B) / 2
    << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " << (T + H - B) / 2 << ")\">"
    << detail::xml_escape(chart.y_label) << "</text>\n";
  // Series.
  int legend = 0;
  for (auto const& s : chart.series) {
    std::string const name = detail::xml_escape(s.name);
    o << "<g class=\"series\" data-name=\"" << name << "\">\n";
    if (s.lines) {
      o << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.5\" points=\"";
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (std::isfinite(s.y[i]) && (!chart.log_y || s.y[i] > 0.0)) {
          o << px(s.x[i]) << "," << py(s.y[i]) << " ";
        }
      }
      o << "\"/>\n";
    }
    if (s.markers) {
      for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (std::isfinite(s.y[i]) && (!chart.log_y || s.y[i] > 0.0)) {
          o << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\"3.5\" fill=\""
            << s.color << "\"><title>" << name << " (" << detail::fmt(s.x[i]) << ", "
            << detail::fmt(s.y[i]) << ")</title></circle>\n";
        }
      }
    }
    o << "</g>\n";
    double const ly = T + 10 + 20.0 * legend++;
    o << "<line x1=\"" << W - R + 15 << "\" y1=\"" << ly << "\" x2=\"" << W - R + 40 << "\" y2=\""
      << ly << "\" stroke=\"" << s.color << "\" stroke-width=\"3\"/>\n"
      << "<text x=\"" << W - R + 46 << "\" y=\"" << ly + 4 << "\">" << name << "</text>\n";
  }
  for (auto const& h : chart.hlines) {
    if (!std::isfinite(h.y) || (chart.log_y && h.y <= 0.0)) {
      continue;
    }
    std::string const name = detail::xml_escape(h.name);
    o << "<line class=\"hline\" x1=\"" << L << "\" y1=\"" << py(h.y) << "\" x2=\"" << W - R
      << "\" y2=\"" << py(h.y) << "\" stroke=\"" << h.color
      << "\" stroke-dasharray=\"6,4\" stroke-width=\"1.5\"/>\n";
    double const ly = T + 10 + 20.0 * legend++;
    o << "<line x1=\"" << W - R + 15 << "\" y1=\"" << ly << "\" x2=\"" << W - R + 40 << "\" y2=\""
      << ly << "\" stroke=\"" << h.color << "\" stroke-dasharray=\"6,4\" stroke-width=\"2\"/>\n"
      << "<text x=\"" << W - R + 46 << "\" y=\"" << ly + 4 << "\">" << name << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

//! Figure 1 analog: max input magnitude (ModuleStats::max) per layer, one series per kind;
//! MoE experts count as their kind (the largest over a layer's experts).
inline LineChart layer_max_chart(std::span<ModuleStats const> stats, std::string title) {
  static constexpr char const* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"};
  LineChart c;
  c.title = std::move(title);
  c.x_label = "layer";
  c.y_label = "max |input| over calibration tokens";
  c.log_y = true;
  c.integer_x_ticks = true;
  std::map<ModuleKind, ChartSeries> by_kind;
  for (auto const& s : stats) {  // ModuleId order: a layer's experts of a kind are adjacent
    auto& ser = by_kind[s.id.kind];
    if (s.id.is_expert() && !ser.x.empty() && ser.x.back() == s.id.layer) {
      ser.y.back() = std::max(ser.y.back(), static_cast<double>(s.max));
      continue;
    }
    ser.x.push_back(s.id.layer);
    ser.y.push_back(s.max);
  }
  std::size_t i = 0;
  for (auto& [kind, ser] : by_kind) {
    ser.name = std::string(to_string(kind)) + " input";
    ser.color = colors[i++ % 5];
    c.series.push_back(std::move(ser));
  }
  return c;
}

//! Figure 2 analog: token-wise scales of one sequence at a module, with the per-tensor
//! (max over the sequence) scale as a horizontal line.
inline LineChart token_scale_chart(std::span<float const> scales, std::string title) {
  LineChart c;
  c.title = std::move(title);
  c.x_label = "token position";
  c.y_label = "token-wise scale max_j |x[t, j]|";
  c.log_y = true;
  ChartSeries s;
  s.name = "token-wise scale";
  s.markers = scales.size() <= 128;
  float mx = 0.0f;
  for (std::size_t t = 0; t < scales.size(); ++t) {
    s.x.push_back(static_cast<double>(t));
    s.y.push_back(scales[t]);
    mx = std::max(mx, scales[t]);
  }
  c.series.push_back(std::move(s));
  c.hlines.push_back({"per-tensor scale (max)", "#d62728", mx});
  if (!scales.empty()) {
    c.hlines.push_back({"median", "#2ca02c", lower_median(scales)});
  }
  return c;
}

//! Writes text to a file, creating parent folders; Error(kIo) on failure.
inline void write_text_file(std::filesystem::path const& path, std::string const& text) {
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path());
  }
  std::ofstream out(path, std::ios::binary);
  require(out.good(), ErrorKind::kIo, "cannot open ", path.string(), " for writing");
  out << text;
  require(out.good(), ErrorKind::kIo, "write failed for ", path.string());
}

}  // namespace spikequant::v0::calib
