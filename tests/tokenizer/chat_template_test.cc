// Chat templates (docs/model.md §6.6) and their tokenization.
#include "ternary/tokenizer/chat_template.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ternary/util/error.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace ternary {
namespace {

TEST_CASE("Hugging Face template: transformers docstring example") {
  const std::vector<ChatMessage> chat = {
      {"user", "Hey, are you conscious? Can you talk to me?"}};
  // The docstring prints "<|begin_of_text|>" first; BOS is the tokenizer's.
  CHECK(ApplyChatTemplate(chat) ==
        "User: Hey, are you conscious? Can you talk to me?<|eot_id|>"
        "Assistant: ");
}

TEST_CASE("Hugging Face template: roles capitalised, content trimmed") {
  const std::vector<ChatMessage> chat = {
      {"system", "  You are helpful.\n"},
      {"USER", "\tHi\u00A0"},  // Python's strip() removes U+00A0 too
      {"assistant", "Hello! "},
      {"user", "Bye"}};
  CHECK(ApplyChatTemplate(chat) ==
        "System: You are helpful.<|eot_id|>User: Hi<|eot_id|>"
        "Assistant: Hello!<|eot_id|>User: Bye<|eot_id|>Assistant: ");
  CHECK(ApplyChatTemplate(chat, /*add_generation_prompt=*/false) ==
        "System: You are helpful.<|eot_id|>User: Hi<|eot_id|>"
        "Assistant: Hello!<|eot_id|>User: Bye<|eot_id|>");
  CHECK(ApplyChatTemplate(std::vector<ChatMessage>{}) == "Assistant: ");
  CHECK(ApplyChatTemplate(std::vector<ChatMessage>{{"user", " \n "}}, false) ==
        "User: <|eot_id|>");
}

TEST_CASE("llama.cpp bitnet template") {
  const std::vector<ChatMessage> chat = {{"system", "Be brief. "},
                                         {"user", "Hi "},
                                         {"assistant", "Hello"},
                                         {"user", "Bye"}};
  CHECK(ApplyChatTemplate(chat, true, ChatTemplate::kLlamaCppBitnet) ==
        "System: Be brief. User: Hi <|eot_id|>Assistant: HelloUser: "
        "Bye<|eot_id|>Assistant: ");
  const std::vector<ChatMessage> tool = {{"tool", "x"}};
  CHECK_THROWS_WITH_AS(
      ApplyChatTemplate(tool, true, ChatTemplate::kLlamaCppBitnet),
      doctest::Contains("'tool'"), UsageError);
}

TEST_CASE("a rendered chat tokenizes with one BOS and parsed specials") {
  const Tokenizer& tok = test::Llama3Tiktoken();
  const std::vector<ChatMessage> chat = {{"user", "Hi"}};
  const std::vector<int32_t> ids = tok.Encode(
      ApplyChatTemplate(chat), {.add_bos = true, .parse_special = true});
  REQUIRE(ids.size() >= 6);
  CHECK(ids.front() == 128000);
  CHECK(std::count(ids.begin(), ids.end(), 128000) == 1);
  CHECK(std::count(ids.begin(), ids.end(), 128009) == 1);
  CHECK(tok.Decode(ids) == "<|begin_of_text|>User: Hi<|eot_id|>Assistant: ");
}

}  // namespace
}  // namespace ternary
