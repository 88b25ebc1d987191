// Functions that use instructions their target does not allow, one class of
// mistake each; isa_audit.py must flag every one. Each "// EXPECT: <regex>"
// line must match a line of its output, each "// FORBID: <regex>" none;
// "// EXIT: <n>" is its exit status (tests/audit/expect_violations.py).
// The program is only disassembled, never run.
//
// (Each expectation below stays on one line: clang-format is off there.)
// clang-format off
// EXIT: 1
// The shipped bug: VEX-encoded vpdpbusd (AVX-VNNI) in AVX3_DL code, which
// Zen 4 and Ice Lake (AVX512-VNNI only) do not decode.
// EXPECT: ternary::N_AVX3_DL::Avx3DlUsesVexVnni\(.*\(AVX3_DL\): [0-9a-f]+ .*vpdpbusd .*-- needs VEX-encoded VNNI.*\[VEX c4
// EXPECT: ternary::BaselineUsesAvx\(.*\(baseline\): .*-- needs a VEX encoding
// EXPECT: ternary::BaselineUsesSse41\(.*\(baseline\): .*pmulld.*-- needs SSE4\.1
// A template argument's namespace is not the function's target.
// EXPECT: void plain::Widen<ternary::N_AVX3::Tag>\(.*\(baseline\): .*-- needs a VEX encoding
// EXPECT: ternary::N_SSE4::Sse4UsesBmi2\(.*\(SSE4\): .*pdep.*-- needs BMI2
// EXPECT: ternary::N_AVX2::Avx2UsesEvex\(.*\(AVX2\): .*%zmm.*-- needs AVX-512.*\[EVEX 62
// EXPECT: ternary::N_AVX3::Avx3UsesVnni\(.*\(AVX3\): .*vpdpbusd .*%zmm.*-- needs AVX512-VNNI
// EXPECT: ternary::N_AVX3::Avx3UsesVbmi\(.*\(AVX3\): .*vperm[it]2b .*-- needs AVX512-VBMI
// EXPECT: ^isa_audit: .*SSE4=.*AVX2=.*AVX3=.*AVX3_DL=.*; [0-9]+ violation\(s\) in 8 function\(s\)
// FORBID: Innocent
// clang-format on
#include <immintrin.h>

#include <cstdint>

namespace ternary {
struct Tag0 {};

// Baseline (x86-64, SSE2) code with AVX2 in it.
__attribute__((noinline, target("avx2"))) void BaselineUsesAvx(const int* a,
                                                               const int* b,
                                                               int* out) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_mullo_epi32(x, y));
}

// Baseline code with an SSE4.1 instruction (legacy encoding).
__attribute__((noinline, target("sse4.1"))) void BaselineUsesSse41(const int* a,
                                                                   const int* b,
                                                                   int* out) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_mullo_epi32(x, y));
}

// Legal baseline code: must not be reported.
__attribute__((noinline)) void InnocentBaseline(const int* a, int* out) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_add_epi32(x, x));
}

namespace N_AVX3 {
struct Tag {};
}  // namespace N_AVX3
}  // namespace ternary

namespace plain {
// Outside every target namespace, whatever its template argument says.
template <class T>
__attribute__((noinline, target("avx2"))) void Widen(const int* a, int* out) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                      _mm256_mullo_epi32(x, x));
}
}  // namespace plain

namespace ternary {
namespace N_SSE4 {
// BMI2 is not part of SSE4.
__attribute__((noinline, target("sse4.2,bmi2"))) uint64_t Sse4UsesBmi2(
    uint64_t x, uint64_t mask) {
  return _pdep_u64(x, mask);
}
}  // namespace N_SSE4

namespace N_AVX2 {
// AVX-512 (EVEX, zmm) in AVX2 code.
__attribute__((noinline, target("avx2,avx512f"))) void Avx2UsesEvex(
    const int* a, int* out) {
  const __m512i x = _mm512_loadu_si512(a);
  _mm512_storeu_si512(out, _mm512_add_epi32(x, x));
}

// Legal AVX2 code: must not be reported.
__attribute__((noinline, target("avx2,fma"))) void InnocentAvx2(const float* a,
                                                                float* out) {
  const __m256 x = _mm256_loadu_ps(a);
  _mm256_storeu_ps(out, _mm256_fmadd_ps(x, x, x));
}
}  // namespace N_AVX2

namespace N_AVX3 {
// VNNI (512-bit, EVEX) is AVX3_DL, not AVX3.
__attribute__((noinline, target("avx512f,avx512bw,avx512vnni"))) void
Avx3UsesVnni(const void* a, const void* b, int* acc) {
  const __m512i va = _mm512_loadu_si512(a);
  const __m512i vb = _mm512_loadu_si512(b);
  const __m512i sum = _mm512_loadu_si512(acc);
  _mm512_storeu_si512(acc, _mm512_dpbusd_epi32(sum, va, vb));
}

// VBMI (vpermt2b/vpermi2b) is AVX3_DL, not AVX3.
__attribute__((noinline, target("avx512f,avx512bw,avx512vbmi"))) void
Avx3UsesVbmi(const void* idx, const void* table, void* out) {
  const __m512i i = _mm512_loadu_si512(idx);
  const __m512i t = _mm512_loadu_si512(table);
  _mm512_storeu_si512(out, _mm512_permutex2var_epi8(t, i, t));
}
}  // namespace N_AVX3

namespace N_AVX3_DL {
// What Highway 1.0.3's "avxvnni" in the AVX3_DL target string let GCC emit.
// Inline asm keeps the encoding independent of the compiler's choice.
__attribute__((noinline, target("avx512f,avx512vl,avx512vnni"))) void
Avx3DlUsesVexVnni() {
  // %{ %} are literal braces in extended asm ({ } select asm dialects).
  asm volatile("%{vex%} vpdpbusd %%ymm2, %%ymm1, %%ymm0" ::
                   : "xmm0", "xmm1", "xmm2");
}
}  // namespace N_AVX3_DL
}  // namespace ternary

// Referenced, so that nothing is discarded.
using Fn = void (*)();
volatile Fn g_keep[] = {
    reinterpret_cast<Fn>(&ternary::BaselineUsesAvx),
    reinterpret_cast<Fn>(&ternary::BaselineUsesSse41),
    reinterpret_cast<Fn>(&ternary::InnocentBaseline),
    reinterpret_cast<Fn>(&plain::Widen<ternary::N_AVX3::Tag>),
    reinterpret_cast<Fn>(&ternary::N_SSE4::Sse4UsesBmi2),
    reinterpret_cast<Fn>(&ternary::N_AVX2::Avx2UsesEvex),
    reinterpret_cast<Fn>(&ternary::N_AVX2::InnocentAvx2),
    reinterpret_cast<Fn>(&ternary::N_AVX3::Avx3UsesVnni),
    reinterpret_cast<Fn>(&ternary::N_AVX3::Avx3UsesVbmi),
    &ternary::N_AVX3_DL::Avx3DlUsesVexVnni,
};

int main() { return g_keep[0] == nullptr; }
