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

// The other families' formats, as their model cards and llama.cpp's
// built-in templates write them (docs/model.md §6.6).
TEST_CASE("Llama 3, Falcon 3 and ChatML templates") {
  const std::vector<ChatMessage> chat = {
      {"system", "Be brief."}, {"user", " Hi "}, {"assistant", "Hello"}};
  CHECK(ApplyChatTemplate(chat, true, ChatTemplate::kLlama3) ==
        "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
  CHECK(ApplyChatTemplate(chat, false, ChatTemplate::kFalcon3) ==
        "<|system|>\nBe brief.\n<|user|>\n Hi \n<|assistant|>\nHello\n");
  CHECK(ApplyChatTemplate({}, true, ChatTemplate::kFalcon3) ==
        "<|assistant|>\n");
  CHECK(ApplyChatTemplate(chat, true, ChatTemplate::kChatML) ==
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi "
        "<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n"
        "<|im_start|>assistant\n");
}

// Base models without chat tokens (1bitLLM): plain text, ended by the
// user's next turn.
TEST_CASE("the plain format") {
  const std::vector<ChatMessage> chat = {
      {"system", "Be brief."}, {"user", " Hi "}, {"assistant", "Hello"}};
  CHECK(ApplyChatTemplate(chat, true, ChatTemplate::kPlain) ==
        "System: Be brief.\nUser: Hi\nAssistant: Hello\nAssistant:");
  CHECK(ApplyChatTemplate(chat, false, ChatTemplate::kPlain) ==
        "System: Be brief.\nUser: Hi\nAssistant: Hello\n");
  CHECK(ParseChatTemplateName("plain") == ChatTemplate::kPlain);
  CHECK(ChatTemplateName(ChatTemplate::kPlain) == "plain");
  REQUIRE(ChatStopStrings(ChatTemplate::kPlain).size() == 1);
  CHECK(ChatStopStrings(ChatTemplate::kPlain)[0] == "\nUser:");
  std::vector<std::string> stops = {"END"};
  AppendChatStops(ChatTemplate::kPlain, stops);
  CHECK(stops == std::vector<std::string>{"END", "\nUser:"});
  AppendChatStops(ChatTemplate::kChatML, stops);
  CHECK(stops.size() == 2);
  for (ChatTemplate t : {ChatTemplate::kHuggingFace, ChatTemplate::kLlama3,
                         ChatTemplate::kFalcon3, ChatTemplate::kChatML}) {
    CHECK(ChatStopStrings(t).empty());  // they end with an end token
  }
}

TEST_CASE("a file's Jinja template is recognised by its markers") {
  // 2B4T's (tokenizer_config.json) and Microsoft's legacy GGUF template.
  CHECK(DetectChatTemplate(
            "{% for message in loop_messages %}{% set content = "
            "message['role'] | capitalize + ': ' + message['content'] | trim "
            "+ '<|eot_id|>' %}") == ChatTemplate::kHuggingFace);
  CHECK(DetectChatTemplate("{{ 'Human: ' + content + '\\n\\nBITNETAssistant: ' "
                           "+ eos_token }}") == ChatTemplate::kHuggingFace);
  CHECK(DetectChatTemplate("{{ '<|start_header_id|>' + message['role'] + "
                           "'<|end_header_id|>\\n\\n' }}") ==
        ChatTemplate::kLlama3);
  CHECK(DetectChatTemplate("{{ '<|user|>\\n' + message['content'] }}{{ "
                           "'<|assistant|>\\n' }}") == ChatTemplate::kFalcon3);
  CHECK(DetectChatTemplate("{{'<|im_start|>' + message['role']}}") ==
        ChatTemplate::kChatML);
  CHECK(DetectChatTemplate("llama3") == ChatTemplate::kLlama3);
  CHECK_FALSE(DetectChatTemplate("{{ messages }}").has_value());
  CHECK_FALSE(DetectChatTemplate("").has_value());
  for (ChatTemplate t :
       {ChatTemplate::kHuggingFace, ChatTemplate::kLlamaCppBitnet,
        ChatTemplate::kLlama3, ChatTemplate::kFalcon3, ChatTemplate::kChatML}) {
    CHECK(ParseChatTemplateName(ChatTemplateName(t)) == t);
    CHECK(std::string_view(kChatTemplateNames).find(ChatTemplateName(t)) !=
          std::string_view::npos);
  }
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
