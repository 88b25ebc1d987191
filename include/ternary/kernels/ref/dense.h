// Scalar references of the dense (embedding / LM head) products.
#ifndef TERNARY_KERNELS_REF_DENSE_H_
#define TERNARY_KERNELS_REF_DENSE_H_

#include <cstddef>
#include <cstdint>

#include "ternary/kernels/dense_matrix.h"
#include "ternary/kernels/quantized_acts.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/util/half.h"

namespace ternary::ref {

// y[t·ldy + o] = Σ_i W[o][i]·x[t·ldx + i], summed in float in order.
template <DenseElement T>
void DenseMatMul(const DenseMatrix<T>& w, const float* x, size_t ldx,
                 size_t n_tokens, float* y, size_t ldy) noexcept {
  for (size_t t = 0; t < n_tokens; ++t) {
    for (size_t o = 0; o < w.rows(); ++o) {
      float s = 0.0f;
      for (size_t i = 0; i < w.cols(); ++i) {
        s += ToFloat(w.row(o)[i]) * x[t * ldx + i];
      }
      y[t * ldy + o] = s;
    }
  }
}

// Q8 rows × int8 tokens: exact int32 sums, then fl(fl(S / sx) · sw).
inline void Q8MatMul(const Q8RowMatrix& w, const QuantizedActs& x, float* y,
                     size_t ldy) noexcept {
  for (size_t t = 0; t < x.n_tokens(); ++t) {
    for (size_t o = 0; o < w.rows(); ++o) {
      int32_t s = 0;
      for (size_t i = 0; i < w.cols(); ++i) {
        s += int32_t{w.row(o)[i]} * x.row(t)[i];
      }
      y[t * ldy + o] = static_cast<float>(s) / x.scale(t).scale * w.scale(o);
    }
  }
}

// ggml-block rows (Q6_K, Q4_0) × int8 tokens. Per block the exact int32
// sum of weight levels × activation codes (Q6_K: Σ_j scale_j · Σ_{16 values
// of group j} (q6 − 32)·x; Q4_0: Σ (q4 − 8)·x), then, in double and in
// block order, acc = acc + fp16 d · sum, each product exact (an 11-bit d
// times a sum below 2^28), so fused or not it rounds once; finally
// y = fl32(acc / x_scale). Every target computes exactly this.
inline int32_t BlockSum(quant::BlockQ6_K, const uint8_t* blk,
                        const int8_t* x) noexcept {
  const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
  int32_t total = 0;
  for (size_t h = 0; h < 2; ++h) {
    const uint8_t* ql = blk + 64 * h;
    const uint8_t* qh = blk + 128 + 32 * h;
    int32_t group[8] = {};
    for (size_t l = 0; l < 32; ++l) {
      const int8_t* xh = x + 128 * h + l;
      const size_t g = l / 16;
      group[g + 0] += (((ql[l] & 15) | (qh[l] & 3) << 4) - 32) * xh[0];
      group[g + 2] +=
          (((ql[l + 32] & 15) | (qh[l] >> 2 & 3) << 4) - 32) * xh[32];
      group[g + 4] += (((ql[l] >> 4) | (qh[l] >> 4 & 3) << 4) - 32) * xh[64];
      group[g + 6] +=
          (((ql[l + 32] >> 4) | (qh[l] >> 6 & 3) << 4) - 32) * xh[96];
    }
    for (size_t g = 0; g < 8; ++g) total += sc[8 * h + g] * group[g];
  }
  return total;
}
inline int32_t BlockSum(quant::BlockQ4_0, const uint8_t* blk,
                        const int8_t* x) noexcept {
  int32_t total = 0;
  for (size_t j = 0; j < 16; ++j) {
    total += ((blk[2 + j] & 15) - 8) * x[j];
    total += ((blk[2 + j] >> 4) - 8) * x[j + 16];
  }
  return total;
}

// Σ_b fp16(d_b) · BlockSum_b of one row, in double, in block order.
template <class B>
double BlockRowDot(const uint8_t* row, size_t blocks,
                   const int8_t* x) noexcept {
  double acc = 0.0;
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* blk = row + b * B::kBytes;
    const uint16_t d16 =
        static_cast<uint16_t>(blk[BlockFormat<B>::kScaleOffset] |
                              blk[BlockFormat<B>::kScaleOffset + 1] << 8);
    const double d = F16ToFloat(d16);
    acc += d * static_cast<double>(BlockSum(B{}, blk, x + b * B::kElements));
  }
  return acc;
}

// Rows [row_begin, row_end) of a BlockArgs product.
template <class B>
void BlockRows(const BlockArgs& a, size_t row_begin, size_t row_end) noexcept {
  for (size_t t = 0; t < a.n_tokens; ++t) {
    const int8_t* x = a.x + t * a.x_stride;
    const double xs = a.x_scale[t].scale;
    for (size_t o = row_begin; o < row_end; ++o) {
      const double acc = BlockRowDot<B>(a.w + o * a.row_bytes, a.blocks, x);
      a.y[t * a.ldy + o] = static_cast<float>(acc / xs);
    }
  }
}

template <class B>
BlockArgs MakeBlockArgs(const BlockMatrix<B>& w, const QuantizedActs& x,
                        float* y, size_t ldy) noexcept {
  return BlockArgs{w.data(), w.rows(),   w.row_bytes(), w.blocks_per_row(),
                   x.row(0), x.stride(), x.scales(),    x.n_tokens(),
                   y,        ldy};
}

// The block rows × int8 tokens product (the activation rows must hold at
// least w.padded_cols() codes, zero past w.cols(): QuantizedActs pads).
template <class B>
void BlockMatMul(const BlockMatrix<B>& w, const QuantizedActs& x, float* y,
                 size_t ldy) noexcept {
  BlockRows<B>(MakeBlockArgs(w, x, y, ldy), 0, w.rows());
}

}  // namespace ternary::ref

#endif  // TERNARY_KERNELS_REF_DENSE_H_
