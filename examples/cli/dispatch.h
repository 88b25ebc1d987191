// Maps the --packing / --act strings of the CLI to Model policy types.
#ifndef TERNARY_EXAMPLES_CLI_DISPATCH_H_
#define TERNARY_EXAMPLES_CLI_DISPATCH_H_

#include <string>
#include <utility>

#include "ternary/model/policy.h"
#include "ternary/quant/activation.h"
#include "ternary/quant/i2s.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr const char* kPackings = "i2s, tl1, tl2";

template <class Format, class Fn>
auto WithAct(const std::string& act, Fn&& fn) {
  if (act == "a8") return fn(Policy<Format, quant::A8>{});
  if (act == "a4") return fn(Policy<Format, quant::A4>{});
  throw UsageError("--act must be a8 or a4, got '" + act + "'");
}

// Calls fn(Policy<Format, Act>{}) for the named packing and activation
// policy; UsageError for other names.
template <class Fn>
auto WithPolicy(const std::string& packing, const std::string& act, Fn&& fn) {
  if (act != "a8" && act != "a4") {
    throw UsageError("--act must be a8 or a4, got '" + act + "'");
  }
  if (packing == "i2s") return WithAct<quant::I2S>(act, fn);
  if (packing == "tl1") return WithAct<quant::TL1>(act, fn);
  if (packing == "tl2") return WithAct<quant::TL2>(act, fn);
  throw UsageError("--packing '" + packing +
                   "' is not available; this build has: " + kPackings);
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_DISPATCH_H_
