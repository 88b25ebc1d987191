// `ternary convert`: a Hugging Face BitNet folder → a GGUF file that
// bitnet.cpp (I2_S) or llama.cpp (TQ2_0, TQ1_0) loads.
#ifndef TERNARY_EXAMPLES_CLI_CONVERT_H_
#define TERNARY_EXAMPLES_CLI_CONVERT_H_

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "cli/args.h"
#include "cli/progress.h"
#include "ternary/io/atomic_file.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/convert.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kConvertUsage =
    "-m HF_FOLDER -o OUT.gguf [--type i2_s|tq2_0|tq1_0] [--embd f16|q8_0|f32] "
    "[--name NAME]";

inline constexpr std::string_view kConvertHelp =
    "Writes a Hugging Face BitNet folder as one GGUF file: I2_S for "
    "bitnet.cpp (and\nternary), TQ2_0 / TQ1_0 for llama.cpp. Any of them "
    "loads with every --packing.\n\n"
    "  -m, --model FOLDER   the Hugging Face folder (config.json + "
    "safetensors)\n"
    "  -o, --outfile FILE   the GGUF to write (replaced atomically)\n"
    "  --type TYPE          projections: i2_s (default; also i2s), tq2_0, "
    "tq1_0\n"
    "                       (--outtype too)\n"
    "  --embd TYPE          embedding / LM head: f16 (default), q8_0, f32\n"
    "  --name NAME          general.name (default: the folder's name)\n";

// --type: the GGUF type names, and the spellings --packing and llama.cpp's
// tools use for them. TL1/TL2 are run-time packings, not file types.
inline GgufWeightType ParseConvertType(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "i2s") return GgufWeightType::kI2_S;
  if (s == "tq2") return GgufWeightType::kTQ2_0;
  if (s == "tq1") return GgufWeightType::kTQ1_0;
  if (s == "tl1" || s == "tl2") {
    throw UsageError("--type " + s + ": convert writes i2_s, tq2_0 or tq1_0; " +
                     s +
                     " is a packing the kernels run from any of them "
                     "(--packing " +
                     s + " on generate, chat, bench, ...)");
  }
  return ParseGgufWeightType(s);
}

inline int RunConvert(Args& args) {
  const std::optional<std::string> model = args.Value({"-m", "--model"});
  const std::optional<std::string> out =
      args.Value({"-o", "--output", "--outfile"});
  ConvertOptions options;
  options.weight_type =
      ParseConvertType(args.String({"--type", "--outtype"}, "i2_s"));
  options.embedding_type =
      ParseGgufEmbeddingType(args.String({"--embd"}, "f16"));
  options.name = args.String({"--name"}, "");
  args.Finish();
  if (!model) throw UsageError("missing -m HF_FOLDER (a checkpoint folder)");
  if (!out) throw UsageError("missing -o OUT.gguf");
  std::error_code ec;
  if (!std::filesystem::is_directory(*model, ec)) {
    throw UsageError("-m " + *model +
                     ": convert reads a Hugging Face folder (config.json + "
                     "safetensors)");
  }
  // Refuse a bad -o before the conversion's work: an existing output that
  // is not a regular file (a device, folder, FIFO, /dev/stdout on a pipe),
  // a file of the input folder, or a missing folder.
  const std::filesystem::path dest = io::CheckOutputPath(*out);
  io::CheckNotInput(*out, *model);
  ProgressBar bar(
      "converting " + std::filesystem::path(*model).filename().string(), 0);
  options.progress = [&bar](uint64_t done, uint64_t total) {
    bar.Update(done, total);
  };
  const uint64_t bytes = ConvertHfToGguf(*model, *out, options);
  bar.Done();
  // Through a link, say which file was replaced.
  const std::string where = std::filesystem::is_symlink(*out, ec)
                                ? *out + " (" + dest.string() + ")"
                                : *out;
  std::fprintf(stderr, "ternary convert: wrote %s (%llu bytes)\n",
               where.c_str(), static_cast<unsigned long long>(bytes));
  return 0;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_CONVERT_H_
