// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Zero-copy Eigen views of MatrixRef (row-major, outer stride = ld).
#pragma once

#include "spikequant/core/matrix_ref.hpp"

// One clear line instead of "Eigen/Core: No such file" (or the installed package's stand-in
// target, spikequantConfig.cmake, when find_package found no Eigen).
#if defined(SPIKEQUANT_EIGEN_MISSING) || !__has_include(<Eigen/Core>)
#  error "spikequant::cpu needs Eigen 3.3 headers (Debian/Ubuntu: apt-get install libeigen3-dev)"
#endif
#include <Eigen/Core>

namespace spikequant::inline v0::cpu {

template <class T>
using RowMajorMatrix =
    Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

//! Eigen::Map over a MatrixRef's memory; const-ness follows T.
template <class T>
using EigenMap = Eigen::Map<
    std::conditional_t<std::is_const_v<T>, RowMajorMatrix<T> const, RowMajorMatrix<T>>,
    Eigen::Unaligned,
    Eigen::OuterStride<>>;

template <class T>
EigenMap<T> as_eigen(MatrixRef<T> const& m) {
  return EigenMap<T>(m.data, m.rows, m.cols, Eigen::OuterStride<>(m.ld));
}

}  // namespace spikequant::v0::cpu
