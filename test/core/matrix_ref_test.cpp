// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file MatrixRef indexing and the validated constructors; Error kinds and messages.
#include "spikequant/core/error.hpp"
#include "spikequant/core/matrix_ref.hpp"

#include <array>
#include <concepts>
#include <cstdint>
#include <doctest/doctest.h>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace spikequant;

namespace {
bool contains(Error const& e, std::string const& s) {
  return std::string(e.what()).find(s) != std::string::npos;
}
}  // namespace

TEST_CASE("MatrixRef indexes row-major with a leading dimension") {
  std::vector<int> buf(12);  // (3, 4) storage viewed as (3, 3) with ld 4
  for (std::size_t i = 0; i < buf.size(); ++i) {
    buf[i] = static_cast<int>(i);
  }
  MatrixRef<int> const m = make_matrix_ref(buf.data(), 3, 3, 4);
  CHECK(m(0, 0) == 0);
  CHECK(m(1, 0) == 4);
  CHECK(m(2, 2) == 10);
  CHECK(m.row(2)[1] == 9);
  CHECK(m.size() == 9);
  MatrixRef<int const> const c = m;
  CHECK(c(1, 2) == 6);
}

TEST_CASE("make_matrix_ref rejects bad sizes with the shape in the message") {
  std::vector<float> buf(6);
  try {
    (void)make_matrix_ref(buf.data(), 0, 3, -1, "x");
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kShape);
    CHECK(contains(e, "x: sizes must be positive, got (0, 3)"));
  }
  try {
    (void)make_matrix_ref(buf.data(), 2, -3, -1, "w");
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kShape);
    CHECK(contains(e, "(2, -3)"));
  }
  try {
    (void)make_matrix_ref(buf.data(), 2, 3, 2, "y");
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kShape);
    CHECK(contains(e, "leading dimension 2 < cols 3"));
  }
  try {
    (void)make_matrix_ref(static_cast<float*>(nullptr), 2, 3, -1, "z");
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kInvalidArgument);
  }
  try {
    (void)make_matrix_ref(std::span<float>(buf), 4, 2, "s");
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kShape);
    CHECK(contains(e, "buffer holds 6 elements, (4, 2) needs 8"));
  }
  auto const ok = make_matrix_ref(std::span<float>(buf), 2, 3, "s");
  CHECK(ok.ld == 3);
}

TEST_CASE("make_matrix_ref takes any contiguous range, as std::span does") {
  std::vector<float> v = {0, 1, 2, 3, 4, 5};
  MatrixRef<float> const m = make_matrix_ref(v, 2, 3);
  CHECK(m.data == v.data());
  CHECK(m.ld == 3);
  CHECK(m(1, 2) == 5.0f);
  m(0, 1) = 10.0f;  // a view: writes reach the vector
  CHECK(v[1] == 10.0f);
  std::vector<float> const& cv = v;
  auto const c = make_matrix_ref(cv, 3, 2);
  static_assert(std::same_as<decltype(c), MatrixRef<float const> const>);
  CHECK(c(2, 0) == 4.0f);
  std::array<std::int8_t, 4> a = {1, -2, 3, -4};
  auto const ar = make_matrix_ref(a, 2, 2);
  static_assert(std::same_as<decltype(ar), MatrixRef<std::int8_t> const>);
  CHECK(ar(1, 1) == -4);
  int raw[6] = {0, 1, 2, 3, 4, 5};
  CHECK(make_matrix_ref(raw, 3, 2)(2, 1) == 5);
  CHECK(make_matrix_ref(std::span<int const>(raw), 2, 3)(1, 0) == 3);
  // A temporary owning its elements would dangle: not a borrowed range, does not compile.
  auto const view_of =
      [](auto&& r) -> decltype(make_matrix_ref(std::forward<decltype(r)>(r), 1, 1)) { return {}; };
  static_assert(std::is_invocable_v<decltype(view_of), std::vector<float>&>);
  static_assert(std::is_invocable_v<decltype(view_of), std::span<float>>);
  static_assert(!std::is_invocable_v<decltype(view_of), std::vector<float>>);
  try {
    (void)make_matrix_ref(v, 4, 2, "x");
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kShape);
    CHECK(contains(e, "x: buffer holds 6 elements, (4, 2) needs 8"));
  }
}

TEST_CASE("require / fail / to_string") {
  CHECK_NOTHROW(require(true, ErrorKind::kIo, "never"));
  try {
    require(false, ErrorKind::kFormat, "offset ", 42, " past end ", 40);
    FAIL("expected an Error");
  } catch (Error const& e) {
    CHECK(e.kind() == ErrorKind::kFormat);
    CHECK(std::string(e.what()) == "offset 42 past end 40");
  }
  CHECK_THROWS_AS(fail(ErrorKind::kCuda, "x"), Error);
  CHECK(to_string(ErrorKind::kShape) == "shape");
  CHECK(to_string(ErrorKind::kNonFinite) == "non-finite value");
}
