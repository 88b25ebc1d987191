// The counterpart of bad_isa.cc: the same namespaces, each function using
// only what its target allows (including what is easy to get wrong: EVEX
// vpdpbusd on ymm in AVX3_DL, mask registers in AVX3, BMI2/FMA/F16C in AVX2,
// a lambda inside a target namespace, a baseline template instantiated with
// a target-namespace type). isa_audit.py must pass it, which proves that the
// audit does not fail on everything. The program is only disassembled.
//
// (Each expectation below stays on one line: clang-format is off there.)
// clang-format off
// EXIT: 0
// EXPECT: ^isa_audit: .* SSE4=[1-9].* AVX2=[1-9].* AVX3=[1-9].* AVX3_DL=[1-9].*; 0 violation\(s\)
// FORBID: -- needs
// clang-format on
#include <immintrin.h>

#include <cstdint>

namespace ternary {
// Baseline: SSE2 only.
__attribute__((noinline)) void BaselineSse2(const int* a, int* out) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_add_epi32(x, x));
}

namespace N_AVX2 {
struct Tag {};
}  // namespace N_AVX2
}  // namespace ternary

namespace plain {
// Baseline code although its template argument is in N_AVX2.
template <class T>
__attribute__((noinline)) void Twice(const int* a, int* out) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_slli_epi32(x, 1));
}
}  // namespace plain

namespace ternary {
namespace N_SSSE3 {
__attribute__((noinline, target("ssse3"))) void Shuffle(const void* a,
                                                        const void* idx,
                                                        void* out) {
  const __m128i x = _mm_loadu_si128(static_cast<const __m128i*>(a));
  const __m128i i = _mm_loadu_si128(static_cast<const __m128i*>(idx));
  _mm_storeu_si128(static_cast<__m128i*>(out), _mm_shuffle_epi8(x, i));
}
}  // namespace N_SSSE3

namespace N_SSE4 {
__attribute__((noinline, target("sse4.2,popcnt,pclmul"))) uint64_t Mixed(
    const int* a, int* out, uint64_t bits) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_mullo_epi32(x, x));
  const __m128i c = _mm_clmulepi64_si128(x, x, 0);
  return static_cast<uint64_t>(_mm_popcnt_u64(bits)) +
         static_cast<uint64_t>(_mm_cvtsi128_si64(c));
}
}  // namespace N_SSE4

namespace N_AVX2 {
__attribute__((noinline, target("avx2,fma,bmi,bmi2,f16c,lzcnt"))) uint64_t
Mixed(const float* a, float* out, uint64_t x, uint64_t mask) {
  const __m256 v = _mm256_loadu_ps(a);
  _mm256_storeu_ps(out, _mm256_fmadd_ps(v, v, v));
  const __m128i h = _mm256_cvtps_ph(v, 0);
  _mm256_storeu_ps(out + 8, _mm256_cvtph_ps(h));
  plain::Twice<Tag>(reinterpret_cast<const int*>(a),
                    reinterpret_cast<int*>(out) + 16);
  return _pdep_u64(x, mask) + _lzcnt_u64(x) + _blsr_u64(mask);
}

// A lambda inside a target function is that target's code. Called through
// a pointer so that it stays a function of its own.
__attribute__((noinline, target("avx2"))) void CallsLambda(const int* a,
                                                           int* out) {
  void (*volatile fn)(const int*, int*) =
      [](const int* p, int* q) __attribute__((target("avx2"))) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q),
                        _mm256_mullo_epi32(v, v));
  };
  fn(a, out);
}
}  // namespace N_AVX2

namespace N_AVX3 {
__attribute__((noinline, target("avx512f,avx512vl,avx512dq,avx512bw"))) void
Masked(const int* a, int* out, unsigned n) {
  const __mmask16 m = static_cast<__mmask16>((1u << (n & 15)) - 1);
  const __m512i x = _mm512_maskz_loadu_epi32(m, a);
  _mm512_mask_storeu_epi32(out, m, _mm512_add_epi32(x, x));
  const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16),
                      _mm256_abs_epi64(y));
}
}  // namespace N_AVX3

namespace N_AVX3_DL {
// EVEX vpdpbusd on ymm: what AVX3_DL code must use. The asm fixes the
// encoding; the intrinsics get EVEX because avxvnni is not enabled.
__attribute__((noinline, target("avx512f,avx512vl,avx512vnni"))) void
EvexVnni() {
  // %{ %} are literal braces in extended asm ({ } select asm dialects).
  asm volatile("%{evex%} vpdpbusd %%ymm2, %%ymm1, %%ymm0" ::
                   : "xmm0", "xmm1", "xmm2");
}

__attribute__((noinline, target("avx512f,avx512vl,avx512dq,avx512bw,avx512vnni,"
                                "avx512vbmi,avx512bitalg,avx512vpopcntdq,vaes,"
                                "vpclmulqdq"))) void
Mixed(const void* a, const void* b, int* acc, void* out) {
  const __m512i va = _mm512_loadu_si512(a);
  const __m512i vb = _mm512_loadu_si512(b);
  _mm512_storeu_si512(acc,
                      _mm512_dpbusd_epi32(_mm512_loadu_si512(acc), va, vb));
  const __m256i ha = _mm256_loadu_si256(static_cast<const __m256i*>(a));
  const __m256i hb = _mm256_loadu_si256(static_cast<const __m256i*>(b));
  const __m256i hacc = _mm256_loadu_si256(reinterpret_cast<__m256i*>(acc));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc) + 2,
                      _mm256_dpbusd_epi32(hacc, ha, hb));
  char* o = static_cast<char*>(out);
  _mm512_storeu_si512(o, _mm512_permutex2var_epi8(va, vb, va));
  _mm512_storeu_si512(o + 64, _mm512_popcnt_epi8(va));
  _mm512_storeu_si512(o + 128, _mm512_popcnt_epi32(vb));
  _mm512_storeu_si512(o + 256, _mm512_aesenc_epi128(va, vb));
  _mm512_storeu_si512(o + 320, _mm512_clmulepi64_epi128(va, vb, 0));
}
}  // namespace N_AVX3_DL

// Highway compiles these with the baseline flags.
namespace N_SCALAR {
__attribute__((noinline)) int Sum(const int* a, int n) {
  int s = 0;
  for (int i = 0; i < n; ++i) s += a[i];
  return s;
}
}  // namespace N_SCALAR
}  // namespace ternary

// Referenced, so that nothing is discarded.
using Fn = void (*)();
volatile Fn g_keep[] = {
    reinterpret_cast<Fn>(&ternary::BaselineSse2),
    reinterpret_cast<Fn>(&ternary::N_SSSE3::Shuffle),
    reinterpret_cast<Fn>(&ternary::N_SSE4::Mixed),
    reinterpret_cast<Fn>(&ternary::N_AVX2::Mixed),
    reinterpret_cast<Fn>(&ternary::N_AVX2::CallsLambda),
    reinterpret_cast<Fn>(&ternary::N_AVX3::Masked),
    &ternary::N_AVX3_DL::EvexVnni,
    reinterpret_cast<Fn>(&ternary::N_AVX3_DL::Mixed),
    reinterpret_cast<Fn>(&ternary::N_SCALAR::Sum),
};

int main() { return g_keep[0] == nullptr; }
