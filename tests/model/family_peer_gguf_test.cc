// GGUF files of the model families written by the PEERS' OWN tools
// (tests/data/make/make_family_peer_ggufs.sh) from random HF checkpoints
// whose dims the peers' kernels take (hidden 256, head_dim 128, ffn 512):
// bitnet.cpp's converter + its fork's llama-quantize (I2_S, TQ1_0, TQ2_0)
// (and, built for Arm, I2_S in 64-value blocks) and ik_llama.cpp's
// llama-quantize (IQ1_BN, IQ2_BN), of the Llama family
// (tests/data/families/llama_peers, arch llama) and of 1bitLLM
// (tests/data/families/1bitllm_peers, arch bitnet; ik's files from ik's own
// converter: sign weights × .scale). Each file holds the HF folder's ternary
// values, and its logits, every packing on every SIMD target, prompt at once
// and token by token, are within 0.1 % of each row's range of the numpy
// reference (issue #17), with its argmax at every position. The peers'
// own logits on the same files: the folders' peer_logits.txt.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/family_reference.h"
#include "ternary/io/gguf_types.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/model.h"
#include "ternary/model/options.h"
#include "ternary/quant/i2s_layout.h"
#include "ternary/quant/tl1.h"
#include "ternary/quant/tl2.h"
#include "test_util.h"

namespace ternary {
namespace {

const std::filesystem::path kFamilies =
    std::filesystem::path(TERNARY_TEST_DATA_DIR) / "families";

// Issue #17: within 0.1 % of each reference row's range (measured: 2.3e-7
// and 2.6e-7). The fixtures' scales are powers of two and their embeddings
// on the Q8_0 grid, so every file holds the HF folder's model exactly
// although TQ's block d, IQ1_BN's row d and bitnet.cpp's 1bitLLM weights
// (T/s written as fp16 by its converter) are fp16: same ternary values,
// same α (CheckSameTernary with no slack).
constexpr double kTolerance = 1e-3;

struct PeerFile {
  const char* name;
  io::GgmlType type;  // of the projections
  // bitnet.cpp's llama-quantize built for Arm writes I2_S in 64-value
  // blocks (docs/formats.md §4.3); the file does not say so.
  quant::I2SLayout i2s_layout = quant::I2SLayout::kX86;
};

// Every packing on every target; returns the largest gap.
template <class F>
double CheckAllPackings(const std::filesystem::path& path,
                        const std::vector<test::RefCase>& cases,
                        const LoadOptions& options = {}) {
  double worst = 0;
  const auto one = [&]<class Format>() {
    using M = Model<kDynamicDims, Policy<Format>, F>;
    const M model = M::Load(path, options);
    test::ForEachTarget([&](int64_t) {
      worst = std::max(worst,
                       test::CheckAgainstReference(model, cases, kTolerance));
    });
  };
  one.template operator()<quant::I2S>();
  one.template operator()<quant::TL1>();
  one.template operator()<quant::TL2>();
  return worst;
}

template <class F>
void CheckFamily(const std::filesystem::path& dir, std::string_view arch,
                 ModelFamily family, std::span<const PeerFile> files) {
  const HfCheckpoint hf = HfCheckpoint::Open(dir);
  const auto cases = test::LoadReference(dir);
  {
    INFO("HF folder " << dir.filename().string());
    const double gap = CheckAllPackings<F>(dir, cases);
    MESSAGE(dir.filename().string() << " (HF folder): max gap " << gap);
  }
  for (const PeerFile& pf : files) {
    const std::filesystem::path path = dir / pf.name;
    const std::string name = pf.name;
    INFO("file " << name);
    const GgufCheckpoint g = GgufCheckpoint::Open(path, pf.i2s_layout);
    CHECK(g.architecture() == arch);
    CHECK(g.config().family == family);
    CHECK(g.config().dims.hidden == hf.config().dims.hidden);
    CHECK(g.config().dims.kv_heads == hf.config().dims.kv_heads);
    CHECK(g.config().tie_word_embeddings == hf.config().tie_word_embeddings);
    CHECK(g.file().FindTensor("blk.0.attn_q.weight")->type == pf.type);
    CHECK(g.file().FindTensor("token_embd.weight")->type ==
          io::GgmlType::kQ8_0);
    test::CheckSameTernary(g, hf, 0.0);
    if (pf.i2s_layout == quant::I2SLayout::kArm) {
      // Copied and repacked, never used in place; and read as the x86
      // layout the same bytes are other weights (only the user can tell).
      const size_t h = hf.config().dims.hidden;
      const TensorId q{TensorId::kQ, 0};
      CHECK_FALSE(g.PackedI2S(q, h, h));
      CHECK(GgufCheckpoint::Open(path).Ternary(q, h, h).values !=
            hf.Ternary(q, h, h).values);
    }
    const double gap = CheckAllPackings<F>(
        path, cases, LoadOptions{.i2s_layout = pf.i2s_layout});
    MESSAGE(dir.filename().string() << "/" << name << ": max gap " << gap);
  }
}

TEST_CASE("family GGUFs by the peers: Llama architecture, every type") {
  const PeerFile files[] = {{"bitnet.cpp-i2_s.gguf", io::GgmlType::kI2_S},
                            {"bitnet.cpp-tq1_0.gguf", io::GgmlType::kTQ1_0},
                            {"bitnet.cpp-tq2_0.gguf", io::GgmlType::kTQ2_0},
                            {"ik_llama-iq1_bn.gguf", io::GgmlType::kIQ1_BN},
                            {"ik_llama-iq2_bn.gguf", io::GgmlType::kIQ2_BN},
                            {"bitnet.cpp-arm-i2_s.gguf", io::GgmlType::kI2_S,
                             quant::I2SLayout::kArm}};
  CheckFamily<family::LlamaBitNet>(kFamilies / "llama_peers", "llama",
                                   ModelFamily::kLlamaBitNet, files);
}

TEST_CASE("family GGUFs by the peers: 1bitLLM, every type") {
  const PeerFile files[] = {{"bitnet.cpp-i2_s.gguf", io::GgmlType::kI2_S},
                            {"bitnet.cpp-tq1_0.gguf", io::GgmlType::kTQ1_0},
                            {"bitnet.cpp-tq2_0.gguf", io::GgmlType::kTQ2_0},
                            {"ik_llama-iq1_bn.gguf", io::GgmlType::kIQ1_BN},
                            {"ik_llama-iq2_bn.gguf", io::GgmlType::kIQ2_BN},
                            {"bitnet.cpp-arm-i2_s.gguf", io::GgmlType::kI2_S,
                             quant::I2SLayout::kArm}};
  CheckFamily<family::OneBitLlm>(kFamilies / "1bitllm_peers", "bitnet",
                                 ModelFamily::kOneBitLlm, files);
}

}  // namespace
}  // namespace ternary
