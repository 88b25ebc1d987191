// What the running CPU is and which of its SIMD features matter to ternary's
// kernels: reported by `ternary info`, recorded by `ternary bench --json`.
// Highway decides which targets run (hwy::SupportedTargets); this header
// only describes the machine, for people and benchmark records.
#ifndef TERNARY_SIMD_CPU_H_
#define TERNARY_SIMD_CPU_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define TERNARY_CPU_X86 1
#else
#define TERNARY_CPU_X86 0
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace ternary::simd {

struct CpuInfo {
  std::string vendor;  // "AuthenticAMD", "GenuineIntel", "arm64", ...
  std::string brand;   // the CPU's own name string, where it has one
  int family = 0;      // x86 display family and model (as lscpu prints)
  int model = 0;
  // Vendor microarchitecture where the family tells it ("Zen 4"), else "".
  std::string microarchitecture;
  // The features ternary's targets care about, each with whether the CPU
  // reports it, in a fixed order (so that records compare line by line).
  std::vector<std::pair<std::string, bool>> features;

  bool Has(const std::string& name) const {
    for (const auto& [n, on] : features) {
      if (n == name) return on;
    }
    return false;
  }
  // "avx2 avx512f ... (no avx_vnni)": present features, then absent ones.
  std::string FeatureLine() const {
    std::string yes, no;
    for (const auto& [n, on] : features) {
      std::string& s = on ? yes : no;
      s += (s.empty() ? "" : " ") + n;
    }
    return no.empty() ? yes : yes + " (no " + no + ")";
  }
};

namespace detail {

#if TERNARY_CPU_X86
struct CpuidRegs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};
inline CpuidRegs Cpuid(unsigned leaf, unsigned sub = 0) {
  CpuidRegs r;
  if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) return r;
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}
inline bool Bit(unsigned reg, int bit) { return (reg >> bit) & 1u; }

// AMD's family numbers (Software Optimization Guides): 0x17 Zen/Zen 2,
// 0x19 Zen 3 and Zen 4 (the latter with AVX-512, which it executes as two
// 256-bit halves), 0x1A Zen 5.
inline std::string AmdMicroarchitecture(int family, bool avx512) {
  switch (family) {
    case 0x17:
      return "Zen/Zen 2";
    case 0x19:
      return avx512 ? "Zen 4" : "Zen 3";
    case 0x1A:
      return "Zen 5";
    default:
      return "";
  }
}
#endif

}  // namespace detail

inline CpuInfo DetectCpu() {
  CpuInfo info;
#if TERNARY_CPU_X86
  using detail::Bit;
  using detail::Cpuid;
  const detail::CpuidRegs v = Cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor, &v.b, 4);
  std::memcpy(vendor + 4, &v.d, 4);
  std::memcpy(vendor + 8, &v.c, 4);
  info.vendor = vendor;
  if (Cpuid(0x80000000u).a >= 0x80000004u) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      const detail::CpuidRegs r = Cpuid(0x80000002u + i);
      std::memcpy(brand + 16 * i, &r, 16);
    }
    info.brand = brand;
    const size_t first = info.brand.find_first_not_of(' ');
    const size_t last = info.brand.find_last_not_of(' ');
    info.brand = first == std::string::npos
                     ? ""
                     : info.brand.substr(first, last - first + 1);
  }
  const detail::CpuidRegs l1 = Cpuid(1);
  const int base_family = (l1.a >> 8) & 0xF;
  info.family =
      base_family == 0xF ? base_family + ((l1.a >> 20) & 0xFF) : base_family;
  info.model = (l1.a >> 4) & 0xF;
  if (base_family == 0x6 || base_family == 0xF) {
    info.model |= ((l1.a >> 16) & 0xF) << 4;
  }
  const detail::CpuidRegs l7 = Cpuid(7, 0), l71 = Cpuid(7, 1);
  info.features = {
      {"ssse3", Bit(l1.c, 9)},
      {"sse4.2", Bit(l1.c, 20)},
      {"avx2", Bit(l7.b, 5)},
      {"fma", Bit(l1.c, 12)},
      {"avx512f", Bit(l7.b, 16)},
      {"avx512bw", Bit(l7.b, 30)},
      {"avx512vl", Bit(l7.b, 31)},
      {"avx512dq", Bit(l7.b, 17)},
      {"avx512vnni", Bit(l7.c, 11)},
      {"avx512vbmi", Bit(l7.c, 1)},
      {"avx512vbmi2", Bit(l7.c, 6)},
      {"avx512bitalg", Bit(l7.c, 12)},
      {"avx512vpopcntdq", Bit(l7.c, 14)},
      {"vpclmulqdq", Bit(l7.c, 10)},
      {"vaes", Bit(l7.c, 9)},
      {"gfni", Bit(l7.c, 8)},
      {"avx512bf16", Bit(l71.a, 5)},
      {"avx_vnni", Bit(l71.a, 4)},
  };
  if (info.vendor == "AuthenticAMD") {
    info.microarchitecture =
        detail::AmdMicroarchitecture(info.family, info.Has("avx512f"));
  }
#elif defined(__aarch64__)
  info.vendor = "arm64";
#if defined(__linux__)
  // Linux's hwcap bits (arch/arm64/include/uapi/asm/hwcap.h).
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  info.features = {
      {"asimd", ((hw >> 1) & 1) != 0},  {"asimddp", ((hw >> 20) & 1) != 0},
      {"sve", ((hw >> 22) & 1) != 0},   {"sve2", ((hw2 >> 1) & 1) != 0},
      {"i8mm", ((hw2 >> 13) & 1) != 0},
  };
#endif
#endif
  return info;
}

}  // namespace ternary::simd

#endif  // TERNARY_SIMD_CPU_H_
