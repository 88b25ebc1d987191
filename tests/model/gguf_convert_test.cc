// ConvertHfToGguf: the peers' files rebuilt from the same HF folders (keys,
// tensors and payload bytes), and HF → GGUF → HF round trips.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/projections.h"
#include "ternary/io/gguf.h"
#include "ternary/model/convert.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"

namespace ternary {
namespace {

const std::filesystem::path kData = TERNARY_TEST_DATA_DIR;
const std::filesystem::path kModels = TERNARY_MODELS_DIR;
const std::filesystem::path kTinyMaster = kData / "tiny-shakespeare-bf16";
const std::filesystem::path kRandomMaster = kData / "random-256-bf16";

ConvertOptions Options(GgufWeightType w, GgufEmbeddingType e) {
  ConvertOptions o;
  o.weight_type = w;
  o.embedding_type = e;
  return o;
}

std::string OurKey(std::string_view real) {
  constexpr std::string_view kOld = "bitnet-25.";
  if (real.starts_with(kOld)) {
    return "bitnet-b1.58." + std::string(real.substr(kOld.size()));
  }
  return std::string(real);
}

bool SameValue(const io::GgufValue& a, const io::GgufValue& b) {
  if (a.type() != b.type() || a.element_type() != b.element_type() ||
      a.count() != b.count()) {
    return false;
  }
  if (a.is_array() && a.element_type() == io::GgufType::kString) {
    const auto x = *a.ToStrings(), y = *b.ToStrings();
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
  }
  return std::ranges::equal(a.raw(), b.raw());
}

// Our file against the peer's, built from the same folder: every key of
// theirs is ours with the same type (and value, but for the ones listed),
// the same tensors with the same types and dims, and the same payloads
// (I2_S: see below).
void CompareWithPeer(const io::GgufFile& ours, const io::GgufFile& peer) {
  for (const io::GgufKeyValue& kv : peer.metadata()) {
    const std::string key = OurKey(kv.key);
    CAPTURE(key);
    const io::GgufValue* v = ours.Find(key);
    REQUIRE(v != nullptr);
    CHECK(v->type() == kv.value.type());
    CHECK(v->element_type() == kv.value.element_type());
    // The arch is renamed on purpose; bitnet.cpp injects its legacy
    // "BITNETAssistant" template, we write the one 2B4T was trained with.
    if (key == "general.architecture" || key == "tokenizer.chat_template") {
      continue;
    }
    CHECK(SameValue(*v, kv.value));
  }
  CHECK(ours.GetString("general.architecture") == "bitnet-b1.58");
  CHECK(ours.GetString("tokenizer.ggml.pre") == "llama-bpe");
  REQUIRE(ours.tensors().size() == peer.tensors().size());
  int32_t max_alpha_ulps = 0;
  for (const io::GgufTensorInfo& p : peer.tensors()) {
    CAPTURE(p.name);
    const io::GgufTensorInfo* o = ours.FindTensor(p.name);
    REQUIRE(o != nullptr);
    CHECK(o->type == p.type);
    CHECK(o->ne == p.ne);
    CHECK(o->n_dims == p.n_dims);
    const auto a = ours.TensorData(*o), b = peer.TensorData(p);
    REQUIRE(a.size() == b.size());
    if (p.type != io::GgmlType::kI2_S) {
      CHECK(std::equal(a.begin(), a.end(), b.begin()));
      continue;
    }
    // I2_S: codes and α identical (both from PyTorch's float32 mean|W|;
    // ours sums in its order). The 28 filler bytes are stale work buffer in
    // the peer's file, zero in ours.
    const size_t n = a.size() - 32;
    CHECK(std::equal(a.begin(), a.begin() + long(n), b.begin()));
    float x = 0, y = 0;
    std::memcpy(&x, &a[n], 4);
    std::memcpy(&y, &b[n], 4);
    int32_t ix = 0, iy = 0;
    std::memcpy(&ix, &x, 4);
    std::memcpy(&iy, &y, 4);
    max_alpha_ulps = std::max(max_alpha_ulps, std::abs(ix - iy));
    CHECK(std::all_of(a.begin() + long(n) + 4, a.end(),
                      [](uint8_t z) { return z == 0; }));
  }
  MESSAGE("I2_S alpha vs the peer's: max " << max_alpha_ulps << " ulp");
  CHECK(max_alpha_ulps == 0);
}

struct PeerCase {
  std::filesystem::path master;
  std::string peer;  // under tests/data
  GgufWeightType type;
  GgufEmbeddingType embd;
  std::string name;  // general.name of the peer's file
};

TEST_CASE("convert rebuilds the peers' files from the same HF folders") {
  const PeerCase cases[] = {
      {kTinyMaster, "gguf/bitnet.cpp-i2_s.gguf", GgufWeightType::kI2_S,
       GgufEmbeddingType::kQ8_0, "tiny-shakespeare"},
      {kTinyMaster, "gguf/bitnet.cpp-i2_s-f16embd.gguf", GgufWeightType::kI2_S,
       GgufEmbeddingType::kF16, "tiny-shakespeare"},
      {kRandomMaster, "random-256/bitnet.cpp-i2_s.gguf", GgufWeightType::kI2_S,
       GgufEmbeddingType::kF16, "random-256"},
      {kRandomMaster, "random-256/llama.cpp-tq2_0.gguf", GgufWeightType::kTQ2_0,
       GgufEmbeddingType::kF16, "random-256"},
      {kRandomMaster, "random-256/llama.cpp-tq1_0.gguf", GgufWeightType::kTQ1_0,
       GgufEmbeddingType::kF16, "random-256"},
  };
  for (const PeerCase& c : cases) {
    CAPTURE(c.peer);
    ConvertOptions options = Options(c.type, c.embd);
    options.name = c.name;
    const io::GgufWriter w = MakeGgufFromHf(c.master, options);
    const std::vector<uint8_t> bytes = w.Serialize();
    const io::GgufFile ours = io::GgufFile::Parse(bytes, "converted.gguf");
    const io::GgufFile peer = io::GgufFile::Open(kData / c.peer);
    CompareWithPeer(ours, peer);
  }
}

TEST_CASE("convert: Microsoft's 2B4T key set, default name") {
  const io::GgufWriter w = MakeGgufFromHf(kTinyMaster);
  const std::vector<uint8_t> bytes = w.Serialize();
  const io::GgufFile f = io::GgufFile::Parse(bytes, "converted.gguf");
  // docs/formats.md §10.1's 24 keys (with our arch prefix) +
  // tokenizer.ggml.pre.
  const std::string p = "bitnet-b1.58.";
  for (const std::string& key : {std::string("general.architecture"),
                                 std::string("general.name"),
                                 p + "vocab_size",
                                 p + "context_length",
                                 p + "embedding_length",
                                 p + "block_count",
                                 p + "feed_forward_length",
                                 p + "rope.dimension_count",
                                 p + "attention.head_count",
                                 p + "attention.head_count_kv",
                                 std::string("tokenizer.ggml.add_bos_token"),
                                 p + "attention.layer_norm_rms_epsilon",
                                 p + "rope.freq_base",
                                 std::string("general.file_type"),
                                 std::string("tokenizer.ggml.model"),
                                 std::string("tokenizer.ggml.tokens"),
                                 std::string("tokenizer.ggml.scores"),
                                 std::string("tokenizer.ggml.token_type"),
                                 std::string("tokenizer.ggml.merges"),
                                 std::string("tokenizer.ggml.bos_token_id"),
                                 std::string("tokenizer.ggml.eos_token_id"),
                                 std::string("tokenizer.ggml.padding_token_id"),
                                 std::string("tokenizer.chat_template"),
                                 std::string("general.quantization_version"),
                                 std::string("tokenizer.ggml.pre")}) {
    CAPTURE(key);
    CHECK(f.Find(key) != nullptr);
  }
  CHECK(f.metadata().size() == 25);
  CHECK(f.GetString("general.name") == "tiny-shakespeare-bf16");
  CHECK(f.GetU32("general.file_type") == 40);
  CHECK(f.GetU32("tokenizer.ggml.padding_token_id") == 4092);
  CHECK(f.GetString("tokenizer.chat_template") == kBitNetChatTemplate);
  CHECK(f.FindTensor("token_embd.weight")->type == io::GgmlType::kF16);
  CHECK(f.FindTensor("output.weight") == nullptr);  // tied
}

TEST_CASE("convert round trip: same ternary values, scales and tokenizer") {
  struct Case {
    std::filesystem::path folder;
    GgufWeightType type;
    GgufEmbeddingType embd;
  };
  const Case cases[] = {
      {kTinyMaster, GgufWeightType::kI2_S, GgufEmbeddingType::kF32},
      {kTinyMaster, GgufWeightType::kI2_S, GgufEmbeddingType::kF16},
      {kTinyMaster, GgufWeightType::kI2_S, GgufEmbeddingType::kQ8_0},
      // Packed (offline) folder: α = the stored weight_scale.
      {kModels / "tiny-shakespeare", GgufWeightType::kI2_S,
       GgufEmbeddingType::kF32},
      {kRandomMaster, GgufWeightType::kI2_S, GgufEmbeddingType::kF16},
      {kRandomMaster, GgufWeightType::kTQ2_0, GgufEmbeddingType::kF16},
      {kRandomMaster, GgufWeightType::kTQ1_0, GgufEmbeddingType::kF32},
  };
  for (const Case& c : cases) {
    CAPTURE(c.folder);
    CAPTURE(int(c.type));
    CAPTURE(int(c.embd));
    const std::vector<uint8_t> bytes =
        MakeGgufFromHf(c.folder, Options(c.type, c.embd)).Serialize();
    const GgufCheckpoint g(io::GgufFile::Parse(bytes, "converted.gguf"));
    const HfCheckpoint hf = HfCheckpoint::Open(c.folder);
    const ModelConfig a = g.config(), b = hf.config();
    CHECK(a.dims == b.dims);
    CHECK(a.rms_norm_eps == b.rms_norm_eps);
    CHECK(a.rope_theta == b.rope_theta);
    CHECK(a.max_position_embeddings == b.max_position_embeddings);
    CHECK(a.tie_word_embeddings == b.tie_word_embeddings);
    CHECK(a.bos_token_id == b.bos_token_id);
    CHECK(a.eos_token_id == b.eos_token_id);
    for (const TensorId id : test::Projections(a.dims.layers)) {
      const auto [rows, cols] = test::ProjectionShape(a, id);
      const TernaryMatrix x = g.Ternary(id, rows, cols);
      const TernaryMatrix y = hf.Ternary(id, rows, cols);
      CHECK(x.values == y.values);
      if (c.type == GgufWeightType::kI2_S) {
        CHECK(x.alpha == y.alpha);
        // Byte for byte bitnet.cpp's layout (zero filler).
        std::vector<uint8_t> want(rows * cols / 4 + 32);
        quant::EncodeI2S(y.values, y.alpha, want);
        const io::GgufTensorInfo* t = g.file().FindTensor(GgufTensorName(id));
        const auto got = g.file().TensorData(*t);
        CHECK(std::equal(got.begin(), got.end(), want.begin(), want.end()));
      } else {
        CHECK(x.alpha == F16ToFloat(FloatToF16(y.alpha)));
      }
    }
    // Norms are F32: exact.
    const auto n = g.Floats({TensorId::kFfnSubNorm, 0}, 1, a.dims.ffn);
    const auto m = hf.Floats({TensorId::kFfnSubNorm, 0}, 1, a.dims.ffn);
    CHECK(std::equal(n.begin(), n.end(), m.begin()));
    const auto e = g.Floats({TensorId::kEmbed}, a.dims.vocab, a.dims.hidden);
    const auto h = hf.Floats({TensorId::kEmbed}, a.dims.vocab, a.dims.hidden);
    if (c.embd == GgufEmbeddingType::kF32) {
      CHECK(std::equal(e.begin(), e.end(), h.begin()));
    }

    // The tokenizer comes back: Llama 3 split (tokenizer.ggml.pre =
    // llama-bpe), same ids as tokenizer.json.
    const ModelTokenizer tg = TokenizerFromGguf(g.file());
    const ModelTokenizer th = LoadTokenizer(c.folder);
    CHECK(tg.tokenizer.pre_tokenizer() == PreTokenizer::kLlama3);
    CHECK(tg.add_bos == th.add_bos);
    CHECK(tg.tokenizer.bos_id() == th.tokenizer.bos_id());
    CHECK(tg.tokenizer.eos_id() == th.tokenizer.eos_id());
    const std::string text =
        "KING HENRY:\nWhat's 12345 o'clock?  Well -- 'TIS <|eot_id|> late!\n\n";
    CHECK(tg.tokenizer.Encode(text) == th.tokenizer.Encode(text));
  }
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("ternary_convert_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

TEST_CASE("ConvertHfToGguf writes the file; bad requests leave nothing") {
  TempDir dir;
  const auto out = dir.path / "tiny.gguf";
  const ConvertOptions q8 =
      Options(GgufWeightType::kI2_S, GgufEmbeddingType::kQ8_0);
  ConvertHfToGguf(kTinyMaster, out, q8);
  const std::vector<uint8_t> mem = MakeGgufFromHf(kTinyMaster, q8).Serialize();
  std::ifstream in(out, std::ios::binary);
  const std::vector<uint8_t> disk{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  CHECK(disk == mem);
  CHECK_FALSE(std::filesystem::exists(dir.path / "tiny.gguf.tmp"));

  const auto bad = dir.path / "bad.gguf";
  CHECK_THROWS_WITH_AS(
      ConvertHfToGguf(kTinyMaster, bad,
                      Options(GgufWeightType::kTQ2_0, GgufEmbeddingType::kF16)),
      "tensor 'blk.0.attn_q.weight' has 384 columns, not a multiple of 256 as "
      "TQ2_0 needs (use i2_s)",
      UsageError);
  CHECK_FALSE(std::filesystem::exists(bad));
  CHECK_THROWS_AS(ConvertHfToGguf(dir.path / "missing", bad), FormatError);
  CHECK_FALSE(std::filesystem::exists(bad));
  CHECK_THROWS_WITH_AS(
      ConvertHfToGguf(kTinyMaster, dir.path / "no-such-dir" / "x.gguf"),
      doctest::Contains("cannot open for writing"), Error);

  CHECK(ParseGgufWeightType("tq1_0") == GgufWeightType::kTQ1_0);
  CHECK(ParseGgufEmbeddingType("q8_0") == GgufEmbeddingType::kQ8_0);
  CHECK_THROWS_WITH_AS(ParseGgufWeightType("q4_0"),
                       "weight type must be i2_s, tq2_0 or tq1_0, got 'q4_0'",
                       UsageError);
  CHECK_THROWS_WITH_AS(ParseGgufEmbeddingType("bf16"),
                       "embedding type must be f16, q8_0 or f32, got 'bf16'",
                       UsageError);
}

}  // namespace
}  // namespace ternary
