// GgufCheckpoint on the peers' real files (every ternary value and scale
// against the bf16 masters they were made from) and on broken files.
#include "ternary/model/gguf_checkpoint.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "model/gguf_builder.h"
#include "model/projections.h"
#include "ternary/io/gguf.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"

namespace ternary {
namespace {

const std::filesystem::path kData = TERNARY_TEST_DATA_DIR;

struct RealFile {
  std::string gguf;    // under tests/data
  std::string master;  // the HF folder it was made from
  io::GgmlType type;   // of its projections
  io::GgmlType embd;   // of token_embd
};

const RealFile kRealFiles[] = {
    {"gguf/bitnet.cpp-i2_s.gguf", "tiny-shakespeare-bf16", io::GgmlType::kI2_S,
     io::GgmlType::kQ8_0},
    {"gguf/bitnet.cpp-i2_s-f16embd.gguf", "tiny-shakespeare-bf16",
     io::GgmlType::kI2_S, io::GgmlType::kF16},
    {"gguf/ik_llama-iq2_bn.gguf", "tiny-shakespeare-bf16",
     io::GgmlType::kIQ2_BN, io::GgmlType::kQ8_0},
    {"gguf/ik_llama-iq1_bn.gguf", "tiny-shakespeare-bf16",
     io::GgmlType::kIQ1_BN, io::GgmlType::kQ8_0},
    {"random-256/bitnet.cpp-i2_s.gguf", "random-256-bf16", io::GgmlType::kI2_S,
     io::GgmlType::kF16},
    {"random-256/llama.cpp-tq1_0.gguf", "random-256-bf16", io::GgmlType::kTQ1_0,
     io::GgmlType::kF16},
    {"random-256/llama.cpp-tq2_0.gguf", "random-256-bf16", io::GgmlType::kTQ2_0,
     io::GgmlType::kF16},
};

float Fp16(float x) { return F16ToFloat(FloatToF16(x)); }

// Distance in float steps between two positive floats.
int64_t Ulps(float a, float b) {
  int32_t ia = 0, ib = 0;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  return std::abs(int64_t(ia) - int64_t(ib));
}

TEST_CASE("real GGUFs: config, ternary values and scales equal the masters'") {
  for (const RealFile& rf : kRealFiles) {
    CAPTURE(rf.gguf);
    const GgufCheckpoint g = GgufCheckpoint::Open(kData / rf.gguf);
    const HfCheckpoint hf = HfCheckpoint::Open(kData / rf.master);
    CHECK(g.architecture() == "bitnet-25");
    CHECK(DetectCheckpointFormat(kData / rf.gguf) == CheckpointFormat::kGguf);
    const ModelConfig a = g.config(), b = hf.config();
    CHECK(a.dims == b.dims);
    CHECK(a.rms_norm_eps == b.rms_norm_eps);
    CHECK(a.rope_theta == b.rope_theta);
    CHECK(a.max_position_embeddings == b.max_position_embeddings);
    CHECK(a.tie_word_embeddings);
    CHECK(b.tie_word_embeddings);
    CHECK(a.bos_token_id == 4091);
    CHECK(a.eos_token_id == 4092);
    CHECK(g.file().FindTensor("blk.0.attn_q.weight")->type == rf.type);

    size_t values = 0, differ = 0, alpha_exact = 0, max_ulps = 0;
    const auto ids = test::Projections(a.dims.layers);
    for (const TensorId id : ids) {
      const auto [rows, cols] = test::ProjectionShape(a, id);
      const TernaryMatrix x = g.Ternary(id, rows, cols);
      const TernaryMatrix y = hf.Ternary(id, rows, cols);
      REQUIRE(x.values.size() == y.values.size());
      for (size_t i = 0; i < x.values.size(); ++i)
        differ += x.values[i] != y.values[i];
      values += x.values.size();
      // The peers' α is fl32(1/fl32(1/mean)) with PyTorch's float32 mean
      // (bitnet.cpp's preprocess-huggingface-bitnet.py); ours sums in
      // PyTorch's order (quant/torch_sum.h), so they are equal.
      float want = y.alpha;
      if (rf.type == io::GgmlType::kTQ1_0 || rf.type == io::GgmlType::kTQ2_0 ||
          rf.type == io::GgmlType::kIQ1_BN) {
        want = Fp16(want);  // stored as fp16 d
      }
      alpha_exact += x.alpha == want;
      max_ulps = std::max<size_t>(max_ulps, size_t(Ulps(x.alpha, want)));
    }
    MESSAGE(rf.gguf << ": " << differ << " of " << values
                    << " ternary values differ from the master's; alpha equal "
                       "in "
                    << alpha_exact << "/" << ids.size()
                    << " tensors, max distance " << max_ulps << " ulp");
    // The absmean of the bf16 master reproduces the peers' ternarisation
    // and α exactly (a double-precision mean was off by up to 4 ulps).
    CHECK(differ == 0);
    CHECK(alpha_exact == ids.size());
    CHECK(max_ulps == 0);
  }
}

TEST_CASE("real GGUFs: norms and embeddings decode as ggml does") {
  for (const RealFile& rf : kRealFiles) {
    CAPTURE(rf.gguf);
    const GgufCheckpoint g = GgufCheckpoint::Open(kData / rf.gguf);
    const HfCheckpoint hf = HfCheckpoint::Open(kData / rf.master);
    const ModelConfig c = g.config();
    const size_t h = c.dims.hidden, v = c.dims.vocab;
    // bf16 → f32 is exact, and bitnet.cpp keeps norms in F32.
    for (int l = 0; l < c.dims.layers; ++l) {
      for (auto [k, n] :
           {std::pair{TensorId::kAttnNorm, h}, std::pair{TensorId::kFfnNorm, h},
            std::pair{TensorId::kAttnSubNorm, c.q_dim()},
            std::pair{TensorId::kFfnSubNorm, size_t(c.dims.ffn)}}) {
        const auto x = g.Floats({k, l}, 1, n);
        const auto y = hf.Floats({k, l}, 1, n);
        CHECK(std::equal(x.begin(), x.end(), y.begin()));
      }
    }
    const auto e = g.Floats({TensorId::kEmbed}, v, h);
    const auto m = hf.Floats({TensorId::kEmbed}, v, h);
    // What llama-quantize made of the same floats: F16 rounding, or
    // quantize_row_q8_0_ref.
    std::vector<float> want(v * h);
    if (rf.embd == io::GgmlType::kF16) {
      for (size_t i = 0; i < want.size(); ++i) want[i] = Fp16(m[i]);
    } else {
      std::vector<uint8_t> q(v * h / 32 * 34);
      quant::QuantizeRowQ8_0(m.span(), q);
      quant::DequantizeRowQ8_0(q, want);
    }
    CHECK(std::equal(e.begin(), e.end(), want.begin()));
  }
}

// A fresh temp folder per test case.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("ternary_gguf_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

TEST_CASE("tiny built GGUFs: every ternary type round trips") {
  for (io::GgmlType type : {io::GgmlType::kI2_S, io::GgmlType::kTQ2_0,
                            io::GgmlType::kTQ1_0, io::GgmlType::kIQ2_BN}) {
    CAPTURE(io::GgmlTypeName(type));
    const test::TinyGguf t = test::TinyGguf::Make(type);
    const std::vector<uint8_t> bytes = t.Serialize();
    const GgufCheckpoint g(io::GgufFile::Parse(bytes, "tiny.gguf"));
    const ModelConfig c = g.config();
    CHECK(c.dims == Dims{.hidden = 256,
                         .ffn = 256,
                         .heads = 4,
                         .kv_heads = 2,
                         .head_dim = 64,
                         .layers = 1,
                         .vocab = 16});
    CHECK(c.rope_theta == 10000.0);
    CHECK(c.max_position_embeddings == 128);
    CHECK(c.bos_token_id == 15);
    CHECK(c.eos_token_id == -1);
    for (const TensorId id : test::Projections(1)) {
      const auto [rows, cols] = test::ProjectionShape(c, id);
      const std::string name = GgufTensorName(id);
      const TernaryMatrix m = g.Ternary(id, rows, cols);
      CHECK(m.values == t.ternary.at(name));
      const float a = t.alpha.at(name);
      CHECK(m.alpha ==
            (type == io::GgmlType::kI2_S || type == io::GgmlType::kIQ2_BN
                 ? a
                 : Fp16(a)));
    }
    test::ReadEveryTensor(g);
  }
}

TEST_CASE(
    "tiny built GGUFs: fake-ternarised floats, untied output, all-zero "
    "blocks") {
  test::TinyGguf t = test::TinyGguf::Make();
  // bitnet.cpp's f32 intermediate: ±α / 0 as F32 (and F16 here).
  for (const char* name : {"blk.0.attn_q.weight", "blk.0.ffn_down.weight"}) {
    const auto& v = t.ternary.at(name);
    const float a = t.alpha.at(name);
    std::vector<float> x(v.size());
    for (size_t i = 0; i < v.size(); ++i) x[i] = a * v[i];
    test::TinyGguf::Tensor& tensor = t.Get(name);
    if (std::string(name) == "blk.0.attn_q.weight") {
      tensor.type = io::GgmlType::kF32;
      tensor.data.resize(4 * x.size());
      quant::EncodeF32(x, tensor.data);
    } else {
      tensor.type = io::GgmlType::kF16;
      tensor.data.resize(2 * x.size());
      quant::EncodeF16(x, tensor.data);
    }
  }
  // An untied head in Q6_K.
  std::vector<float> head(16 * 256);
  for (size_t i = 0; i < head.size(); ++i) head[i] = std::sin(float(i));
  std::vector<uint8_t> q(16 * 210);
  // No Q6_K encoder: a hand-made block (d = 1, scales 1, q = 0 → value −32·…)
  // is enough to check the type is accepted and decoded like ggml.
  for (size_t b = 0; b < 16; ++b) {
    uint8_t* y = &q[b * 210];
    std::fill(y, y + 192, uint8_t{0x11});
    std::fill(y + 192, y + 208, uint8_t{1});
    const uint16_t one = FloatToF16(0.5f);
    std::memcpy(y + 208, &one, 2);
  }
  t.Add("output.weight", {256, 16}, io::GgmlType::kQ6_K, q);
  const std::vector<uint8_t> bytes = t.Serialize();
  const GgufCheckpoint g(io::GgufFile::Parse(bytes, "tiny.gguf"));
  CHECK_FALSE(g.config().tie_word_embeddings);
  const TernaryMatrix mq = g.Ternary({TensorId::kQ, 0}, 256, 256);
  CHECK(mq.values == t.ternary.at("blk.0.attn_q.weight"));
  CHECK(mq.alpha == t.alpha.at("blk.0.attn_q.weight"));
  const TernaryMatrix md = g.Ternary({TensorId::kDown, 0}, 256, 256);
  CHECK(md.values == t.ternary.at("blk.0.ffn_down.weight"));
  CHECK(md.alpha == Fp16(t.alpha.at("blk.0.ffn_down.weight")));
  const auto lm = g.Floats({TensorId::kLmHead}, 16, 256);
  std::vector<float> want(16 * 256);
  quant::DequantizeRowQ6_K(q, want);
  CHECK(std::equal(lm.begin(), lm.end(), want.begin()));
  test::ReadEveryTensor(g);

  // A TQ tensor whose first blocks are all zero (llama.cpp stores d = 0
  // there): α comes from the non-zero blocks.
  test::TinyGguf z = test::TinyGguf::Make(io::GgmlType::kTQ2_0);
  auto& v = z.ternary.at("blk.0.attn_k.weight");
  std::fill(v.begin(), v.begin() + 1024, int8_t{0});
  z.Get("blk.0.attn_k.weight").data = test::TinyGguf::EncodeTernary(
      io::GgmlType::kTQ2_0, v, 128, 256, z.alpha.at("blk.0.attn_k.weight"));
  CHECK(z.Get("blk.0.attn_k.weight").data[64] == 0);  // d of block 0
  const std::vector<uint8_t> zb = z.Serialize();
  const GgufCheckpoint gz(io::GgufFile::Parse(zb, "zero.gguf"));
  const TernaryMatrix mk = gz.Ternary({TensorId::kK, 0}, 128, 256);
  CHECK(mk.values == v);
  CHECK(mk.alpha == Fp16(z.alpha.at("blk.0.attn_k.weight")));
}

// Parses `t` and reads every tensor, as loading a model does.
void Load(const test::TinyGguf& t, const std::string& name = "bad.gguf") {
  const std::vector<uint8_t> bytes = t.Serialize();
  const GgufCheckpoint g(io::GgufFile::Parse(bytes, name));
  test::ReadEveryTensor(g);
}

// The family a GGUF's arch (and vocabulary, hidden_act) names
// (docs/model.md §5.3).
ModelFamily FamilyOf(const test::TinyGguf& t) {
  const std::vector<uint8_t> bytes = t.Serialize();
  return GgufCheckpoint(io::GgufFile::Parse(bytes, "f.gguf")).config().family;
}

TEST_CASE("GGUF families: arch, SentencePiece vocabulary, hidden_act") {
  using test::TinyGguf;
  TinyGguf t = TinyGguf::Make();
  CHECK(FamilyOf(t) == ModelFamily::kBitNet);
  t.arch = "bitnet";  // 1bitLLM, bitnet.cpp's converter up to 2026-07
  CHECK(FamilyOf(t) == ModelFamily::kOneBitLlm);
  // bitnet.cpp's later converter tags 1bitLLM bitnet-b1.58: its
  // SentencePiece vocabulary tells it from 2B4T's (Llama 3 BPE).
  t.arch = "bitnet-b1.58";
  t.drop_keys = {"tokenizer.ggml.model"};
  t.extra_strings = {{"tokenizer.ggml.model", "llama"}};
  CHECK(FamilyOf(t) == ModelFamily::kOneBitLlm);
  t.extra_strings.push_back({"bitnet-b1.58.hidden_act", "relu2"});
  CHECK(FamilyOf(t) == ModelFamily::kBitNet);
  t.extra_strings = {{"tokenizer.ggml.model", "gpt2"},
                     {"bitnet-b1.58.hidden_act", "silu"}};
  CHECK(FamilyOf(t) == ModelFamily::kOneBitLlm);
  t.extra_strings = {{"tokenizer.ggml.model", "gpt2"},
                     {"bitnet-b1.58.hidden_act", "gelu"}};
  CHECK_THROWS_WITH_AS(FamilyOf(t),
                       "f.gguf: metadata key 'bitnet-b1.58.hidden_act' is "
                       "'gelu' (supported: silu, relu2)",
                       FormatError);
}

TEST_CASE("GGUF arch bitnet: .scale tensors multiply α") {
  test::TinyGguf t = test::TinyGguf::Make();
  t.arch = "bitnet";
  const float scale = 0.25f;
  std::vector<uint8_t> bytes(4);
  std::memcpy(bytes.data(), &scale, 4);
  t.Add("blk.0.ffn_up.scale", {1}, io::GgmlType::kF32, bytes);
  const std::vector<uint8_t> file = t.Serialize();
  const GgufCheckpoint g(io::GgufFile::Parse(file, "s.gguf"));
  const TensorId up{TensorId::kUp, 0};
  const TernaryMatrix m =
      g.Ternary(up, test::TinyGguf::kFfn, test::TinyGguf::kHidden);
  CHECK(m.alpha == t.alpha.at("blk.0.ffn_up.weight") * scale);
  CHECK(m.values == t.ternary.at("blk.0.ffn_up.weight"));
  // Not used in place: the model's α must include the scale.
  CHECK(!g.PackedI2S(up, test::TinyGguf::kFfn, test::TinyGguf::kHidden));
  test::ReadEveryTensor(g);
}

TEST_CASE("bad GGUFs: FormatError naming the file and the key or tensor") {
  using test::TinyGguf;
  SUBCASE("architecture") {
    TinyGguf t = TinyGguf::Make();
    t.arch = "gpt2";
    CHECK_THROWS_WITH_AS(Load(t),
                         "bad.gguf: unsupported architecture 'gpt2' "
                         "(supported: bitnet-b1.58, bitnet-25, bitnet, llama)",
                         FormatError);
    // Arch llama (ternary Llama) has no sub-norms.
    t.arch = "llama";
    CHECK_THROWS_WITH_AS(Load(t),
                         "bad.gguf: unexpected tensor "
                         "'blk.0.attn_sub_norm.weight': not part of the llama "
                         "graph",
                         FormatError);
    t.drop_keys = {"general.architecture"};
    CHECK_THROWS_WITH_AS(
        Load(t), "bad.gguf: missing metadata key 'general.architecture'",
        FormatError);
  }
  SUBCASE("bitnet-25 is the same graph") {
    TinyGguf t = TinyGguf::Make();
    t.arch = "bitnet-25";
    CHECK_NOTHROW(Load(t));
  }
  SUBCASE("keys") {
    TinyGguf t = TinyGguf::Make();
    t.drop_keys = {"bitnet-b1.58.embedding_length"};
    CHECK_THROWS_WITH_AS(
        Load(t),
        "bad.gguf: missing metadata key 'bitnet-b1.58.embedding_length'",
        FormatError);
    t.drop_keys = {"bitnet-b1.58.attention.layer_norm_rms_epsilon"};
    CHECK_THROWS_WITH_AS(Load(t),
                         doctest::Contains("'bitnet-b1.58.attention.layer_norm_"
                                           "rms_epsilon'"),
                         FormatError);
    t.drop_keys = {"bitnet-b1.58.vocab_size"};  // from the token list
    CHECK_NOTHROW(Load(t));
    t.drop_keys = {"bitnet-b1.58.rope.dimension_count"};  // hidden / heads
    CHECK_NOTHROW(Load(t));
    t.drop_keys = {};
    t.extra_strings = {{"bitnet-b1.58.rope.scaling.type", "yarn"}};
    CHECK_THROWS_WITH_AS(Load(t),
                         doctest::Contains("'bitnet-b1.58.rope.scaling.type' "
                                           "is 'yarn'"),
                         FormatError);
  }
  SUBCASE("missing tensor") {
    TinyGguf t = TinyGguf::Make();
    t.Remove("blk.0.ffn_up.weight");
    CHECK_THROWS_WITH_AS(
        Load(t), "bad.gguf: missing tensor 'blk.0.ffn_up.weight'", FormatError);
    t = TinyGguf::Make();
    t.Remove("output_norm.weight");
    CHECK_THROWS_WITH_AS(
        Load(t), "bad.gguf: missing tensor 'output_norm.weight'", FormatError);
  }
  SUBCASE("wrong shape") {
    TinyGguf t = TinyGguf::Make();
    // k with q's shape.
    TinyGguf::Tensor q = t.Get("blk.0.attn_q.weight");
    q.name = "blk.0.attn_k.weight";
    t.Get("blk.0.attn_k.weight") = q;
    CHECK_THROWS_WITH_AS(Load(t),
                         "bad.gguf: tensor 'blk.0.attn_k.weight' has dims "
                         "{256, 256}, expected {256, 128} (ggml order: ne0 = "
                         "columns)",
                         FormatError);
    t = TinyGguf::Make();
    t.Get("blk.0.ffn_sub_norm.weight").ne = {128, 2};
    CHECK_THROWS_WITH_AS(Load(t),
                         "bad.gguf: tensor 'blk.0.ffn_sub_norm.weight' has "
                         "dims {128, 2}, expected {256} (ggml order: ne0 = "
                         "columns)",
                         FormatError);
    t = TinyGguf::Make();
    t.Get("token_embd.weight").ne = {256, 8};
    t.Get("token_embd.weight").data.resize(256 * 8 * 4);
    CHECK_THROWS_WITH_AS(
        Load(t),
        doctest::Contains(
            "'token_embd.weight' has dims {256, 8}, expected {256, 16}"),
        FormatError);
  }
  SUBCASE("wrong type") {
    TinyGguf t = TinyGguf::Make();
    std::vector<float> x(256 * 256, 0.5f);
    std::vector<uint8_t> q(256 * 256 / 32 * 34);
    quant::QuantizeRowQ8_0(x, q);
    t.Get("blk.0.attn_q.weight").type = io::GgmlType::kQ8_0;
    t.Get("blk.0.attn_q.weight").data = q;
    CHECK_THROWS_WITH_AS(
        Load(t),
        "bad.gguf: tensor 'blk.0.attn_q.weight' has type Q8_0, expected a "
        "ternary type (I2_S, TQ1_0, TQ2_0, IQ1_BN, IQ2_BN) or "
        "fake-ternarised F32/F16/BF16",
        FormatError);
    t = TinyGguf::Make();
    TinyGguf::Tensor& n = t.Get("blk.0.attn_norm.weight");
    n.ne = {256, 1};
    n.type = io::GgmlType::kI2_S;
    n.data.assign(256 / 4 + 32, 0x55);
    CHECK_THROWS_WITH_AS(Load(t),
                         "bad.gguf: tensor 'blk.0.attn_norm.weight' has type "
                         "I2_S, expected F32, F16, BF16, Q8_0, Q6_K or Q4_0",
                         FormatError);
  }
  SUBCASE("float projection that is not ternary") {
    TinyGguf t = TinyGguf::Make();
    std::vector<float> x(128 * 256, 0.25f);
    x[77] = 0.5f;
    TinyGguf::Tensor& v = t.Get("blk.0.attn_v.weight");
    v.type = io::GgmlType::kF32;
    v.data.resize(4 * x.size());
    quant::EncodeF32(x, v.data);
    CHECK_THROWS_WITH_AS(Load(t),
                         doctest::Contains("bad.gguf: tensor "
                                           "'blk.0.attn_v.weight' is F32 but "
                                           "not ternary: element 77 is 0.5"),
                         FormatError);
  }
  SUBCASE("block and row scales that disagree") {
    TinyGguf t = TinyGguf::Make(io::GgmlType::kTQ2_0);
    // Block 5's d doubled: a per-block quantization, not BitNet.
    TinyGguf::Tensor& g = t.Get("blk.0.ffn_gate.weight");
    const uint16_t d = FloatToF16(2 * t.alpha.at("blk.0.ffn_gate.weight"));
    std::memcpy(&g.data[5 * 66 + 64], &d, 2);
    CHECK_THROWS_WITH_AS(
        Load(t),
        doctest::Contains("bad.gguf: tensor 'blk.0.ffn_gate.weight' has block "
                          "scales"),
        FormatError);
    // Within fp16 rounding: one fp16 step is accepted.
    t = TinyGguf::Make(io::GgmlType::kTQ1_0);
    TinyGguf::Tensor& u = t.Get("blk.0.ffn_up.weight");
    uint16_t bits = 0;
    std::memcpy(&bits, &u.data[3 * 54 + 52], 2);
    ++bits;
    std::memcpy(&u.data[3 * 54 + 52], &bits, 2);
    CHECK_NOTHROW(Load(t));

    t = TinyGguf::Make(io::GgmlType::kIQ2_BN);
    TinyGguf::Tensor& o = t.Get("blk.0.attn_output.weight");
    const float half = t.alpha.at("blk.0.attn_output.weight") / 2;
    std::memcpy(&o.data[7 * (4 + 64)], &half, 4);  // row 7's d
    CHECK_THROWS_WITH_AS(
        Load(t),
        doctest::Contains("bad.gguf: tensor 'blk.0.attn_output.weight' has "
                          "row scales"),
        FormatError);
    t = TinyGguf::Make(io::GgmlType::kI2_S);
    TinyGguf::Tensor& q = t.Get("blk.0.attn_q.weight");
    const float nan = std::nanf("");
    std::memcpy(&q.data[256 * 256 / 4], &nan, 4);
    CHECK_THROWS_WITH_AS(
        Load(t),
        doctest::Contains("bad.gguf: tensor 'blk.0.attn_q.weight' has scale"),
        FormatError);
  }
  SUBCASE("bitnet.cpp LUT layouts") {
    TinyGguf t = TinyGguf::Make();
    TinyGguf::Tensor& q = t.Get("blk.0.attn_q.weight");
    q.type = io::GgmlType::kTL1;  // same size as I2_S: N/4 + 32
    t.Add("blk.0.attn_q.weight_scale", {1}, io::GgmlType::kF32,
          std::vector<uint8_t>(4));
    CHECK_THROWS_WITH_AS(Load(t),
                         doctest::Contains("bad.gguf: tensor "
                                           "'blk.0.attn_q.weight' has type "
                                           "TL1: bitnet.cpp's LUT layouts"),
                         FormatError);
  }
  SUBCASE("corrupt codes") {
    TinyGguf t = TinyGguf::Make(io::GgmlType::kI2_S);
    t.Get("blk.0.ffn_down.weight").data[10] = 0xFF;
    CHECK_THROWS_WITH_AS(Load(t),
                         doctest::Contains("bad.gguf: tensor "
                                           "'blk.0.ffn_down.weight': corrupt "
                                           "I2_S data: code 3"),
                         FormatError);
  }
  SUBCASE("tensors the graph does not have") {
    TinyGguf t = TinyGguf::Make();
    std::vector<uint8_t> one(4);
    t.Add("blk.0.attn_q.scale", {1}, io::GgmlType::kF32, one);
    CHECK_THROWS_WITH_AS(Load(t),
                         "bad.gguf: unexpected tensor 'blk.0.attn_q.scale': "
                         "per-tensor .scale tensors (1bitLLM 'bitnet' layout) "
                         "belong to arch bitnet only",
                         FormatError);
    t = TinyGguf::Make();
    std::vector<uint8_t> bias(4 * 256);
    t.Add("blk.0.attn_q.bias", {256}, io::GgmlType::kF32, bias);
    CHECK_THROWS_WITH_AS(Load(t),
                         "bad.gguf: unexpected tensor 'blk.0.attn_q.bias': "
                         "biases are not supported",
                         FormatError);
    t = TinyGguf::Make();
    t.Add("blk.1.attn_norm.weight", {256}, io::GgmlType::kF32, bias);
    CHECK_THROWS_WITH_AS(
        Load(t),
        "bad.gguf: unexpected tensor 'blk.1.attn_norm.weight': "
        "not part of the bitnet-b1.58 graph",
        FormatError);
  }
  SUBCASE("paths") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(DetectCheckpointFormat(dir.path / "nothing"),
                         doctest::Contains("nothing: no such file or folder"),
                         FormatError);
    const auto junk = dir.path / "junk.gguf";
    std::ofstream(junk) << "not a gguf";
    CHECK_THROWS_WITH_AS(GgufCheckpoint::Open(junk),
                         doctest::Contains("junk.gguf: not a GGUF file"),
                         FormatError);
    CHECK(DetectCheckpointFormat(junk) == CheckpointFormat::kGguf);
    const auto txt = dir.path / "notes.txt";
    std::ofstream(txt) << "hello";
    CHECK_THROWS_WITH_AS(DetectCheckpointFormat(txt),
                         doctest::Contains("notes.txt: not a model"),
                         FormatError);
    const auto ok = dir.path / "tiny.bin";  // by magic, whatever the name
    TinyGguf::Make().Write(ok);
    CHECK(DetectCheckpointFormat(ok) == CheckpointFormat::kGguf);
    CHECK(DetectCheckpointFormat(dir.path) == CheckpointFormat::kHfFolder);
  }
}

TEST_CASE("bad GGUFs: random corruption throws ternary::Error or loads") {
  // Every byte of a small file is fair game: header, metadata, tensor infos
  // and payloads. Loading must either succeed or throw one of our errors
  // (never crash, never std::bad_alloc from a corrupt count).
  for (io::GgmlType type :
       {io::GgmlType::kI2_S, io::GgmlType::kTQ1_0, io::GgmlType::kIQ2_BN}) {
    const std::vector<uint8_t> good = test::TinyGguf::Make(type).Serialize();
    std::mt19937 rng{1234};
    size_t loaded = 0, refused = 0;
    for (int iter = 0; iter < 300; ++iter) {
      std::vector<uint8_t> bytes = good;
      // Mostly the header and metadata (the first 1 KiB), sometimes data.
      const size_t span = iter % 4 == 0 ? bytes.size() : 1024;
      const int flips = 1 + int(rng() % 4);
      for (int k = 0; k < flips; ++k) {
        bytes[rng() % span] = static_cast<uint8_t>(rng());
      }
      try {
        const GgufCheckpoint g(io::GgufFile::Parse(bytes, "fuzz.gguf"));
        test::ReadEveryTensor(g);
        (void)TokenizerFromGguf(g.file());
        ++loaded;
      } catch (const Error&) {
        ++refused;
      }
    }
    MESSAGE(io::GgmlTypeName(type) << ": " << loaded << " corrupted files "
                                   << "loaded, " << refused << " refused");
    CHECK(loaded + refused == 300);
  }
}

}  // namespace
}  // namespace ternary
