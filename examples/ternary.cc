// `ternary`: the command-line front end. Subcommands live in cli/*.h; each
// parses its own options with cli::Args.
//
// Exit status: 0 success, 1 runtime error (bad file, I/O), 2 usage error.
#include <cstdio>
#include <exception>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string>
#include <string_view>

#include "cli/args.h"
#include "cli/bench.h"
#include "cli/chat.h"
#include "cli/convert.h"
#include "cli/generate.h"
#include "cli/info.h"
#include "cli/logits.h"
#include "cli/output.h"
#include "cli/perplexity.h"
#include "cli/serve.h"
#include "cli/tokenize.h"
#include "ternary/simd/targets.h"
#include "ternary/util/error.h"
#include "ternary/version.h"

namespace {

namespace cli = ternary::cli;

const cli::Command kCommands[] = {
    {"generate", cli::kGenerateUsage, &cli::RunGenerate, cli::GenerateHelp()},
    {"chat", cli::kChatUsage, &cli::RunChat, cli::ChatHelp()},
    {"serve", cli::kServeUsage, &cli::RunServe, cli::ServeHelp()},
    {"tokenize", cli::kTokenizeUsage, &cli::RunTokenize, cli::kTokenizeHelp},
    {"perplexity", cli::kPerplexityUsage, &cli::RunPerplexity,
     cli::PerplexityHelp()},
    {"bench", cli::kBenchUsage, &cli::RunBench, cli::BenchHelp()},
    {"info", cli::kInfoUsage, &cli::RunInfo, cli::InfoHelp()},
    {"logits", ternary::cli::kLogitsUsage, &ternary::cli::RunLogits},
    {"convert", ternary::cli::kConvertUsage, &ternary::cli::RunConvert,
     ternary::cli::kConvertHelp},
};

// Options every subcommand takes (parsed in main).
constexpr const char* kCommonHelp =
    "Every subcommand:\n"
    "  --simd TARGET        run the kernels on at most this SIMD target: "
    "scalar, ssse3,\n"
    "                       sse4, avx2, avx3, avx3_dl (x86); neon, sve, "
    "sve2 (Arm).\n"
    "                       Default: the best this CPU runs, or "
    "$TERNARY_SIMD if set.\n"
    "                       `ternary info` lists what this build and CPU "
    "have.\n"
    "  --version            the version, the compiler and the SIMD targets "
    "built in\n";

// `ternary --version` (also after any subcommand), as llama.cpp's
// --version: the version, then how it was built.
std::string VersionText() {
  std::string compiler =
#if defined(__clang__)
      "clang " __clang_version__;
#elif defined(__GNUC__)
      "g++ " __VERSION__;
#else
      "an unknown compiler";
#endif
  const char* arch =
#if defined(__x86_64__) || defined(_M_X64)
      "x86_64";
#elif defined(__aarch64__)
      "aarch64";
#else
      "this CPU";
#endif
  return std::string("ternary ") + TERNARY_VERSION_STRING + " (" +
         cli::kBuildDescribe + ")\nbuilt with " + compiler + " for " + arch +
         "; SIMD targets: " +
         ternary::simd::detail::NameList(ternary::simd::CompiledTargets()) +
         "\n";
}

// Errors are reported on one line.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

void PrintUsage(std::FILE* f) {
  std::fprintf(f,
               "ternary: BitNet b1.58 models on CPUs (ternary COMMAND "
               "--help for details)\nusage:\n");
  for (const auto& c : kCommands) {
    std::fprintf(f, "  ternary %.*s %.*s\n", static_cast<int>(c.name.size()),
                 c.name.data(), static_cast<int>(c.usage.size()),
                 c.usage.data());
  }
  std::fprintf(f, "%s", kCommonHelp);
}

}  // namespace

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // Loading allocates and frees one unpacked matrix per tensor (up to 18 MB
  // for 2B4T). Keep such blocks in the heap instead of a fresh mmap each:
  // page faults were half of the time to build the 2B4T shape.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  if (argc < 2) {
    std::fprintf(stderr, "ternary: missing subcommand (see ternary --help)\n");
    return 2;
  }
  const std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (name == "--version" || name == "version") {
    std::fputs(VersionText().c_str(), stdout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (c.name != name) continue;
    try {
      ternary::cli::Args args(argc, argv, 2);
      if (args.Flag({"-h", "--help"})) {
        std::printf("usage: ternary %.*s %.*s\n",
                    static_cast<int>(c.name.size()), c.name.data(),
                    static_cast<int>(c.usage.size()), c.usage.data());
        if (!c.help.empty()) {
          std::printf("\n%.*s", static_cast<int>(c.help.size()), c.help.data());
        }
        std::printf("\n%s", kCommonHelp);
        return 0;
      }
      if (args.Flag({"--version"})) {
        std::fputs(VersionText().c_str(), stdout);
        return 0;
      }
      // Every subcommand: --simd caps the kernels' SIMD target (it
      // overrides TERNARY_SIMD; a bad value of either is a usage error).
      if (const auto simd = args.Value({"--simd"})) {
        ternary::simd::SetMaxTarget(*simd);
      } else {
        (void)ternary::simd::ActiveTarget();  // reports a bad TERNARY_SIMD
      }
      return c.run(args);
    } catch (const ternary::UsageError& e) {
      std::fprintf(stderr, "ternary %s: %s\n", argv[1],
                   OneLine(e.what()).c_str());
      return 2;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr,
                   "ternary %s: out of memory (an allocation failed; a "
                   "smaller model, context, prompt or -t needs less)\n",
                   argv[1]);
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ternary %s: %s\n", argv[1],
                   OneLine(e.what()).c_str());
      return 1;
    }
  }
  std::fprintf(stderr,
               "ternary: unknown subcommand '%s' (see ternary --help)\n",
               argv[1]);
  return 2;
}
