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
#include "ternary/io/atomic_file.h"
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
