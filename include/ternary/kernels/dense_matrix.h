// Full-precision and 8-bit weight matrices for the embedding / LM head:
// rows of float, f16 or bf16, or int8 with one scale per row (Q8 rows).
#ifndef TERNARY_KERNELS_DENSE_MATRIX_H_
#define TERNARY_KERNELS_DENSE_MATRIX_H_

#include <hwy/base.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"

namespace ternary {

template <class T>
concept DenseElement = std::is_same_v<T, float> ||
    std::is_same_v<T, hwy::float16_t> || std::is_same_v<T, hwy::bfloat16_t>;

template <DenseElement T>
inline float ToFloat(T v) noexcept {
  if constexpr (std::is_same_v<T, float>) {
    return v;
  } else if constexpr (std::is_same_v<T, hwy::float16_t>) {
    return F16ToFloat(std::bit_cast<uint16_t>(v));
  } else {
    return Bf16ToFloat(std::bit_cast<uint16_t>(v));
  }
}

template <DenseElement T>
inline T FromFloat(float f) noexcept {
  if constexpr (std::is_same_v<T, float>) {
    return f;
  } else if constexpr (std::is_same_v<T, hwy::float16_t>) {
    return std::bit_cast<hwy::float16_t>(FloatToF16(f));
  } else {
    return std::bit_cast<hwy::bfloat16_t>(FloatToBf16(f));
  }
}

// rows×cols row-major, owned or a view of caller memory (e.g. an mmap'd
// GGUF F16 tensor or a safetensors BF16 tensor).
template <DenseElement T>
class DenseMatrix {
 public:
  using Element = T;
  DenseMatrix() = default;

  static DenseMatrix FromFloats(std::span<const float> v, size_t rows,
                                size_t cols) {
    Check(v.size(), rows, cols);
    DenseMatrix m;
    m.owned_ = AlignedBuffer<T>(rows * cols);
    for (size_t i = 0; i < v.size(); ++i) m.owned_[i] = FromFloat<T>(v[i]);
    m.data_ = m.owned_.data();
    m.rows_ = rows;
    m.cols_ = cols;
    return m;
  }
  static DenseMatrix View(std::span<const T> v, size_t rows, size_t cols) {
    Check(v.size(), rows, cols);
    DenseMatrix m;
    m.data_ = v.data();
    m.rows_ = rows;
    m.cols_ = cols;
    return m;
  }

  size_t rows() const noexcept { return rows_; }
  size_t cols() const noexcept { return cols_; }
  const T* data() const noexcept { return data_; }
  const T* row(size_t r) const noexcept { return data_ + r * cols_; }
  size_t bytes() const noexcept { return rows_ * cols_ * sizeof(T); }
  void RowToFloat(size_t r, float* out) const noexcept {
    const T* src = row(r);
    for (size_t i = 0; i < cols_; ++i) out[i] = ToFloat(src[i]);
  }

 private:
  static void Check(size_t n, size_t rows, size_t cols) {
    if (n != rows * cols) {
      throw ShapeError("dense matrix: " + std::to_string(n) + " values for " +
                       std::to_string(rows) + "x" + std::to_string(cols));
    }
  }
  AlignedBuffer<T> owned_;
  const T* data_ = nullptr;
  size_t rows_ = 0, cols_ = 0;
};

// int8 rows with a per-row absmax scale: w ≈ q · scale[r], q ∈ [−127, 127].
// Rows are zero-padded to kRowPadding codes so kernels read whole vectors.
// Half the bytes of f16: the LM head of 2B4T streams 328 MB instead of 657.
class Q8RowMatrix {
 public:
  static constexpr size_t kRowPadding = 64;
  Q8RowMatrix() = default;

  template <class RowFn>  // RowFn(r, float* out) writes row r as floats
  static Q8RowMatrix Quantize(size_t rows, size_t cols, RowFn&& row_fn) {
    Q8RowMatrix m;
    m.rows_ = rows;
    m.cols_ = cols;
    m.stride_ = (cols + kRowPadding - 1) / kRowPadding * kRowPadding;
    m.q_ = AlignedBuffer<int8_t>(rows * m.stride_);
    m.scale_ = AlignedBuffer<float>(rows);
    m.sum_ = AlignedBuffer<int32_t>(rows);
    AlignedBuffer<float> tmp(cols);
    for (size_t r = 0; r < rows; ++r) {
      row_fn(r, tmp.data());
      float amax = 0.0f;
      for (size_t i = 0; i < cols; ++i)
        amax = std::max(amax, std::fabs(tmp[i]));
      const float scale = amax / 127.0f;
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      int8_t* q = m.q_.data() + r * m.stride_;
      int32_t sum = 0;
      for (size_t i = 0; i < cols; ++i) {
        q[i] = static_cast<int8_t>(
            std::clamp(std::nearbyint(tmp[i] * inv), -127.0f, 127.0f));
        sum += q[i];
      }
      m.scale_[r] = scale;
      m.sum_[r] = sum;
    }
    return m;
  }

  size_t rows() const noexcept { return rows_; }
  size_t cols() const noexcept { return cols_; }
  size_t stride() const noexcept { return stride_; }
  const int8_t* row(size_t r) const noexcept { return q_.data() + r * stride_; }
  float scale(size_t r) const noexcept { return scale_[r]; }
  const float* scales() const noexcept { return scale_.data(); }
  const int32_t* sums() const noexcept { return sum_.data(); }
  size_t bytes() const noexcept { return rows_ * stride_ + rows_ * 8; }
  void RowToFloat(size_t r, float* out) const noexcept {
    for (size_t i = 0; i < cols_; ++i)
      out[i] = static_cast<float>(row(r)[i]) * scale_[r];
  }

 private:
  AlignedBuffer<int8_t> q_;
  AlignedBuffer<float> scale_;
  AlignedBuffer<int32_t> sum_;
  size_t rows_ = 0, cols_ = 0, stride_ = 0;
};

}  // namespace ternary

#endif  // TERNARY_KERNELS_DENSE_MATRIX_H_
