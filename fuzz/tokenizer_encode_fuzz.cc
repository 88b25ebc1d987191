// libFuzzer target: Encode/Decode of arbitrary bytes with the embedded
// model's tokenizer (models/tiny-shakespeare), both pre-tokenizers. Checks
// the documented contracts: Decode(Encode(x)) == x for any bytes, and a
// StreamDecoder fed the same ids returns SanitizeUtf8(x).
//
// Input: byte 0 picks the options (bit 0 pre-tokenizer, bit 1
// parse_special, bit 2 add_bos); the rest is the text.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "ternary/tokenizer/stream_decoder.h"
#include "ternary/tokenizer/tokenizer.h"
#include "ternary/tokenizer/utf8.h"

namespace {

const ternary::Tokenizer& Tok(ternary::PreTokenizer mode) {
  const auto load = [](ternary::PreTokenizer m) {
    return ternary::Tokenizer::FromHfJson(TERNARY_MODELS_DIR
                                          "/tiny-shakespeare/tokenizer.json",
                                          {.pre_tokenizer = m});
  };
  static const ternary::Tokenizer llama3 = load(ternary::PreTokenizer::kLlama3);
  static const ternary::Tokenizer bitnet_cpp =
      load(ternary::PreTokenizer::kBitnetCppDefault);
  return mode == ternary::PreTokenizer::kLlama3 ? llama3 : bitnet_cpp;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  const ternary::Tokenizer& tok =
      Tok(flags & 1 ? ternary::PreTokenizer::kBitnetCppDefault
                    : ternary::PreTokenizer::kLlama3);
  const ternary::EncodeOptions options{.add_bos = (flags & 4) != 0,
                                       .parse_special = (flags & 2) != 0};
  const std::vector<int32_t> ids = tok.Encode(text, options);
  std::span<const int32_t> body(ids);
  if (options.add_bos) {
    if (body.empty() || body[0] != tok.bos_id()) __builtin_trap();
    body = body.subspan(1);
  }
  if (tok.Decode(body) != text) __builtin_trap();

  ternary::StreamDecoder stream(tok);
  std::string streamed;
  for (const int32_t id : body) streamed += stream.Feed(id);
  streamed += stream.Flush();
  if (streamed != ternary::SanitizeUtf8(text)) __builtin_trap();
  return 0;
}
