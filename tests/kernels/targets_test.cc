// The Highway targets the kernel tests run on (test::ForEachTarget), printed
// for CI logs; with TERNARY_EXPECT_TARGETS=NEON,SVE,... (a comma-separated
// list of hwy::TargetName) it fails unless each of them runs, so an emulator
// or compiler change cannot silently drop a target.
#include <doctest/doctest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include "test_util.h"

namespace ternary {
namespace {

TEST_CASE("Highway targets under test") {
  std::set<std::string> names;
  std::string list;
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) {
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

}  // namespace
}  // namespace ternary
