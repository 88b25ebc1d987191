// Tokenizer::FromSentencePiece: a SentencePiece BPE tokenizer.model
// (LLaMA-2, 1bitLLM; docs/model.md §7).
#ifndef TERNARY_TOKENIZER_LOAD_SENTENCEPIECE_H_
#define TERNARY_TOKENIZER_LOAD_SENTENCEPIECE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ternary/io/read_file.h"
#include "ternary/tokenizer/sentencepiece.h"
#include "ternary/tokenizer/tokenizer_core.h"
#include "ternary/util/error.h"

namespace ternary {

inline Tokenizer Tokenizer::FromSentencePieceModel(
    const SpmModelProto& m, std::vector<AddedToken> added,
    SpecialIds special_ids, std::string_view source) {
  const std::string src(source);
  const auto fail = [&](const std::string& what) {
    throw FormatError(src + ": " + what);
  };
  if (m.model_type != 2) {
    fail("model_type " + std::to_string(m.model_type) +
         (m.model_type == 1 ? " (UNIGRAM)" : "") +
         ": only BPE SentencePiece models (LLaMA's) are supported");
  }
  if (m.treat_whitespace_as_suffix) {
    fail("treat_whitespace_as_suffix is not supported");
  }
  if (m.has_charsmap ||
      !(m.normalizer_name.empty() || m.normalizer_name == "identity")) {
    fail("normalizer '" + m.normalizer_name +
         "': only the identity rule (LLaMA's) is supported");
  }
  if (int64_t(m.pieces.size() + added.size()) > detail::kMaxTokenId) {
    fail(std::to_string(m.pieces.size()) + " pieces is more than supported");
  }
  Tokenizer tok;
  tok.LimitIds(m.pieces.size() + added.size());
  tok.Resize(m.pieces.size());
  tok.bpe_.Reserve(m.pieces.size(), 0);
  auto spm = std::make_shared<SpmBpe>();
  spm->set_options(m.add_dummy_prefix, m.remove_extra_whitespaces,
                   m.escape_whitespaces, m.byte_fallback, m.unk_id);
  std::array<bool, 256> have_byte{};
  // Regular pieces first: a byte piece <0x61> stands for the same bytes as
  // a piece "a", and TokenId should find the regular one.
  for (const bool bytes_pass : {false, true}) {
    for (size_t i = 0; i < m.pieces.size(); ++i) {
      const SpmModelProto::Piece& p = m.pieces[i];
      const auto where = [&] {
        return "piece " + std::to_string(i) + " " + detail::Quote(p.piece);
      };
      if ((p.type == SpmPieceType::kByte) != bytes_pass) continue;
      switch (p.type) {
        case SpmPieceType::kNormal: {
          std::string bytes;
          std::string_view rest = p.piece;
          constexpr std::string_view kSpace = "\xE2\x96\x81";
          while (!rest.empty()) {
            if (m.escape_whitespaces && rest.starts_with(kSpace)) {
              bytes += ' ';
              rest.remove_prefix(kSpace.size());
            } else {
              bytes += rest.front();
              rest.remove_prefix(1);
            }
          }
          if (p.piece.empty()) fail(where() + ": empty piece");
          tok.SetNormal(int64_t(i), std::move(bytes), src, where);
          if (!spm->AddPiece(p.piece, int32_t(i), p.score)) {
            fail(where() + ": the piece appears twice");
          }
          break;
        }
        case SpmPieceType::kByte: {
          const int v = SpmBytePieceValue(p.piece);
          if (v < 0) fail(where() + ": a BYTE piece that is not <0xXX>");
          tok.SetNormal(int64_t(i), std::string(1, char(v)), src, where);
          spm->SetByte(uint8_t(v), int32_t(i));
          have_byte[v] = true;
          break;
        }
        case SpmPieceType::kControl:
        case SpmPieceType::kUnknown:
          tok.SetAdded({p.piece, int32_t(i), true}, src, where);
          break;
        case SpmPieceType::kUserDefined:
          // Matched as text before encoding, as transformers and llama.cpp
          // match added tokens (sentencepiece matches them after
          // normalization: the same unless the text holds spaces).
          tok.SetAdded({p.piece, int32_t(i), false}, src, where);
          break;
        case SpmPieceType::kUnused:  // never produced (llama.cpp's padding)
          break;
        default:
          fail(where() + " has type " + std::to_string(int(p.type)) +
               " (expected 1..6)");
      }
    }
  }
  if (m.byte_fallback) {
    for (size_t b = 0; b < 256; ++b) {
      if (!have_byte[b]) {
        fail("byte_fallback is on but there is no piece <0x" +
             std::string(1, "0123456789ABCDEF"[b >> 4]) +
             std::string(1, "0123456789ABCDEF"[b & 15]) + ">");
      }
    }
  } else if (m.unk_id < 0 || size_t(m.unk_id) >= m.pieces.size()) {
    fail("unk_id " + std::to_string(m.unk_id) + " is not a piece");
  }
  for (const AddedToken& a : added) {
    tok.SetAdded(a, src,
                 [&] { return "added token " + detail::Quote(a.text); });
  }
  tok.spm_ = std::move(spm);
  const auto model_id = [&](int32_t want, int32_t model) {
    if (want >= 0) return want;
    return model >= 0 && size_t(model) < m.pieces.size() ? model : -1;
  };
  special_ids.bos = model_id(special_ids.bos, m.bos_id);
  special_ids.eos = model_id(special_ids.eos, m.eos_id);
  tok.Finish(src, special_ids, /*ids_from_file=*/true);
  return tok;
}

inline Tokenizer Tokenizer::FromSentencePiece(
    const std::filesystem::path& model_file, std::vector<AddedToken> added,
    SpecialIds special_ids) {
  // LLaMA's tokenizer.model is 500 KB; the largest SentencePiece models in
  // use (256k pieces) are about 5 MB.
  constexpr io::FileLimit kLimit{64 * io::kMiB, "a SentencePiece model"};
  const std::string bytes = io::ReadFile(model_file, kLimit);
  const std::string src = model_file.string();
  return FromSentencePieceModel(ParseSpmModelProto(bytes, src),
                                std::move(added), special_ids, src);
}

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_LOAD_SENTENCEPIECE_H_
