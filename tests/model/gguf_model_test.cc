// Models loaded from GGUF: the logits of the HF folder each file was made
// from, and of the peers (bitnet.cpp, llama.cpp) that made them.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "model/gguf_builder.h"
#include "model/logit_compare.h"
#include "ternary/model/convert.h"
#include "ternary/model/generate.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/model.h"
#include "ternary/util/error.h"
#include "ternary/util/half.h"
#include "ternary/util/thread_pool.h"
#include "test_util.h"

namespace ternary {
namespace {

const std::filesystem::path kData = TERNARY_TEST_DATA_DIR;
const std::filesystem::path kTinyMaster = kData / "tiny-shakespeare-bf16";
const std::filesystem::path kRandomMaster = kData / "random-256-bf16";

using M = Model<kDynamicDims, Policy<quant::I2S, quant::A8>>;

// A prompt and, where the file has them, logits for its positions.
struct PeerCase {
  std::vector<int32_t> ids;
  std::vector<std::vector<float>> logits;  // per position (random-256)
  std::vector<float> last_logits;          // last position (tiny)
  std::vector<int32_t> argmax;             // per position
};

std::vector<PeerCase> LoadCases(const std::filesystem::path& file) {
  std::ifstream in(file);
  const nlohmann::json j = nlohmann::json::parse(in);
  std::vector<PeerCase> out;
  for (const auto& c : j.at("cases")) {
    PeerCase p;
    p.ids = c.at("ids").get<std::vector<int32_t>>();
    p.argmax = c.at("argmax").get<std::vector<int32_t>>();
    if (c.contains("logits")) {
      p.logits = c.at("logits").get<std::vector<std::vector<float>>>();
      p.last_logits = p.logits.back();
    } else {
      p.last_logits = c.at("last_logits").get<std::vector<float>>();
    }
    out.push_back(std::move(p));
  }
  return out;
}

using test::Gap;
using test::Range;
using test::Row;
std::vector<float> AllLogits(const M& m, std::span<const int32_t> ids,
                             ThreadPool* pool) {
  auto s = m.NewState();
  return m.Forward(ids, s, Logits::kAll, pool);
}
// How far below the row's top our logit for `id` is, as a fraction of the
// range: 0 when it is our argmax.
double Margin(std::span<const float> row, int32_t id) {
  const float top = *std::max_element(row.begin(), row.end());
  return (top - row[id]) / Range(row);
}

struct Stats {
  double worst = 0;      // max gap over all positions
  size_t positions = 0;  // compared
  size_t argmax_equal = 0;
  double worst_miss = 0;  // largest margin where the argmax differs
};

// Our logits for `file` against the HF folder's, all positions.
Stats VsFolder(const M& gguf, const M& hf, const std::vector<PeerCase>& cases,
               ThreadPool* pool) {
  Stats s;
  const size_t v = hf.vocab();
  for (const PeerCase& c : cases) {
    const auto a = AllLogits(gguf, c.ids, pool);
    const auto b = AllLogits(hf, c.ids, pool);
    for (size_t t = 0; t < c.ids.size(); ++t) {
      s.worst = std::max(s.worst, Gap(Row(a, v, t), Row(b, v, t)));
      const int32_t want = ArgMax(Row(b, v, t));
      ++s.positions;
      if (ArgMax(Row(a, v, t)) == want) {
        ++s.argmax_equal;
      } else {
        s.worst_miss = std::max(s.worst_miss, Margin(Row(a, v, t), want));
      }
    }
  }
  return s;
}

// Our logits against the peer's: rows where the file has them, argmax at
// every position.
Stats VsPeer(const M& gguf, const std::vector<PeerCase>& cases,
             ThreadPool* pool) {
  Stats s;
  const size_t v = gguf.vocab();
  for (const PeerCase& c : cases) {
    const auto a = AllLogits(gguf, c.ids, pool);
    const size_t n = c.ids.size();
    if (!c.logits.empty()) {
      for (size_t t = 0; t < n; ++t)
        s.worst = std::max(s.worst, Gap(Row(a, v, t), c.logits[t]));
    } else {
      s.worst = std::max(s.worst, Gap(Row(a, v, n - 1), c.last_logits));
    }
    for (size_t t = 0; t < n; ++t) {
      ++s.positions;
      if (ArgMax(Row(a, v, t)) == c.argmax[t]) {
        ++s.argmax_equal;
      } else {
        s.worst_miss =
            std::max(s.worst_miss, Margin(Row(a, v, t), c.argmax[t]));
      }
    }
  }
  return s;
}

void Report(const std::string& what, const Stats& s) {
  MESSAGE(what << ": max gap " << s.worst * 100 << "% of the row range, argmax "
               << s.argmax_equal << "/" << s.positions
               << " (largest margin where it differs " << s.worst_miss * 100
               << "%)");
}

// Two computations of one model whose inputs differ by rounding pick
// different tokens only at near ties.
constexpr double kNearTie = 0.01;

// The folder's ternary values and norms with the file's scales and
// embedding: when the file holds the folder's model, this is the file's
// model bit for bit, so whatever separates the file's logits from the
// folder's comes from those scales and that embedding alone.
struct FolderWithFileScales {
  const HfCheckpoint& hf;
  const GgufCheckpoint& g;
  ModelConfig config() const { return hf.config(); }
  TernaryMatrix Ternary(TensorId id, size_t rows, size_t cols) const {
    TernaryMatrix m = hf.Ternary(id, rows, cols);
    m.alpha = g.Ternary(id, rows, cols).alpha;
    return m;
  }
  AlignedBuffer<float> Floats(TensorId id, size_t rows, size_t cols) const {
    const bool table =
        id.kind == TensorId::kEmbed || id.kind == TensorId::kLmHead;
    return table ? g.Floats(id, rows, cols) : hf.Floats(id, rows, cols);
  }
};

// Loads `file` and checks it against the folder it was made from: equal to
// FolderWithFileScales exactly, within `max_gap` of the folder itself.
// Returns the model.
M CheckSameModel(const std::filesystem::path& file,
                 const std::filesystem::path& folder,
                 const std::vector<PeerCase>& cases, double max_gap,
                 ThreadPool* pool) {
  M g = M::Load(file);
  const M hf = M::Load(folder);
  const HfCheckpoint hc = HfCheckpoint::Open(folder);
  const GgufCheckpoint gc = GgufCheckpoint::Open(file);
  FolderWithFileScales mixed{hc, gc};
  const M same = M::FromSource(mixed);
  const Stats exact = VsFolder(g, same, cases, pool);
  CHECK(exact.worst == 0.0);
  CHECK(exact.argmax_equal == exact.positions);
  const Stats s = VsFolder(g, hf, cases, pool);
  Report(file.filename().string() + " vs " + folder.filename().string(), s);
  CHECK(s.worst <= max_gap);
  CHECK(s.worst_miss <= kNearTie);
  return g;
}

// Tolerances vs the folder, from what differs:
//  - I2_S / IQ2_BN scales: bitnet.cpp takes α from PyTorch's float32 mean,
//    and so do we (quant/torch_sum.h): equal bit for bit. With an F16
//    table, which holds these bf16 values exactly but for a few below 2^-14,
//    the logits agree to ~1e-7 of the range (measured).
//  - TQ1_0 / TQ2_0 / IQ1_BN store α in fp16 (2^-11 relative): activation
//    code flips, 1.4% measured on random-256; 3% bound.
//  - a Q8_0 embedding rounds the lookup and the tied LM head: 1.3–1.5%
//    measured on tiny-shakespeare; 3% bound.
constexpr double kSameScales = 1e-6, kFp16Scale = 0.03, kQ8Embedding = 0.03;

// Once per SIMD target this CPU runs (the TERNARY_SIMD switch).
void CheckGgufsVsFolderAndPeer() {
  ThreadPool pool(2);
  // Prompts: the reference.json ones (the peers used exactly these ids).
  const auto cases = LoadCases(kData / "gguf/bitnet.cpp-i2_s.peer_logits.json");
  REQUIRE(cases.size() == 4);
  struct File {
    const char* name;
    double max_gap;  // vs the HF folder, fraction of the row range
    const char* peer;
  };
  const File files[] = {
      {"gguf/bitnet.cpp-i2_s-f16embd.gguf", kSameScales,
       "gguf/bitnet.cpp-i2_s-f16embd.peer_logits.json"},
      {"gguf/bitnet.cpp-i2_s.gguf", kQ8Embedding,
       "gguf/bitnet.cpp-i2_s.peer_logits.json"},
      {"gguf/ik_llama-iq2_bn.gguf", kQ8Embedding, nullptr},
      {"gguf/ik_llama-iq1_bn.gguf", kQ8Embedding, nullptr},
  };
  for (const File& f : files) {
    CAPTURE(f.name);
    const M g =
        CheckSameModel(kData / f.name, kTinyMaster, cases, f.max_gap, &pool);
    if (f.peer == nullptr) continue;  // ik_llama cannot run K = 384
    // bitnet.cpp computes the same integer products, but keeps K/V in
    // fp16, rounds the LM head input to fp16 and sums in other orders; its
    // own README measures 0.3–0.8% against transformers. Measured here:
    // 0.6–0.7%; 2% bound. Argmax: equal up to near ties.
    const Stats p = VsPeer(g, LoadCases(kData / f.peer), &pool);
    Report(std::string(f.name) + " vs bitnet.cpp", p);
    CHECK(p.worst < 0.02);
    CHECK(p.worst_miss <= kNearTie);
    CHECK(p.argmax_equal + 2 >= p.positions);
  }
}

TEST_CASE(
    "tiny-shakespeare GGUFs: the HF folder's model, and bitnet.cpp's logits") {
  test::ForEachTarget([](int64_t) { CheckGgufsVsFolderAndPeer(); });
}

// Issue #5's yardstick: the bf16 folder the pipeline started from, run by
// transformers (tiny-shakespeare-bf16/reference.json), against our logits
// for bitnet.cpp's files and against bitnet.cpp's own.
//
// Float order matters at that precision: the 256/512-bit targets (AVX2,
// AVX3, AVX3_DL, with FMA) reproduce transformers to 2.4e-5 %, while the
// 128-bit ones without FMA (SSSE3, SSE4, scalar) round some sums
// differently, and one int8 activation code flips: 0.54 % of the range,
// one argmax changed at a 0.06 % near tie (measured on every target; the
// same with Highway's software f16 conversion on AVX2, so not the table).
void CheckGgufsVsTransformers(int64_t target) {
  const bool exact_order = test::HasFma(target);
  ThreadPool pool(2);
  const auto ref = LoadCases(kTinyMaster / "reference.json");
  REQUIRE(ref.size() == 4);
  struct File {
    const char* name;
    const char* peer;
    // F16 holds the bf16 table exactly, and α and the activation scales
    // are PyTorch's (quant/torch_sum.h, quant/activation.h): transformers'
    // logits to float rounding. A Q8_0 table rounds every embedding value
    // (up to 1/254 of its block's max): the file's own model differs from
    // the reference by ~0.75% of the range, and at positions where the
    // reference's top two are closer than that its argmax is not the
    // file's (2 of 21 here; 3 summation orders of our own agree).
    double max_gap;
    bool every_argmax;
  };
  const File files[] = {
      {"gguf/bitnet.cpp-i2_s-f16embd.gguf",
       "gguf/bitnet.cpp-i2_s-f16embd.peer_logits.json",
       exact_order ? 1e-5 : 0.01, exact_order},
      {"gguf/bitnet.cpp-i2_s.gguf", "gguf/bitnet.cpp-i2_s.peer_logits.json",
       0.01, false},
  };
  for (const File& f : files) {
    CAPTURE(f.name);
    // The reference is shaped like a peer file: VsPeer measures against it.
    const Stats ours = VsPeer(M::Load(kData / f.name), ref, &pool);
    const auto peer = LoadCases(kData / f.peer);
    double peer_gap = 0;
    size_t peer_equal = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      peer_gap =
          std::max(peer_gap, Gap(peer[i].last_logits, ref[i].last_logits));
      for (size_t t = 0; t < ref[i].argmax.size(); ++t)
        peer_equal += peer[i].argmax[t] == ref[i].argmax[t];
    }
    Report(std::string(f.name) + " vs transformers", ours);
    MESSAGE("bitnet.cpp's own: " << peer_gap * 100 << "%, argmax " << peer_equal
                                 << "/" << ours.positions);
    CHECK(ours.worst <= f.max_gap);
    CHECK(ours.worst <= peer_gap);
    if (f.every_argmax) {
      CHECK(ours.argmax_equal == ours.positions);
      CHECK(ours.argmax_equal >= peer_equal);
    } else {
      // near ties, within the file's own error
      CHECK(ours.worst_miss <= 0.0025);
    }
  }
  // ik_llama's IQ2_BN was requantized from the F16 file with a Q8_0 table:
  // the same ternary values and scales as bitnet.cpp's Q8_0 file, so the
  // same logits bit for bit. IQ1_BN rounds α to fp16: within 1%.
  const M i2s = M::Load(kData / "gguf/bitnet.cpp-i2_s.gguf");
  const M iq2 = M::Load(kData / "gguf/ik_llama-iq2_bn.gguf");
  const M iq1 = M::Load(kData / "gguf/ik_llama-iq1_bn.gguf");
  for (const PeerCase& c : ref) {
    const auto a = AllLogits(i2s, c.ids, &pool);
    CHECK(AllLogits(iq2, c.ids, &pool) == a);
    const auto b = AllLogits(iq1, c.ids, &pool);
    for (size_t t = 0; t < c.ids.size(); ++t)
      CHECK(Gap(Row(b, i2s.vocab(), t), Row(a, i2s.vocab(), t)) <= 0.01);
  }
}

// Once per SIMD target this CPU runs (the TERNARY_SIMD switch): a wrong
// instruction in any target's kernels or layers fails here.
TEST_CASE("tiny-shakespeare GGUFs vs transformers: closer than bitnet.cpp") {
  test::ForEachTarget([](int64_t t) { CheckGgufsVsTransformers(t); });
}

TEST_CASE("I2_S GGUF projections are used in place from the mapped file") {
  ThreadPool pool(2);
  const auto file = kData / "gguf/bitnet.cpp-i2_s-f16embd.gguf";
  // The checkpoint is gone after Load.
  const M mapped = M::Load(file, LoadOptions{.map_weights = true});
  const M copied = M::Load(file);  // the default: the file's bytes copied
  CHECK_FALSE(LoadOptions{}.map_weights);
  REQUIRE(mapped.layers() == copied.layers());
  for (size_t l = 0; l < mapped.layers(); ++l) {
    INFO("layer " << l);
    CHECK_FALSE(mapped.layer(l).q.weights().owns_data());
    CHECK_FALSE(mapped.layer(l).down.weights().owns_data());
    CHECK(copied.layer(l).q.weights().owns_data());
    CHECK(std::ranges::equal(mapped.layer(l).down.weights().bytes(),
                             copied.layer(l).down.weights().bytes()));
  }
  for (const PeerCase& c :
       LoadCases(kData / "gguf/bitnet.cpp-i2_s-f16embd.peer_logits.json")) {
    CHECK(AllLogits(mapped, c.ids, &pool) == AllLogits(copied, c.ids, &pool));
  }
  // Other formats repack.
  const auto tl2 =
      Model<kDynamicDims, Policy<quant::TL2, quant::A8>>::Load(file);
  CHECK(tl2.layer(0).q.weights().owns_data());
}

// A file's Q6_K / Q4_0 embedding (the tied head) is used as it is, in place,
// as the peers read it: no decode, no second quantization.
TEST_CASE("Q6_K / Q4_0 tables are used in place from the file") {
  ThreadPool pool(2);
  using nn::HeadPrecision;
  for (const io::GgmlType type : {io::GgmlType::kQ6_K, io::GgmlType::kQ4_0}) {
    const bool q6k = type == io::GgmlType::kQ6_K;
    CAPTURE(q6k);
    test::TinyGguf t = test::TinyGguf::Make();
    test::TinyGguf::Tensor& embd = t.Get("token_embd.weight");
    std::vector<float> x(embd.data.size() / 4);
    std::memcpy(x.data(), embd.data.data(), embd.data.size());
    std::vector<uint8_t> q(x.size() / (q6k ? 256 : 32) * (q6k ? 210 : 18));
    q6k ? quant::QuantizeRowQ6_K(x, q) : quant::QuantizeRowQ4_0(x, q);
    embd.type = type;
    embd.data = q;
    const std::vector<uint8_t> bytes = t.Serialize();
    auto open = [&] {
      return GgufCheckpoint(io::GgufFile::Parse(bytes, "q.gguf"));
    };
    const HeadPrecision want = q6k ? HeadPrecision::kQ6K : HeadPrecision::kQ4_0;
    const GgufCheckpoint g = open();
    const auto table = g.HeadTable({TensorId::kEmbed}, 16, 256);
    REQUIRE(table);
    CHECK(table->precision == want);
    CHECK(std::ranges::equal(table->bytes, q));
    const M in_place =
        M::FromSource(g, "q.gguf", LoadOptions{.map_weights = true});
    CHECK(in_place.head().precision() == want);
    CHECK(in_place.head().bytes() == q.size());
    // Copied (the default): the same model.
    const GgufCheckpoint g2 = open();
    const M copied = M::FromSource(g2, "q.gguf");
    CHECK(copied.head().precision() == want);
    // Asked for another precision: decoded (exactly, as ggml does).
    const GgufCheckpoint g3 = open();
    LoadOptions f32;
    f32.head = HeadPrecision::kF32;
    const M decoded = M::FromSource(g3, "q.gguf", f32);
    CHECK(decoded.head().precision() == HeadPrecision::kF32);
    const std::vector<int32_t> ids = {1, 5, 9, 3, 15, 0, 7};
    const auto a = AllLogits(in_place, ids, &pool);
    CHECK(AllLogits(copied, ids, &pool) == a);
    const auto d = AllLogits(decoded, ids, &pool);
    for (size_t i = 0; i < ids.size(); ++i) {
      // The same table; the block kernel's int8 activations differ from
      // the f32 dot by a rounding of the input.
      CHECK(Gap(Row(a, 16, i), Row(d, 16, i)) < 0.03);
    }
    // A non-finite block scale is refused, naming file and tensor.
    std::vector<uint8_t> bad = bytes;
    const auto at = std::search(bad.begin(), bad.end(), q.begin(), q.end());
    REQUIRE(at != bad.end());
    const size_t d_at = size_t(at - bad.begin()) + (q6k ? 208 : 0);
    bad[d_at] = 0x00;
    bad[d_at + 1] = 0x7E;  // fp16 NaN
    const GgufCheckpoint g_bad(io::GgufFile::Parse(bad, "nan.gguf"));
    CHECK_THROWS_WITH_AS(
        M::FromSource(g_bad),
        doctest::Contains("nan.gguf: tensor 'token_embd.weight'"), FormatError);
  }
}

// A file's F16 / BF16 embedding is lent as it is stored too: the table
// never passes through f32 (for 2B4T's F16 file that transient was 1.31 GB,
// twice the table), with the same logits as the table decoded to f32.
TEST_CASE("F16 / BF16 tables are used as they are stored") {
  ThreadPool pool(2);
  using nn::HeadPrecision;
  for (const io::GgmlType type : {io::GgmlType::kF16, io::GgmlType::kBF16}) {
    const bool f16 = type == io::GgmlType::kF16;
    CAPTURE(f16);
    test::TinyGguf t = test::TinyGguf::Make();
    test::TinyGguf::Tensor& embd = t.Get("token_embd.weight");
    std::vector<float> x(embd.data.size() / 4);
    std::memcpy(x.data(), embd.data.data(), embd.data.size());
    std::vector<uint8_t> half(2 * x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const uint16_t v = f16 ? FloatToF16(x[i]) : FloatToBf16(x[i]);
      half[2 * i] = static_cast<uint8_t>(v & 0xFF);
      half[2 * i + 1] = static_cast<uint8_t>(v >> 8);
    }
    embd.type = type;
    embd.data = half;
    const std::vector<uint8_t> bytes = t.Serialize();
    auto open = [&] {
      return GgufCheckpoint(io::GgufFile::Parse(bytes, "h.gguf"));
    };
    const HeadPrecision want = f16 ? HeadPrecision::kF16 : HeadPrecision::kBF16;
    const GgufCheckpoint g = open();
    const auto table = g.HeadTable({TensorId::kEmbed}, 16, 256);
    REQUIRE(table);
    CHECK(table->precision == want);
    CHECK(std::ranges::equal(table->bytes, half));
    const M in_place =
        M::FromSource(g, "h.gguf", LoadOptions{.map_weights = true});
    CHECK(in_place.head().precision() == want);
    CHECK(in_place.head().bytes() == half.size());
    const GgufCheckpoint g2 = open();
    const M copied = M::FromSource(g2, "h.gguf");
    CHECK(copied.head().precision() == want);
    // The same values decoded to f32 (exact), and asked for the other
    // half precision (decoded, then converted).
    const GgufCheckpoint g3 = open();
    const M decoded =
        M::FromSource(g3, "h.gguf", LoadOptions{.head = HeadPrecision::kF32});
    CHECK(decoded.head().precision() == HeadPrecision::kF32);
    const GgufCheckpoint g4 = open();
    const HeadPrecision other =
        f16 ? HeadPrecision::kBF16 : HeadPrecision::kF16;
    const M converted = M::FromSource(g4, "h.gguf", LoadOptions{.head = other});
    CHECK(converted.head().precision() == other);
    // Every row of the lent table is the file's value.
    std::vector<float> row(256);
    for (size_t r = 0; r < 16; ++r) {
      const int32_t id = static_cast<int32_t>(r);
      copied.head().Lookup(std::span<const int32_t>(&id, 1), row.data(), 256);
      for (size_t i = 0; i < 256; ++i) {
        const uint16_t v = static_cast<uint16_t>(
            half[2 * (r * 256 + i)] | half[2 * (r * 256 + i) + 1] << 8);
        REQUIRE(row[i] == (f16 ? F16ToFloat(v) : Bf16ToFloat(v)));
      }
    }
    const std::vector<int32_t> ids = {1, 5, 9, 3, 15, 0, 7};
    const auto a = AllLogits(in_place, ids, &pool);
    CHECK(AllLogits(copied, ids, &pool) == a);
    CHECK(AllLogits(decoded, ids, &pool) == a);
    // A non-finite value is refused, naming file, tensor, row and column.
    std::vector<uint8_t> bad = bytes;
    const auto at =
        std::search(bad.begin(), bad.end(), half.begin(), half.end());
    REQUIRE(at != bad.end());
    const size_t elem = 3 * 256 + 17;  // row 3, column 17
    const uint16_t inf = f16 ? 0x7C00 : 0x7F80;
    at[2 * elem] = static_cast<uint8_t>(inf & 0xFF);
    at[2 * elem + 1] = static_cast<uint8_t>(inf >> 8);
    const GgufCheckpoint g_bad(io::GgufFile::Parse(bad, "inf.gguf"));
    const std::string error = "inf.gguf: tensor 'token_embd.weight' (" +
                              std::string(f16 ? "F16" : "BF16") +
                              ") holds a non-finite value (inf) at row 3, "
                              "column 17";
    CHECK_THROWS_WITH_AS(M::FromSource(g_bad), doctest::Contains(error.c_str()),
                         FormatError);
  }
}

TEST_CASE("random-256 GGUFs: the HF folder's model, and the peers' logits") {
  ThreadPool pool(2);
  struct File {
    const char* name;
    const char* peer;
    double max_gap;  // vs the HF folder
    const char* peers_i2s = "random-256/bitnet.cpp-i2_s.peer_logits.json";
  };
  const File files[] = {
      {"random-256/bitnet.cpp-i2_s.gguf",
       "random-256/bitnet.cpp-i2_s.peer_logits.json", kSameScales},
      {"random-256/llama.cpp-tq2_0.gguf",
       "random-256/llama.cpp-tq2_0.peer_logits.json", kFp16Scale},
      {"random-256/llama.cpp-tq1_0.gguf",
       "random-256/llama.cpp-tq1_0.peer_logits.json", kFp16Scale},
  };
  for (const File& f : files) {
    CAPTURE(f.name);
    const auto cases = LoadCases(kData / f.peer);
    REQUIRE(cases.size() == 4);
    const M g =
        CheckSameModel(kData / f.name, kRandomMaster, cases, f.max_gap, &pool);
    // This untrained model turns any rounding difference into activation
    // code flips: the peers' own TQ and I2_S logits differ by 1.5–1.8% of
    // the range (README). Ours vs bitnet.cpp's I2_S (fp16 KV cache, fp16
    // LM head input): 1.8% measured; vs llama.cpp's TQ (Q8_K activations,
    // one scale per 256 values instead of per token): 1.6%. 3% bound;
    // every argmax equal.
    const Stats p = VsPeer(g, cases, &pool);
    Report(std::string(f.name) + " vs its peer", p);
    CHECK(p.worst <= 0.03);
    CHECK(p.argmax_equal == p.positions);
    // Issue #5's yardstick: every file within 2% of bitnet.cpp's I2_S
    // logits at every position.
    const Stats b = VsPeer(g, LoadCases(kData / f.peers_i2s), &pool);
    Report(std::string(f.name) + " vs bitnet.cpp I2_S", b);
    CHECK(b.worst <= 0.02);
    CHECK(b.argmax_equal == b.positions);
  }
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("ternary_gguf_model_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

TEST_CASE("converted GGUFs: the HF folder's logits") {
  ThreadPool pool(2);
  TempDir dir;
  const auto tiny_cases =
      LoadCases(kData / "gguf/bitnet.cpp-i2_s.peer_logits.json");
  const auto random_cases =
      LoadCases(kData / "random-256/bitnet.cpp-i2_s.peer_logits.json");
  struct Case {
    std::filesystem::path folder;
    GgufWeightType type;
    GgufEmbeddingType embd;
    double max_gap;
  };
  // I2_S keeps our α exactly and F32 the floats: the folder's model bit for
  // bit. F16: ~1e-7 (see above). Q8_0 and TQ: as the peers' files.
  const Case cases[] = {
      {kTinyMaster, GgufWeightType::kI2_S, GgufEmbeddingType::kF32, 0.0},
      {kTinyMaster, GgufWeightType::kI2_S, GgufEmbeddingType::kF16, 1e-6},
      {kTinyMaster, GgufWeightType::kI2_S, GgufEmbeddingType::kQ8_0,
       kQ8Embedding},
      {TERNARY_MODELS_DIR "/tiny-shakespeare", GgufWeightType::kI2_S,
       GgufEmbeddingType::kF32, 0.0},
      {kRandomMaster, GgufWeightType::kI2_S, GgufEmbeddingType::kF32, 0.0},
      {kRandomMaster, GgufWeightType::kTQ2_0, GgufEmbeddingType::kF16,
       kFp16Scale},
      {kRandomMaster, GgufWeightType::kTQ1_0, GgufEmbeddingType::kF32,
       kFp16Scale},
  };
  int k = 0;
  for (const Case& c : cases) {
    CAPTURE(c.folder);
    CAPTURE(k);
    const auto out = dir.path / (std::to_string(k++) + ".gguf");
    ConvertOptions options;
    options.weight_type = c.type;
    options.embedding_type = c.embd;
    ConvertHfToGguf(c.folder, out, options);
    const bool tiny = c.folder != kRandomMaster;
    CheckSameModel(out, c.folder, tiny ? tiny_cases : random_cases, c.max_gap,
                   &pool);
  }
}

TEST_CASE("Model::Load(gguf): static dims and errors name the file") {
  const auto gguf = kData / "gguf/bitnet.cpp-i2_s-f16embd.gguf";
  const auto cases = LoadCases(kData / "gguf/bitnet.cpp-i2_s.peer_logits.json");
  const auto fixed = Model<kTinyShakespeare>::Load(gguf);
  auto s1 = fixed.NewState();
  const M dynamic = M::Load(gguf);
  auto s2 = dynamic.NewState();
  CHECK(fixed.Forward(cases[1].ids, s1) == dynamic.Forward(cases[1].ids, s2));
  CHECK_THROWS_WITH_AS(
      Model<kBitNet2B4T>::Load(gguf),
      (gguf.string() + ": hidden_size is 384, but the model type was "
                       "compiled for 2560")
          .c_str(),
      ShapeError);

  TempDir dir;
  test::TinyGguf t = test::TinyGguf::Make();
  t.Remove("blk.0.ffn_down.weight");
  const auto bad = dir.path / "bad.gguf";
  t.Write(bad);
  CHECK_THROWS_WITH_AS(
      M::Load(bad),
      (bad.string() + ": missing tensor 'blk.0.ffn_down.weight'").c_str(),
      FormatError);
  const auto good = dir.path / "tiny.gguf";
  test::TinyGguf::Make(io::GgmlType::kTQ1_0).Write(good);
  const M tiny = M::Load(good);
  CHECK(tiny.vocab() == 16);
  auto s = tiny.NewState();
  const std::vector<int32_t> ids = {15, 3, 4};
  const auto logits = tiny.Forward(ids, s);
  CHECK(logits.size() == 3 * 16);
  CHECK(std::all_of(logits.begin(), logits.end(),
                    [](float x) { return std::isfinite(x); }));
}

}  // namespace
}  // namespace ternary
