// Row-wise helpers of the layers, per Highway target: RMSNorm's sum of
// squares and scaling, the absmax quantizer, the relu² and SiLU gates, the
// residual add and one block of attention. All but the attention block match
// their scalar references (kernels/ref/vector_ops.h, quant::detail in
// quant/activation.h) bit for bit on finite inputs; kernels/ops-inl.h
// builds the ops of a forward pass from them.

#ifndef TERNARY_KERNELS_VECTOR_OPS_INL_H_
#define TERNARY_KERNELS_VECTOR_OPS_INL_H_
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ternary/kernels/attention_args.h"
#include "ternary/kernels/ref/vector_ops.h"
#include "ternary/quant/activation.h"
#endif  // TERNARY_KERNELS_VECTOR_OPS_INL_H_

#if defined(TERNARY_KERNELS_VECTOR_OPS_INL_H_TARGET) == \
    defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_VECTOR_OPS_INL_H_TARGET
#undef TERNARY_KERNELS_VECTOR_OPS_INL_H_TARGET
#else
#define TERNARY_KERNELS_VECTOR_OPS_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE::vec {

// max_i |x_i| (0 for n = 0).
inline float AbsMax(const float* HWY_RESTRICT x, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  auto m = hn::Zero(df);
  size_t i = 0;
  for (; i + N <= n; i += N) m = hn::Max(m, hn::Abs(hn::LoadU(df, x + i)));
  return std::max(hn::GetLane(hn::MaxOfLanes(df, m)),
                  quant::detail::AbsMax(x + i, n - i));
}

// Writes the codes and returns their sum. Round then clamp equals the
// scalar clamp then round for integer bounds.
inline int32_t QuantizeRow(const float* HWY_RESTRICT x, size_t n, float scale,
                           int lo, int hi, int8_t* HWY_RESTRICT q) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di32;
  const hn::Rebind<int8_t, decltype(di32)> di8;
  const size_t N = hn::Lanes(df);
  const auto vscale = hn::Set(df, scale);
  const auto vlo = hn::Set(df, static_cast<float>(lo));
  const auto vhi = hn::Set(df, static_cast<float>(hi));
  auto sum = hn::Zero(di32);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = hn::Round(hn::Mul(hn::LoadU(df, x + i), vscale));
    const auto code = hn::ConvertTo(di32, hn::Min(hn::Max(v, vlo), vhi));
    sum = hn::Add(sum, code);
    hn::StoreU(hn::DemoteTo(di8, code), di8, q + i);
  }
  return ReduceSum(di32, sum) +
         quant::detail::QuantizeWithScale(x + i, n - i, scale, lo, hi, q + i)
             .sum;
}

// Σ x_i² in double (each product is exact; only the order of the additions
// differs from the scalar twin).
inline double SumSquares(const float* HWY_RESTRICT x, size_t n) {
  double s = 0.0;
  size_t i = 0;
#if HWY_HAVE_FLOAT64
  const hn::ScalableTag<double> dd;
  const hn::Rebind<float, decltype(dd)> df;
  const size_t N = hn::Lanes(dd);
  auto s0 = hn::Zero(dd), s1 = hn::Zero(dd);
  for (; i + 2 * N <= n; i += 2 * N) {
    const auto a = hn::PromoteTo(dd, hn::LoadU(df, x + i));
    const auto b = hn::PromoteTo(dd, hn::LoadU(df, x + i + N));
    s0 = hn::MulAdd(a, a, s0);
    s1 = hn::MulAdd(b, b, s1);
  }
  s = ReduceSum(dd, hn::Add(s0, s1));
#endif
  return s + ref::SumSquares(x + i, n - i);
}

// y = (x·r)·g; y may alias x.
inline void ScaleRow(const float* x, float r, const float* HWY_RESTRICT g,
                     size_t n, float* y) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  const auto vr = hn::Set(df, r);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(df, x + i), vr), hn::LoadU(df, g + i)),
               df, y + i);
  }
  ref::ScaleRow(x + i, r, g + i, n - i, y + i);
}

// z = relu(gate)²·up; z may alias gate or up.
inline void ReluSquaredGate(const float* gate, const float* up, size_t n,
                            float* z) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto r = hn::Max(hn::LoadU(df, gate + i), hn::Zero(df));
    hn::StoreU(hn::Mul(hn::Mul(r, r), hn::LoadU(df, up + i)), df, z + i);
  }
  ref::ReluSquaredGate(gate + i, up + i, n - i, z + i);
}

// z = silu(gate)·up; z may alias gate or up. The same operations as
// ref::SiluGate, lane by lane (its comment says why they give equal bits).
// Targets without a fused multiply-add (x86 before AVX2, the scalar
// fallback) would round twice where the reference rounds once: they run
// the reference (std::fma).
inline void SiluGate(const float* gate, const float* up, size_t n, float* z) {
  size_t i = 0;
#if HWY_NATIVE_FMA
  namespace c = ref::silu;
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const size_t N = hn::Lanes(df);
  const auto one = hn::Set(df, 1.0f);
  for (; i + N <= n; i += N) {
    const auto g = hn::LoadU(df, gate + i);
    const auto x = hn::Min(hn::Max(hn::Neg(g), hn::Set(df, -c::kMaxArg)),
                           hn::Set(df, c::kMaxArg));
    const auto k = hn::Round(hn::Mul(x, hn::Set(df, c::kLog2e)));
    auto r = hn::NegMulAdd(k, hn::Set(df, c::kLn2Hi), x);
    r = hn::NegMulAdd(k, hn::Set(df, c::kLn2Lo), r);
    auto p = hn::MulAdd(hn::Set(df, c::kP0), r, hn::Set(df, c::kP1));
    p = hn::MulAdd(p, r, hn::Set(df, c::kP2));
    p = hn::MulAdd(p, r, hn::Set(df, c::kP3));
    p = hn::MulAdd(p, r, hn::Set(df, c::kP4));
    p = hn::MulAdd(p, r, hn::Set(df, c::kP5));
    const auto y = hn::Add(hn::MulAdd(p, hn::Mul(r, r), r), one);
    const auto two_k = hn::BitCast(
        df, hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, k), hn::Set(di, 127))));
    const auto d = hn::MulAdd(y, two_k, one);
    hn::StoreU(hn::Mul(hn::Div(g, d), hn::LoadU(df, up + i)), df, z + i);
  }
#endif
  ref::SiluGate(gate + i, up + i, n - i, z + i);
}

// x += y.
inline void AddRows(float* HWY_RESTRICT x, const float* HWY_RESTRICT y,
                    size_t n) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::Add(hn::LoadU(df, x + i), hn::LoadU(df, y + i)), df, x + i);
  }
  ref::AddRows(x + i, y + i, n - i);
}

// Scores q·k·scale (one FMA chain pair per dot), softmax with the max
// subtracted and the sum in double, then out = Σ_j p_j·v_j accumulated
// over j in order for each output lane.
inline void AttentionBlock(const AttentionBlockArgs& a) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  const size_t d = a.head_dim, dv = d / N * N;
  const size_t keys = a.pos0 + a.t1;
  for (size_t j = 0; j < keys; ++j) {
    const float* kj = a.k + j * a.ldkv + a.g * d;
    const size_t first = j > a.pos0 ? std::max(a.t0, j - a.pos0) : a.t0;
    for (size_t t = first; t < a.t1; ++t) {
      const float* qt = a.q + t * a.ldq + a.h * d;
      auto s0 = hn::Zero(df), s1 = hn::Zero(df);
      size_t i = 0;
      for (; i + 2 * N <= dv; i += 2 * N) {
        s0 = hn::MulAdd(hn::LoadU(df, qt + i), hn::LoadU(df, kj + i), s0);
        s1 = hn::MulAdd(hn::LoadU(df, qt + i + N), hn::LoadU(df, kj + i + N),
                        s1);
      }
      if (i < dv) {
        s0 = hn::MulAdd(hn::LoadU(df, qt + i), hn::LoadU(df, kj + i), s0);
        i += N;
      }
      float dot = ReduceSum(df, hn::Add(s0, s1));
      for (; i < d; ++i) dot += qt[i] * kj[i];
      a.scores[(t - a.t0) * a.context + j] = dot * a.scale;
    }
  }
  for (size_t t = a.t0; t < a.t1; ++t) {
    float* s = a.scores + (t - a.t0) * a.context;
    const size_t len = a.pos0 + t + 1;
    ref::Softmax(s, len);
    float* o = a.out + t * a.ldo + a.h * d;
    const float* v = a.v + a.g * d;
    size_t i = 0;
    for (; i + 4 * N <= dv; i += 4 * N) {  // four independent FMA chains
      auto acc0 = hn::Zero(df), acc1 = hn::Zero(df), acc2 = hn::Zero(df),
           acc3 = hn::Zero(df);
      for (size_t j = 0; j < len; ++j) {
        const auto p = hn::Set(df, s[j]);
        const float* vj = v + j * a.ldkv + i;
        acc0 = hn::MulAdd(p, hn::LoadU(df, vj), acc0);
        acc1 = hn::MulAdd(p, hn::LoadU(df, vj + N), acc1);
        acc2 = hn::MulAdd(p, hn::LoadU(df, vj + 2 * N), acc2);
        acc3 = hn::MulAdd(p, hn::LoadU(df, vj + 3 * N), acc3);
      }
      hn::StoreU(acc0, df, o + i);
      hn::StoreU(acc1, df, o + i + N);
      hn::StoreU(acc2, df, o + i + 2 * N);
      hn::StoreU(acc3, df, o + i + 3 * N);
    }
    for (; i < dv; i += N) {
      auto acc = hn::Zero(df);
      for (size_t j = 0; j < len; ++j) {
        acc = hn::MulAdd(hn::Set(df, s[j]), hn::LoadU(df, v + j * a.ldkv + i),
                         acc);
      }
      hn::StoreU(acc, df, o + i);
    }
    for (; i < d; ++i) {
      float acc = 0.0f;
      for (size_t j = 0; j < len; ++j) acc += s[j] * v[j * a.ldkv + i];
      o[i] = acc;
    }
  }
}

}  // namespace ternary::HWY_NAMESPACE::vec
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
