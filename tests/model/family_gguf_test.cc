// GGUF files of the model families, as bitnet.cpp's converters write them
// (written from the HF fixtures by tests/data/make/make_family_ggufs.py, an
// independent writer): arch llama with I2_S tensors and q/k rows permuted
// for interleaved RoPE (tests/data/families/llama_bitnet/model-i2_s.gguf),
// arch bitnet with sign weights, .scale tensors and a SentencePiece
// vocabulary (tests/data/families/1bitllm/model-bitnet.gguf). Each loads to
// the HF folder's ternary values and logits, and to the numpy reference's.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "io/safetensors_writer.h"
#include "model/checkpoint_builder.h"
#include "model/family_reference.h"
#include "model/logit_compare.h"
#include "ternary/model/convert.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/model/model.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "test_util.h"

namespace ternary {
namespace {

const std::filesystem::path kFamilies =
    std::filesystem::path(TERNARY_TEST_DATA_DIR) / "families";
const std::filesystem::path kLlama = kFamilies / "llama_bitnet";
const std::filesystem::path kLlamaGguf = kLlama / "model-i2_s.gguf";
const std::filesystem::path kOneBit = kFamilies / "1bitllm";
const std::filesystem::path kOneBitGguf = kOneBit / "model-bitnet.gguf";

// As the HF fixtures' tests (family_test.cc, family_1bitllm_test.cc).
constexpr double kTolerance = 1e-5;

TEST_CASE("GGUF arch llama: q/k rows un-permuted, the HF folder's model") {
  const GgufCheckpoint g = GgufCheckpoint::Open(kLlamaGguf);
  CHECK(g.architecture() == "llama");
  const ModelConfig c = g.config();
  CHECK(c.family == ModelFamily::kLlamaBitNet);
  CHECK(!c.tie_word_embeddings);
  CHECK(c.dims.head_dim == 16);
  CHECK(c.dims.kv_heads == 2);
  CHECK(c.rms_norm_eps == 1e-6f);
  CHECK(c.rope_theta == 1000042.0);
  CHECK(g.PermutedForNormRope({TensorId::kQ, 0}));
  CHECK(!g.PermutedForNormRope({TensorId::kV, 0}));
  // α = 1/weight_scale in f32 on both sides: exactly equal.
  test::CheckSameTernary(g, HfCheckpoint::Open(kLlama), 0.0);

  using M = Model<kDynamicDims, Policy<quant::I2S>, family::LlamaBitNet>;
  const M from_gguf = M::Load(kLlamaGguf);
  const M from_hf = M::Load(kLlama);
  const auto cases = test::LoadReference(kLlama);
  for (const auto& rc : cases) {
    auto s1 = from_gguf.NewState();
    auto s2 = from_hf.NewState();
    CHECK(from_gguf.Forward(rc.ids, s1) == from_hf.Forward(rc.ids, s2));
  }
  test::ForEachTarget([&](int64_t) {
    test::CheckAgainstReference(from_gguf, cases, kTolerance);
  });
}

template <class Format, class F>
void CheckGgufFormat(const std::filesystem::path& gguf,
                     const std::filesystem::path& hf) {
  using M = Model<kDynamicDims, Policy<Format>, F>;
  test::CheckAgainstReference(M::Load(gguf), test::LoadReference(hf),
                              kTolerance);
}

TEST_CASE("family GGUFs: TL1 and TL2 repacks match the reference") {
  CheckGgufFormat<quant::TL1, family::LlamaBitNet>(kLlamaGguf, kLlama);
  CheckGgufFormat<quant::TL2, family::LlamaBitNet>(kLlamaGguf, kLlama);
  CheckGgufFormat<quant::TL1, family::OneBitLlm>(kOneBitGguf, kOneBit);
  CheckGgufFormat<quant::TL2, family::OneBitLlm>(kOneBitGguf, kOneBit);
}

TEST_CASE("GGUF arch bitnet (1bitLLM): sign weights × .scale, tied head") {
  const GgufCheckpoint g = GgufCheckpoint::Open(kOneBitGguf);
  const ModelConfig c = g.config();
  CHECK(c.family == ModelFamily::kOneBitLlm);
  CHECK(c.tie_word_embeddings);
  CHECK(c.dims.head_dim == 100);
  CHECK(c.bos_token_id == 1);
  CHECK(c.eos_token_id == 2);
  // α: the writer's float32 1/s against ternary's (torch's sum order).
  test::CheckSameTernary(g, HfCheckpoint::Open(kOneBit), 1e-6);

  using M = Model<kDynamicDims, Policy<quant::I2S>, family::OneBitLlm>;
  const M from_gguf = M::Load(kOneBitGguf);
  const M from_hf = M::Load(kOneBit);
  const auto cases = test::LoadReference(kOneBit);
  for (const auto& rc : cases) {
    auto s1 = from_gguf.NewState();
    auto s2 = from_hf.NewState();
    const std::vector<float> a = from_gguf.Forward(rc.ids, s1);
    const std::vector<float> b = from_hf.Forward(rc.ids, s2);
    for (size_t t = 0; t < rc.ids.size(); ++t) {
      CHECK(test::Gap(test::Row(a, 512, t), test::Row(b, 512, t)) <= 1e-6);
    }
  }
  test::ForEachTarget([&](int64_t) {
    test::CheckAgainstReference(from_gguf, cases, kTolerance);
  });
}

// f(set, text, case) for every case of the 1bitLLM fixture's
// tokenizer_cases.json ("cases", then "added_cases").
template <class F>
void ForEachTokenizerCase(F f) {
  const auto j =
      nlohmann::json::parse(std::ifstream(kOneBit / "tokenizer_cases.json"));
  for (const char* set : {"cases", "added_cases"}) {
    for (const auto& c : j[set]) {
      const std::string text = c["text"];
      INFO("text: " << text);
      f(std::string_view(set), text, c);
    }
  }
}

// A GGUF's SentencePiece vocabulary against the folder's tokenizer.model
// (the 1bitLLM fixtures': 512 ids, BOS 1, EOS 2): every text of
// tokenizer_cases.json gets the same ids with specials parsed, and also
// without when `control_as_folder` (the file types the folder's special
// added tokens CONTROL, as ternary's convert does; llama.cpp's converter
// types them USER_DEFINED, matched either way).
void CheckSameSentencePiece(const ModelTokenizer& from_gguf,
                            const ModelTokenizer& from_hf,
                            bool control_as_folder) {
  CHECK(from_gguf.tokenizer.is_sentencepiece());
  CHECK(from_gguf.tokenizer.vocab_size() == 512);
  CHECK(from_gguf.tokenizer.bos_id() == 1);
  CHECK(from_gguf.tokenizer.eos_id() == 2);
  CHECK(from_gguf.add_bos);
  ForEachTokenizerCase(
      [&](std::string_view, const std::string& text, const nlohmann::json&) {
        for (const bool special : {true, false}) {
          if (!special && !control_as_folder) break;
          CHECK(from_gguf.tokenizer.Encode(text, {.parse_special = special}) ==
                from_hf.tokenizer.Encode(text, {.parse_special = special}));
        }
      });
}

TEST_CASE(
    "GGUF arch bitnet: the SentencePiece vocabulary tokenizes as the "
    "tokenizer.model") {
  const ModelTokenizer from_gguf = LoadTokenizer(kOneBitGguf);
  const ModelTokenizer from_hf = LoadTokenizer(kOneBit);
  CheckSameSentencePiece(from_gguf, from_hf, /*control_as_folder=*/false);
  ForEachTokenizerCase([&](std::string_view set, const std::string& text,
                           const nlohmann::json& c) {
    // The library's ids treat "<s>" as text; transformers' added-token
    // ids parse specials.
    CHECK(from_gguf.tokenizer.Encode(text, {.parse_special = set != "cases"}) ==
          c["ids"].get<std::vector<int32_t>>());
  });
  // The GGUF types the added tokens USER_DEFINED (llama.cpp's converter):
  // <pad> is then matched even without parse_special, as llama.cpp does;
  // the folder's special_tokens_map.json makes it a control token.
  CHECK(from_gguf.tokenizer.token_type(510) == TokenType::kUserDefined);
  CHECK(from_hf.tokenizer.token_type(510) == TokenType::kControl);
}

// A Llama-family folder whose widths I2_S files take (K % 128 == 0): hidden
// 128, ffn 128, 4 heads on 2 KV heads of 32, 1 layer, the llama_bitnet
// fixture's tokenizer and vocab 4096, untied.
test::TinyCheckpoint LlamaWide() {
  constexpr size_t kH = 128, kF = 128, kHeads = 4, kKv = 2, kHd = 32;
  test::TinyCheckpoint c;
  c.config = nlohmann::json::parse(std::ifstream(kLlama / "config.json"));
  c.config["hidden_size"] = kH;
  c.config["intermediate_size"] = kF;
  c.config["num_attention_heads"] = kHeads;
  c.config["num_key_value_heads"] = kKv;
  c.config["head_dim"] = kHd;
  c.config["num_hidden_layers"] = 1;  // vocab: the tokenizer's 4096
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const auto floats = [&](size_t n, float mean, float sd) {
    std::vector<float> v(n);
    for (float& x : v) x = mean + sd * normal(rng);
    return v;
  };
  c.tensors.push_back(test::F32Tensor("model.embed_tokens.weight", {4096, kH},
                                      floats(4096 * kH, 0.0f, 1.0f)));
  c.tensors.push_back(test::F32Tensor("lm_head.weight", {4096, kH},
                                      floats(4096 * kH, 0.0f, 0.5f)));
  c.tensors.push_back(
      test::F32Tensor("model.norm.weight", {kH}, floats(kH, 1.0f, 0.1f)));
  const std::string l = "model.layers.0.";
  for (const char* n : {"input_layernorm", "post_attention_layernorm"}) {
    c.tensors.push_back(
        test::F32Tensor(l + n + ".weight", {kH}, floats(kH, 1.0f, 0.1f)));
  }
  std::uniform_int_distribution<int> tern(-1, 1);
  const struct {
    const char* name;
    size_t out, in;
  } projections[] = {{"self_attn.q_proj", kHeads * kHd, kH},
                     {"self_attn.k_proj", kKv * kHd, kH},
                     {"self_attn.v_proj", kKv * kHd, kH},
                     {"self_attn.o_proj", kH, kHeads * kHd},
                     {"mlp.gate_proj", kF, kH},
                     {"mlp.up_proj", kF, kH},
                     {"mlp.down_proj", kH, kF}};
  for (const auto& p : projections) {
    std::vector<int8_t> t(p.out * p.in);
    for (int8_t& v : t) v = static_cast<int8_t>(tern(rng));
    std::vector<uint8_t> packed(p.out / 4 * p.in);
    PackHfTernary(t.data(), p.out, p.in, packed.data());
    const std::string name = l + p.name + ".weight";
    c.tensors.push_back({name, "U8", {p.out / 4, p.in}, packed});
    c.tensors.push_back(test::Bf16Tensor(name + "_scale", {1},
                                         {std::sqrt(float(p.in)) * 0.8f}));
  }
  return c;
}

TEST_CASE("convert: a Llama-family folder to arch llama as bitnet.cpp writes") {
  const auto dir = test::TempDir("llama_convert");
  LlamaWide().Write(dir);
  std::filesystem::copy_file(kLlama / "tokenizer.json", dir / "tokenizer.json");
  ConvertOptions options;
  options.embedding_type = GgufEmbeddingType::kF32;  // the folder's values
  const std::vector<uint8_t> bytes = MakeGgufFromHf(dir, options).Serialize();
  const io::GgufFile file = io::GgufFile::Parse(bytes, "conv.gguf");
  CHECK(file.architecture() == "llama");
  CHECK(file.Find("llama.attention.key_length") == nullptr);  // 128 / 4
  CHECK(file.GetString("tokenizer.ggml.pre") == "llama-bpe");
  CHECK(file.Find("tokenizer.chat_template") == nullptr);
  CHECK(file.FindTensor("blk.0.attn_sub_norm.weight") == nullptr);
  CHECK(file.FindTensor("blk.0.ffn_sub_norm.weight") == nullptr);
  CHECK(file.FindTensor("output.weight") != nullptr);
  // q/k rows as llama.cpp's permute leaves them: the file's row
  // h·d + 2j + t is the folder's row h·d + t·d/2 + j (d = 32).
  const HfCheckpoint hf = HfCheckpoint::Open(dir);
  for (const auto& [name, kind, heads] :
       {std::tuple{"blk.0.attn_q.weight", TensorId::kQ, size_t{4}},
        std::tuple{"blk.0.attn_k.weight", TensorId::kK, size_t{2}},
        std::tuple{"blk.0.attn_v.weight", TensorId::kV, size_t{0}}}) {
    const std::string tensor = name;  // clang 14: INFO cannot capture a binding
    INFO("tensor " << tensor);
    const size_t rows = heads == 4 ? 128 : 64, cols = 128, d = 32;
    std::vector<int8_t> t(rows * cols);
    quant::DecodeI2S(file.TensorData(*file.FindTensor(name)), t, name);
    const TernaryMatrix want = hf.Ternary({kind, 0}, rows, cols);
    size_t same = 0;
    for (size_t r = 0; r < rows; ++r) {
      const size_t h = r / d, j = r % d / 2, half = r % 2;
      const size_t src = heads == 0 ? r : h * d + half * d / 2 + j;
      same += std::equal(t.begin() + r * cols, t.begin() + (r + 1) * cols,
                         want.values.begin() + src * cols);
    }
    CHECK(same == rows);
  }
  // The converted file runs the folder's model, logits bit for bit.
  using M = Model<kDynamicDims, Policy<quant::I2S>, family::LlamaBitNet>;
  GgufCheckpoint source(io::GgufFile::Parse(bytes, "conv.gguf"));
  const M a = M::FromSource(source, "conv.gguf");
  const M b = M::Load(dir);
  const std::vector<int32_t> ids = {4091, 1948, 328, 699, 2221, 11};
  auto sa = a.NewState();
  auto sb = b.NewState();
  CHECK(a.Forward(ids, sa) == b.Forward(ids, sb));
  std::filesystem::remove_all(dir);
}

// 1bitLLM → arch bitnet as llama.cpp and ik_llama read it: the ternarized
// latent weights with α inside each tensor, the sub-norms, the tied head,
// the SentencePiece vocabulary (tests/data/families/1bitllm_peers: widths
// every weight type takes).
TEST_CASE("convert: a 1bitLLM folder to arch bitnet") {
  const std::filesystem::path dir = kFamilies / "1bitllm_peers";
  using M = Model<kDynamicDims, Policy<quant::I2S>, family::OneBitLlm>;
  const M folder = M::Load(dir);
  const std::vector<int32_t> ids = {1, 430, 463, 460, 478, 465, 460, 458};
  auto sf = folder.NewState();
  const std::vector<float> want = folder.Forward(ids, sf, Logits::kAll);
  for (const GgufWeightType type :
       {GgufWeightType::kI2_S, GgufWeightType::kTQ2_0}) {
    const bool i2s = type == GgufWeightType::kI2_S;
    CAPTURE(i2s);
    ConvertOptions options;
    options.weight_type = type;
    const std::vector<uint8_t> bytes = MakeGgufFromHf(dir, options).Serialize();
    const io::GgufFile file = io::GgufFile::Parse(bytes, "conv.gguf");
    CHECK(file.architecture() == "bitnet");
    CHECK(file.GetString("tokenizer.ggml.model") == "llama");
    CHECK(file.FindTensor("blk.0.attn_sub_norm.weight") != nullptr);
    CHECK(file.FindTensor("blk.0.ffn_sub_norm.weight") != nullptr);
    CHECK(file.FindTensor("output.weight") == nullptr);  // tied
    GgufCheckpoint source(io::GgufFile::Parse(bytes, "conv.gguf"));
    CHECK(source.config().family == ModelFamily::kOneBitLlm);
    const M m = M::FromSource(source, "conv.gguf");
    auto s = m.NewState();
    const std::vector<float> got = m.Forward(ids, s, Logits::kAll);
    if (i2s) {
      CHECK(got == want);  // the folder's codes and f32 α, bit for bit
    } else {
      // TQ2_0 rounds α to fp16 (2^-11): activation codes may flip.
      const size_t v = m.vocab();
      for (size_t t = 0; t < ids.size(); ++t) {
        CHECK(test::Gap(test::Row(got, v, t), test::Row(want, v, t)) < 0.03);
      }
    }
  }
  // The vocabulary written tokenizes as the folder's tokenizer.model.
  const auto file = test::TempDir("onebit_convert") / "conv.gguf";
  ConvertHfToGguf(dir, file);
  CheckSameSentencePiece(LoadTokenizer(file), LoadTokenizer(dir),
                         /*control_as_folder=*/true);
  std::filesystem::remove_all(file.parent_path());
}

}  // namespace
}  // namespace ternary
