// The run-time names of the model policies ("i2s"/"tl1"/"tl2" × "a8"/"a4")
// mapped to Policy types, for programs that choose them from options.
#ifndef TERNARY_RUNTIME_POLICY_NAMES_H_
#define TERNARY_RUNTIME_POLICY_NAMES_H_

#include <string>
#include <string_view>

#include "ternary/model/policy.h"
#include "ternary/quant/activation.h"
#include "ternary/quant/i2s.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "ternary/util/error.h"

namespace ternary {

inline constexpr std::string_view kPackingNames = "i2s, tl1, tl2";
inline constexpr std::string_view kActNames = "a8, a4";

// Calls fn(Policy<Format, Act>{}) for the named packing and activation
// policy and returns its result; UsageError for other names. Each call site
// instantiates fn for all six policies.
template <class Fn>
auto WithPolicy(std::string_view packing, std::string_view act, Fn&& fn) {
  if (act != "a8" && act != "a4") {
    throw UsageError("--act must be a8 or a4, got '" + std::string(act) + "'");
  }
  auto with_act = [&]<class Format>(Format) {
    if (act == "a4") return fn(Policy<Format, quant::A4>{});
    return fn(Policy<Format, quant::A8>{});
  };
  if (packing == "i2s") return with_act(quant::I2S{});
  if (packing == "tl1") return with_act(quant::TL1{});
  if (packing == "tl2") return with_act(quant::TL2{});
  throw UsageError(
      "--packing '" + std::string(packing) +
      "' is not available; this build has: " + std::string(kPackingNames));
}

}  // namespace ternary

#endif  // TERNARY_RUNTIME_POLICY_NAMES_H_
