// A ternary weight matrix packed in format F, with its per-tensor scale.
#ifndef TERNARY_KERNELS_PACKED_MATRIX_H_
#define TERNARY_KERNELS_PACKED_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "ternary/quant/format.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"

namespace ternary {

template <quant::PackingFormat F>
class PackedMatrix {
 public:
  using Format = F;

  PackedMatrix() = default;

  // t: rows×cols row-major values in {-1, 0, +1}; alpha: multiply scale.
  static PackedMatrix Pack(std::span<const int8_t> t, size_t rows, size_t cols,
                           float alpha) {
    F::CheckShape(rows, cols);
    if (t.size() != rows * cols) {
      throw ShapeError(std::string(F::kName) + ": " + std::to_string(t.size()) +
                       " values for a " + std::to_string(rows) + "x" +
                       std::to_string(cols) + " matrix");
    }
    for (int8_t v : t) {
      if (v < -1 || v > 1) {
        throw ShapeError(std::string(F::kName) + ": weight " +
                         std::to_string(v) + " is not ternary");
      }
    }
    PackedMatrix m;
    m.owned_ = AlignedBuffer<uint8_t>(F::PackedBytes(rows, cols));
    F::Pack(t.data(), rows, cols, m.owned_.data());
    m.data_ = m.owned_.data();
    m.rows_ = rows;
    m.cols_ = cols;
    m.alpha_ = alpha;
    return m;
  }

  // An owned copy of bytes already in F's layout (e.g. a GGUF tensor read
  // into memory of the model's own instead of used from the mapped file).
  static PackedMatrix Copy(std::span<const uint8_t> bytes, size_t rows,
                           size_t cols, float alpha) {
    PackedMatrix m = View(bytes, rows, cols, alpha);
    m.owned_ = AlignedBuffer<uint8_t>(F::PackedBytes(rows, cols));
    std::memcpy(m.owned_.data(), m.data_, m.owned_.size());
    m.data_ = m.owned_.data();
    return m;
  }

  // Zero-copy view of bytes already in F's layout (e.g. a memory-mapped
  // GGUF tensor); the bytes must outlive the view.
  static PackedMatrix View(std::span<const uint8_t> bytes, size_t rows,
                           size_t cols, float alpha) {
    F::CheckShape(rows, cols);
    if (bytes.size() < F::PackedBytes(rows, cols)) {
      throw ShapeError(
          std::string(F::kName) + ": " + std::to_string(bytes.size()) +
          " bytes for a " + std::to_string(rows) + "x" + std::to_string(cols) +
          " matrix, need " + std::to_string(F::PackedBytes(rows, cols)));
    }
    PackedMatrix m;
    m.data_ = bytes.data();
    m.rows_ = rows;
    m.cols_ = cols;
    m.alpha_ = alpha;
    return m;
  }

  size_t rows() const noexcept { return rows_; }
  size_t cols() const noexcept { return cols_; }
  float alpha() const noexcept { return alpha_; }
  const uint8_t* data() const noexcept { return data_; }
  std::span<const uint8_t> bytes() const noexcept {
    return {data_, data_ ? F::PackedBytes(rows_, cols_) : 0};
  }
  bool owns_data() const noexcept { return !owned_.empty(); }

  std::vector<int8_t> Unpack() const {
    std::vector<int8_t> t(rows_ * cols_);
    if (data_) F::Unpack(data_, rows_, cols_, t.data());
    return t;
  }

 private:
  AlignedBuffer<uint8_t> owned_;
  const uint8_t* data_ = nullptr;
  size_t rows_ = 0, cols_ = 0;
  float alpha_ = 1.0f;
};

}  // namespace ternary

#endif  // TERNARY_KERNELS_PACKED_MATRIX_H_
