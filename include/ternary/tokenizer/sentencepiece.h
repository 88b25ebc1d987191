// SentencePiece BPE (LLaMA / LLaMA-2's tokenizer.model, 1bitLLM's): the
// model file's protobuf, its normalizer settings and the BPE encoder, written
// from sentencepiece's bpe_model.cc / normalizer.cc and tested equal to the
// library (docs/model.md §7). The Tokenizer class runs it for models whose
// vocabulary is SentencePiece (load_sentencepiece.h).
#ifndef TERNARY_TOKENIZER_SENTENCEPIECE_H_
#define TERNARY_TOKENIZER_SENTENCEPIECE_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "ternary/tokenizer/bpe.h"
#include "ternary/tokenizer/utf8.h"
#include "ternary/util/error.h"

namespace ternary {

// ModelProto.SentencePiece.Type (sentencepiece_model.proto).
enum class SpmPieceType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// What a tokenizer.model holds that encoding depends on.
struct SpmModelProto {
  struct Piece {
    std::string piece;
    float score = 0.0f;
    SpmPieceType type = SpmPieceType::kNormal;
  };
  std::vector<Piece> pieces;
  // TrainerSpec (proto defaults where the file omits a field).
  int32_t model_type = 1;  // 1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  // NormalizerSpec.
  std::string normalizer_name;
  bool has_charsmap = false;  // a non-empty precompiled_charsmap
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

namespace detail {

// Protobuf wire format, just what ModelProto needs.
class ProtoReader {
 public:
  ProtoReader(std::string_view bytes, const std::string& source)
      : p_(bytes), source_(source) {}

  bool done() const noexcept { return p_.empty(); }

  // The next field: number and wire type.
  std::pair<uint64_t, int> Tag() {
    const uint64_t tag = Varint();
    const int wire = int(tag & 7);
    if (tag >> 3 == 0) Fail("field number 0");
    return {tag >> 3, wire};
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_.empty()) Fail("truncated varint");
      const auto b = static_cast<uint8_t>(p_[0]);
      p_.remove_prefix(1);
      v |= uint64_t(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    Fail("varint longer than 10 bytes");
  }
  std::string_view Bytes() {
    const uint64_t n = Varint();
    if (n > p_.size()) Fail("length-delimited field past the end");
    const std::string_view out = p_.substr(0, size_t(n));
    p_.remove_prefix(size_t(n));
    return out;
  }
  float Fixed32Float() {
    if (p_.size() < 4) Fail("truncated fixed32");
    uint32_t u = 0;
    for (int i = 0; i < 4; ++i) u |= uint32_t(uint8_t(p_[i])) << (8 * i);
    p_.remove_prefix(4);
    return std::bit_cast<float>(u);
  }
  void Skip(int wire) {
    switch (wire) {
      case 0:
        Varint();
        return;
      case 1:
        Take(8);
        return;
      case 2:
        Bytes();
        return;
      case 5:
        Take(4);
        return;
      default:
        Fail("unsupported wire type " + std::to_string(wire));
    }
  }
  [[noreturn]] void Fail(const std::string& what) const {
    throw FormatError(source_ + ": not a SentencePiece model (" + what + ")");
  }

 private:
  void Take(size_t n) {
    if (p_.size() < n) Fail("truncated field");
    p_.remove_prefix(n);
  }

  std::string_view p_;
  const std::string& source_;
};

inline int32_t ProtoInt32(uint64_t v) { return static_cast<int32_t>(v); }

}  // namespace detail

// Parses a tokenizer.model. Throws FormatError naming `source` for bytes
// that are not a ModelProto.
inline SpmModelProto ParseSpmModelProto(std::string_view bytes,
                                        const std::string& source) {
  SpmModelProto m;
  detail::ProtoReader r(bytes, source);
  while (!r.done()) {
    const auto [field, wire] = r.Tag();
    if (field == 1 && wire == 2) {  // pieces
      detail::ProtoReader pr(r.Bytes(), source);
      SpmModelProto::Piece piece;
      while (!pr.done()) {
        const auto [f, w] = pr.Tag();
        if (f == 1 && w == 2) {
          piece.piece = std::string(pr.Bytes());
        } else if (f == 2 && w == 5) {
          piece.score = pr.Fixed32Float();
        } else if (f == 3 && w == 0) {
          piece.type = static_cast<SpmPieceType>(pr.Varint());
        } else {
          pr.Skip(w);
        }
      }
      m.pieces.push_back(std::move(piece));
    } else if (field == 2 && wire == 2) {  // trainer_spec
      detail::ProtoReader tr(r.Bytes(), source);
      while (!tr.done()) {
        const auto [f, w] = tr.Tag();
        if (w != 0) {
          tr.Skip(w);
          continue;
        }
        const uint64_t v = tr.Varint();
        switch (f) {
          case 3:
            m.model_type = detail::ProtoInt32(v);
            break;
          case 24:
            m.treat_whitespace_as_suffix = v != 0;
            break;
          case 35:
            m.byte_fallback = v != 0;
            break;
          case 40:
            m.unk_id = detail::ProtoInt32(v);
            break;
          case 41:
            m.bos_id = detail::ProtoInt32(v);
            break;
          case 42:
            m.eos_id = detail::ProtoInt32(v);
            break;
          case 43:
            m.pad_id = detail::ProtoInt32(v);
            break;
          default:
            break;
        }
      }
    } else if (field == 3 && wire == 2) {  // normalizer_spec
      detail::ProtoReader nr(r.Bytes(), source);
      while (!nr.done()) {
        const auto [f, w] = nr.Tag();
        if (f == 1 && w == 2) {
          m.normalizer_name = std::string(nr.Bytes());
        } else if (f == 2 && w == 2) {
          m.has_charsmap = !nr.Bytes().empty();
        } else if (f >= 3 && f <= 5 && w == 0) {
          const bool v = nr.Varint() != 0;
          (f == 3   ? m.add_dummy_prefix
           : f == 4 ? m.remove_extra_whitespaces
                    : m.escape_whitespaces) = v;
        } else {
          nr.Skip(w);
        }
      }
    } else {
      r.Skip(wire);
    }
  }
  if (m.pieces.empty()) r.Fail("no pieces");
  return m;
}

// "<0x0A>" → 0x0A; -1 for anything else.
inline int SpmBytePieceValue(std::string_view piece) noexcept {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') {
    return -1;
  }
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = piece[i];
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// The BPE of a SentencePiece model: normalizes a text segment and encodes
// it as sentencepiece's bpe_model.cc does.
//   Normalization (identity rule): remove_extra_whitespaces drops leading
//   and trailing spaces and collapses runs; add_dummy_prefix prepends one
//   space; escape_whitespaces writes each space as U+2581 "▁".
//   BPE: start from the UTF-8 characters; repeatedly merge the adjacent pair
//   whose concatenation is a piece with the highest score (leftmost among
//   equal scores); each final symbol is its piece, or, if none, its bytes'
//   <0xXX> pieces (byte_fallback) or the unknown id.
// Invalid UTF-8 bytes are one symbol each (so they fall back to bytes).
class SpmBpe {
 public:
  SpmBpe() { byte_ids_.fill(-1); }

  void set_options(bool add_dummy_prefix, bool remove_extra_whitespaces,
                   bool escape_whitespaces, bool byte_fallback,
                   int32_t unk_id) noexcept {
    add_dummy_prefix_ = add_dummy_prefix;
    remove_extra_whitespaces_ = remove_extra_whitespaces;
    escape_whitespaces_ = escape_whitespaces;
    byte_fallback_ = byte_fallback;
    unk_id_ = unk_id;
  }

  // A piece BPE may produce (NORMAL); false if its text is already one.
  bool AddPiece(std::string_view piece, int32_t id, float score) {
    if (!pieces_.Insert(piece, int32_t(scores_.size()))) return false;
    scores_.push_back(score);
    ids_.push_back(id);
    return true;
  }
  void SetByte(uint8_t b, int32_t id) noexcept { byte_ids_[b] = id; }
  bool byte_fallback() const noexcept { return byte_fallback_; }

  // The normalized form of a segment (empty for an empty result).
  std::string Normalize(std::string_view text) const {
    std::string out;
    if (remove_extra_whitespaces_) {
      while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    }
    if (text.empty()) return out;
    constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581
    const std::string_view space = escape_whitespaces_ ? kSpace : " ";
    out.reserve(text.size() + 8);
    if (add_dummy_prefix_) out += space;
    bool prev_space = false;
    for (const char c : text) {
      if (c == ' ') {
        if (remove_extra_whitespaces_ && prev_space) continue;
        out += space;
        prev_space = true;
      } else {
        out += c;
        prev_space = false;
      }
    }
    return out;
  }

  // Appends the ids of a text segment (no added tokens in it) to out.
  void Encode(std::string_view text, std::vector<int32_t>& out) const {
    const std::string norm = Normalize(text);
    if (norm.empty()) return;
    // Symbols: [begin, end) of norm, linked; end == begin: merged away.
    struct Symbol {
      uint32_t begin, end;
      int32_t prev, next;
    };
    std::vector<Symbol> sym;
    sym.reserve(norm.size());
    for (size_t i = 0; i < norm.size();) {
      const Utf8Scan scan = ScanUtf8(norm, i);
      const size_t len = scan.valid ? scan.length : 1;
      const auto k = int32_t(sym.size());
      sym.push_back({uint32_t(i), uint32_t(i + len), k - 1, -1});
      if (k > 0) sym[k - 1].next = k;
      i += len;
    }
    struct Pair {
      float score;
      int32_t left, right;
      uint32_t size;
    };
    // sentencepiece's SymbolPairComparator: highest score, then leftmost.
    const auto lower = [](const Pair& a, const Pair& b) {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<Pair, std::vector<Pair>, decltype(lower)> agenda(lower);
    const std::string_view all(norm);
    const auto maybe_add = [&](int32_t left, int32_t right) {
      if (left < 0 || right < 0) return;
      const std::string_view piece =
          all.substr(sym[left].begin, sym[right].end - sym[left].begin);
      const int32_t index = pieces_.Find(piece);
      if (index < 0) return;
      agenda.push({scores_[index], left, right, uint32_t(piece.size())});
    };
    for (size_t i = 1; i < sym.size(); ++i) {
      maybe_add(int32_t(i - 1), int32_t(i));
    }
    while (!agenda.empty()) {
      const Pair top = agenda.top();
      agenda.pop();
      Symbol& l = sym[top.left];
      Symbol& r = sym[top.right];
      // Stale: a side was merged away or has grown since.
      if (l.begin == l.end || r.begin == r.end ||
          (l.end - l.begin) + (r.end - r.begin) != top.size) {
        continue;
      }
      l.end = r.end;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = top.left;
      r.end = r.begin;
      maybe_add(l.prev, top.left);
      maybe_add(top.left, l.next);
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next) {
      const std::string_view piece =
          all.substr(sym[i].begin, sym[i].end - sym[i].begin);
      const int32_t index = pieces_.Find(piece);
      if (index >= 0) {
        out.push_back(ids_[index]);
      } else if (byte_fallback_) {
        for (const char c : piece) out.push_back(byte_ids_[uint8_t(c)]);
      } else {
        out.push_back(unk_id_);
      }
    }
  }

 private:
  detail::TokenTable pieces_;  // piece text → index into scores_ / ids_
  std::vector<float> scores_;
  std::vector<int32_t> ids_;
  std::array<int32_t, 256> byte_ids_;
  bool add_dummy_prefix_ = true;
  bool remove_extra_whitespaces_ = true;
  bool escape_whitespaces_ = true;
  bool byte_fallback_ = false;
  int32_t unk_id_ = 0;
};

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_SENTENCEPIECE_H_
