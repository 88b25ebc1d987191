// `ternary tokenize`: text → token ids with the model's tokenizer.
#ifndef TERNARY_EXAMPLES_CLI_TOKENIZE_H_
#define TERNARY_EXAMPLES_CLI_TOKENIZE_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "cli/model_options.h"
#include "cli/output.h"
#include "ternary/io/read_file.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/util/error.h"

namespace ternary::cli {

inline constexpr std::string_view kTokenizeUsage =
    "-m MODEL (-p TEXT | -f FILE) [--ids-only] [--no-bos] [--no-special] "
    "[--json] [--pretokenizer auto|llama3|falcon3|bitnet-cpp-default]";

inline constexpr std::string_view kTokenizeHelp =
    "Prints the token ids of a text (BOS first, as the tokenizer file says; "
    "special-token\ntext such as <|eot_id|> parsed): one \"id 'text'\" line "
    "per token, or a\n[id, ...] list with --ids-only, or "
    "{\"ids\": [...], \"tokens\": [...]} with --json.\n\n"
    "  -m, --model PATH     a Hugging Face folder or a .gguf file\n"
    "  -p, --prompt TEXT    the text\n"
    "  -f, --file FILE      read the text from a file\n"
    "  --ids-only           ids only\n"
    "  --no-bos             do not prepend BOS\n"
    "  --no-special         treat special-token text as ordinary text\n"
    "  --json               one JSON object\n"
    "  --pretokenizer P     auto (what the file says), llama3, falcon3 or "
    "bitnet-cpp-default\n";

inline int RunTokenize(Args& args) {
  const std::optional<std::string> model = args.Value({"-m", "--model"});
  const std::optional<std::string> prompt = args.Value({"-p", "--prompt"});
  const std::optional<std::string> file = args.Value({"-f", "--file"});
  const bool ids_only = args.Flag({"--ids-only", "--ids"});
  const bool no_bos = args.Flag({"--no-bos"});
  const bool no_special = args.Flag({"--no-special"});
  const bool json = args.Flag({"--json"});
  const TokenizerLoadOptions options = ParseTokenizerOptions(args);
  // llama.cpp's common flags (-ngl, -fa, --log-disable, ...) as the model
  // subcommands take them.
  if (args.Flag({"--log-disable"})) LogDisabled() = true;
  (void)args.Flag({"-v", "--verbose"});
  (void)args.Flag({"--no-mmap"});
  (void)args.Flag({"--mmap"});
  AcceptIgnoredLlamaFlags(args);
  args.Finish();
  if (!model) throw UsageError("missing -m MODEL");
  if (prompt && file) throw UsageError("give -p TEXT or -f FILE, not both");
  if (!prompt && !file) throw UsageError("missing -p TEXT (or -f FILE)");
  const std::string text =
      file ? io::ReadFile(*file, io::kTextFileLimit) : *prompt;

  const ModelTokenizer tok = LoadTokenizer(*model, options);
  const std::vector<int32_t> ids = tok.tokenizer.Encode(
      text, EncodeOptions{.add_bos = tok.add_bos && !no_bos,
                          .parse_special = !no_special});
  std::string out;
  if (json) {
    out = "{\"ids\": [";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ", ";
      out += std::to_string(ids[i]);
    }
    out += "]";
    if (!ids_only) {
      out += ", \"tokens\": [";
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ", ";
        out += JsonString(tok.tokenizer.TokenText(ids[i]));
      }
      out += "]";
    }
    out += "}\n";
  } else if (ids_only) {
    out = "[";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ", ";
      out += std::to_string(ids[i]);
    }
    out += "]\n";
  } else {
    for (const int32_t id : ids) {
      out +=
          std::to_string(id) + " " + Quoted(tok.tokenizer.TokenText(id)) + "\n";
    }
  }
  return WriteStdout(out, /*flush=*/true) ? 0 : 1;
}

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_TOKENIZE_H_
