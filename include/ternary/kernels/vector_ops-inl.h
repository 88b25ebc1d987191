// Row-wise helpers of the layers, per Highway target: RMSNorm's sum of
// squares and scaling, the absmax quantizer, the relu² gate, and one block
// of attention. The first four match their scalar twins (vec::scalar below,
// quant::detail in quant/activation.h) bit for bit on finite inputs;
// kernels/vector_ops.h dispatches them.

#ifndef TERNARY_KERNELS_VECTOR_OPS_INL_H_
#define TERNARY_KERNELS_VECTOR_OPS_INL_H_
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ternary/quant/activation.h"

namespace ternary {
namespace vec::scalar {
// The scalar twins: the reference (simd::Reference) and the vector tails.
inline double SumSquares(const float* x, size_t n) noexcept {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}
inline void ScaleRow(const float* x, float r, const float* g, size_t n,
                     float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = (x[i] * r) * g[i];
}
inline void ReluSquaredGate(const float* gate, const float* up, size_t n,
                            float* z) noexcept {
  for (size_t i = 0; i < n; ++i) {
    const float r = gate[i] > 0.0f ? gate[i] : 0.0f;
    z[i] = (r * r) * up[i];
  }
}
// Attention weights of one query row in place: exp(s − max), summed in
// double, times fl(1 / sum). Shared by both attention paths.
inline void Softmax(float* s, size_t len) noexcept {
  float m = s[0];
  for (size_t j = 1; j < len; ++j) m = std::max(m, s[j]);
  double sum = 0.0;
  for (size_t j = 0; j < len; ++j) {
    s[j] = std::exp(s[j] - m);
    sum += s[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (size_t j = 0; j < len; ++j) s[j] *= inv;
}
}  // namespace vec::scalar

// One attention task of nn::Attention: query rows [t0, t1) of head h (kv
// head g) against keys 0 … pos0+t1−1; `scores` holds (t1−t0) rows of
// `context` floats.
struct AttentionBlockArgs {
  const float* q;
  size_t ldq;
  const float* k;
  const float* v;
  size_t ldkv;
  size_t pos0, t0, t1, h, g, head_dim, context;
  float scale;
  float* scores;
  float* out;
  size_t ldo;
};

// Arguments of QuantizeRowT: codes = clamp(rne(x·scale), lo, hi).
struct QuantizeRowArgs {
  const float* x;
  size_t n;
  float scale;
  int lo, hi;
  int8_t* q;
};
}  // namespace ternary
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
namespace ternary::HWY_NAMESPACE {

// The functions take one (unused) template parameter so that TERNARY_CHOOSE
// can name them.

// max_i |x_i| (0 for n = 0).
template <class Unused>
float AbsMaxT(const float* HWY_RESTRICT x, size_t n) {
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
template <class Unused>
int32_t QuantizeRowT(const QuantizeRowArgs& a) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di32;
  const hn::Rebind<int8_t, decltype(di32)> di8;
  const size_t N = hn::Lanes(df);
  const auto scale = hn::Set(df, a.scale);
  const auto lo = hn::Set(df, static_cast<float>(a.lo));
  const auto hi = hn::Set(df, static_cast<float>(a.hi));
  auto sum = hn::Zero(di32);
  size_t i = 0;
  for (; i + N <= a.n; i += N) {
    const auto v = hn::Round(hn::Mul(hn::LoadU(df, a.x + i), scale));
    const auto code = hn::ConvertTo(di32, hn::Min(hn::Max(v, lo), hi));
    sum = hn::Add(sum, code);
    hn::StoreU(hn::DemoteTo(di8, code), di8, a.q + i);
  }
  return ReduceSum(di32, sum) +
         quant::detail::QuantizeWithScale(a.x + i, a.n - i, a.scale, a.lo, a.hi,
                                          a.q + i)
             .sum;
}

// Σ x_i² in double (each product is exact; only the order of the additions
// differs from the scalar twin).
template <class Unused>
double SumSquaresT(const float* HWY_RESTRICT x, size_t n) {
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
  return s + vec::scalar::SumSquares(x + i, n - i);
}

// y = (x·r)·g; y may alias x.
template <class Unused>
void ScaleRowT(const float* x, float r, const float* HWY_RESTRICT g, size_t n,
               float* y) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  const auto vr = hn::Set(df, r);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(df, x + i), vr), hn::LoadU(df, g + i)),
               df, y + i);
  }
  vec::scalar::ScaleRow(x + i, r, g + i, n - i, y + i);
}

// z = relu(gate)²·up; z may alias gate or up.
template <class Unused>
void ReluSquaredGateT(const float* gate, const float* up, size_t n, float* z) {
  const hn::ScalableTag<float> df;
  const size_t N = hn::Lanes(df);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto r = hn::Max(hn::LoadU(df, gate + i), hn::Zero(df));
    hn::StoreU(hn::Mul(hn::Mul(r, r), hn::LoadU(df, up + i)), df, z + i);
  }
  vec::scalar::ReluSquaredGate(gate + i, up + i, n - i, z + i);
}

// Scores q·k·scale (one FMA chain pair per dot), softmax with the max
// subtracted and the sum in double, then out = Σ_j p_j·v_j accumulated
// over j in order for each output lane.
template <class Unused>
void AttentionBlockT(const AttentionBlockArgs& a) {
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
    vec::scalar::Softmax(s, len);
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

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
