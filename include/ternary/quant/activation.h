// Activation quantizers (float -> int8 codes + one scale per token) and the
// A8 / A4 activation policies that pick a quantizer for each BitLinear input.
#ifndef TERNARY_QUANT_ACTIVATION_H_
#define TERNARY_QUANT_ACTIVATION_H_

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

namespace ternary::quant {

// Scale of one quantized token, "multiply" convention: q ≈ x · scale.
// sum = Σ q lets unsigned-code kernels recover Σ (c − 1)·q = Σ c·q − Σ q.
struct ActScale {
  float scale = 1.0f;
  int32_t sum = 0;
};

namespace detail {
inline float AbsMax(const float* x, size_t n) noexcept {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

// torch.round rounds ties to even (rne). rne(clamp(v, lo, hi)) == clamp(rne(v),
// lo, hi) for integer bounds, and after the clamp |v| <= 128 < 2^22, where
// adding and subtracting 1.5·2^23 rounds to the nearest integer, ties to even,
// in the default rounding mode: the loop vectorizes instead of calling
// nearbyint per element. The clamp also keeps x·scale a separate rounding (it
// cannot fuse into the add).
inline ActScale QuantizeWithScale(const float* x, size_t n, float scale, int lo,
                                  int hi, int8_t* q) noexcept {
  constexpr float kRound = 12582912.0f;  // 1.5·2^23
  const float flo = static_cast<float>(lo), fhi = static_cast<float>(hi);
  int32_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    float v = x[i] * scale;
    v = v < flo ? flo : v;
    v = v > fhi ? fhi : v;
    const int r = static_cast<int>((v + kRound) - kRound);
    q[i] = static_cast<int8_t>(r);
    sum += r;
  }
  return {scale, sum};
}
}  // namespace detail

// Per-token absmax to int8, bit-identical to transformers' BitNet ActQuant in
// float32: m = max(max|x|, 1e-5), s = 127 / m, q = clamp(rne(x·s), −128, 127).
// PyTorch evaluates `127 / t` as `t.reciprocal() * 127`, so s is rounded
// twice: fl(127 · fl(1 / m)). That differs from fl(127 / m) (bitnet.cpp's
// I2_S) by one float step for about a quarter of the tokens, enough to move
// codes across rounding boundaries; transformers is the reference we match.
struct Int8AbsMax {
  static constexpr std::string_view kName = "int8-absmax";
  static constexpr int kBits = 8;
  static constexpr int kMaxAbs = 128;  // bound on |q| kernels must handle

  static constexpr int kLo = -128, kHi = 127;

  static float ScaleFor(float max_abs) noexcept {
    return 127.0f * (1.0f / std::max(max_abs, 1e-5f));
  }
  static ActScale Quantize(const float* x, size_t n, int8_t* q) noexcept {
    const float scale = ScaleFor(detail::AbsMax(x, n));
    return detail::QuantizeWithScale(x, n, scale, kLo, kHi, q);
  }
};

// BitNet a4.8 INT4 absmean (docs/numerics.md §4): β = mean|x|,
// s = √7 / (β + ε), q = clamp(rne(x·s), −8, 7). The paper's choice for the
// inputs of q/k/v and gate/up, whose distributions are Gaussian-like.
struct Int4AbsMean {
  static constexpr std::string_view kName = "int4-absmean";
  static constexpr int kBits = 4;
  static constexpr int kMaxAbs = 8;

  static ActScale Quantize(const float* x, size_t n, int8_t* q) noexcept {
    double sum_abs = 0.0;
    for (size_t i = 0; i < n; ++i) sum_abs += std::fabs(x[i]);
    const float beta =
        n ? static_cast<float>(sum_abs / static_cast<double>(n)) : 0.0f;
    const float scale = 2.6457513f / (beta + 1e-5f);  // √7
    return detail::QuantizeWithScale(x, n, scale, -8, 7, q);
  }
};

// BitNet a4.8 input of o_proj (docs/numerics.md §4): keep the ⌈n/2⌉ entries of
// largest |x| (ties broken towards the lower index), zero the rest, then int8
// absmax. The kept set contains the maximum, so the scale equals the dense one.
struct TopKInt8 {
  static constexpr std::string_view kName = "int8-absmax-top50";
  static constexpr int kBits = 8;
  static constexpr int kMaxAbs = 128;

  // `order` is scratch (n values), owned by the caller so that nothing is
  // held between calls (QuantizedActs keeps one). The kept set follows from
  // the ⌈n/2⌉-th largest |x| alone: every entry above it, then the entries
  // equal to it in index order until ⌈n/2⌉ are kept. That value is found by
  // a radix select on |x|'s float bits (for non-negative floats the integer
  // order is the float order): a histogram of the top 11 bits (exponent and
  // 3 mantissa bits) picks its bucket, and only that bucket's entries are
  // ordered (an nth_element of all n entries took 13 % of A4's prefill).
  static ActScale Quantize(const float* x, size_t n, int8_t* q,
                           std::vector<uint32_t>& order) {
    const ActScale dense = Int8AbsMax::Quantize(x, n, q);
    const size_t keep = (n + 1) / 2;
    if (keep == n) return dense;  // n <= 1
    auto abs_bits = [x](size_t i) {
      const float a = std::fabs(x[i]);
      uint32_t b;
      std::memcpy(&b, &a, sizeof b);
      return b;
    };
    constexpr int kShift = 20;  // 32 − 1 sign bit (0) − 11 bits
    std::array<uint32_t, (1u << (31 - kShift))> histogram{};
    order.resize(n);
    uint32_t* key = order.data();
    for (size_t i = 0; i < n; ++i) {
      key[i] = abs_bits(i);
      ++histogram[key[i] >> kShift];
    }
    // The bucket holding the keep-th largest, and its rank there.
    size_t rank = keep, bucket = histogram.size() - 1;
    while (histogram[bucket] < rank) rank -= histogram[bucket--];
    size_t m = 0;  // that bucket's keys, moved to the front
    for (size_t i = 0; i < n; ++i) {
      if ((key[i] >> kShift) == bucket) key[m++] = key[i];
    }
    std::nth_element(key, key + (rank - 1), key + m, std::greater<uint32_t>());
    const uint32_t kth = key[rank - 1];
    size_t above = 0;
    for (size_t i = 0; i < n; ++i) above += abs_bits(i) > kth;
    size_t ties_kept = keep - above;  // entries equal to kth still kept
    int32_t sum = dense.sum;
    for (size_t i = 0; i < n; ++i) {
      const uint32_t b = abs_bits(i);
      if (b > kth) continue;
      if (b == kth && ties_kept > 0) {
        --ties_kept;
        continue;
      }
      sum -= q[i];
      q[i] = 0;
    }
    return {dense.scale, sum};
  }
  static ActScale Quantize(const float* x, size_t n, int8_t* q) {
    std::vector<uint32_t> order;
    return Quantize(x, n, q, order);
  }
};

// Which BitLinear input a quantizer is applied to.
enum class Role {
  kAttnIn,   // q, k, v projections (input: attn_norm output)
  kAttnOut,  // o_proj (input: attn_sub_norm output)
  kFfnIn,    // gate, up (input: ffn_norm output)
  kFfnOut,   // down (input: ffn_sub_norm output of relu²(gate)·up)
};

// BitNet b1.58: 8-bit per-token absmax everywhere.
struct A8 {
  static constexpr std::string_view kName = "a8";
  template <Role>
  using Quantizer = Int8AbsMax;
};

// BitNet a4.8: 4-bit absmean for the attention and FFN inputs, top-50%
// sparsified 8-bit for o_proj, 8-bit for down_proj (its input is ~80% zeros
// from relu² already).
struct A4 {
  static constexpr std::string_view kName = "a4";
  template <Role R>
  using Quantizer = std::conditional_t<
      R == Role::kAttnIn || R == Role::kFfnIn, Int4AbsMean,
      std::conditional_t<R == Role::kAttnOut, TopKInt8, Int8AbsMax>>;
};

template <class A>
concept ActivationPolicy = requires {
  { A::kName } -> std::convertible_to<std::string_view>;
  typename A::template Quantizer<Role::kAttnIn>;
};

template <class Q>
concept ActivationQuantizer = requires(const float* x, size_t n, int8_t* q) {
  { Q::Quantize(x, n, q) } -> std::same_as<ActScale>;
  Q::kMaxAbs;
};

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_ACTIVATION_H_
