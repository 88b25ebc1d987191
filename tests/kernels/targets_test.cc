// The Highway targets the kernel tests run on (test::ForEachTarget), printed
// for CI logs; with TERNARY_EXPECT_TARGETS=NEON,SVE,... (a comma-separated
// list of hwy::TargetName) it fails unless each of them runs, so an emulator
// or compiler change cannot silently drop a target.
#include "ternary/simd/targets.h"

#include <doctest/doctest.h>
#include <hwy/targets.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ternary/kernels/matmul.h"
#include "ternary/util/error.h"
#include "test_util.h"

namespace ternary {
namespace {

TEST_CASE("Highway targets under test") {
  std::set<std::string> names;
  std::string list;
  for (int64_t t : simd::RunnableTargets()) {
    names.insert(hwy::TargetName(t));
    if (!list.empty()) list += ',';
    list += hwy::TargetName(t);
  }
  MESSAGE("targets: " << list);
  CHECK(!names.empty());
  if (const char* expect = std::getenv("TERNARY_EXPECT_TARGETS")) {
    std::istringstream in(expect);
    for (std::string name; std::getline(in, name, ',');) {
      INFO("expected target " << name << ", ran " << list);
      CHECK(names.count(name) == 1);
    }
  }
}

// The run-time switch behind TERNARY_SIMD and --simd (simd/targets.h).
TEST_CASE("SetMaxTarget caps dispatch at each runnable target") {
  const std::vector<int64_t> runnable = simd::RunnableTargets();
  REQUIRE(!runnable.empty());
  CHECK(runnable.back() == simd::kFallbackTarget);
  const int64_t best = simd::ActiveTarget();
  CHECK(best == runnable.front());
  CHECK(DispatchedTarget() == best);
  for (int64_t t : runnable) {
    const std::string name = simd::TargetName(t);
    CAPTURE(name);
    simd::SetMaxTarget(name);
    CHECK(simd::ActiveTarget() == t);
    CHECK(DispatchedTarget() == t);  // the tables follow the switch
    // Upper case and Highway's own fallback name are accepted too.
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(std::toupper(c));
    simd::SetMaxTarget(upper);
    CHECK(DispatchedTarget() == t);
  }
  if ((simd::kFallbackTarget & (HWY_EMU128 | HWY_SCALAR)) != 0) {  // not Arm
    simd::SetMaxTarget("emu128");
    CHECK(DispatchedTarget() == simd::kFallbackTarget);
  }
  simd::ResetMaxTarget();
  CHECK(DispatchedTarget() == best);
  {
    simd::ScopedMaxTarget cap(runnable.back());
    CHECK(DispatchedTarget() == runnable.back());
  }
  CHECK(DispatchedTarget() == best);
}

TEST_CASE("SetMaxTarget: bad names are usage errors that say what exists") {
  auto message = [](std::string_view name) {
    try {
      simd::SetMaxTarget(name);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string unknown = message("avx9000");
  CHECK(unknown.find("'avx9000': unknown SIMD target; this build has ") !=
        std::string::npos);
  CHECK(unknown.find(simd::TargetName(simd::kFallbackTarget)) !=
        std::string::npos);
  CHECK(message("").find("unknown SIMD target") != std::string::npos);
#if HWY_ARCH_X86
  CHECK(message("neon").find("'neon': that SIMD target is not compiled into "
                             "this build; it has ") != std::string::npos);
#else
  CHECK(message("avx2").find("not compiled into this build") !=
        std::string::npos);
#endif
  // A target the CPU lacks: Highway's mock makes this CPU the fallback only.
  const int64_t best = simd::RunnableTargets().front();
  if (best != simd::kFallbackTarget) {
    hwy::SetSupportedTargetsForTest(simd::kFallbackTarget);
    const std::string lacking = message(simd::TargetName(best));
    hwy::SetSupportedTargetsForTest(0);
    CHECK(lacking.find("this CPU cannot run that SIMD target; it runs " +
                       simd::TargetName(simd::kFallbackTarget)) !=
          std::string::npos);
  }
  // A failed call changes nothing.
  CHECK(DispatchedTarget() == best);
}

}  // namespace
}  // namespace ternary
