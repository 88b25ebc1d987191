// The ggml-block LM head kernels: Q6_K and Q4_0 rows (kernels/dense_matrix.h
// BlockMatrix, ggml's byte layout, usable in place from a GGUF) × int8
// activation codes. Results equal ref::BlockRows (kernels/ref/dense.h) bit
// for bit on every target: the integer sum of each block is exact, and the
// float part is the reference's own sequence (acc += fp16 d · sum in double,
// block by block, each product exact; y = fl32(acc / x_scale)).
//
// x86 (SSSE3 and up): a tile of 4 rows × one token at a time, weights in
// the tile's rows stay in L1 while the tokens go by. Per block and row the
// 6-/4-bit levels are unpacked to u8 in [0, 63] / [0, 15] and multiplied
// with the codes by PMADDUBSW (pair sums ≤ 2·63·128, no saturation); the
// level offset (32 / 8) is taken off with the activations' own pair sums
// (PMADDUBSW of the offset with the codes, once per tile); Q6_K's group
// scales multiply the i16 pair sums in PMADDWD; Q4_0 on AVX-512 takes four
// blocks a vector, and with VNNI multiplies by VPDPBUSD. The 4 rows' int32
// vectors are transposed and summed in one pass, then the 4 block sums are
// scaled by their d in one double vector. Later rows are prefetched
// (PrefetchAhead). Other targets run the reference.

#ifndef TERNARY_KERNELS_QUANT_HEAD_INL_H_
#define TERNARY_KERNELS_QUANT_HEAD_INL_H_
#include <hwy/base.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ternary/kernels/dense_matrix.h"
#include "ternary/kernels/ref/dense.h"
#include "ternary/util/half.h"
#endif  // TERNARY_KERNELS_QUANT_HEAD_INL_H_

#if defined(TERNARY_KERNELS_QUANT_HEAD_INL_H_TARGET) == \
    defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_QUANT_HEAD_INL_H_TARGET
#undef TERNARY_KERNELS_QUANT_HEAD_INL_H_TARGET
#else
#define TERNARY_KERNELS_QUANT_HEAD_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {
namespace qhead {

#if TERNARY_HAVE_X86_DOT

constexpr size_t kTile = 4;  // rows computed together

// How far ahead the kernels prefetch: whole tiles (the same offset in a
// later tile's rows), about 16-24 KB. Each row is its own short stream
// (2.1 KB for 2B4T), too short for the hardware prefetcher to train on:
// 4.2 GB/s without prefetching, 33 with one tile ahead, 5-15% more with
// 16-24 KB on Zen 5.
inline size_t PrefetchAhead(size_t row_bytes) {
  const size_t tile = kTile * row_bytes;
  return tile * std::max<size_t>(1, 24576 / tile);
}

// i16 × i16 pair sums into i32 (PMADDWD).
inline __m128i MaddWd(__m128i a, __m128i b) { return _mm_madd_epi16(a, b); }
#if HWY_TARGET <= HWY_AVX2
inline __m256i MaddWd(__m256i a, __m256i b) { return _mm256_madd_epi16(a, b); }
#endif

inline uint32_t LoadU16(const uint8_t* p) noexcept {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8;
}

// Lane r of each 128-bit block = Σ of that block's four lanes of v_r.
template <class D32>
HWY_INLINE hn::Vec<D32> TransposeSum4(D32 d32, hn::Vec<D32> v0, hn::Vec<D32> v1,
                                      hn::Vec<D32> v2, hn::Vec<D32> v3) {
  const hn::Repartition<uint64_t, D32> d64;
  const auto a = hn::Add(hn::InterleaveLower(d32, v0, v1),
                         hn::InterleaveUpper(d32, v0, v1));
  const auto b = hn::Add(hn::InterleaveLower(d32, v2, v3),
                         hn::InterleaveUpper(d32, v2, v3));
  const auto a64 = hn::BitCast(d64, a), b64 = hn::BitCast(d64, b);
  return hn::Add(hn::BitCast(d32, hn::InterleaveLower(d64, a64, b64)),
                 hn::BitCast(d32, hn::InterleaveUpper(d64, a64, b64)));
}

// Four doubles, one per row of the tile: acc_r = acc_r + d_r · s_r.
struct Acc4 {
#if HWY_TARGET <= HWY_AVX2
  __m256d v;
  HWY_INLINE Acc4() : v(_mm256_setzero_pd()) {}
  // d01 = fp16 bits of rows 0 | 1 << 16, d23 likewise; s: four int32 sums.
  HWY_INLINE void Add(uint32_t d01, uint32_t d23, __m128i s) {
    const __m128i h = _mm_insert_epi32(_mm_cvtsi32_si128(static_cast<int>(d01)),
                                       static_cast<int>(d23), 1);
    const __m256d d = _mm256_cvtps_pd(_mm_cvtph_ps(h));
    v = _mm256_add_pd(v, _mm256_mul_pd(d, _mm256_cvtepi32_pd(s)));
  }
  // out[r] = fl32(acc_r / xs) for r < n.
  HWY_INLINE void Store(float xs, float* out, size_t n) const {
    const __m128 f =
        _mm256_cvtpd_ps(_mm256_div_pd(v, _mm256_set1_pd(double{xs})));
    if (n == kTile) {
      _mm_storeu_ps(out, f);
    } else {
      alignas(16) float tmp[kTile];
      _mm_store_ps(tmp, f);
      std::copy_n(tmp, n, out);
    }
  }
#else
  double v[kTile] = {};
  HWY_INLINE void Add(uint32_t d01, uint32_t d23, __m128i s) {
    alignas(16) int32_t si[kTile];
    _mm_store_si128(reinterpret_cast<__m128i*>(si), s);
    const uint32_t d[kTile] = {d01 & 0xffff, d01 >> 16, d23 & 0xffff,
                               d23 >> 16};
    for (size_t r = 0; r < kTile; ++r) {
      const double dr = F16ToFloat(static_cast<uint16_t>(d[r]));
      v[r] = v[r] + dr * static_cast<double>(si[r]);
    }
  }
  HWY_INLINE void Store(float xs, float* out, size_t n) const {
    for (size_t r = 0; r < n; ++r)
      out[r] = static_cast<float>(v[r] / double{xs});
  }
#endif
};

// fp16 d of block `b` in each row of the tile, as Acc4::Add takes them.
template <class B>
HWY_INLINE void TileScales(const uint8_t* const* w, size_t b, uint32_t& d01,
                           uint32_t& d23) {
  const size_t off = b * B::kBytes + BlockFormat<B>::kScaleOffset;
  d01 = LoadU16(w[0] + off) | LoadU16(w[1] + off) << 16;
  d23 = LoadU16(w[2] + off) | LoadU16(w[3] + off) << 16;
}

// ---------------------------------------------------------------------------
// Q6_K. Half h of a block (values 128h + [0, 128)) is ql[64h, 64h + 64),
// qh[32h, 32h + 32): value 128h + 32k + i (k < 4, i < 32) has its low
// nibble in ql[64h + 32(k & 1) + i] (k < 2: low, else high nibble) and its
// top two bits at bit 2k of qh[32h + i]; group j = value / 16 has scale
// scales[j]. A vector of N ≤ 32 lanes covers values 128h + 32k + [sN, sN+N).

// pshufb indices picking i16 lane j of a vector of 8 i16 scales, per
// 128-bit block q: lane j + q (bytes 2(j + q), 2(j + q) + 1).
struct ScaleIndex {
  alignas(32) uint8_t b[8][32];
};
constexpr ScaleIndex MakeScaleIndex() {
  ScaleIndex t{};
  for (size_t j = 0; j < 8; ++j) {
    for (size_t i = 0; i < 32; ++i) {
      t.b[j][i] = static_cast<uint8_t>((2 * (j + i / 16) + (i & 1)) & 15);
    }
  }
  return t;
}
inline constexpr ScaleIndex kScaleIndex = MakeScaleIndex();

// Σ over one block of scale_j · (q6 − 32) · x as int32 lanes (any split;
// the caller sums them). xc[i] = 32 · (x[2i] + x[2i+1]).
template <class D>
HWY_INLINE hn::Vec<hn::Repartition<int32_t, D>> Q6KBlock(D du8,
                                                         const uint8_t* blk,
                                                         const int8_t* x,
                                                         const int16_t* xc) {
  constexpr size_t N = hn::MaxLanes(D());
  const hn::Repartition<int8_t, D> di8;
  const hn::Repartition<int16_t, D> di16;
  const hn::Repartition<uint16_t, D> du16;
  const hn::Repartition<int32_t, D> di32;
  const auto m4 = hn::Set(du8, 0x0F), m30 = hn::Set(du8, 0x30);
  auto acc = hn::Zero(di32);
  for (size_t h = 0; h < 2; ++h) {
    // The half's 8 scales as i16 in every 128-bit block.
    const __m128i s128 =
        hn::PromoteTo(
            hn::Full128<int16_t>(),
            hn::LoadU(hn::Full64<int8_t>(),
                      reinterpret_cast<const int8_t*>(blk + 192) + 8 * h))
            .raw;
    hn::Vec<decltype(di16)> sc;
    if constexpr (N == 16) {
      sc.raw = s128;
    } else {
      sc.raw = _mm256_broadcastsi128_si256(s128);
    }
    for (size_t s = 0; s < 32 / N; ++s) {
      const uint8_t* ql = blk + 64 * h + s * N;
      const auto qa = hn::LoadU(du8, ql);
      const auto qb = hn::LoadU(du8, ql + 32);
      const auto qh =
          hn::BitCast(du16, hn::LoadU(du8, blk + 128 + 32 * h + s * N));
      const auto shr4 = [&](hn::Vec<D> v) {
        return hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(du16, v)));
      };
      const hn::Vec<D> q[4] = {
          hn::Or(hn::And(qa, m4),
                 hn::And(hn::BitCast(du8, hn::ShiftLeft<4>(qh)), m30)),
          hn::Or(hn::And(qb, m4),
                 hn::And(hn::BitCast(du8, hn::ShiftLeft<2>(qh)), m30)),
          hn::Or(hn::And(shr4(qa), m4), hn::And(hn::BitCast(du8, qh), m30)),
          hn::Or(hn::And(shr4(qb), m4),
                 hn::And(hn::BitCast(du8, hn::ShiftRight<2>(qh)), m30)),
      };
      for (size_t k = 0; k < 4; ++k) {
        const size_t off = 128 * h + 32 * k + s * N;
        const auto p =
            hn::Sub(SatWidenMulPairwiseAdd(di16, q[k], hn::LoadU(di8, x + off)),
                    hn::LoadU(di16, xc + off / 2));
        // Group 2k + s (N = 16) or 2k, 2k + 1 (N = 32) of this half.
        const auto idx =
            hn::LoadU(du8, kScaleIndex.b[2 * k + (N == 16 ? s : 0)]);
        const auto scale = hn::TableLookupBytes(sc, hn::BitCast(di16, idx));
        acc = hn::Add(acc, hn::Vec<decltype(di32)>{MaddWd(p.raw, scale.raw)});
      }
    }
  }
  return acc;
}

#if HWY_TARGET <= HWY_AVX3
HWY_DIAGNOSTICS(push)
HWY_DIAGNOSTICS_OFF(disable : 4701, ignored "-Wmaybe-uninitialized")
// Q6_K in 512-bit vectors, for the 2.3x fewer operations a block than the
// 256-bit path above (which left the head compute-bound: 36 GB/s from
// cache on Zen 5). Half h's 64 ql bytes are one vector: its low nibbles
// are values 128h + [0, 64) (k = 0, 1), its high nibbles 128h + [64, 128)
// (k = 2, 3), each the activations' natural order. qh's 32 bytes go to
// both 256-bit halves, the upper one shifted right by 2, so that one shift
// and mask yield the top bits of k = 0 | 1 (<< 4) and of k = 2 | 3 (as
// they are). Pair sums (PMADDUBSW, less the offset's xc) times the i16
// group scales (VPERMW spreads them 8 lanes each) accumulate in i32
// (VPDPWSSD with VNNI, else PMADDWD + add), exact: |pair| ≤ 8192 after the
// offset, |pair · scale| pairs ≤ 2^21.
struct Q6KScaleLanes {
  alignas(64) uint16_t idx[4][32];
};
constexpr Q6KScaleLanes MakeQ6KScaleLanes() {
  Q6KScaleLanes t{};
  for (size_t v = 0; v < 4; ++v) {
    for (size_t m = 0; m < 32; ++m)
      t.idx[v][m] = static_cast<uint16_t>(4 * v + m / 8);
  }
  return t;
}
inline constexpr Q6KScaleLanes kQ6KScaleLanes = MakeQ6KScaleLanes();

HWY_INLINE __m512i DpWssd(__m512i acc, __m512i a, __m512i b) {
#if TERNARY_HAVE_VNNI
  return _mm512_dpwssd_epi32(acc, a, b);
#else
  return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
#endif
}

// Σ over one block of scale_j · (q6 − 32) · x as 16 int32 lanes; x the
// block's 256 codes, xc[i] = 32 · (x[2i] + x[2i+1]).
HWY_INLINE __m512i Q6KBlock512(const uint8_t* HWY_RESTRICT blk,
                               const int8_t* HWY_RESTRICT x,
                               const int16_t* HWY_RESTRICT xc) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
  const __m512i scales = _mm512_zextsi256_si512(_mm256_cvtepi8_epi16(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192))));
  __m512i acc = _mm512_setzero_si512();
  for (size_t h = 0; h < 2; ++h) {
    const __m512i ql = _mm512_loadu_si512(blk + 64 * h);
    const __m256i qh = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(blk + 128 + 32 * h));
    const __m512i qh2 = _mm512_inserti64x4(_mm512_castsi256_si512(qh),
                                           _mm256_srli_epi16(qh, 2), 1);
    const __m512i lo =
        _mm512_or_si512(_mm512_and_si512(ql, m4),
                        _mm512_and_si512(_mm512_slli_epi16(qh2, 4), m30));
    const __m512i hi =
        _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                        _mm512_and_si512(qh2, m30));
    const __m512i plo = _mm512_sub_epi16(
        _mm512_maddubs_epi16(lo, _mm512_loadu_si512(x + 128 * h)),
        _mm512_loadu_si512(xc + 64 * h));
    const __m512i phi = _mm512_sub_epi16(
        _mm512_maddubs_epi16(hi, _mm512_loadu_si512(x + 128 * h + 64)),
        _mm512_loadu_si512(xc + 64 * h + 32));
    const __m512i slo = _mm512_permutexvar_epi16(
        _mm512_load_si512(kQ6KScaleLanes.idx[2 * h]), scales);
    const __m512i shi = _mm512_permutexvar_epi16(
        _mm512_load_si512(kQ6KScaleLanes.idx[2 * h + 1]), scales);
    acc = DpWssd(DpWssd(acc, plo, slo), phi, shi);
  }
  return acc;
}

HWY_DIAGNOSTICS(pop)
#endif  // HWY_TARGET <= HWY_AVX3

// A tile's 4 rows × token t in vectors of D: 128 bits (SSSE3 / SSE4), 256
// (AVX2) or, on AVX-512 targets, 512 with Q6KBlock512 (inlined here, so
// the same diagnostics are off).
HWY_DIAGNOSTICS(push)
HWY_DIAGNOSTICS_OFF(disable : 4701, ignored "-Wmaybe-uninitialized")
template <class D>
HWY_INLINE void Q6KTile(D du8, const BlockArgs& a, const uint8_t* const* w,
                        size_t t, float* out, size_t n) {
  using B = quant::BlockQ6_K;
  constexpr size_t N = hn::MaxLanes(D());
  const hn::Repartition<int8_t, D> di8;
  const hn::Repartition<int16_t, D> di16;
  const hn::Repartition<int32_t, D> di32;
  const int8_t* x = a.x + t * a.x_stride;
  alignas(64) int16_t xc[128];
  const size_t ahead = PrefetchAhead(a.row_bytes);
  Acc4 acc;
  for (size_t b = 0; b < a.blocks; ++b) {
    const int8_t* xb = x + b * B::kElements;
    for (size_t i = 0; i < B::kElements; i += N) {
      hn::StoreU(SatWidenMulPairwiseAdd(di16, hn::Set(du8, 32),
                                        hn::LoadU(di8, xb + i)),
                 di16, xc + i / 2);
    }
    const size_t off = b * B::kBytes;
    for (size_t r = 0; r < kTile; ++r) {
      for (size_t line = 0; line < B::kBytes; line += 64)
        hwy::Prefetch(w[r] + ahead + off + line);
    }
    const auto block = [&](const uint8_t* blk) {
#if HWY_TARGET <= HWY_AVX3
      if constexpr (N == 64) {
        return hn::Vec<decltype(di32)>{Q6KBlock512(blk, xb, xc)};
      } else {
        return Q6KBlock(du8, blk, xb, xc);
      }
#else
      return Q6KBlock(du8, blk, xb, xc);
#endif
    };
    const auto s = TransposeSum4(di32, block(w[0] + off), block(w[1] + off),
                                 block(w[2] + off), block(w[3] + off));
    // Lane r of every 128-bit block holds part of row r's sum.
    __m128i s4;
    if constexpr (N == 16) {
      s4 = s.raw;
    } else if constexpr (N == 32) {
      s4 = _mm_add_epi32(_mm256_castsi256_si128(s.raw),
                         _mm256_extracti128_si256(s.raw, 1));
    } else {
#if HWY_TARGET <= HWY_AVX3
      const __m256i s8 = _mm256_add_epi32(_mm512_castsi512_si256(s.raw),
                                          _mm512_extracti64x4_epi64(s.raw, 1));
      s4 = _mm_add_epi32(_mm256_castsi256_si128(s8),
                         _mm256_extracti128_si256(s8, 1));
#endif
    }
    uint32_t d01, d23;
    TileScales<B>(w, b, d01, d23);
    acc.Add(d01, d23, s4);
  }
  acc.Store(a.x_scale[t].scale, out, n);
}
HWY_DIAGNOSTICS(pop)

// ---------------------------------------------------------------------------
// Q4_0: block b is fp16 d, then qs[16]: value i < 16 the low nibble of
// qs[i], value 16 + i its high nibble. With N = 32 a vector holds two blocks
// (b in the low 128 bits, b + 1 in the high ones).

template <class D>
HWY_INLINE void Q4Step(D du8, const uint8_t* const* w, size_t b,
                       const int8_t* x, size_t ahead, Acc4& acc) {
  using B = quant::BlockQ4_0;
  constexpr size_t N = hn::MaxLanes(D());
  const hn::Repartition<int8_t, D> di8;
  const hn::Repartition<int16_t, D> di16;
  const hn::Repartition<uint16_t, D> du16;
  const hn::Repartition<int32_t, D> di32;
  const int8_t* xb = x + b * B::kElements;
  hn::Vec<decltype(di8)> xlo, xhi;
  if constexpr (N == 16) {
    xlo = hn::LoadU(di8, xb);
    xhi = hn::LoadU(di8, xb + 16);
  } else {
    const auto x0 = hn::LoadU(di8, xb), x1 = hn::LoadU(di8, xb + 32);
    xlo = hn::ConcatLowerLower(di8, x1, x0);
    xhi = hn::ConcatUpperUpper(di8, x1, x0);
  }
  const auto eight = hn::Set(du8, 8);
  const auto xc = hn::Add(SatWidenMulPairwiseAdd(di16, eight, xlo),
                          SatWidenMulPairwiseAdd(di16, eight, xhi));
  const auto m4 = hn::Set(du8, 0x0F);
  hn::Vec<decltype(di32)> s[kTile];
  for (size_t r = 0; r < kTile; ++r) {
    const uint8_t* blk = w[r] + b * B::kBytes + 2;
    hwy::Prefetch(blk + ahead);  // a step is ≤ 36 bytes
    hn::Vec<D> q;
    if constexpr (N == 16) {
      q = hn::LoadU(du8, blk);
    } else {
      const hn::Half<D> dh;
      q = hn::Combine(du8, hn::LoadU(dh, blk + B::kBytes), hn::LoadU(dh, blk));
    }
    const auto lo = hn::And(q, m4);
    const auto hi =
        hn::And(hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(du16, q))), m4);
    const auto p = hn::Sub(hn::Add(SatWidenMulPairwiseAdd(di16, lo, xlo),
                                   SatWidenMulPairwiseAdd(di16, hi, xhi)),
                           xc);
    s[r] = SumsOf2(di32, p);
  }
  const auto sum = TransposeSum4(di32, s[0], s[1], s[2], s[3]);
  uint32_t d01, d23;
  TileScales<B>(w, b, d01, d23);
  if constexpr (N == 16) {
    acc.Add(d01, d23, sum.raw);
  } else {
    acc.Add(d01, d23, _mm256_castsi256_si128(sum.raw));
    TileScales<B>(w, b + 1, d01, d23);
    acc.Add(d01, d23, _mm256_extracti128_si256(sum.raw, 1));
  }
}

#if HWY_TARGET <= HWY_AVX3
// GCC 12 sees the undefined upper lanes some 512-bit intrinsics start from
// (_mm512_undefined_*) as maybe uninitialized; Highway's x86_512-inl.h
// silences the same warning.
HWY_DIAGNOSTICS(push)
HWY_DIAGNOSTICS_OFF(disable : 4701, ignored "-Wmaybe-uninitialized")
// Four blocks a step in 512-bit vectors (block b + k in 128-bit lane k):
// Q4_0's small blocks make it compute-bound at 256 bits. With VNNI the
// products go straight to int32 (VPDPBUSD, exact), starting from −8·Σx.
HWY_INLINE void Q4Step4(const uint8_t* const* w, size_t b, const int8_t* x,
                        size_t ahead, Acc4& acc) {
  using B = quant::BlockQ4_0;
  const int8_t* xb = x + b * B::kElements;
  const __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64);
  // Lane k: values 32k .. 32k + 15 (low nibbles) / 32k + 16 .. (high).
  const __m512i xlo = _mm512_shuffle_i64x2(x0, x1, 0x88);
  const __m512i xhi = _mm512_shuffle_i64x2(x0, x1, 0xDD);
  const __m512i eight = _mm512_set1_epi8(8), m4 = _mm512_set1_epi8(0x0F);
#if TERNARY_HAVE_VNNI
  const __m512i xc = _mm512_sub_epi32(
      _mm512_setzero_si512(),
      detail::DpBusd(detail::DpBusd(_mm512_setzero_si512(), eight, xlo), eight,
                     xhi));
#else
  const __m512i xc = _mm512_add_epi16(detail::MaddUbs(eight, xlo),
                                      detail::MaddUbs(eight, xhi));
#endif
  __m512i s[kTile];
  for (size_t r = 0; r < kTile; ++r) {
    const uint8_t* blk = w[r] + b * B::kBytes + 2;
    hwy::Prefetch(blk + ahead);  // a step is 72 bytes
    hwy::Prefetch(blk + ahead + 64);
    const auto load = [&](size_t k) {
      return _mm_loadu_si128(
          reinterpret_cast<const __m128i*>(blk + k * B::kBytes));
    };
    __m512i q = _mm512_castsi128_si512(load(0));
    q = _mm512_inserti32x4(q, load(1), 1);
    q = _mm512_inserti32x4(q, load(2), 2);
    q = _mm512_inserti32x4(q, load(3), 3);
    const __m512i lo = _mm512_and_si512(q, m4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
#if TERNARY_HAVE_VNNI
    s[r] = detail::DpBusd(detail::DpBusd(xc, lo, xlo), hi, xhi);
#else
    s[r] = detail::MaddOnes(_mm512_sub_epi16(
        _mm512_add_epi16(detail::MaddUbs(lo, xlo), detail::MaddUbs(hi, xhi)),
        xc));
#endif
  }
  const hn::Full512<int32_t> d32;
  const __m512i sum =
      TransposeSum4(d32, hn::Vec512<int32_t>{s[0]}, hn::Vec512<int32_t>{s[1]},
                    hn::Vec512<int32_t>{s[2]}, hn::Vec512<int32_t>{s[3]})
          .raw;
  uint32_t d01, d23;
  TileScales<B>(w, b, d01, d23);
  acc.Add(d01, d23, _mm512_castsi512_si128(sum));
  TileScales<B>(w, b + 1, d01, d23);
  acc.Add(d01, d23, _mm512_extracti32x4_epi32(sum, 1));
  TileScales<B>(w, b + 2, d01, d23);
  acc.Add(d01, d23, _mm512_extracti32x4_epi32(sum, 2));
  TileScales<B>(w, b + 3, d01, d23);
  acc.Add(d01, d23, _mm512_extracti32x4_epi32(sum, 3));
}
HWY_DIAGNOSTICS(pop)
#endif

template <class D>
HWY_INLINE void Q4Tile(D du8, const BlockArgs& a, const uint8_t* const* w,
                       size_t t, float* out, size_t n) {
  constexpr size_t kPerStep = hn::MaxLanes(D()) / 16;
  const int8_t* x = a.x + t * a.x_stride;
  const size_t ahead = PrefetchAhead(a.row_bytes);
  Acc4 acc;
  size_t b = 0;
#if HWY_TARGET <= HWY_AVX3
  for (; b + 4 <= a.blocks; b += 4) Q4Step4(w, b, x, ahead, acc);
#endif
  for (; b + kPerStep <= a.blocks; b += kPerStep)
    Q4Step(du8, w, b, x, ahead, acc);
  if constexpr (kPerStep > 1) {
    for (; b < a.blocks; ++b)
      Q4Step(hn::CappedTag<uint8_t, 16>(), w, b, x, ahead, acc);
  }
  acc.Store(a.x_scale[t].scale, out, n);
}

#endif  // TERNARY_HAVE_X86_DOT

// Rows [row_begin, row_end) of y = W · x for ggml-block rows of B.
template <class B>
void BlockRows(const BlockArgs& a, size_t row_begin, size_t row_end) {
#if TERNARY_HAVE_X86_DOT
  const hn::CappedTag<uint8_t, 32> du8;
  for (size_t row = row_begin; row < row_end; row += kTile) {
    const size_t n = std::min(kTile, row_end - row);
    const uint8_t* w[kTile];
    for (size_t r = 0; r < kTile; ++r)
      w[r] = a.w + (row + std::min(r, n - 1)) * a.row_bytes;
    for (size_t t = 0; t < a.n_tokens; ++t) {
      float* out = a.y + t * a.ldy + row;
      if constexpr (std::is_same_v<B, quant::BlockQ6_K>) {
        Q6KTile(hn::ScalableTag<uint8_t>(), a, w, t, out, n);
      } else {
        Q4Tile(du8, a, w, t, out, n);
      }
    }
  }
#else
  ref::BlockRows<B>(a, row_begin, row_end);
#endif
}

}  // namespace qhead
}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
