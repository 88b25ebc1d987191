// I2_S matmul kernels (GEMV and GEMM) for every Highway target.
#ifndef TERNARY_KERNELS_I2S_INL_H_
#define TERNARY_KERNELS_I2S_INL_H_
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "ternary/kernels/matmul_args.h"
#include "ternary/quant/i2s.h"
#endif  // TERNARY_KERNELS_I2S_INL_H_

#if defined(TERNARY_KERNELS_I2S_INL_H_TARGET) == defined(HWY_TARGET_TOGGLE)
#ifdef TERNARY_KERNELS_I2S_INL_H_TARGET
#undef TERNARY_KERNELS_I2S_INL_H_TARGET
#else
#define TERNARY_KERNELS_I2S_INL_H_TARGET
#endif

#include "ternary/simd/highway-inl.h"
// After highway.h
#include "ternary/kernels/kernel-inl.h"

HWY_BEFORE_NAMESPACE();
namespace ternary::HWY_NAMESPACE {

// How it works. A weight vector of L bytes holds 4L weights as four 2-bit
// code planes (bits 7-6, 5-4, 3-2, 1-0). Each plane, masked to 0..2, is an
// unsigned operand of u8·i8 quad dot products (VPDPBUSD, or PMADDUBSW +
// PMADDWD) against L activations; S' = Σ c·q, and S = S' − Σq.
// Prepare reorders each token's activations so that the L activations of
// plane j of weight vector g sit contiguously at 4·g·L + j·L: one aligned
// load each, whatever L is (for L = 32 this is the natural order).
namespace i2s {

// Reorders q for weight bytes [begin, end) of a row in units of `unit`
// bytes (the vector width used on that range).
inline void PermuteActs(const int8_t* q, size_t begin, size_t end, size_t unit,
                        int8_t* out) noexcept {
  for (size_t g = begin; g < end; g += unit) {
    for (size_t j = 0; j < 4; ++j) {
      // Runs of consecutive bytes within one 32-byte group are contiguous
      // in q too.
      for (size_t p = 0; p < unit;) {
        const size_t byte = g + p;
        const size_t len = std::min(unit - p, 32 - byte % 32);
        std::memcpy(out + (g - begin) * 4 + j * unit + p,
                    q + 128 * (byte / 32) + 32 * j + byte % 32, len);
        p += len;
      }
    }
  }
}

// Scalar kernel on the packed bytes: the fallback for targets without the
// integer dot product ops (HWY_SCALAR, non-x86 other than Arm).
inline int32_t DotScalar(const uint8_t* w, const int8_t* q,
                         size_t row_bytes) noexcept {
  int32_t s = 0;
  for (size_t byte = 0; byte < row_bytes; ++byte) {
    const uint8_t x = w[byte];
    const int8_t* qb = q + 128 * (byte / 32) + byte % 32;
    s += ((x >> 6) & 3) * qb[0] + ((x >> 4) & 3) * qb[32] +
         ((x >> 2) & 3) * qb[64] + (x & 3) * qb[96];
  }
  return s;
}

#if TERNARY_HAVE_ARM_SIMD
// Arm (NEON, SVE, SVE2): Σ c·q of one row and token, activations in natural
// order. A step takes N weight bytes (N = 8 or 16 i16 lanes, dividing 32):
// plane j of bytes p..p+N-1 meets the N contiguous activations at
// 128·(p/32) + 32·j + p%32. Codes and activations widen to i16 and
// ReorderWidenMulAccumulate (vmlal, SVE2 smlalb/t) sums the products in i32,
// exact like the reference. N is capped at 16 so the layout needs no
// permutation: wider SVE leaves lanes idle (half at 512 bits). Two accumulator
// pairs, two planes each, halve the multiply-add dependency chains.
HWY_INLINE int32_t DotWiden(const uint8_t* HWY_RESTRICT w,
                            const int8_t* HWY_RESTRICT q, size_t row_bytes) {
  const hn::CappedTag<int16_t, 16> di16;
  const hn::Rebind<uint8_t, decltype(di16)> du8;
  const hn::Rebind<int8_t, decltype(di16)> di8;
  const hn::Repartition<int32_t, decltype(di16)> di32;
  const size_t N = hn::Lanes(di16);
  const auto three = hn::Set(di16, 3);
  auto a0 = hn::Zero(di32), a1 = hn::Zero(di32);
  auto b0 = hn::Zero(di32), b1 = hn::Zero(di32);
  for (size_t p = 0; p < row_bytes; p += N) {
    const auto x = hn::PromoteTo(di16, hn::LoadU(du8, w + p));
    const int8_t* qp = q + 128 * (p / 32) + p % 32;
    const auto q0 = hn::PromoteTo(di16, hn::LoadU(di8, qp));
    const auto q1 = hn::PromoteTo(di16, hn::LoadU(di8, qp + 32));
    const auto q2 = hn::PromoteTo(di16, hn::LoadU(di8, qp + 64));
    const auto q3 = hn::PromoteTo(di16, hn::LoadU(di8, qp + 96));
    a0 = hn::ReorderWidenMulAccumulate(di32, hn::ShiftRight<6>(x), q0, a0, a1);
    a0 = hn::ReorderWidenMulAccumulate(
        di32, hn::And(hn::ShiftRight<4>(x), three), q1, a0, a1);
    b0 = hn::ReorderWidenMulAccumulate(
        di32, hn::And(hn::ShiftRight<2>(x), three), q2, b0, b1);
    b0 = hn::ReorderWidenMulAccumulate(di32, hn::And(x, three), q3, b0, b1);
  }
  // Only the total matters, so no RearrangeToOddPlusEven.
  return ReduceSum(di32, hn::Add(hn::Add(a0, a1), hn::Add(b0, b1)));
}
#endif  // TERNARY_HAVE_ARM_SIMD

#if TERNARY_HAVE_X86_DOT
// Full-width int32 vectors: the per-(row, token) partial sums a Tile leaves
// for the caller to reduce.
using DI32 = hn::ScalableTag<int32_t>;
using VI32 = hn::Vec<DI32>;

// Adds to totals[r][t] the lane-wise partial sums of kR rows × kT tokens
// over weight bytes [begin, end), computed with vectors of tag d (full or,
// for a row's tail, half width; half-width sums fill the lower half). kA
// accumulators per (row, token) split the planes into independent
// dependency chains (VNNI GEMV is latency-bound otherwise). Each weight line
// is prefetched `ahead` bytes before its use.
template <size_t kR, size_t kT, size_t kA, class D>
HWY_INLINE void Tile(D du8, const uint8_t* HWY_RESTRICT w, size_t row_bytes,
                     const int8_t* HWY_RESTRICT acts, size_t act_stride,
                     size_t begin, size_t end, size_t ahead,
                     VI32 (&totals)[kR][kT]) {
  const hn::Repartition<int8_t, D> di8;
  const hn::Repartition<uint16_t, D> du16;
  const hn::Repartition<int32_t, D> di32;
  using VAcc = hn::Vec<decltype(di32)>;
  using VU8 = hn::Vec<D>;
  const size_t L = hn::Lanes(du8);
  const VU8 three = hn::Set(du8, 3);

  VAcc acc[kR][kT][kA];
  HWY_UNROLL(16)
  for (size_t r = 0; r < kR; ++r) HWY_UNROLL(16)
  for (size_t t = 0; t < kT; ++t) HWY_UNROLL(16)
  for (size_t k = 0; k < kA; ++k) acc[r][t][k] = hn::Zero(di32);

  const int8_t* a0 = acts + 4 * begin;
  for (size_t g = begin; g < end; g += L, a0 += 4 * L) {
    VU8 c[kR][4];
    HWY_UNROLL(16)
    for (size_t r = 0; r < kR; ++r) {
      hwy::Prefetch(w + r * row_bytes + g + ahead);
      // Loaded once: GCC would otherwise fold a load into each of the
      // four plane operations (four loads of one vector; GEMV 1.15x slower).
      const VU8 x = KeepInRegister(hn::LoadU(du8, w + r * row_bytes + g));
      const auto x16 = hn::BitCast(du16, x);
      c[r][0] = hn::And(hn::BitCast(du8, hn::ShiftRight<6>(x16)), three);
      c[r][1] = hn::And(hn::BitCast(du8, hn::ShiftRight<4>(x16)), three);
      c[r][2] = hn::And(hn::BitCast(du8, hn::ShiftRight<2>(x16)), three);
      c[r][3] = hn::And(x, three);
    }
    HWY_UNROLL(16)
    for (size_t t = 0; t < kT; ++t) {
      const int8_t* a = a0 + t * act_stride;
#if TERNARY_HAVE_VNNI
      HWY_UNROLL(16)
      for (size_t j = 0; j < 4; ++j) {
        const auto q = hn::LoadU(di8, a + j * L);
        HWY_UNROLL(16)
        for (size_t r = 0; r < kR; ++r) {
          acc[r][t][j % kA] =
              SmallSumOfMulQuadAccumulate(di32, c[r][j], q, acc[r][t][j % kA]);
        }
      }
#else
      // Four planes summed in i16 first: |c·q| pair sums ≤ 2·2·128 = 512,
      // four planes ≤ 2048, far from saturation; then one widening.
      const hn::Repartition<int16_t, D> di16;
      const auto q0 = hn::LoadU(di8, a), q1 = hn::LoadU(di8, a + L),
                 q2 = hn::LoadU(di8, a + 2 * L), q3 = hn::LoadU(di8, a + 3 * L);
      HWY_UNROLL(16)
      for (size_t r = 0; r < kR; ++r) {
        const auto s01 = hn::Add(SatWidenMulPairwiseAdd(di16, c[r][0], q0),
                                 SatWidenMulPairwiseAdd(di16, c[r][1], q1));
        const auto s23 = hn::Add(SatWidenMulPairwiseAdd(di16, c[r][2], q2),
                                 SatWidenMulPairwiseAdd(di16, c[r][3], q3));
        acc[r][t][0] = hn::Add(acc[r][t][0], SumsOf2(di32, hn::Add(s01, s23)));
      }
#endif
    }
  }
  const DI32 d_full;
  HWY_UNROLL(16)
  for (size_t r = 0; r < kR; ++r) {
    HWY_UNROLL(16)
    for (size_t t = 0; t < kT; ++t) {
      VAcc total = acc[r][t][0];
      HWY_UNROLL(16)
      for (size_t k = 1; k < kA; ++k) total = hn::Add(total, acc[r][t][k]);
      if constexpr (std::is_same_v<VAcc, VI32>) {
        totals[r][t] = hn::Add(totals[r][t], total);
      } else {
        totals[r][t] =
            hn::Add(totals[r][t], hn::ZeroExtendVector(d_full, total));
      }
    }
  }
}

// The lane-wise partial sums of Σ c·q of kR rows × kT tokens over whole
// rows: full vectors, then (512-bit targets only) a 32-byte tail with half
// vectors. Each weight line is prefetched `ahead` bytes before its use.
template <size_t kR, size_t kT, size_t kA>
HWY_INLINE void RowTotals(const MatMulArgs& a, size_t row, size_t token,
                          size_t ahead, VI32 (&totals)[kR][kT]) {
  const hn::ScalableTag<uint8_t> du8;
  const size_t L = hn::Lanes(du8);
  const size_t row_bytes = quant::I2S::PaddedCols(a.cols) / 4;
  const size_t full = row_bytes / L * L;
  const uint8_t* w = a.weights + row * row_bytes;
  const int8_t* acts = a.acts + token * a.act_stride;
  for (auto& row_totals : totals) {
    for (VI32& v : row_totals) v = hn::Zero(DI32());
  }
  Tile<kR, kT, kA>(du8, w, row_bytes, acts, a.act_stride, 0, full, ahead,
                   totals);
#if HWY_TARGET <= HWY_AVX3
  if (full != row_bytes) {
    const hn::Half<decltype(du8)> dh;
    Tile<kR, kT, kA>(dh, w, row_bytes, acts, a.act_stride, full, row_bytes,
                     ahead, totals);
  }
#endif
}

// out[i] = ReduceSum(v[i]) for i < n, four at a time (ReduceSum4: a third
// of the operations and no move to a general register per sum).
template <size_t n>
HWY_INLINE void ReduceSums(const VI32* HWY_RESTRICT v,
                           int32_t* HWY_RESTRICT out) {
  const DI32 d;
  size_t i = 0;
  HWY_UNROLL(16)
  for (; i + 4 <= n; i += 4) {
    hn::StoreU(ReduceSum4(d, v[i], v[i + 1], v[i + 2], v[i + 3]),
               hn::Full128<int32_t>(), out + i);
  }
  HWY_UNROLL(4)
  for (; i < n; ++i) out[i] = ReduceSum(d, v[i]);
}

// kR rows × kT tokens of output (GEMM without VNNI). GEMM tiles are
// compute-bound: 2 tiles ahead.
template <size_t kR, size_t kT, size_t kA>
HWY_INLINE void OutputTile(const MatMulArgs& a, size_t row, size_t token) {
  const size_t row_bytes = quant::I2S::PaddedCols(a.cols) / 4;
  VI32 totals[kR][kT];
  RowTotals<kR, kT, kA>(a, row, token, 2 * kR * row_bytes, totals);
  int32_t sums[kR][kT];
  ReduceSums<kR * kT>(&totals[0][0], &sums[0][0]);
  for (size_t r = 0; r < kR; ++r) {
    for (size_t t = 0; t < kT; ++t) {
      StoreOutput(a, token + t, row + r, sums[r][t] - a.scales[token + t].sum);
    }
  }
}

// GEMV: rows one after another, with VNNI one accumulator per plane. The
// sums of kBlock rows are rescaled together (StoreOutputs): a scalar divide
// closing every 640-byte row cost 1.13x in cache-resident GEMV.
//
// Prefetch distance. GEMV streams every weight byte from DRAM once per
// token: it reads one row at a time (one sequential stream) and prefetches
// each line 16 rows ahead (10 KB at K = 2560). Cold 2560x2560, medians of 5,
// three alternating runs (static AVX3_DL build of ternary_kernels_bench):
// 4 rows per tile, 8 rows ahead 96-99 us; 4 rows, 16 ahead 73-109 us;
// 1 row, 16 ahead 64-80 us (6912x2560: 265-272 -> 177-205 us). Also
// measured and not better: 8, 32, 64 rows or fixed 4-16 KB ahead, L2-only
// hints, 2 rows per tile. With cache-resident weights one row is slower
// (~67 vs ~44 us: fewer independent chains), but decode never runs hot.
// Re-measured on a 2B4T-sized set of distinct matrices (all 30 layers'
// shapes, 496 MB, Zen 5, after the single weight load in Tile): 16 rows
// ahead 33.9 GB/s (median of 4 rounds), 8 rows 31.4, 24 rows 34.6, 32 rows
// 33.1, prefetcht1 33.1, prefetchnta 34.4, no prefetch 27.4; 2 rows per
// tile 24-29 against 32 for one row.
HWY_INLINE void GemvRows(const MatMulArgs& a, size_t row_begin, size_t row_end,
                         size_t token) {
  constexpr size_t kA = TERNARY_HAVE_VNNI ? 4 : 1;
  constexpr size_t kBlock = 16;
  const size_t ahead = 16 * (quant::I2S::PaddedCols(a.cols) / 4);
  const int32_t act_sum = a.scales[token].sum;
  int32_t s[kBlock];
  for (size_t row = row_begin; row < row_end; row += kBlock) {
    const size_t n = HWY_MIN(kBlock, row_end - row);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      VI32 totals[4][1][1];
      for (size_t k = 0; k < 4; ++k) {
        RowTotals<1, 1, kA>(a, row + i + k, token, ahead, totals[k]);
      }
      ReduceSums<4>(&totals[0][0][0], s + i);
    }
    for (; i < n; ++i) {
      VI32 totals[1][1];
      RowTotals<1, 1, kA>(a, row + i, token, ahead, totals);
      ReduceSums<1>(&totals[0][0], s + i);
    }
    for (i = 0; i < n; ++i) s[i] -= act_sum;
    StoreOutputs(a, token, row, s, n);
  }
}

#if TERNARY_HAVE_VNNI
// GEMM with VNNI: kR rows × kT tokens, one code plane at a time. Each
// accumulator takes one VPDPBUSD per plane and the kR·kT chains are
// independent, so the loop runs at the VPDPBUSD throughput instead of its
// latency; the planes come out of x in place (x & 3, then x >> 2), which
// keeps 2·kR + kR·kT + 2 vectors live (30 of AVX-512's 32 at 4 × 5).
// Row and token pointers come as arrays so that ragged edges repeat the last
// row or token instead of needing more instantiations.
//
// The tile's sums come out per token as one 128-bit vector of its 4 rows
// (ReduceSum4): reducing the 20 accumulators one by one, each ending in a
// move to a general register, and rescaling each output on its own took 30 %
// of the kernel's cycles at K = 2560 (perf annotate), for 10 steps of the
// loop above it.
using VRows = hn::Vec<hn::Full128<int32_t>>;

template <size_t kR, size_t kT, class D>
HWY_INLINE void PlaneTile(D du8, const uint8_t* const (&w)[kR],
                          const int8_t* const (&acts)[kT], size_t begin,
                          size_t end, size_t ahead, VRows (&sums)[kT]) {
  static_assert(kR == 4, "one output vector of 4 rows per token");
  const hn::Repartition<int8_t, D> di8;
  const hn::Repartition<uint16_t, D> du16;
  const hn::Repartition<int32_t, D> di32;
  using VI32 = hn::Vec<decltype(di32)>;
  using VU8 = hn::Vec<D>;
  const size_t L = hn::Lanes(du8);
  const VU8 three = hn::Set(du8, 3);

  VI32 acc[kR][kT];
  HWY_UNROLL(16)
  for (size_t r = 0; r < kR; ++r) HWY_UNROLL(16)
  for (size_t t = 0; t < kT; ++t) acc[r][t] = hn::Zero(di32);

  for (size_t g = begin; g < end; g += L) {
    VU8 x[kR];
    HWY_UNROLL(16)
    for (size_t r = 0; r < kR; ++r) {
      hwy::Prefetch(w[r] + g + ahead);
      x[r] = hn::LoadU(du8, w[r] + g);
    }
    // Plane j (bits 7-2j..6-2j) meets activations 4g + j·L; start at the
    // low bits (j = 3) and shift down.
    HWY_UNROLL(4)
    for (size_t jj = 0; jj < 4; ++jj) {
      const size_t j = 3 - jj;
      VU8 c[kR];
      HWY_UNROLL(16)
      for (size_t r = 0; r < kR; ++r) {
        if (jj != 0) {
          x[r] = hn::BitCast(du8, hn::ShiftRight<2>(hn::BitCast(du16, x[r])));
        }
        c[r] = hn::And(x[r], three);
      }
      HWY_UNROLL(16)
      for (size_t t = 0; t < kT; ++t) {
        // One load per token and plane, shared by the kR rows (GCC would
        // otherwise fold a load into every VPDPBUSD: 1.1x slower).
        const auto q = KeepInRegister(hn::LoadU(di8, acts[t] + 4 * g + j * L));
        HWY_UNROLL(16)
        for (size_t r = 0; r < kR; ++r) {
          acc[r][t] = SmallSumOfMulQuadAccumulate(di32, c[r], q, acc[r][t]);
        }
      }
    }
  }
  HWY_UNROLL(16)
  for (size_t t = 0; t < kT; ++t) {
    sums[t] = hn::Add(sums[t], ReduceSum4(di32, acc[0][t], acc[1][t],
                                          acc[2][t], acc[3][t]));
  }
}

// Rows [row_begin, row_end) × all tokens through kR × kT plane tiles, in
// chunks of `chunk` tokens (a multiple of kT). Within a chunk the row tile
// is the outer loop. Prefill (chunk = kT): the kT activation rows (kT·K
// bytes) stay in L1 while the 2-bit weights, 4× denser, stream past them
// from L2/L3. A decode batch (chunk = every token): each row tile's weights
// come from DRAM once and stay in L1 while every token's tile passes, so B
// sequences read the matrix once, not ⌈B/kT⌉ times.
template <size_t kR, size_t kT>
HWY_INLINE void PlaneGemm(const MatMulArgs& a, size_t row_begin, size_t row_end,
                          size_t chunk) {
  const hn::ScalableTag<uint8_t> du8;
  const hn::Full128<int32_t> d128;
  const size_t L = hn::Lanes(du8);
  const size_t row_bytes = quant::I2S::PaddedCols(a.cols) / 4;
  const size_t full = row_bytes / L * L;
  const size_t ahead = 2 * kR * row_bytes;
  for (size_t chunk_begin = 0; chunk_begin < a.n_tokens; chunk_begin += chunk) {
    const size_t chunk_end = HWY_MIN(chunk_begin + chunk, a.n_tokens);
    for (size_t row = row_begin; row < row_end; row += kR) {
      const uint8_t* w[kR];
      for (size_t r = 0; r < kR; ++r) {
        w[r] = a.weights + HWY_MIN(row + r, row_end - 1) * row_bytes;
      }
      for (size_t token = chunk_begin; token < chunk_end; token += kT) {
        const int8_t* acts[kT];
        for (size_t t = 0; t < kT; ++t) {
          acts[t] = a.acts + HWY_MIN(token + t, a.n_tokens - 1) * a.act_stride;
        }
        VRows sums[kT];
        for (size_t t = 0; t < kT; ++t) sums[t] = hn::Zero(d128);
        PlaneTile<kR, kT>(du8, w, acts, 0, full, ahead, sums);
        if (full != row_bytes) {
          const hn::Half<decltype(du8)> dh;
          PlaneTile<kR, kT>(dh, w, acts, full, row_bytes, ahead, sums);
        }
        const size_t n_rows = HWY_MIN(kR, row_end - row);
        for (size_t t = 0; t < kT && token + t < chunk_end; ++t) {
          const int32_t act_sum = a.scales[token + t].sum;
          StoreOutputs4(a, token + t, row,
                        hn::Sub(sums[t], hn::Set(d128, act_sum)), n_rows);
        }
      }
    }
  }
}
#endif  // TERNARY_HAVE_VNNI
#endif  // TERNARY_HAVE_X86_DOT

}  // namespace i2s

template <>
struct Kernel<quant::I2S> {
  static void Prepare(const PrepareArgs& a) noexcept {
    const size_t row_bytes = quant::I2S::PaddedCols(a.cols) / 4;
#if TERNARY_HAVE_X86_DOT
    const hn::ScalableTag<uint8_t> du8;
    const size_t L = hn::Lanes(du8);
#else
    const size_t L = 32;  // natural order
#endif
    const size_t full = row_bytes / L * L;
    for (size_t t = 0; t < a.n_tokens; ++t) {
      const int8_t* q = a.q + t * a.q_stride;
      int8_t* out = a.out + t * a.out_stride;
      if (L == 32) {
        std::memcpy(out, q, 4 * row_bytes);
      } else {
        i2s::PermuteActs(q, 0, full, L, out);
        i2s::PermuteActs(q, full, row_bytes, L / 2, out + 4 * full);
      }
    }
  }

  static void Rows(const MatMulArgs& a, size_t row_begin,
                   size_t row_end) noexcept {
#if TERNARY_HAVE_X86_DOT
    size_t t = 0;
#if TERNARY_HAVE_VNNI
    if (a.n_tokens >= 2) {
      // Up to kDecodeBatch tokens (a batch of decoded sequences; their
      // activations, ≤ 16·K bytes, stay in L2) in one chunk: the weights
      // are read once. Beyond that, prefill's token-block order.
      constexpr size_t kDecodeBatch = 16;
      i2s::PlaneGemm<4, 5>(a, row_begin, row_end,
                           a.n_tokens <= kDecodeBatch ? a.n_tokens : 5);
      return;
    }
#endif
    if (a.n_tokens >= 4) {
      // GEMM: each unpacked weight vector feeds 4 tokens × 2 rows.
      for (; t + 4 <= a.n_tokens; t += 4) {
        size_t r = row_begin;
        for (; r + 2 <= row_end; r += 2) i2s::OutputTile<2, 4, 1>(a, r, t);
        for (; r < row_end; ++r) i2s::OutputTile<1, 4, 1>(a, r, t);
      }
    }
    for (; t < a.n_tokens; ++t) i2s::GemvRows(a, row_begin, row_end, t);
#else
    const size_t row_bytes = quant::I2S::PaddedCols(a.cols) / 4;
    for (size_t t = 0; t < a.n_tokens; ++t) {
      for (size_t r = row_begin; r < row_end; ++r) {
#if TERNARY_HAVE_ARM_SIMD
        const int32_t s = i2s::DotWiden(a.weights + r * row_bytes,
                                        a.acts + t * a.act_stride, row_bytes);
#else
        const int32_t s = i2s::DotScalar(a.weights + r * row_bytes,
                                         a.acts + t * a.act_stride, row_bytes);
#endif
        StoreOutput(a, t, r, s - a.scales[t].sum);
      }
    }
#endif
  }
};

}  // namespace ternary::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // per-target guard
