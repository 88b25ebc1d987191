// Dense GEMV/GEMM kernels for the LM head and other full-precision
// matrices: f32/f16/bf16 rows × float activations, and Q8 rows × int8.

#ifndef TERNARY_KERNELS_DENSE_INL_H_
#define TERNARY_KERNELS_DENSE_INL_H_
#include <hwy/base.h>

#include "ternary/kernels/dense_args.h"
#include "ternary/kernels/dense_matrix.h"
#endif  // TERNARY_KERNELS_DENSE_INL_H_

#if defined(TERNARY_KERNELS_DENSE_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_DENSE_INL_H_TARGET
#undef TERNARY_KERNELS_DENSE_INL_H_TARGET
#else
#define TERNARY_KERNELS_DENSE_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {
namespace dense {

template <class T, class DF>
HWY_INLINE hn::Vec<DF> LoadAsFloat(DF df, const T* HWY_RESTRICT p) {
  if constexpr (std::is_same_v<T, float>) {
    return hn::LoadU(df, p);
  } else {
    const hn::Rebind<T, DF> dt;
    return hn::PromoteTo(df, hn::LoadU(dt, p));
  }
}

#if TERNARY_SIZELESS_VECTORS
// SVE: no arrays of vectors, so each (row, token) of the tile on its own,
// with two accumulators.
template <class T, size_t kR, size_t kT>
HWY_INLINE void Tile(const DenseArgs& a, size_t row, size_t token) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  for (size_t r = 0; r < kR; ++r) {
    const T* w = static_cast<const T*>(a.w) + (row + r) * a.cols;
    for (size_t t = 0; t < kT; ++t) {
      const float* x = a.x + (token + t) * a.ldx;
      auto acc0 = hn::Zero(df), acc1 = hn::Zero(df);
      size_t i = 0;
      for (; i + 2 * N <= a.cols; i += 2 * N) {
        acc0 = hn::MulAdd(LoadAsFloat(df, w + i), hn::LoadU(df, x + i), acc0);
        acc1 = hn::MulAdd(LoadAsFloat(df, w + i + N), hn::LoadU(df, x + i + N),
                          acc1);
      }
      for (; i + N <= a.cols; i += N) {
        acc0 = hn::MulAdd(LoadAsFloat(df, w + i), hn::LoadU(df, x + i), acc0);
      }
      float sum = ReduceSum(df, hn::Add(acc0, acc1));
      for (; i < a.cols; ++i) sum += ternary::ToFloat(w[i]) * x[i];
      a.y[(token + t) * a.ldy + row + r] = sum;
    }
  }
}
#else
// kR rows × kT tokens, two accumulators each. GEMV reads one row at a time:
// a single sequential stream from DRAM beats more FMA chains.
template <class T, size_t kR, size_t kT>
HWY_INLINE void Tile(const DenseArgs& a, size_t row, size_t token) {
  const hn::ScalableTag<float> df;
  using V = hn::Vec<decltype(df)>;
  const size_t N = hn::Lanes(df);
  const T* w = static_cast<const T*>(a.w) + row * a.cols;
  V acc0[kR][kT], acc1[kR][kT];
  for (size_t r = 0; r < kR; ++r)
    for (size_t t = 0; t < kT; ++t) acc0[r][t] = acc1[r][t] = hn::Zero(df);
  size_t i = 0;
  for (; i + 2 * N <= a.cols; i += 2 * N) {
    for (size_t r = 0; r < kR; ++r) {
      // Prefetch 8 KB ahead (into L1, 48 KB on Zen 5): for GEMV on a
      // 5 KB bf16 row this and one row per tile took the 2B4T head from
      // 30-31 ms (4 rows, 8 rows ahead) to 24-26 ms (27 GB/s).
      hwy::Prefetch(reinterpret_cast<const char*>(w + r * a.cols + i) + 8192);
      const V w0 = LoadAsFloat(df, w + r * a.cols + i);
      const V w1 = LoadAsFloat(df, w + r * a.cols + i + N);
      for (size_t t = 0; t < kT; ++t) {
        const float* x = a.x + (token + t) * a.ldx + i;
        acc0[r][t] = hn::MulAdd(w0, hn::LoadU(df, x), acc0[r][t]);
        acc1[r][t] = hn::MulAdd(w1, hn::LoadU(df, x + N), acc1[r][t]);
      }
    }
  }
  for (; i + N <= a.cols; i += N) {
    for (size_t r = 0; r < kR; ++r) {
      const V w0 = LoadAsFloat(df, w + r * a.cols + i);
      for (size_t t = 0; t < kT; ++t) {
        acc0[r][t] = hn::MulAdd(
            w0, hn::LoadU(df, a.x + (token + t) * a.ldx + i), acc0[r][t]);
      }
    }
  }
  for (size_t r = 0; r < kR; ++r) {
    for (size_t t = 0; t < kT; ++t) {
      float sum = ReduceSum(df, hn::Add(acc0[r][t], acc1[r][t]));
      const float* x = a.x + (token + t) * a.ldx;
      for (size_t k = i; k < a.cols; ++k)
        sum += ternary::ToFloat(w[r * a.cols + k]) * x[k];
      a.y[(token + t) * a.ldy + row + r] = sum;
    }
  }
}
#endif  // TERNARY_SIZELESS_VECTORS

// Tokens in chunks of at most 256 KiB of activations (in L2); within a
// chunk the row tile is the outer loop, so each weight row comes from DRAM
// once per chunk and a batch of decoded sequences (or a short prompt's
// logits) reads the matrix once, not once per token or per 4 tokens.
template <class T>
void Rows(const DenseArgs& a, size_t row_begin, size_t row_end) {
  const size_t chunk = HWY_MAX(
      size_t{4}, (size_t{256} << 10) / (HWY_MAX(a.ldx, size_t{1}) * 4) / 4 * 4);
  for (size_t t0 = 0; t0 < a.n_tokens; t0 += chunk) {
    const size_t t1 = HWY_MIN(t0 + chunk, a.n_tokens);
    size_t r = row_begin;
    for (; r + 2 <= row_end; r += 2) {
      size_t t = t0;
      for (; t + 4 <= t1; t += 4) dense::Tile<T, 2, 4>(a, r, t);
      for (; t < t1; ++t) {
        dense::Tile<T, 1, 1>(a, r, t);
        dense::Tile<T, 1, 1>(a, r + 1, t);
      }
    }
    for (; r < row_end; ++r) {
      size_t t = t0;
      for (; t + 4 <= t1; t += 4) dense::Tile<T, 1, 4>(a, r, t);
      for (; t < t1; ++t) dense::Tile<T, 1, 1>(a, r, t);
    }
  }
}

// Q8 rows × int8 tokens. With VNNI the activations are biased to u8
// (q + 128) and 128·Σw is subtracted; otherwise PMADDUBSW on |w| and
// sign(q, w), whose pair sums (≤ 2·127·127) cannot saturate.
inline void Q8Rows(const Q8Args& a, size_t row_begin, size_t row_end) {
#if TERNARY_HAVE_X86_DOT
  const hn::ScalableTag<int8_t> di8;
  const hn::Repartition<uint8_t, decltype(di8)> du8;
  const hn::Repartition<int32_t, decltype(di8)> di32;
  const size_t L = hn::Lanes(di8);
  auto row_block = [&](auto kRows, size_t r, size_t t) {
    constexpr size_t kR = decltype(kRows)::value;
    const int8_t* x = a.x + t * a.x_stride;
    hn::Vec<decltype(di32)> acc[kR];
    for (size_t k = 0; k < kR; ++k) acc[k] = hn::Zero(di32);
    for (size_t i = 0; i < a.w_stride; i += L) {
      const auto q = hn::LoadU(di8, x + i);
#if TERNARY_HAVE_VNNI
      const auto qu = hn::Xor(hn::BitCast(du8, q), hn::Set(du8, 0x80));
      for (size_t k = 0; k < kR; ++k) {
        const int8_t* w = a.w + (r + k) * a.w_stride + i;
        hwy::Prefetch(w + 512);
        acc[k] =
            SmallSumOfMulQuadAccumulate(di32, qu, hn::LoadU(di8, w), acc[k]);
      }
#else
      const hn::Repartition<int16_t, decltype(di8)> di16;
      for (size_t k = 0; k < kR; ++k) {
        const int8_t* w = a.w + (r + k) * a.w_stride + i;
        hwy::Prefetch(w + 512);
        const auto wv = hn::LoadU(di8, w);
        const auto sq =
            hn::IfThenElse(hn::Lt(wv, hn::Zero(di8)), hn::Neg(q), q);
        acc[k] = hn::Add(
            acc[k],
            SumsOf2(di32, SatWidenMulPairwiseAdd(
                              di16, hn::BitCast(du8, hn::Abs(wv)), sq)));
      }
#endif
    }
    for (size_t k = 0; k < kR; ++k) {
      int32_t s = ReduceSum(di32, acc[k]);
#if TERNARY_HAVE_VNNI
      s -= 128 * a.w_sum[r + k];
#endif
      a.y[t * a.ldy + r + k] =
          static_cast<float>(s) / a.x_scale[t].scale * a.w_scale[r + k];
    }
  };
  // Row blocks outer, tokens inner: a block's rows (4·K bytes) stay in L1
  // while every token passes, so each weight byte comes from DRAM once per
  // call (a batch of decoded sequences reads the head once, not once per
  // sequence).
  size_t r = row_begin;
  for (; r + 4 <= row_end; r += 4) {
    for (size_t t = 0; t < a.n_tokens; ++t) {
      row_block(std::integral_constant<size_t, 4>(), r, t);
    }
  }
  for (; r < row_end; ++r) {
    for (size_t t = 0; t < a.n_tokens; ++t) {
      row_block(std::integral_constant<size_t, 1>(), r, t);
    }
  }
#else
  for (size_t t = 0; t < a.n_tokens; ++t) {
    const int8_t* x = a.x + t * a.x_stride;
    for (size_t r = row_begin; r < row_end; ++r) {
      const int8_t* w = a.w + r * a.w_stride;
      int32_t s = 0;
      for (size_t i = 0; i < a.cols; ++i) s += int32_t{w[i]} * int32_t{x[i]};
      a.y[t * a.ldy + r] =
          static_cast<float>(s) / a.x_scale[t].scale * a.w_scale[r];
    }
  }
#endif
}

}  // namespace dense
}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
