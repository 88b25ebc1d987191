// `ternary convert`: a Hugging Face BitNet folder → a GGUF file that
// bitnet.cpp (I2_S) or llama.cpp (TQ2_0, TQ1_0) loads.
#ifndef TERNARY_EXAMPLES_CLI_CONVERT_H_
#define TERNARY_EXAMPLES_CLI_CONVERT_H_

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "cli/args.h"
#include "cli/progress.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/convert.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kConvertUsage =
    "-m HF_FOLDER -o OUT.gguf [--type i2_s|tq2_0|tq1_0] [--embd f16|q8_0|f32] "
    "[--name NAME]";

inline int RunConvert(Args& args) {
  const std::optional<std::string> model = args.Value({"-m", "--model"});
  const std::optional<std::string> out = args.Value({"-o", "--output"});
  ConvertOptions options;
  options.weight_type = ParseGgufWeightType(args.String({"--type"}, "i2_s"));
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
  ProgressBar bar(
      "converting " + std::filesystem::path(*model).filename().string(), 0);
  options.progress = [&bar](uint64_t done, uint64_t total) {
    bar.Update(done, total);
  };
  ConvertHfToGguf(*model, *out, options);
  bar.Done();
  const auto bytes = std::filesystem::file_size(*out, ec);
  std::fprintf(stderr, "ternary convert: wrote %s (%llu bytes)\n", out->c_str(),
               static_cast<unsigned long long>(bytes));
  return 0;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_CONVERT_H_
