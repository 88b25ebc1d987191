// Chat prompts for BitNet b1.58 2B4T as text (docs/model.md §6.6).
#ifndef TERNARY_TOKENIZER_CHAT_TEMPLATE_H_
#define TERNARY_TOKENIZER_CHAT_TEMPLATE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ternary/tokenizer/utf8.h"
#include "ternary/util/error.h"

namespace ternary {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

enum class ChatTemplate {
  // The format 2B4T was trained on (HF tokenizer_config.json): each message
  // "Role: content<|eot_id|>", role capitalised, content trimmed; generation
  // prompt "Assistant: ". The default.
  kHuggingFace,
  // llama.cpp's built-in "bitnet" template: "System: c" (no terminator),
  // "User: c<|eot_id|>Assistant: ", assistant "c" (no terminator); content
  // as is. Only for reproducing llama.cpp/bitnet.cpp prompts.
  kLlamaCppBitnet,
};

namespace detail {

// Python's str.isspace() set, which Jinja's trim strips.
inline bool IsPythonSpace(char32_t c) noexcept {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 ||
         c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Jinja's `trim`: strips Unicode whitespace at both ends (invalid UTF-8 is
// never whitespace).
inline std::string_view TrimPython(std::string_view s) noexcept {
  while (!s.empty()) {
    const Utf8Scan scan = ScanUtf8(s, 0);
    if (!scan.valid || !IsPythonSpace(Utf8CodePointAt(s, 0, scan.length)))
      break;
    s.remove_prefix(scan.length);
  }
  while (!s.empty()) {
    size_t start = s.size() - 1;  // back up to the last character's start
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    const Utf8Scan scan = ScanUtf8(s, start);
    if (!scan.valid || start + scan.length != s.size() ||
        !IsPythonSpace(Utf8CodePointAt(s, start, scan.length))) {
      break;
    }
    s.remove_suffix(scan.length);
  }
  return s;
}

// Jinja's `capitalize` for ASCII: "user" → "User", "ASSISTANT" → "Assistant"
// (non-ASCII bytes are left as they are).
inline std::string CapitalizeAscii(std::string_view s) {
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (i == 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (i > 0 && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace detail

// The prompt text of a conversation, special tokens as text. It has no BOS:
// encode it with EncodeOptions{.add_bos = true, .parse_special = true}.
// kLlamaCppBitnet throws UsageError for roles other than system, user and
// assistant (llama.cpp drops such messages silently).
inline std::string ApplyChatTemplate(
    std::span<const ChatMessage> messages, bool add_generation_prompt = true,
    ChatTemplate chat_template = ChatTemplate::kHuggingFace) {
  std::string out;
  if (chat_template == ChatTemplate::kHuggingFace) {
    for (const ChatMessage& m : messages) {
      out += detail::CapitalizeAscii(m.role);
      out += ": ";
      out += detail::TrimPython(m.content);
      out += "<|eot_id|>";
    }
    if (add_generation_prompt) out += "Assistant: ";
    return out;
  }
  // llama.cpp writes "Assistant: " after every user message, whatever
  // add_generation_prompt says.
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      out += "System: " + m.content;
    } else if (m.role == "user") {
      out += "User: " + m.content + "<|eot_id|>Assistant: ";
    } else if (m.role == "assistant") {
      out += m.content;
    } else {
      throw UsageError("ApplyChatTemplate: role '" + m.role +
                       "' is not system, user or assistant");
    }
  }
  return out;
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_CHAT_TEMPLATE_H_
