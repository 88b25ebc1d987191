// The run-time SIMD switch: which Highway target ternary's kernels run on.
//
// By default dispatch picks the best target that is compiled in and that the
// CPU supports. The environment variable TERNARY_SIMD (read once, at the
// first kernel call) or SetMaxTarget() caps it: "avx2" means "at most AVX2",
// in the spirit of oneDNN's ONEDNN_MAX_CPU_ISA. Names are Highway's target
// names in lower case (ssse3, sse4, avx2, avx3, avx3_dl; neon, sve, sve2,
// sve_256, sve2_128) and "scalar" for the portable fallback (EMU128). A name
// this build lacks or this CPU cannot run is a UsageError, never a crash.
//
// The choice is ternary's own (a hwy::ChosenTarget of its own), so it does
// not disturb other Highway users in the process, and Highway's own
// HWY_DYNAMIC_DISPATCH calls do not change it. Changing it while another
// thread runs a kernel is a data race on which target runs, not on memory:
// call it before starting work (tests, the CLI's --simd).
#ifndef TERNARY_SIMD_TARGETS_H_
#define TERNARY_SIMD_TARGETS_H_

// Not hwy/highway.h: a translation unit must include that only after
// the foreach_target pass (kernels/dispatch.h).
#include <hwy/targets.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ternary/util/error.h"

namespace ternary::simd {

// The environment variable that caps the target.
inline constexpr const char* kSimdEnv = "TERNARY_SIMD";

// The table entry Highway uses when no compiled target is allowed: EMU128 or
// SCALAR where compiled in (plain C++, which the kernels run as their scalar
// reference), else the static target (builds with -DHWY_COMPILE_ONLY_STATIC).
inline constexpr int64_t kFallbackTarget =
    (HWY_TARGETS & HWY_EMU128)   ? HWY_EMU128
    : (HWY_TARGETS & HWY_SCALAR) ? HWY_SCALAR
                                 : HWY_STATIC_TARGET;

// "avx3_dl", "scalar" (for EMU128 and SCALAR), ...
inline std::string TargetName(int64_t target) {
  if (target == HWY_EMU128 || target == HWY_SCALAR) return "scalar";
  std::string s = hwy::TargetName(target);
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

// Every target compiled into this build (HWY_TARGETS), best first.
inline std::vector<int64_t> CompiledTargets() {
  std::vector<int64_t> out;
  for (int64_t t = HWY_TARGETS | kFallbackTarget; t != 0; t &= t - 1) {
    out.push_back(t & -t);
  }
  return out;
}

// The compiled targets this CPU can run, best first (the fallback last).
// Highway's SetSupportedTargetsForTest mock, if any, also applies.
inline std::vector<int64_t> RunnableTargets() {
  std::vector<int64_t> out;
  const int64_t runnable =
      (hwy::SupportedTargets() & HWY_TARGETS) | kFallbackTarget;
  for (int64_t t = runnable; t != 0; t &= t - 1) out.push_back(t & -t);
  return out;
}

namespace detail {

inline std::string NameList(const std::vector<int64_t>& targets) {
  std::string s;
  for (int64_t t : targets) {
    if (!s.empty()) s += ", ";
    s += TargetName(t);
  }
  return s;
}

// Every name Highway 1.0.3 has on any architecture, so that "neon" on x86 is
// "not in this build" rather than "unknown".
inline bool IsKnownTargetName(std::string_view name) {
  constexpr std::string_view kNames[] = {
      "scalar",  "emu128", "ssse3",       "sse4", "avx2",    "avx3",
      "avx3_dl", "neon",   "sve",         "sve2", "sve_256", "sve2_128",
      "ppc8",    "wasm",   "wasm_emu256", "rvv"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}

// The target named `name`, validated against this build and this CPU;
// errors start with `what` (where the name came from).
inline int64_t ParseTarget(std::string_view name, const std::string& what) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  if (lower == "emu128") lower = "scalar";
  for (int64_t t : CompiledTargets()) {
    if (TargetName(t) != lower) continue;
    for (int64_t r : RunnableTargets()) {
      if (r == t) return t;
    }
    throw UsageError(what + ": this CPU cannot run that SIMD target; it runs " +
                     NameList(RunnableTargets()));
  }
  if (IsKnownTargetName(lower)) {
    throw UsageError(what + ": that SIMD target is not compiled into this " +
                     "build; it has " + NameList(CompiledTargets()));
  }
  throw UsageError(what + ": unknown SIMD target; this build has " +
                   NameList(CompiledTargets()));
}

// The targets allowed under a cap: the cap and every lesser one (Highway's
// target bits grow as targets get weaker, on every architecture).
inline int64_t AllowedUnder(int64_t cap) {
  return (hwy::SupportedTargets() & HWY_TARGETS) & ~(cap - 1);
}

// ternary's dispatch state: Highway's table-index logic over the allowed
// targets, and the target that index selects.
class TargetChoice {
 public:
  // Reads TERNARY_SIMD; throws UsageError if it is set to a bad name (the
  // next call tries again, so every use reports the error).
  TargetChoice() {
    const char* env = std::getenv(kSimdEnv);
    if (env != nullptr && *env != '\0') {
      Cap(ParseTarget(env, std::string(kSimdEnv) + "=" + env));
    } else {
      Cap(0);
    }
  }

  // Caps dispatch at `cap` (a runnable target), or none when 0.
  void Cap(int64_t cap) {
    const int64_t allowed =
        cap == 0 ? hwy::SupportedTargets() & HWY_TARGETS : AllowedUnder(cap);
    chosen_.Update(allowed);
    const int64_t best = allowed & -allowed;
    active_.store(best != 0 ? best : kFallbackTarget);
  }

  const hwy::ChosenTarget& chosen() const { return chosen_; }
  int64_t active() const { return active_.load(); }

 private:
  hwy::ChosenTarget chosen_;
  std::atomic<int64_t> active_{0};
};

inline TargetChoice& Choice() {
  static TargetChoice choice;
  return choice;
}

}  // namespace detail

// The target the kernels run on now. Throws UsageError if TERNARY_SIMD names
// a target this build lacks or this CPU cannot run: call it early (Model
// loading and the CLI do) to report a bad setting before any work starts.
inline int64_t ActiveTarget() { return detail::Choice().active(); }

// Caps dispatch at the target `name` (see the file comment); UsageError for
// a name this build lacks or this CPU cannot run. Overrides TERNARY_SIMD.
inline void SetMaxTarget(std::string_view name) {
  const int64_t t =
      detail::ParseTarget(name, "SIMD target '" + std::string(name) + "'");
  detail::Choice().Cap(t);
}

// Caps dispatch at `target`, one of RunnableTargets() (the tests' loop).
inline void SetMaxTarget(int64_t target) {
  for (int64_t r : RunnableTargets()) {
    if (r == target) {
      detail::Choice().Cap(target);
      return;
    }
  }
  throw UsageError("SimdTarget: " + TargetName(target) +
                   " is not a target this build and CPU run");
}

// Back to the best target (TERNARY_SIMD is not read again).
inline void ResetMaxTarget() { detail::Choice().Cap(0); }

// Runs the scope under a cap, then restores the previous target.
class ScopedMaxTarget {
 public:
  explicit ScopedMaxTarget(int64_t target) : previous_(ActiveTarget()) {
    SetMaxTarget(target);
  }
  ~ScopedMaxTarget() { detail::Choice().Cap(previous_); }
  ScopedMaxTarget(const ScopedMaxTarget&) = delete;
  ScopedMaxTarget& operator=(const ScopedMaxTarget&) = delete;

 private:
  int64_t previous_;
};

}  // namespace ternary::simd

#endif  // TERNARY_SIMD_TARGETS_H_
