// SPDX-FileCopyrightText: 2026 spikequant authors
// SPDX-License-Identifier: MIT
//! @file Runs a row kernel (quantize / GLU / RMSNorm) into poisoned outputs and compares them
//! with expected codes and scales exactly, including untouched row padding.
#pragma once

#include "cuda/reference.hpp"
#include "cuda/test_util.cuh"
#include "spikequant/cuda/device/quantize.cuh"
#include "spikequant/cuda/runtime/device_buffer.cuh"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <doctest/doctest.h>
#include <functional>
#include <span>
#include <vector>

namespace spikequant_test {

namespace sqc = spikequant::cuda;

//! Copies `host` to device memory `offset` elements into a fresh buffer (offset != 0 makes the
//! pointer misaligned for the vector path).
template <class T>
sqc::DeviceBuffer<T> upload_at(std::vector<T> const& host, std::size_t offset) {
  sqc::DeviceBuffer<T> d(host.size() + offset + 1);
  SPIKEQUANT_CUDA_CHECK(
      cudaMemcpy(d.data() + offset, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

//! Expected result of a quantized row kernel: codes (rows, cols) contiguous and scales.
struct ExpectedCodes {
  std::vector<std::int8_t> codes;
  std::vector<float> scales;
};

//! CPU reference quantization of `values` (rows, cols) under `scheme`.
inline ExpectedCodes expected_codes(
    spikequant::ActScheme scheme,
    std::vector<float> const& values,
    std::int64_t rows,
    std::int64_t cols,
    float static_scale) {
  ExpectedCodes e;
  e.codes.resize(values.size());
  switch (scheme) {
  case spikequant::ActScheme::kPerToken:
    e.scales.resize(static_cast<std::size_t>(rows));
    ref::quantize_per_token(values.data(), rows, cols, e.codes.data(), e.scales.data());
    break;
  case spikequant::ActScheme::kPerTensor:
    e.scales.resize(1);
    ref::quantize_per_tensor(values.data(), rows, cols, e.codes.data(), e.scales.data());
    break;
  case spikequant::ActScheme::kStatic:
    e.scales.assign(1, static_scale);
    ref::quantize_static(values.data(), rows, cols, static_scale, e.codes.data());
    break;
  }
  return e;
}

//! A static scale that makes the spikes saturate: half the tensor's absmax / 127.
inline float saturating_static_scale(std::vector<float> const& values) {
  float m = 0.0f;
  for (float v : values) {
    m = std::fmax(m, std::fabs(v));
  }
  return 0.5f * m / 127.0f;
}

//! Runs `launch(out, workspace, workspace_bytes)` twice into outputs poisoned with 0x5A and
//! 0xA5 (codes) and NaN (scales), then checks every code and scale against `want` exactly and
//! that the padding of codes rows (ld_codes > cols) still holds the poison.
inline void check_codes(
    spikequant::ActScheme scheme,
    std::int64_t rows,
    std::int64_t cols,
    std::int64_t ld_codes,
    float static_scale,
    ExpectedCodes const& want,
    std::function<std::size_t(sqc::RowsOutput const&)> const& workspace_size,
    std::function<void(sqc::RowsOutput const&, void*, std::size_t)> const& launch) {
  sqc::DeviceBuffer<std::int8_t> codes(static_cast<std::size_t>(rows * ld_codes));
  std::size_t const n_scales =
      scheme == spikequant::ActScheme::kPerToken ? static_cast<std::size_t>(rows) : 1;
  sqc::DeviceBuffer<float> scales(n_scales);
  sqc::RowsOutput const out{
      scheme,
      {codes.data(), rows, cols, ld_codes},
      std::span<float>(scales.data(), n_scales),
      static_scale,
      {}};
  std::size_t const ws_bytes = workspace_size(out);
  CHECK(ws_bytes == (scheme == spikequant::ActScheme::kPerTensor ? 4u : 0u));
  sqc::DeviceBuffer<std::byte> ws(ws_bytes);
  for (int poison : {0x5A, 0xA5}) {
    codes.fill_bytes(poison);
    scales.fill_bytes(0xFF);
    ws.fill_bytes(0xFF);  // the kernels must not rely on a zeroed workspace
    launch(out, ws.data(), ws.size());
    SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<std::int8_t> got(codes.size());
    std::vector<float> got_scales(n_scales);
    codes.download(got);
    scales.download(got_scales);
    SPIKEQUANT_CUDA_CHECK(cudaDeviceSynchronize());
    std::int64_t bad = 0;
    std::int64_t bad_pad = 0;
    std::int64_t first = -1;
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t c = 0; c < ld_codes; ++c) {
        auto const g = got[static_cast<std::size_t>(r * ld_codes + c)];
        if (c >= cols) {
          bad_pad += g != static_cast<std::int8_t>(poison) ? 1 : 0;
        } else if (g != want.codes[static_cast<std::size_t>(r * cols + c)]) {
          first = first < 0 ? r * cols + c : first;
          ++bad;
        }
      }
    }
    INFO("poison 0x", std::hex, poison, std::dec, ", first mismatch at flat index ", first);
    CHECK(bad == 0);
    CHECK(bad_pad == 0);
    CHECK(std::memcmp(got_scales.data(), want.scales.data(), n_scales * sizeof(float)) == 0);
  }
}

}  // namespace spikequant_test
