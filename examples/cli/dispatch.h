// Maps the --packing / --act strings of the CLI to Model policy types.
#ifndef TERNARY_EXAMPLES_CLI_DISPATCH_H_
#define TERNARY_EXAMPLES_CLI_DISPATCH_H_

#include <string>
#include <utility>

#include "ternary/model/policy.h"
#include "ternary/quant/activation.h"
#include "ternary/quant/i2s.h"
#include "ternary/util/error.h"
#if __has_include("ternary/quant/tl1.h") && \
                  __has_include("ternary/kernels/tl1-inl.h")
#include "ternary/quant/tl1.h"
#define TERNARY_CLI_HAVE_TL1 1
#endif
#if __has_include("ternary/quant/tl2.h") && \
                  __has_include("ternary/kernels/tl2-inl.h")
#include "ternary/quant/tl2.h"
#define TERNARY_CLI_HAVE_TL2 1
#endif

namespace ternary::cli {

inline constexpr const char* kPackings =
    "i2s"
#ifdef TERNARY_CLI_HAVE_TL1
    ", tl1"
#endif
#ifdef TERNARY_CLI_HAVE_TL2
    ", tl2"
#endif
    ;

template <class Format, class Fn>
auto WithAct(const std::string& act, Fn&& fn) {
  if (act == "a8") return fn(Policy<Format, quant::A8>{});
  if (act == "a4") return fn(Policy<Format, quant::A4>{});
  throw UsageError("--act must be a8 or a4, got '" + act + "'");
}

// Calls fn(Policy<Format, Act>{}) for the named packing and activation
// policy; UsageError for names this build does not have.
template <class Fn>
auto WithPolicy(const std::string& packing, const std::string& act, Fn&& fn) {
  if (act != "a8" && act != "a4") {
    throw UsageError("--act must be a8 or a4, got '" + act + "'");
  }
  if (packing == "i2s") return WithAct<quant::I2S>(act, fn);
#ifdef TERNARY_CLI_HAVE_TL1
  if (packing == "tl1") return WithAct<quant::TL1>(act, fn);
#endif
#ifdef TERNARY_CLI_HAVE_TL2
  if (packing == "tl2") return WithAct<quant::TL2>(act, fn);
#endif
  throw UsageError("--packing '" + packing +
                   "' is not available; this build has: " + kPackings);
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_DISPATCH_H_
