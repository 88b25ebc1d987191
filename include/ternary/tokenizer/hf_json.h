// Streams the parts of a Hugging Face tokenizer.json that BPE needs.
#ifndef TERNARY_TOKENIZER_HF_JSON_H_
#define TERNARY_TOKENIZER_HF_JSON_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ternary/util/error.h"

namespace ternary::detail {

// What FromHfJson reads; the rest of the file (normalizer, decoder, ...) is
// skipped, and of pre_tokenizer only its components' "type" names and a
// Digits component's individual_digits are kept (to recognize Falcon3's).
struct HfTokenizerJson {
  struct VocabEntry {
    std::string text;  // byte-level spelling
    int64_t id;
  };
  struct Merge {
    size_t offset;  // left then right, back to back, in merge_text
    uint32_t left_size, right_size;
  };
  struct Added {
    std::string content;
    int64_t id;
    bool special;
  };

  bool has_model = false, has_vocab = false, has_merges = false;
  std::optional<std::string> model_type;
  std::optional<bool> ignore_merges;
  std::vector<VocabEntry> vocab;
  std::string merge_text;
  std::vector<Merge> merges;
  std::vector<Added> added_tokens;
  std::vector<std::string> pre_tokenizer_types;  // in file order, nested too
  bool individual_digits = false;

  std::string_view MergeLeft(const Merge& m) const {
    return std::string_view(merge_text).substr(m.offset, m.left_size);
  }
  std::string_view MergeRight(const Merge& m) const {
    return std::string_view(merge_text)
        .substr(m.offset + m.left_size, m.right_size);
  }
};

// nlohmann SAX handler. A SAX pass instead of a DOM: the DOM of Llama 3's
// 9 MB file is ~1M allocations (a std::map node per vocabulary entry, a
// json array per merge) and took longer than everything else loading does.
class HfJsonSax {
 public:
  using json = nlohmann::json;

  HfJsonSax(HfTokenizerJson& out, const std::string& source)
      : out_(out), source_(source) {}

  bool null() { return Other(Begin(), Kind::kOther); }
  bool boolean(bool value) {
    const Slot slot = Begin();
    switch (slot) {
      case Slot::kIgnoreMerges:
        out_.ignore_merges = value;
        return true;
      case Slot::kAddedSpecial:
        added_.special = value;
        return true;
      case Slot::kPreTokValue:
        if (key_ == "individual_digits") out_.individual_digits = value;
        return true;
      default:
        return Other(slot, Kind::kOther);
    }
  }
  bool number_integer(json::number_integer_t value) {
    return Integer(static_cast<int64_t>(value));
  }
  bool number_unsigned(json::number_unsigned_t value) {
    // Larger than any id; kept out of int64 overflow.
    return Integer(value > uint64_t{std::numeric_limits<int64_t>::max()}
                       ? std::numeric_limits<int64_t>::max()
                       : static_cast<int64_t>(value));
  }
  bool number_float(json::number_float_t, const json::string_t&) {
    return Other(Begin(), Kind::kOther);
  }
  bool binary(json::binary_t&) { return Other(Begin(), Kind::kOther); }
  bool string(json::string_t& value) {
    const Slot slot = Begin();
    switch (slot) {
      case Slot::kModelType:
        out_.model_type = value;
        return true;
      case Slot::kMerge: {
        const size_t space = value.find(' ');
        if (space == std::string::npos ||
            value.find(' ', space + 1) != std::string::npos) {
          Fail("merge " + std::to_string(element_) + " (" + Quote(value) +
               ") is not \"left right\"");
        }
        out_.merges.push_back({out_.merge_text.size(), uint32_t(space),
                               uint32_t(value.size() - space - 1)});
        out_.merge_text.append(value, 0, space);
        out_.merge_text.append(value, space + 1);
        return true;
      }
      case Slot::kMergePart:
        if (element_ < 2) {
          pair_size_[element_] = uint32_t(value.size());
          out_.merge_text += value;
        }
        return true;
      case Slot::kAddedContent:
        added_.content = value;
        has_content_ = true;
        return true;
      case Slot::kPreTokValue:
        if (key_ == "type") out_.pre_tokenizer_types.push_back(value);
        return true;
      default:
        return Other(slot, Kind::kString);
    }
  }

  bool start_object(std::size_t) {
    const Slot slot = Begin();
    switch (slot) {
      case Slot::kRoot:
        return Push(Ctx::kRoot);
      case Slot::kModel:
        out_.has_model = true;
        return Push(Ctx::kModel);
      case Slot::kVocab:
        out_.has_vocab = true;
        return Push(Ctx::kVocab);
      case Slot::kAddedToken:
        added_ = {};
        has_id_ = has_content_ = false;
        return Push(Ctx::kAddedToken);
      case Slot::kPreTok:
      case Slot::kPreTokValue:
        return Push(Ctx::kPreTok);
      default:
        return Other(slot, Kind::kObject);
    }
  }
  bool start_array(std::size_t) {
    const Slot slot = Begin();
    switch (slot) {
      case Slot::kMerges:
        out_.has_merges = true;
        return Push(Ctx::kMerges);
      case Slot::kMerge:
        pair_offset_ = out_.merge_text.size();
        pair_size_[0] = pair_size_[1] = 0;
        return Push(Ctx::kMergePair);
      case Slot::kAddedTokens:
        return Push(Ctx::kAdded);
      case Slot::kPreTok:
      case Slot::kPreTokValue:
        return Push(Ctx::kPreTok);
      default:
        return Other(slot, Kind::kArray);
    }
  }
  bool key(json::string_t& key) {
    key_ = key;
    return true;
  }
  bool end_object() {
    const Frame frame = Pop();
    if (frame.ctx == Ctx::kAddedToken) {
      const size_t index = stack_.back().count - 1;
      if (!has_id_ || !has_content_) {
        Fail("added_tokens[" + std::to_string(index) +
             "] needs an integer 'id' and a string 'content'");
      }
      out_.added_tokens.push_back(added_);
    }
    return true;
  }
  bool end_array() {
    const Frame frame = Pop();
    if (frame.ctx == Ctx::kMergePair) {
      if (frame.count != 2) {
        Fail("merge " + std::to_string(stack_.back().count - 1) +
             " is neither \"left right\" nor [\"left\", \"right\"]");
      }
      out_.merges.push_back({pair_offset_, pair_size_[0], pair_size_[1]});
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& e) {
    throw FormatError(source_ + ": invalid JSON: " + e.what());
  }

 private:
  // The container being read.
  enum class Ctx : uint8_t {
    kRoot,
    kModel,
    kVocab,
    kMerges,
    kMergePair,
    kAdded,
    kAddedToken,
    kPreTok,  // anywhere inside the root's pre_tokenizer
    kSkip
  };
  // Where the value starting now goes.
  enum class Slot : uint8_t {
    kRoot,
    kModel,
    kModelType,
    kVocab,
    kVocabEntry,
    kMerges,
    kMerge,
    kMergePart,
    kIgnoreMerges,
    kAddedTokens,
    kAddedToken,
    kAddedId,
    kAddedContent,
    kAddedSpecial,
    kPreTok,       // the root's pre_tokenizer value
    kPreTokValue,  // a value inside it
    kIgnore
  };
  enum class Kind : uint8_t { kString, kObject, kArray, kOther };
  struct Frame {
    Ctx ctx;
    size_t count;  // elements begun so far (arrays)
  };

  // Called as every value begins: its slot, and element_ its array index.
  Slot Begin() {
    if (stack_.empty()) return Slot::kRoot;
    Frame& f = stack_.back();
    element_ = f.count++;
    switch (f.ctx) {
      case Ctx::kRoot:
        if (key_ == "model") return Slot::kModel;
        if (key_ == "added_tokens") return Slot::kAddedTokens;
        if (key_ == "pre_tokenizer") return Slot::kPreTok;
        return Slot::kIgnore;
      case Ctx::kModel:
        if (key_ == "vocab") return Slot::kVocab;
        if (key_ == "merges") return Slot::kMerges;
        if (key_ == "ignore_merges") return Slot::kIgnoreMerges;
        if (key_ == "type") return Slot::kModelType;
        return Slot::kIgnore;
      case Ctx::kVocab:
        return Slot::kVocabEntry;
      case Ctx::kMerges:
        return Slot::kMerge;
      case Ctx::kMergePair:
        return Slot::kMergePart;
      case Ctx::kAdded:
        return Slot::kAddedToken;
      case Ctx::kAddedToken:
        if (key_ == "id") return Slot::kAddedId;
        if (key_ == "content") return Slot::kAddedContent;
        if (key_ == "special") return Slot::kAddedSpecial;
        return Slot::kIgnore;
      case Ctx::kPreTok:
        return Slot::kPreTokValue;
      case Ctx::kSkip:
        return Slot::kIgnore;
    }
    return Slot::kIgnore;
  }

  bool Integer(int64_t value) {
    const Slot slot = Begin();
    switch (slot) {
      case Slot::kVocabEntry:
        out_.vocab.push_back({key_, value});
        return true;
      case Slot::kAddedId:
        added_.id = value;
        has_id_ = true;
        return true;
      default:
        return Other(slot, Kind::kOther);
    }
  }

  // A value of this kind, in this slot, that no handler took: skipped when
  // the slot is of no interest, else the file is malformed.
  bool Other(Slot slot, Kind kind) {
    switch (slot) {
      case Slot::kIgnore:
      case Slot::kPreTok:  // null, or values of no interest
      case Slot::kPreTokValue:
      case Slot::kAddedSpecial:  // lenient: not a boolean = not special
        return kind == Kind::kObject || kind == Kind::kArray ? Push(Ctx::kSkip)
                                                             : true;
      case Slot::kRoot:
        Fail("not a JSON object");
      case Slot::kModel:
        Fail("missing object 'model'");
      case Slot::kModelType:
        Fail("model.type is not a string");
      case Slot::kVocab:
        Fail("missing object 'model.vocab'");
      case Slot::kVocabEntry:
        Fail("model.vocab[" + Quote(key_) + "] is not an integer id");
      case Slot::kMerges:
        Fail("missing array 'model.merges'");
      case Slot::kMerge:
      case Slot::kMergePart: {
        const size_t index = slot == Slot::kMerge
                                 ? element_
                                 : stack_[stack_.size() - 2].count - 1;
        Fail("merge " + std::to_string(index) +
             " is neither \"left right\" nor [\"left\", \"right\"]");
      }
      case Slot::kIgnoreMerges:
        Fail("model.ignore_merges is not a boolean");
      case Slot::kAddedTokens:
        Fail("added_tokens is not an array");
      case Slot::kAddedToken:
      case Slot::kAddedId:
      case Slot::kAddedContent: {
        const size_t index = slot == Slot::kAddedToken
                                 ? element_
                                 : stack_[stack_.size() - 2].count - 1;
        Fail("added_tokens[" + std::to_string(index) +
             "] needs an integer 'id' and a string 'content'");
      }
    }
    return true;
  }

  bool Push(Ctx ctx) {
    stack_.push_back({ctx, 0});
    return true;
  }
  Frame Pop() {
    const Frame f = stack_.back();
    stack_.pop_back();
    return f;
  }

  [[noreturn]] void Fail(const std::string& what) const {
    throw FormatError(source_ + ": " + what);
  }

  static std::string Quote(std::string_view s) {
    std::string out = "'";
    out.append(s.substr(0, 60));
    if (s.size() > 60) out += "...";
    return out + "'";
  }

  HfTokenizerJson& out_;
  const std::string& source_;
  std::vector<Frame> stack_;
  std::string key_;
  size_t element_ = 0;
  size_t pair_offset_ = 0;
  uint32_t pair_size_[2] = {0, 0};
  HfTokenizerJson::Added added_{};
  bool has_id_ = false, has_content_ = false;
};

// Throws FormatError naming source for invalid JSON or a malformed model.
inline HfTokenizerJson ParseHfTokenizerJson(std::string_view text,
                                            const std::string& source) {
  HfTokenizerJson out;
  HfJsonSax sax(out, source);
  nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
  if (!out.has_model) throw FormatError(source + ": missing object 'model'");
  if (out.model_type && *out.model_type != "BPE") {
    throw FormatError(source + ": model.type is \"" + *out.model_type +
                      "\", only \"BPE\" is supported");
  }
  if (!out.has_vocab) {
    throw FormatError(source + ": missing object 'model.vocab'");
  }
  if (!out.has_merges) {
    throw FormatError(source + ": missing array 'model.merges'");
  }
  return out;
}

}  // namespace ternary::detail

#endif  // TERNARY_TOKENIZER_HF_JSON_H_
