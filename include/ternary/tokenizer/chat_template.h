// Chat prompts as text: BitNet b1.58 2B4T's format (docs/model.md §6.6) and
// the formats of the other ternary families' instruct models (Llama 3,
// Falcon 3, ChatML), and plain text for base models without one (1bitLLM).
// There is no Jinja engine: a file's template is
// recognised by the markers it contains (DetectChatTemplate), as llama.cpp's
// llm_chat_detect_template does, and rendered by the code below.
#ifndef TERNARY_TOKENIZER_CHAT_TEMPLATE_H_
#define TERNARY_TOKENIZER_CHAT_TEMPLATE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  // Llama 3 Instruct (Llama3-8B-1.58): "<|start_header_id|>role
  // <|end_header_id|>\n\ncontent<|eot_id|>", content trimmed.
  kLlama3,
  // Falcon 3 (Falcon3-*-1.58bit, Falcon-E): "<|role|>\ncontent\n".
  kFalcon3,
  // ChatML: "<|im_start|>role\ncontent<|im_end|>\n" (Falcon-E Instruct).
  kChatML,
  // Plain text for base models with neither a template nor chat tokens
  // (1bitLLM's): "Role: content\n" (role capitalised, content trimmed),
  // generation prompt "Assistant:"; the reply ends at "\nUser:"
  // (ChatStopStrings), which such a model writes when it goes on with the
  // conversation.
  kPlain,
};

// The names --chat-template takes (llama.cpp's names where it has one).
inline constexpr std::string_view kChatTemplateNames =
    "bitnet, bitnet-llamacpp, llama3, falcon3, chatml, plain";

inline std::string_view ChatTemplateName(ChatTemplate t) noexcept {
  switch (t) {
    case ChatTemplate::kHuggingFace:
      return "bitnet";
    case ChatTemplate::kLlamaCppBitnet:
      return "bitnet-llamacpp";
    case ChatTemplate::kLlama3:
      return "llama3";
    case ChatTemplate::kFalcon3:
      return "falcon3";
    case ChatTemplate::kChatML:
      return "chatml";
    case ChatTemplate::kPlain:
      return "plain";
  }
  return "?";
}

inline std::optional<ChatTemplate> ParseChatTemplateName(
    std::string_view name) noexcept {
  for (ChatTemplate t :
       {ChatTemplate::kHuggingFace, ChatTemplate::kLlamaCppBitnet,
        ChatTemplate::kLlama3, ChatTemplate::kFalcon3, ChatTemplate::kChatML,
        ChatTemplate::kPlain}) {
    if (name == ChatTemplateName(t)) return t;
  }
  return std::nullopt;
}

// The format a file's Jinja chat template writes, from markers only it
// contains; nullopt when none matches (the caller picks a fallback and says
// so). A template name ("llama3") is accepted too.
inline std::optional<ChatTemplate> DetectChatTemplate(std::string_view jinja) {
  if (auto named = ParseChatTemplateName(jinja)) return named;
  auto has = [&](std::string_view marker) {
    return jinja.find(marker) != std::string_view::npos;
  };
  if (has("<|im_start|>")) return ChatTemplate::kChatML;
  if (has("<|start_header_id|>") && has("<|end_header_id|>")) {
    return ChatTemplate::kLlama3;
  }
  if (has("<|assistant|>") && has("<|user|>")) return ChatTemplate::kFalcon3;
  // 2B4T's trained format: "message['role'] | capitalize + ': ' + ...
  // '<|eot_id|>'". Microsoft's GGUF carries a legacy "Human: ...
  // BITNETAssistant: " template that makes the model loop (docs/model.md
  // §6.6): the trained format replaces it.
  if ((has("capitalize") && has("<|eot_id|>")) || has("BITNETAssistant")) {
    return ChatTemplate::kHuggingFace;
  }
  return std::nullopt;
}

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
  if (chat_template == ChatTemplate::kLlama3) {
    for (const ChatMessage& m : messages) {
      out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
      out += detail::TrimPython(m.content);
      out += "<|eot_id|>";
    }
    if (add_generation_prompt) {
      out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
    }
    return out;
  }
  if (chat_template == ChatTemplate::kFalcon3) {
    for (const ChatMessage& m : messages) {
      out += "<|" + m.role + "|>\n" + m.content + "\n";
    }
    if (add_generation_prompt) out += "<|assistant|>\n";
    return out;
  }
  if (chat_template == ChatTemplate::kPlain) {
    for (const ChatMessage& m : messages) {
      out += detail::CapitalizeAscii(m.role) + ": ";
      out += detail::TrimPython(m.content);
      out += "\n";
    }
    if (add_generation_prompt) out += "Assistant:";
    return out;
  }
  if (chat_template == ChatTemplate::kChatML) {
    for (const ChatMessage& m : messages) {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    }
    if (add_generation_prompt) out += "<|im_start|>assistant\n";
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

// The stop strings a reply in this format needs besides the end tokens: the
// plain format has no end-of-turn token, so a reply ends where the model
// starts the user's next turn.
inline std::span<const std::string_view> ChatStopStrings(
    ChatTemplate chat_template) noexcept {
  static constexpr std::string_view kPlainStops[] = {"\nUser:"};
  if (chat_template == ChatTemplate::kPlain) return kPlainStops;
  return {};
}

// Adds the format's ChatStopStrings to a reply's stop strings: every way a
// chat reply is generated (Engine::Chat, BatchGenerator's messages, the
// server's chat completions) calls this.
inline void AppendChatStops(ChatTemplate chat_template,
                            std::vector<std::string>& stops) {
  for (std::string_view s : ChatStopStrings(chat_template)) {
    stops.emplace_back(s);
  }
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_CHAT_TEMPLATE_H_
