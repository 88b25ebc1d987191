// Hugging Face weight source: HF plane packing, tensor names, conversions.
#include "ternary/model/hf_checkpoint.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <vector>

#include "model/checkpoint_builder.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

TEST_CASE("HF planes: the docs/formats.md §11.3 example") {
  // Rows [+1, 0, −1, +1, 0, −1, −1, +1] of a single column, R = 2.
  const std::vector<int8_t> rows = {1, 0, -1, 1, 0, -1, -1, 1};
  std::vector<uint8_t> packed(2);
  PackHfTernary(rows.data(), 8, 1, packed.data());
  CHECK(packed == std::vector<uint8_t>{0x12, 0x89});
  std::vector<int8_t> back(8);
  CHECK(UnpackHfTernary(packed.data(), 2, 1, back.data()));
  CHECK(back == rows);
}

TEST_CASE("HF planes: every byte value, round trips, and code 3") {
  // Every byte of codes 0..2 per plane decodes and re-encodes to itself.
  for (int b = 0; b < 256; ++b) {
    const uint8_t byte = static_cast<uint8_t>(b);
    int8_t t[4];
    const bool ok = UnpackHfTernary(&byte, 1, 1, t);
    bool has3 = false;
    for (int p = 0; p < 4; ++p) has3 |= ((b >> (2 * p)) & 3) == 3;
    CHECK(ok == !has3);
    if (ok) {
      uint8_t again = 0;
      PackHfTernary(t, 4, 1, &again);
      CHECK(again == byte);
      for (int p = 0; p < 4; ++p) CHECK(t[p] == ((b >> (2 * p)) & 3) - 1);
    }
  }
  std::mt19937 rng{1234};
  std::uniform_int_distribution<int> tern(-1, 1);
  const size_t rows = 640, cols = 384;
  std::vector<int8_t> t(rows * cols);
  for (int8_t& v : t) v = static_cast<int8_t>(tern(rng));
  std::vector<uint8_t> p(rows / 4 * cols);
  PackHfTernary(t.data(), rows, cols, p.data());
  std::vector<int8_t> u(rows * cols);
  CHECK(UnpackHfTernary(p.data(), rows / 4, cols, u.data()));
  CHECK(u == t);
  // Row p·R + r lives in bits 2p of packed row r.
  CHECK(((p[5 * cols + 9] >> 4) & 3) - 1 == t[(2 * rows / 4 + 5) * cols + 9]);
}

TEST_CASE("HF tensor names") {
  CHECK(HfTensorName({TensorId::kEmbed}) == "model.embed_tokens.weight");
  CHECK(HfTensorName({TensorId::kLmHead}) == "lm_head.weight");
  CHECK(HfTensorName({TensorId::kOutputNorm}) == "model.norm.weight");
  CHECK(HfTensorName({TensorId::kDown, 3}) ==
        "model.layers.3.mlp.down_proj.weight");
  CHECK(HfTensorName({TensorId::kAttnSubNorm, 0}) ==
        "model.layers.0.self_attn.attn_sub_norm.weight");
  CHECK(HfTensorName({TensorId::kFfnNorm, 29}) ==
        "model.layers.29.post_attention_layernorm.weight");
}

TEST_CASE("HfCheckpoint: scale conventions and online ternarization") {
  const auto dir = test::TempDir("hf_scale");
  // autobitlinear: α = weight_scale; bitlinear: α = 1 / weight_scale.
  for (const char* cls : {"autobitlinear", "bitlinear"}) {
    auto c = test::MakeTinyCheckpoint(false, true, 7, cls);
    c.Get("model.layers.1.self_attn.k_proj.weight_scale") = test::Bf16Tensor(
        "model.layers.1.self_attn.k_proj.weight_scale", {1}, {0.25f});
    c.Write(dir);
    const HfCheckpoint ck = HfCheckpoint::Open(dir);
    const TernaryMatrix m = ck.Ternary({TensorId::kK, 1}, 32, 64);
    CHECK(m.alpha == (std::string(cls) == "bitlinear" ? 4.0f : 0.25f));
    CHECK(m.values.size() == 32 * 64);
  }
  // Online: the absmean rule on the bf16 master.
  auto c = test::MakeTinyCheckpoint(true);
  std::vector<float> w(128 * 64);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * float(int(i % 11) - 5);
  c.Get("model.layers.0.mlp.gate_proj.weight") =
      test::Bf16Tensor("model.layers.0.mlp.gate_proj.weight", {128, 64}, w);
  c.Write(dir);
  const HfCheckpoint ck = HfCheckpoint::Open(dir);
  const TernaryMatrix m = ck.Ternary({TensorId::kGate, 0}, 128, 64);
  std::vector<float> wb(w.size());
  for (size_t i = 0; i < w.size(); ++i) wb[i] = Bf16ToFloat(FloatToBf16(w[i]));
  std::vector<int8_t> want(w.size());
  const float alpha = quant::AbsMeanTernarize(wb, want);
  CHECK(m.values == want);
  CHECK(m.alpha == alpha);
  const ModelConfig cfg = ck.config();
  CHECK(cfg.dims == Dims{64, 128, 4, 2, 16, 2, 48});
  CHECK(cfg.rope_theta == 10000.0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ternary
