// Scalar reference of the TL1/TL2 lookup tables: the entry each table
// holds (the tests' oracle) and the scalar builders the kernels use for
// Prepare and for targets without byte shuffles.
#ifndef TERNARY_KERNELS_REF_LUT_TABLES_H_
#define TERNARY_KERNELS_REF_LUT_TABLES_H_

#include <cstddef>
#include <cstdint>

namespace ternary::ref {

// Activation i of a row of `cols` codes; 0 in the columns a format pads
// (which may lie past the row's own zero padding).
inline int ActAt(const int8_t* q, size_t cols, size_t i) noexcept {
  return i < cols ? q[i] : 0;
}

// The tables of one pair (a, b) = (q[2t], q[2t+1]): entry n < 9 is
// (n/3 − 1)·a + (n%3 − 1)·b (docs/numerics.md §6.2), entries 9..15 are 0.
// A8: |entry| ≤ 256 as int16, split into 16 low bytes and 16 high bytes; A4
// (|q| ≤ 8): |entry| ≤ 16, one int8 table.
inline int PairEntry(int a, int b, int n) noexcept {
  return n < 9 ? (n / 3 - 1) * a + (n % 3 - 1) * b : 0;
}
// The table of one triple (a, b, c) = (q[3u], q[3u+1], q[3u+2]) indexed by
// |v| (docs/numerics.md §6.3): entry k < 14 is d0·a + d1·b + d2·c for the
// balanced ternary digits of k = 9·d0 + 3·d1 + d2; |entry| ≤ 384 (A8),
// ≤ 24 (A4).
inline int TripleEntry(int a, int b, int c, int k) noexcept {
  if (k >= 14) return 0;
  const int d2 = (k + 1) % 3 - 1, k1 = (k - d2) / 3;
  const int d1 = (k1 + 1) % 3 - 1, d0 = (k1 - d1) / 3;
  return d0 * a + d1 * b + d2 * c;
}

inline void ScalarPairTableA8(int a, int b, uint8_t* lo, uint8_t* hi) noexcept {
  for (int n = 0; n < 16; ++n) {
    const int e = PairEntry(a, b, n);
    lo[n] = static_cast<uint8_t>(e & 0xFF);
    hi[n] = static_cast<uint8_t>((e >> 8) & 0xFF);
  }
}
inline void ScalarPairTableA4(int a, int b, uint8_t* t) noexcept {
  for (int n = 0; n < 16; ++n) t[n] = static_cast<uint8_t>(PairEntry(a, b, n));
}
inline void ScalarTripleTableA8(int a, int b, int c, uint8_t* lo,
                                uint8_t* hi) noexcept {
  for (int k = 0; k < 16; ++k) {
    const int e = TripleEntry(a, b, c, k);
    lo[k] = static_cast<uint8_t>(e & 0xFF);
    hi[k] = static_cast<uint8_t>((e >> 8) & 0xFF);
  }
}
inline void ScalarTripleTableA4(int a, int b, int c, uint8_t* t) noexcept {
  for (int k = 0; k < 16; ++k)
    t[k] = static_cast<uint8_t>(TripleEntry(a, b, c, k));
}

// Entry n of a table written by the builders above.
inline int TableEntryA8(const uint8_t* lo, const uint8_t* hi, int n) noexcept {
  return static_cast<int16_t>(static_cast<uint16_t>(lo[n] | hi[n] << 8));
}
inline int TableEntryA4(const uint8_t* t, int n) noexcept {
  return static_cast<int8_t>(t[n]);
}

}  // namespace ternary::ref

#endif  // TERNARY_KERNELS_REF_LUT_TABLES_H_
