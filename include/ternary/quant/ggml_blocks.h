// ggml tensor encodings found in GGUF files: scalar, exact decoders and the
// encoders our writer needs (docs/formats.md §4, §7-§9).
//
// Float formats decode to float exactly as ggml's dequantize_row_* do (same
// operations in the same order). Ternary formats decode to int8 values in
// {-1, 0, +1} plus their scales, never to float, so kernels can repack them.
// Every function checks its span sizes (ShapeError) and never reads out of
// bounds; corrupt ternary codes throw FormatError naming the tensor.
#ifndef TERNARY_QUANT_GGML_BLOCKS_H_
#define TERNARY_QUANT_GGML_BLOCKS_H_

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ternary/io/gguf_types.h"
#include "ternary/quant/i2s_layout.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"

namespace ternary::quant {

// ---------------------------------------------------------------------------
// Block geometry. Files store blocks back to back along each row (ne0), and
// rows back to back; only IQ1_BN / IQ2_BN put a scale header before each row.

// Q4_0, 18 bytes / 32 values:
//   [0,2) fp16 d | [2,18) qs[16]: byte j = v[j] (low nibble) | v[j+16] << 4
//   value = d · (nibble − 8)
struct BlockQ4_0 {
  static constexpr size_t kElements = 32, kBytes = 18;
};
// Q8_0, 34 bytes / 32 values:  [0,2) fp16 d | [2,34) int8 qs[32];  value = d·q
struct BlockQ8_0 {
  static constexpr size_t kElements = 32, kBytes = 34;
};
// Q6_K, 210 bytes / 256 values:
//   [0,128) ql (low 4 bits) | [128,192) qh (high 2 bits) |
//   [192,208) int8 scales[16] | [208,210) fp16 d
//   Half h (values 128h..128h+127) uses ql+64h, qh+32h, scales+8h; for
//   l < 32, is = l/16 (q6 = 6-bit value − 32):
//     v[l]    = ql[l]   & 15 | (qh[l] >> 0 & 3) << 4   scale scales[is]
//     v[l+32] = ql[l+32]& 15 | (qh[l] >> 2 & 3) << 4   scale scales[is+2]
//     v[l+64] = ql[l]   >> 4 | (qh[l] >> 4 & 3) << 4   scale scales[is+4]
//     v[l+96] = ql[l+32]>> 4 | (qh[l] >> 6 & 3) << 4   scale scales[is+6]
//   value = d · scale · q6
struct BlockQ6_K {
  static constexpr size_t kElements = 256, kBytes = 210;
};
// Q8_K, 292 bytes / 256 values: f32 d | int8 qs[256] | int16 bsums[16].
// ggml's activation type for K-quants; we only need its size.
struct BlockQ8_K {
  static constexpr size_t kElements = 256, kBytes = 292;
};

// TQ2_0, 66 bytes / 256 ternary values (codes c = w + 1):
//   [0,64) qs | [64,66) fp16 d.  For half j ∈ {0, 32} and m < 32:
//   qs[j+m] bits 2l..2l+1 (l = 0..3) = c[4j + 32l + m]
//   i.e. qs[0..31] cover values 0..127, qs[32..63] values 128..255.
struct BlockTQ2_0 {
  static constexpr size_t kElements = 256, kBytes = 66;
};
// TQ1_0, 54 bytes / 256 ternary values, base 3 (5 trits in a byte):
//   [0,48) qs | [48,52) qh | [52,54) fp16 d.
//   A group of trits t0..t4 (t = w + 1, t0 most significant) is
//   I = ((((t0·3 + t1)·3 + t2)·3 + t3)·3 + t4, stored as ceil(I·256/243), so
//   trit n is ((byte·3^n mod 256) · 3) >> 8.
//     qs[m],    m < 32: values m + 32n,        n = 0..4   (0..159)
//     qs[32+m], m < 16: values 160 + m + 16n,  n = 0..4   (160..239)
//     qh[j],    j < 4:  values 240 + j + 4n,   n = 0..3, then ×3 (t4 = 0)
struct BlockTQ1_0 {
  static constexpr size_t kElements = 256, kBytes = 54;
};
// IQ2_BN (ik_llama.cpp), per row: f32 d | K/64 blocks of 16 bytes;
//   byte j of a block = c[j] | c[j+16] << 2 | c[j+32] << 4 | c[j+48] << 6.
struct BlockIQ2_BN {
  static constexpr size_t kElements = 64, kBytes = 16, kRowHeaderBytes = 4;
};
// IQ1_BN (ik_llama.cpp), per row: fp16 d | K/64 blocks of 13 bytes:
//   [0,12) ql | [12] extra.  For group g < 4 and k < 3, ql[3g+k] holds values
//   16g + 5k + j (j = 0..4) with value j weighted 3^j (least significant
//   first), stored as ceil(256·I/243); value 16g+15 is trit g of `extra`
//   (same encoding, 4 trits). Trit j of a byte: v = byte·3^(4−j) mod 256,
//   t = (v + (v >> 1)) >> 7.
struct BlockIQ1_BN {
  static constexpr size_t kElements = 64, kBytes = 13, kRowHeaderBytes = 2;
};

// I2_S (bitnet.cpp), one payload per tensor of N = M·K values:
//   [0, N/4)        2-bit codes in blocks of 128 values / 32 bytes:
//                   byte 32b+p = c[128b+p] << 6 | c[128b+32+p] << 4 |
//                                c[128b+64+p] << 2 | c[128b+96+p]
//                   code 0 → −1, 1 → 0, 2 → +1 (3 never written)
//                   (Arm builds: blocks of 64 values / 16 bytes, the same
//                   with 16 for 32: I2SLayout::kArm)
//   [N/4, N/4+4)    f32 α, the per-tensor scale (w = α · (c − 1))
//   [N/4+4, N/4+32) filler: stale bytes in bitnet.cpp files, zeros from us
// Example: w[0] = −1, w[32] = 0, w[64] = +1, w[96] = +1 → byte 0 = 0x1A.
struct I2SPayload {
  static constexpr size_t kBlockElements = 128, kBlockBytes = 32;
  static constexpr size_t kTailBytes = 32;  // α + filler
  static constexpr size_t Bytes(size_t n) noexcept {
    return n / 4 + kTailBytes;
  }
};

// The GGUF reader sizes tensors from io::GgmlTypeInfo; it must agree with
// the layouts above.
namespace ggml_detail {
template <class Block>
constexpr bool SameGeometry(io::GgmlType type) {
  const io::GgmlTypeInfo* info = io::FindGgmlType(static_cast<uint32_t>(type));
  size_t header = 0;
  if constexpr (requires { Block::kRowHeaderBytes; }) {
    header = Block::kRowHeaderBytes;
  }
  return info != nullptr && info->block_elements == Block::kElements &&
         info->block_bytes == Block::kBytes && info->row_header_bytes == header;
}
}  // namespace ggml_detail
static_assert(ggml_detail::SameGeometry<BlockQ4_0>(io::GgmlType::kQ4_0));
static_assert(ggml_detail::SameGeometry<BlockQ8_0>(io::GgmlType::kQ8_0));
static_assert(ggml_detail::SameGeometry<BlockQ6_K>(io::GgmlType::kQ6_K));
static_assert(ggml_detail::SameGeometry<BlockQ8_K>(io::GgmlType::kQ8_K));
static_assert(ggml_detail::SameGeometry<BlockTQ2_0>(io::GgmlType::kTQ2_0));
static_assert(ggml_detail::SameGeometry<BlockTQ1_0>(io::GgmlType::kTQ1_0));
static_assert(ggml_detail::SameGeometry<BlockIQ2_BN>(io::GgmlType::kIQ2_BN));
static_assert(ggml_detail::SameGeometry<BlockIQ1_BN>(io::GgmlType::kIQ1_BN));

namespace ggml_detail {

inline uint16_t LoadU16(const uint8_t* p) noexcept {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
inline uint32_t LoadU32(const uint8_t* p) noexcept {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
inline float LoadF32(const uint8_t* p) noexcept {
  return std::bit_cast<float>(LoadU32(p));
}
inline float LoadF16(const uint8_t* p) noexcept {
  return F16ToFloat(LoadU16(p));
}
inline void StoreU16(uint16_t v, uint8_t* p) noexcept {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void StoreU32(uint32_t v, uint8_t* p) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void StoreF32(float v, uint8_t* p) noexcept {
  StoreU32(std::bit_cast<uint32_t>(v), p);
}

// Throws unless `values` is a whole number of blocks and `bytes` holds
// exactly those blocks.
inline size_t CheckBlocks(std::string_view fn, size_t values, size_t bytes,
                          size_t block_elements, size_t block_bytes) {
  if (values % block_elements != 0 ||
      bytes != values / block_elements * block_bytes) {
    throw ShapeError(std::string(fn) + ": " + std::to_string(values) +
                     " values and " + std::to_string(bytes) +
                     " bytes do not form whole blocks of " +
                     std::to_string(block_elements) + " values / " +
                     std::to_string(block_bytes) + " bytes");
  }
  return values / block_elements;
}

inline void CheckSameSize(std::string_view fn, size_t a, size_t b) {
  if (a != b) {
    throw ShapeError(std::string(fn) + ": sizes differ (" + std::to_string(a) +
                     " vs " + std::to_string(b) + ")");
  }
}

inline void CheckTernary(std::string_view fn, std::span<const int8_t> t) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] < -1 || t[i] > 1) {
      throw UsageError(std::string(fn) + ": value " + std::to_string(t[i]) +
                       " at index " + std::to_string(i) + " is not ternary");
    }
  }
}

[[noreturn]] inline void ThrowBadCode(std::string_view tensor,
                                      std::string_view format, size_t index) {
  throw FormatError(std::string(tensor) + ": corrupt " + std::string(format) +
                    " data: code 3 (not ternary) at element " +
                    std::to_string(index));
}

// Base-3 byte of TQ1_0 / IQ1_BN: ceil(I · 256 / 243).
inline uint8_t PackTrits(int i) noexcept {
  return static_cast<uint8_t>((i * 256 + 242) / 243);
}
// TQ1_0's trit extraction (most significant trit after multiplying by 3^n).
inline int8_t Tq1Trit(uint8_t byte, uint8_t pow3) noexcept {
  const uint8_t q = static_cast<uint8_t>(byte * pow3);
  return static_cast<int8_t>((static_cast<uint16_t>(q) * 3) >> 8);
}
// IQ1_BN's variant of the same extraction; identical results for canonical
// bytes, but we replicate ik_llama.cpp for non-canonical ones too.
inline int8_t Iq1Trit(uint8_t byte, uint8_t mult) noexcept {
  const uint8_t v = static_cast<uint8_t>(byte * mult);
  return static_cast<int8_t>((v + (v >> 1)) >> 7);
}

// llama.cpp's lroundf(x · id) (half away from zero) for the TQ quantizers,
// where |x · id| ≤ 1. Clamped so that a degenerate scale (subnormal max, id =
// inf, x · id = ±inf or NaN) cannot produce a non-ternary code.
inline int RoundTernary(float v) noexcept {
  if (!(v > -1.0f)) return v < 0.0f ? -1 : 0;  // also NaN → 0
  if (!(v < 1.0f)) return 1;
  return static_cast<int>(std::lround(v));
}
// roundf(x · id) for Q8_0, where |x · id| ≤ 127; clamped like RoundTernary.
inline int8_t RoundQ8(float v) noexcept {
  if (std::isnan(v)) return 0;
  return static_cast<int8_t>(std::clamp(std::round(v), -127.0f, 127.0f));
}

inline void CheckFinite(std::string_view fn, std::span<const float> x) {
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      throw UsageError(std::string(fn) + ": non-finite value at index " +
                       std::to_string(i));
    }
  }
}

}  // namespace ggml_detail

// ---------------------------------------------------------------------------
// Float formats → float. `dst.size()` values; `src` holds exactly their bytes.

inline void DequantizeRowF32(std::span<const uint8_t> src,
                             std::span<float> dst) {
  ggml_detail::CheckBlocks("DequantizeRowF32", dst.size(), src.size(), 1, 4);
  for (size_t i = 0; i < dst.size(); ++i)
    dst[i] = ggml_detail::LoadF32(&src[4 * i]);
}

inline void DequantizeRowF16(std::span<const uint8_t> src,
                             std::span<float> dst) {
  ggml_detail::CheckBlocks("DequantizeRowF16", dst.size(), src.size(), 1, 2);
  for (size_t i = 0; i < dst.size(); ++i)
    dst[i] = ggml_detail::LoadF16(&src[2 * i]);
}

inline void DequantizeRowBF16(std::span<const uint8_t> src,
                              std::span<float> dst) {
  ggml_detail::CheckBlocks("DequantizeRowBF16", dst.size(), src.size(), 1, 2);
  for (size_t i = 0; i < dst.size(); ++i) {
    dst[i] = Bf16ToFloat(ggml_detail::LoadU16(&src[2 * i]));
  }
}

inline void DequantizeRowQ4_0(std::span<const uint8_t> src,
                              std::span<float> dst) {
  const size_t nb =
      ggml_detail::CheckBlocks("DequantizeRowQ4_0", dst.size(), src.size(),
                               BlockQ4_0::kElements, BlockQ4_0::kBytes);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* x = &src[b * BlockQ4_0::kBytes];
    float* y = &dst[b * BlockQ4_0::kElements];
    const float d = ggml_detail::LoadF16(x);
    for (size_t j = 0; j < 16; ++j) {
      y[j] = static_cast<float>((x[2 + j] & 0x0F) - 8) * d;
      y[j + 16] = static_cast<float>((x[2 + j] >> 4) - 8) * d;
    }
  }
}

inline void DequantizeRowQ8_0(std::span<const uint8_t> src,
                              std::span<float> dst) {
  const size_t nb =
      ggml_detail::CheckBlocks("DequantizeRowQ8_0", dst.size(), src.size(),
                               BlockQ8_0::kElements, BlockQ8_0::kBytes);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* x = &src[b * BlockQ8_0::kBytes];
    float* y = &dst[b * BlockQ8_0::kElements];
    const float d = ggml_detail::LoadF16(x);
    for (size_t j = 0; j < 32; ++j) {
      y[j] = static_cast<float>(static_cast<int8_t>(x[2 + j])) * d;
    }
  }
}

inline void DequantizeRowQ6_K(std::span<const uint8_t> src,
                              std::span<float> dst) {
  const size_t nb =
      ggml_detail::CheckBlocks("DequantizeRowQ6_K", dst.size(), src.size(),
                               BlockQ6_K::kElements, BlockQ6_K::kBytes);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* x = &src[b * BlockQ6_K::kBytes];
    float* y = &dst[b * BlockQ6_K::kElements];
    const float d = ggml_detail::LoadF16(x + 208);
    for (size_t h = 0; h < 2; ++h) {
      const uint8_t* ql = x + 64 * h;
      const uint8_t* qh = x + 128 + 32 * h;
      const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192 + 8 * h);
      float* yh = y + 128 * h;
      for (size_t l = 0; l < 32; ++l) {
        const size_t is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        yh[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
        yh[l + 32] =
            d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        yh[l + 64] =
            d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        yh[l + 96] =
            d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

// Decodes `dst.size()` values of a float-like or Q* type to float. Ternary
// types have their own decoders below.
inline void DequantizeRow(io::GgmlType type, std::span<const uint8_t> src,
                          std::span<float> dst) {
  switch (type) {
    case io::GgmlType::kF32:
      return DequantizeRowF32(src, dst);
    case io::GgmlType::kF16:
      return DequantizeRowF16(src, dst);
    case io::GgmlType::kBF16:
      return DequantizeRowBF16(src, dst);
    case io::GgmlType::kQ4_0:
      return DequantizeRowQ4_0(src, dst);
    case io::GgmlType::kQ8_0:
      return DequantizeRowQ8_0(src, dst);
    case io::GgmlType::kQ6_K:
      return DequantizeRowQ6_K(src, dst);
    default:
      throw UsageError("DequantizeRow: no float decoder for ggml type " +
                       std::string(io::GgmlTypeName(type)));
  }
}

// ---------------------------------------------------------------------------
// Float encoders for embeddings and norms.

inline void EncodeF32(std::span<const float> x, std::span<uint8_t> dst) {
  ggml_detail::CheckBlocks("EncodeF32", x.size(), dst.size(), 1, 4);
  for (size_t i = 0; i < x.size(); ++i)
    ggml_detail::StoreF32(x[i], &dst[4 * i]);
}

// Round to nearest even, as ggml_fp32_to_fp16_row (F16C) does.
inline void EncodeF16(std::span<const float> x, std::span<uint8_t> dst) {
  ggml_detail::CheckBlocks("EncodeF16", x.size(), dst.size(), 1, 2);
  for (size_t i = 0; i < x.size(); ++i)
    ggml_detail::StoreU16(FloatToF16(x[i]), &dst[2 * i]);
}

// ggml's quantize_row_q8_0_ref: d = max|x| / 127 per block, q = roundf(x / d)
// (half away from zero), d stored as fp16 but used as float.
inline void QuantizeRowQ8_0(std::span<const float> x, std::span<uint8_t> dst) {
  const size_t nb =
      ggml_detail::CheckBlocks("QuantizeRowQ8_0", x.size(), dst.size(),
                               BlockQ8_0::kElements, BlockQ8_0::kBytes);
  ggml_detail::CheckFinite("QuantizeRowQ8_0", x);
  for (size_t b = 0; b < nb; ++b) {
    const float* xb = &x[b * BlockQ8_0::kElements];
    uint8_t* y = &dst[b * BlockQ8_0::kBytes];
    float amax = 0.0f;
    for (size_t j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    ggml_detail::StoreU16(FloatToF16(d), y);
    for (size_t j = 0; j < 32; ++j) {
      y[2 + j] = static_cast<uint8_t>(ggml_detail::RoundQ8(xb[j] * id));
    }
  }
}

namespace ggml_detail {

// v, rounded to float where it stands: the compiler may not fuse the
// multiply that made it into a following add (FMA contraction, which GCC
// does by default outside ISO mode on FMA targets, e.g. every aarch64 build).
// ggml's reference quantizers are specified by their C text, every product
// rounded; a contracting build of ggml writes other bytes for some blocks.
inline float Rounded(float v) noexcept {
#if (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(v));
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#elif defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+m"(v));
#endif
  return v;
}

// ggml's nearest_int: round to nearest even by adding 1.5·2^23 and reading
// the mantissa. Exact for |v| ≤ 2^22 − 1; outside that (ggml asserts in
// debug builds only) it returns the same wrapped value ggml does.
inline int NearestInt(float v) noexcept {
  const float t = Rounded(v) + 12582912.0f;
  return static_cast<int>(std::bit_cast<uint32_t>(t) & 0x007fffffu) -
         0x00400000;
}

// (int8_t)(v) as ggml's x86 builds evaluate it: CVTTSS2SI to int32 (INT32_MIN
// for NaN and out-of-range values), then the low byte.
inline int8_t TruncToInt8(float v) noexcept {
  const int32_t i = (v > -2147483648.0f && v < 2147483648.0f)
                        ? static_cast<int32_t>(v)
                        : INT32_MIN;
  return static_cast<int8_t>(static_cast<uint8_t>(i & 0xff));
}

// ggml's make_qx_quants(n, nmax, x, L, rmse_type = 1, qw = NULL): the scale
// of one group of n values with levels l ∈ [−nmax, nmax − 1] (stored as
// l + nmax in L), the best of 19 candidate scales by Σ x²·(x − s·l)². Every
// float operation in ggml's order, none fused (Rounded).
inline float MakeQxQuants(int n, int nmax, const float* x, int8_t* L) noexcept {
  float max = 0.0f, amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < 1e-15f) {  // GROUP_MAX_EPS
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  const auto level = [nmax](float v) {
    return std::max(-nmax, std::min(nmax - 1, NearestInt(v)));
  };
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = level(iscale * x[i]);
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    const float fl = static_cast<float>(l);
    sumlx += Rounded(w * x[i] * fl);
    suml2 += Rounded(w * fl * fl);
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float step = Rounded(0.1f * static_cast<float>(is));
    iscale = -(static_cast<float>(nmax) + step) / max;
    sumlx = suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = level(iscale * x[i]);
      const float w = x[i] * x[i];
      const float fl = static_cast<float>(l);
      sumlx += Rounded(w * x[i] * fl);
      suml2 += Rounded(w * fl * fl);
    }
    const float lhs = sumlx * sumlx, rhs = best * suml2;
    if (suml2 > 0.0f && lhs > rhs) {
      for (int i = 0; i < n; ++i)
        L[i] = static_cast<int8_t>(nmax + level(iscale * x[i]));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

}  // namespace ggml_detail

// ggml's quantize_row_q4_0_ref: per block of 32, max = the value of largest
// magnitude (first on ties), d = max / −8, codes min(15, (int8_t)(x/d + 8.5))
// with x/d evaluated as x · (1/d); d stored as fp16 but used as float.
// Bit-identical to ggml built without FMA contraction (x86: what its
// generic and AVX2/AVX-512 builds write: the reference code is scalar).
inline void QuantizeRowQ4_0(std::span<const float> x, std::span<uint8_t> dst) {
  const size_t nb =
      ggml_detail::CheckBlocks("QuantizeRowQ4_0", x.size(), dst.size(),
                               BlockQ4_0::kElements, BlockQ4_0::kBytes);
  ggml_detail::CheckFinite("QuantizeRowQ4_0", x);
  for (size_t b = 0; b < nb; ++b) {
    const float* xb = &x[b * BlockQ4_0::kElements];
    uint8_t* y = &dst[b * BlockQ4_0::kBytes];
    float amax = 0.0f, max = 0.0f;
    for (size_t j = 0; j < 32; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    ggml_detail::StoreU16(FloatToF16(d), y);
    for (size_t j = 0; j < 16; ++j) {
      const float x0 = ggml_detail::Rounded(xb[j] * id);
      const float x1 = ggml_detail::Rounded(xb[j + 16] * id);
      const int q0 = std::min(15, int{ggml_detail::TruncToInt8(x0 + 8.5f)});
      const int q1 = std::min(15, int{ggml_detail::TruncToInt8(x1 + 8.5f)});
      y[2 + j] = static_cast<uint8_t>(static_cast<uint8_t>(q0) |
                                      static_cast<uint8_t>(q1) << 4);
    }
  }
}

// ggml's quantize_row_q6_K_ref: per block of 256, each group of 16 gets its
// best scale from make_qx_quants(16, 32, …, rmse_type 1); the scales are
// quantized to int8 against the largest in magnitude (d = −max_scale / 128
// as fp16, scales[j] = min(127, nearest_int(−128 · scale_j / max_scale))),
// then every value is requantized with its group's fp16(d)·scales[j]
// (levels clamped to [−32, 31]; a group whose product is 0 keeps the levels
// make_qx_quants chose), and packed as BlockQ6_K describes. A block whose
// scales are all below 1e−15 is all zero bytes. Bit-identical to ggml built
// without FMA contraction.
inline void QuantizeRowQ6_K(std::span<const float> x, std::span<uint8_t> dst) {
  const size_t nb =
      ggml_detail::CheckBlocks("QuantizeRowQ6_K", x.size(), dst.size(),
                               BlockQ6_K::kElements, BlockQ6_K::kBytes);
  ggml_detail::CheckFinite("QuantizeRowQ6_K", x);
  int8_t L[256];
  float scales[16];
  for (size_t b = 0; b < nb; ++b) {
    const float* xb = &x[b * BlockQ6_K::kElements];
    uint8_t* y = &dst[b * BlockQ6_K::kBytes];
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int ib = 0; ib < 16; ++ib) {
      scales[ib] = ggml_detail::MakeQxQuants(16, 32, xb + 16 * ib, L + 16 * ib);
      const float abs_scale = std::fabs(scales[ib]);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < 1e-15f) {
      std::fill(y, y + BlockQ6_K::kBytes, uint8_t{0});
      continue;
    }
    const float iscale = -128.0f / max_scale;
    const uint16_t d16 = FloatToF16(1.0f / iscale);
    ggml_detail::StoreU16(d16, y + 208);
    int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
    for (int ib = 0; ib < 16; ++ib) {
      sc[ib] = static_cast<int8_t>(
          std::min(127, ggml_detail::NearestInt(iscale * scales[ib])));
    }
    const float dq = F16ToFloat(d16);
    for (int j = 0; j < 16; ++j) {
      const float d = dq * static_cast<float>(sc[j]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i) {
        const int l = ggml_detail::NearestInt(xb[16 * j + i] / d);
        L[16 * j + i] =
            static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    for (int j = 0; j < 256; j += 128) {
      for (int l = 0; l < 32; ++l) {
        const auto u = [&](int k) {
          return static_cast<uint8_t>(L[j + l + k]);
        };
        ql[l] = static_cast<uint8_t>((u(0) & 0xF) | (u(64) & 0xF) << 4);
        ql[l + 32] = static_cast<uint8_t>((u(32) & 0xF) | (u(96) & 0xF) << 4);
        qh[l] = static_cast<uint8_t>(u(0) >> 4 | (u(32) >> 4) << 2 |
                                     (u(64) >> 4) << 4 | (u(96) >> 4) << 6);
      }
      ql += 64;
      qh += 32;
    }
  }
}

// ---------------------------------------------------------------------------
// TQ2_0 / TQ1_0: blocks of 256 along each row; decode any whole number of
// blocks (a row or a whole tensor). `d` receives one scale per block.

inline void DecodeTQ2_0(std::span<const uint8_t> src, std::span<int8_t> t,
                        std::span<float> d, std::string_view tensor) {
  const size_t nb =
      ggml_detail::CheckBlocks("DecodeTQ2_0", t.size(), src.size(),
                               BlockTQ2_0::kElements, BlockTQ2_0::kBytes);
  ggml_detail::CheckSameSize("DecodeTQ2_0 scales", d.size(), nb);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* x = &src[b * BlockTQ2_0::kBytes];
    int8_t* y = &t[b * BlockTQ2_0::kElements];
    for (size_t j = 0; j < 64; j += 32) {
      for (size_t l = 0; l < 4; ++l) {
        for (size_t m = 0; m < 32; ++m) {
          const int c = (x[j + m] >> (2 * l)) & 3;
          const size_t e = 4 * j + 32 * l + m;
          if (c == 3) ggml_detail::ThrowBadCode(tensor, "TQ2_0", b * 256 + e);
          y[e] = static_cast<int8_t>(c - 1);
        }
      }
    }
    d[b] = ggml_detail::LoadF16(x + 64);
  }
}

inline void DecodeTQ1_0(std::span<const uint8_t> src, std::span<int8_t> t,
                        std::span<float> d) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  const size_t nb =
      ggml_detail::CheckBlocks("DecodeTQ1_0", t.size(), src.size(),
                               BlockTQ1_0::kElements, BlockTQ1_0::kBytes);
  ggml_detail::CheckSameSize("DecodeTQ1_0 scales", d.size(), nb);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* x = &src[b * BlockTQ1_0::kBytes];
    int8_t* y = &t[b * BlockTQ1_0::kElements];
    for (size_t n = 0; n < 5; ++n) {
      for (size_t m = 0; m < 32; ++m)
        y[m + 32 * n] = ggml_detail::Tq1Trit(x[m], kPow3[n]) - 1;
      for (size_t m = 0; m < 16; ++m) {
        y[160 + m + 16 * n] = ggml_detail::Tq1Trit(x[32 + m], kPow3[n]) - 1;
      }
    }
    for (size_t n = 0; n < 4; ++n) {
      for (size_t j = 0; j < 4; ++j)
        y[240 + j + 4 * n] = ggml_detail::Tq1Trit(x[48 + j], kPow3[n]) - 1;
    }
    d[b] = ggml_detail::LoadF16(x + 52);
  }
}

// Packs ternary values with a given scale per block (fp16-rounded); the
// inverse of DecodeTQ2_0 / DecodeTQ1_0.
inline void EncodeTQ2_0(std::span<const int8_t> t, std::span<const float> d,
                        std::span<uint8_t> dst) {
  const size_t nb =
      ggml_detail::CheckBlocks("EncodeTQ2_0", t.size(), dst.size(),
                               BlockTQ2_0::kElements, BlockTQ2_0::kBytes);
  ggml_detail::CheckSameSize("EncodeTQ2_0 scales", d.size(), nb);
  ggml_detail::CheckTernary("EncodeTQ2_0", t);
  for (size_t b = 0; b < nb; ++b) {
    const int8_t* w = &t[b * BlockTQ2_0::kElements];
    uint8_t* y = &dst[b * BlockTQ2_0::kBytes];
    for (size_t j = 0; j < 64; j += 32) {
      for (size_t m = 0; m < 32; ++m) {
        uint8_t q = 0;
        for (size_t l = 0; l < 4; ++l)
          q |= static_cast<uint8_t>((w[4 * j + 32 * l + m] + 1) << (2 * l));
        y[j + m] = q;
      }
    }
    ggml_detail::StoreU16(FloatToF16(d[b]), y + 64);
  }
}

inline void EncodeTQ1_0(std::span<const int8_t> t, std::span<const float> d,
                        std::span<uint8_t> dst) {
  const size_t nb =
      ggml_detail::CheckBlocks("EncodeTQ1_0", t.size(), dst.size(),
                               BlockTQ1_0::kElements, BlockTQ1_0::kBytes);
  ggml_detail::CheckSameSize("EncodeTQ1_0 scales", d.size(), nb);
  ggml_detail::CheckTernary("EncodeTQ1_0", t);
  for (size_t b = 0; b < nb; ++b) {
    const int8_t* w = &t[b * BlockTQ1_0::kElements];
    uint8_t* y = &dst[b * BlockTQ1_0::kBytes];
    for (size_t m = 0; m < 32; ++m) {
      int i = 0;
      for (size_t n = 0; n < 5; ++n) i = 3 * i + w[m + 32 * n] + 1;
      y[m] = ggml_detail::PackTrits(i);
    }
    for (size_t m = 0; m < 16; ++m) {
      int i = 0;
      for (size_t n = 0; n < 5; ++n) i = 3 * i + w[160 + m + 16 * n] + 1;
      y[32 + m] = ggml_detail::PackTrits(i);
    }
    for (size_t j = 0; j < 4; ++j) {
      int i = 0;
      for (size_t n = 0; n < 4; ++n) i = 3 * i + w[240 + j + 4 * n] + 1;
      y[48 + j] =
          ggml_detail::PackTrits(3 * i);  // fifth trit 0: first trit on top
    }
    ggml_detail::StoreU16(FloatToF16(d[b]), y + 52);
  }
}

namespace ggml_detail {
// llama.cpp quantize_row_tq{1,2}_0_ref, block by block: d = max|x| of the
// block in float32, codes lroundf(x · (1/d)) + 1, only the stored d is fp16.
template <class EncodeBlock>
void QuantizeTQ(std::string_view fn, std::span<const float> x,
                std::span<uint8_t> dst, size_t block_bytes,
                EncodeBlock encode) {
  const size_t nb = CheckBlocks(fn, x.size(), dst.size(), 256, block_bytes);
  CheckFinite(fn, x);
  int8_t t[256];
  for (size_t b = 0; b < nb; ++b) {
    const float* xb = &x[b * 256];
    float amax = 0.0f;
    for (size_t j = 0; j < 256; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float id = amax != 0.0f ? 1.0f / amax : 0.0f;
    for (size_t j = 0; j < 256; ++j)
      t[j] = static_cast<int8_t>(RoundTernary(xb[j] * id));
    const float d = amax;
    encode(std::span<const int8_t>(t, 256), std::span<const float>(&d, 1),
           dst.subspan(b * block_bytes, block_bytes));
  }
}
// Ternary values times a per-tensor scale, as the float input llama.cpp
// sees for fake-ternarised weights.
template <class Quantize>
void EncodeScaledTQ(std::string_view fn, std::span<const int8_t> t, float scale,
                    std::span<uint8_t> dst, size_t block_bytes,
                    Quantize quantize) {
  CheckBlocks(fn, t.size(), dst.size(), 256, block_bytes);
  CheckTernary(fn, t);
  float x[256];
  for (size_t b = 0; b < t.size() / 256; ++b) {
    for (size_t j = 0; j < 256; ++j)
      x[j] = static_cast<float>(t[b * 256 + j]) * scale;
    quantize(std::span<const float>(x, 256),
             dst.subspan(b * block_bytes, block_bytes));
  }
}
}  // namespace ggml_detail

// Bit-identical to llama.cpp's quantize_row_tq2_0_ref / tq1_0_ref.
inline void QuantizeRowTQ2_0(std::span<const float> x, std::span<uint8_t> dst) {
  ggml_detail::QuantizeTQ(
      "QuantizeRowTQ2_0", x, dst, BlockTQ2_0::kBytes,
      [](auto t, auto d, auto out) { EncodeTQ2_0(t, d, out); });
}
inline void QuantizeRowTQ1_0(std::span<const float> x, std::span<uint8_t> dst) {
  ggml_detail::QuantizeTQ(
      "QuantizeRowTQ1_0", x, dst, BlockTQ1_0::kBytes,
      [](auto t, auto d, auto out) { EncodeTQ1_0(t, d, out); });
}

// What llama.cpp writes for the fake-ternarised weights t · scale (scale ≥ 0):
// d = fp16(scale) in every block with a non-zero value, 0 in all-zero blocks.
inline void EncodeTQ2_0(std::span<const int8_t> t, float scale,
                        std::span<uint8_t> dst) {
  ggml_detail::EncodeScaledTQ(
      "EncodeTQ2_0", t, scale, dst, BlockTQ2_0::kBytes,
      [](auto x, auto out) { QuantizeRowTQ2_0(x, out); });
}
inline void EncodeTQ1_0(std::span<const int8_t> t, float scale,
                        std::span<uint8_t> dst) {
  ggml_detail::EncodeScaledTQ(
      "EncodeTQ1_0", t, scale, dst, BlockTQ1_0::kBytes,
      [](auto x, auto out) { QuantizeRowTQ1_0(x, out); });
}

// ---------------------------------------------------------------------------
// IQ2_BN / IQ1_BN (ik_llama.cpp): one row of K values (K % 64 == 0) with its
// header; returns the row scale d.

inline float DecodeIQ2_BNRow(std::span<const uint8_t> row, std::span<int8_t> t,
                             std::string_view tensor) {
  constexpr size_t kH = BlockIQ2_BN::kRowHeaderBytes;
  if (row.size() < kH)
    ggml_detail::CheckSameSize("DecodeIQ2_BNRow", row.size(), kH);
  const size_t nb =
      ggml_detail::CheckBlocks("DecodeIQ2_BNRow", t.size(), row.size() - kH,
                               BlockIQ2_BN::kElements, BlockIQ2_BN::kBytes);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* x = &row[kH + b * BlockIQ2_BN::kBytes];
    int8_t* y = &t[b * 64];
    for (size_t j = 0; j < 16; ++j) {
      for (size_t l = 0; l < 4; ++l) {
        const int c = (x[j] >> (2 * l)) & 3;
        if (c == 3)
          ggml_detail::ThrowBadCode(tensor, "IQ2_BN", b * 64 + j + 16 * l);
        y[j + 16 * l] = static_cast<int8_t>(c - 1);
      }
    }
  }
  return ggml_detail::LoadF32(row.data());
}

inline float DecodeIQ1_BNRow(std::span<const uint8_t> row,
                             std::span<int8_t> t) {
  static constexpr uint8_t kMult[5] = {81, 27, 9, 3, 1};
  constexpr size_t kH = BlockIQ1_BN::kRowHeaderBytes;
  if (row.size() < kH)
    ggml_detail::CheckSameSize("DecodeIQ1_BNRow", row.size(), kH);
  const size_t nb =
      ggml_detail::CheckBlocks("DecodeIQ1_BNRow", t.size(), row.size() - kH,
                               BlockIQ1_BN::kElements, BlockIQ1_BN::kBytes);
  for (size_t b = 0; b < nb; ++b) {
    const uint8_t* x = &row[kH + b * BlockIQ1_BN::kBytes];
    int8_t* y = &t[b * 64];
    for (size_t g = 0; g < 4; ++g) {
      for (size_t k = 0; k < 3; ++k) {
        for (size_t j = 0; j < 5; ++j) {
          y[16 * g + 5 * k + j] =
              ggml_detail::Iq1Trit(x[3 * g + k], kMult[j]) - 1;
        }
      }
      y[16 * g + 15] = ggml_detail::Iq1Trit(x[12], kMult[g]) - 1;
    }
  }
  return ggml_detail::LoadF16(row.data());
}

// Whole tensors of `rows` rows: t gets rows·K values, d one scale per row.
inline void DecodeIQ2_BN(std::span<const uint8_t> src, size_t rows,
                         std::span<int8_t> t, std::span<float> d,
                         std::string_view tensor) {
  ggml_detail::CheckSameSize("DecodeIQ2_BN scales", d.size(), rows);
  if (rows == 0) return;
  const size_t k = t.size() / rows, row_bytes = src.size() / rows;
  ggml_detail::CheckSameSize("DecodeIQ2_BN values", t.size(), k * rows);
  ggml_detail::CheckSameSize("DecodeIQ2_BN bytes", src.size(),
                             row_bytes * rows);
  for (size_t r = 0; r < rows; ++r) {
    d[r] = DecodeIQ2_BNRow(src.subspan(r * row_bytes, row_bytes),
                           t.subspan(r * k, k), tensor);
  }
}
inline void DecodeIQ1_BN(std::span<const uint8_t> src, size_t rows,
                         std::span<int8_t> t, std::span<float> d) {
  ggml_detail::CheckSameSize("DecodeIQ1_BN scales", d.size(), rows);
  if (rows == 0) return;
  const size_t k = t.size() / rows, row_bytes = src.size() / rows;
  ggml_detail::CheckSameSize("DecodeIQ1_BN values", t.size(), k * rows);
  ggml_detail::CheckSameSize("DecodeIQ1_BN bytes", src.size(),
                             row_bytes * rows);
  for (size_t r = 0; r < rows; ++r) {
    d[r] = DecodeIQ1_BNRow(src.subspan(r * row_bytes, row_bytes),
                           t.subspan(r * k, k));
  }
}

// ---------------------------------------------------------------------------
// I2_S: the whole tensor at once (the layout runs across row boundaries).
// t.size() = N = M·K with N a multiple of the block (128 values, or 64 in
// the Arm layout: i2s_layout.h); payload.size() = N/4 + 32.

// Returns α; throws FormatError naming `tensor` on code 3.
inline float DecodeI2S(std::span<const uint8_t> payload, std::span<int8_t> t,
                       std::string_view tensor,
                       I2SLayout layout = I2SLayout::kX86) {
  const size_t n = t.size(), block = I2SBlockValues(layout),
               plane = block / 4;  // values per 2-bit plane = bytes a block
  if (n % block != 0) {
    throw ShapeError(std::string(tensor) + ": I2_S (" +
                     std::string(I2SLayoutName(layout)) +
                     " layout) needs a multiple of " + std::to_string(block) +
                     " values, got " + std::to_string(n));
  }
  ggml_detail::CheckSameSize("DecodeI2S payload", payload.size(),
                             I2SPayload::Bytes(n));
  for (size_t b = 0; b < n / block; ++b) {
    const uint8_t* x = &payload[b * plane];
    int8_t* y = &t[b * block];
    for (size_t p = 0; p < plane; ++p) {
      for (size_t j = 0; j < 4; ++j) {
        const int c = (x[p] >> (6 - 2 * j)) & 3;
        if (c == 3)
          ggml_detail::ThrowBadCode(tensor, "I2_S", b * block + plane * j + p);
        y[plane * j + p] = static_cast<int8_t>(c - 1);
      }
    }
  }
  return ggml_detail::LoadF32(&payload[n / 4]);
}

// bitnet.cpp's canonical 128-block layout; the 28 filler bytes are zero.
inline void EncodeI2S(std::span<const int8_t> t, float alpha,
                      std::span<uint8_t> payload) {
  const size_t n = t.size();
  if (n % I2SPayload::kBlockElements != 0) {
    throw ShapeError("EncodeI2S: needs a multiple of 128 values, got " +
                     std::to_string(n));
  }
  ggml_detail::CheckSameSize("EncodeI2S payload", payload.size(),
                             I2SPayload::Bytes(n));
  ggml_detail::CheckTernary("EncodeI2S", t);
  for (size_t b = 0; b < n / 128; ++b) {
    const int8_t* w = &t[b * 128];
    for (size_t p = 0; p < 32; ++p) {
      payload[b * 32 + p] =
          static_cast<uint8_t>((w[p] + 1) << 6 | (w[32 + p] + 1) << 4 |
                               (w[64 + p] + 1) << 2 | (w[96 + p] + 1));
    }
  }
  ggml_detail::StoreF32(alpha, &payload[n / 4]);
  for (size_t i = n / 4 + 4; i < payload.size(); ++i) payload[i] = 0;
}

}  // namespace ternary::quant

#endif  // TERNARY_QUANT_GGML_BLOCKS_H_
