// Full-precision and quantized weight matrices for the embedding / LM head:
// rows of float, f16 or bf16, int8 with one scale per row (Q8 rows), or
// ggml Q6_K / Q4_0 blocks (BlockMatrix).
#ifndef TERNARY_KERNELS_DENSE_MATRIX_H_
#define TERNARY_KERNELS_DENSE_MATRIX_H_

#include <hwy/base.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <span>
#include <string_view>
#include <type_traits>

#include "ternary/quant/activation.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"
#include "ternary/util/thread_pool.h"

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
    return Owned(v.size(), rows, cols, [&](T* out) {
      for (size_t i = 0; i < v.size(); ++i) out[i] = FromFloat<T>(v[i]);
    });
  }
  // An owned copy of rows already of T (e.g. a GGUF F16 tensor read into
  // the model's own memory instead of used from the mapped file).
  static DenseMatrix Copy(std::span<const T> v, size_t rows, size_t cols) {
    return Owned(v.size(), rows, cols,
                 [&](T* out) { std::copy(v.begin(), v.end(), out); });
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
  // rows×cols of the matrix's own memory, written by fill(data).
  template <class Fill>
  static DenseMatrix Owned(size_t n, size_t rows, size_t cols,
                           const Fill& fill) {
    Check(n, rows, cols);
    DenseMatrix m;
    m.owned_ = AlignedBuffer<T>(rows * cols);
    fill(m.owned_.data());
    m.data_ = m.owned_.data();
    m.rows_ = rows;
    m.cols_ = cols;
    return m;
  }
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

// The ggml block formats a BlockMatrix can hold: geometry, ggml's reference
// quantizer and decoder of whole rows (quant/ggml_blocks.h).
template <class B>
struct BlockFormat;
template <>
struct BlockFormat<quant::BlockQ6_K> {
  static constexpr std::string_view kName = "Q6_K";
  static constexpr size_t kScaleOffset = 208;  // fp16 d
  static void Quantize(std::span<const float> x, std::span<uint8_t> y) {
    quant::QuantizeRowQ6_K(x, y);
  }
  static void Dequantize(std::span<const uint8_t> x, std::span<float> y) {
    quant::DequantizeRowQ6_K(x, y);
  }
};
template <>
struct BlockFormat<quant::BlockQ4_0> {
  static constexpr std::string_view kName = "Q4_0";
  static constexpr size_t kScaleOffset = 0;  // fp16 d
  static void Quantize(std::span<const float> x, std::span<uint8_t> y) {
    quant::QuantizeRowQ4_0(x, y);
  }
  static void Dequantize(std::span<const uint8_t> x, std::span<float> y) {
    quant::DequantizeRowQ4_0(x, y);
  }
};

// rows × cols values in ggml blocks of B (Q6_K: 256 values / 210 bytes,
// Q4_0: 32 / 18), rows back to back, each row a whole number of blocks: the
// layout of a GGUF tensor of that type with ne0 = cols, ne1 = rows, so a
// file's token_embd / output tensor can be viewed in place (View). Tables we
// quantize ourselves (Quantize) may have cols that are not a multiple of the
// block: each row is zero-padded to padded_cols() before quantizing (the
// kernels pair the padding with zero activation codes); a View needs whole
// blocks, as ggml does.
template <class B>
class BlockMatrix {
 public:
  using Block = B;
  static constexpr size_t kBlockValues = B::kElements;
  static constexpr size_t kBlockBytes = B::kBytes;
  BlockMatrix() = default;

  // ggml's reference quantizer on each row (bit for bit what ggml writes
  // from the same floats; quant/ggml_blocks.h). With a pool, rows are
  // quantized in parallel and row_fn is called from its threads (Q6_K's
  // scale search costs about 0.1 ms per 2560-value row: 14 s for the 2B4T
  // table on one thread).
  template <class RowFn>  // RowFn(r, float* out) writes row r's cols floats
  static BlockMatrix Quantize(size_t rows, size_t cols, RowFn&& row_fn,
                              ThreadPool* pool = nullptr) {
    BlockMatrix m;
    m.Shape(rows, cols);
    m.owned_ = AlignedBuffer<uint8_t>(rows * m.row_bytes_);
    constexpr size_t kRowsPerTask = 64;
    const size_t tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
    auto run = [&](size_t task) {
      AlignedBuffer<float> tmp(m.padded_cols());  // zero past cols
      const size_t end = std::min(rows, (task + 1) * kRowsPerTask);
      for (size_t r = task * kRowsPerTask; r < end; ++r) {
        row_fn(r, tmp.data());
        BlockFormat<B>::Quantize(
            tmp.span(), std::span<uint8_t>(m.owned_.data() + r * m.row_bytes_,
                                           m.row_bytes_));
      }
    };
    if (pool != nullptr && tasks > 1) {
      // The pool does not carry exceptions (a non-finite value): the first
      // one is rethrown here.
      std::exception_ptr error;
      std::mutex mu;
      pool->Run(0, tasks, [&](size_t task, size_t) {
        try {
          run(task);
        } catch (...) {
          const std::lock_guard<std::mutex> lock(mu);
          if (!error) error = std::current_exception();
        }
      });
      if (error) std::rethrow_exception(error);
    } else {
      for (size_t task = 0; task < tasks; ++task) run(task);
    }
    m.data_ = m.owned_.data();
    return m;
  }

  // The caller's bytes in ggml's layout (e.g. a mapped GGUF tensor of this
  // type), used in place; they must outlive the matrix. cols must be a
  // multiple of the block and bytes.size() exactly rows · row bytes.
  static BlockMatrix View(std::span<const uint8_t> bytes, size_t rows,
                          size_t cols) {
    if (cols % kBlockValues != 0) {
      throw ShapeError(std::string(BlockFormat<B>::kName) +
                       " matrix: " + std::to_string(cols) +
                       " columns are not whole blocks of " +
                       std::to_string(kBlockValues));
    }
    BlockMatrix m;
    m.Shape(rows, cols);
    if (bytes.size() != rows * m.row_bytes_) {
      throw ShapeError(std::string(BlockFormat<B>::kName) + " matrix: " +
                       std::to_string(bytes.size()) + " bytes for " +
                       std::to_string(rows) + "x" + std::to_string(cols));
    }
    m.data_ = bytes.data();
    return m;
  }

  // A copy of such bytes, owned (e.g. a GGUF read without mmap).
  static BlockMatrix FromBytes(std::span<const uint8_t> bytes, size_t rows,
                               size_t cols) {
    BlockMatrix m = View(bytes, rows, cols);
    m.owned_ = AlignedBuffer<uint8_t>(bytes.size());
    std::memcpy(m.owned_.data(), bytes.data(), bytes.size());
    m.data_ = m.owned_.data();
    return m;
  }

  size_t rows() const noexcept { return rows_; }
  size_t cols() const noexcept { return cols_; }
  // cols rounded up to whole blocks: the values each row encodes.
  size_t padded_cols() const noexcept { return blocks_per_row_ * kBlockValues; }
  size_t blocks_per_row() const noexcept { return blocks_per_row_; }
  size_t row_bytes() const noexcept { return row_bytes_; }
  const uint8_t* data() const noexcept { return data_; }
  const uint8_t* row(size_t r) const noexcept { return data_ + r * row_bytes_; }
  size_t bytes() const noexcept { return rows_ * row_bytes_; }
  // Row r decoded as ggml's dequantize_row_* does (cols values).
  void RowToFloat(size_t r, float* out) const {
    if (padded_cols() == cols_) {
      BlockFormat<B>::Dequantize(std::span<const uint8_t>(row(r), row_bytes_),
                                 std::span<float>(out, cols_));
      return;
    }
    AlignedBuffer<float> tmp(padded_cols());
    BlockFormat<B>::Dequantize(std::span<const uint8_t>(row(r), row_bytes_),
                               tmp.span());
    std::memcpy(out, tmp.data(), cols_ * sizeof(float));
  }

 private:
  void Shape(size_t rows, size_t cols) {
    rows_ = rows;
    cols_ = cols;
    blocks_per_row_ = (cols + kBlockValues - 1) / kBlockValues;
    row_bytes_ = blocks_per_row_ * kBlockBytes;
  }
  AlignedBuffer<uint8_t> owned_;
  const uint8_t* data_ = nullptr;
  size_t rows_ = 0, cols_ = 0, blocks_per_row_ = 0, row_bytes_ = 0;
};

using Q6KMatrix = BlockMatrix<quant::BlockQ6_K>;
using Q4_0Matrix = BlockMatrix<quant::BlockQ4_0>;

// Arguments of the block-matrix kernels: rows of `blocks` blocks (row_bytes
// apart) × int8 activation codes (q ≈ x · x_scale, rows zero-padded to at
// least blocks · block values), y[t·ldy + o] for o < rows, t < n_tokens.
struct BlockArgs {
  const uint8_t* w;
  size_t rows;
  size_t row_bytes;
  size_t blocks;
  const int8_t* x;
  size_t x_stride;
  const quant::ActScale* x_scale;
  size_t n_tokens;
  float* y;
  size_t ldy;
};

}  // namespace ternary

#endif  // TERNARY_KERNELS_DENSE_MATRIX_H_
