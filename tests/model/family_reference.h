// Test helper for the model-family fixtures (tests/data/families/*): the
// reference logits an independent numpy forward pass wrote
// (tests/data/make/make_*.py), checked against a model prompt-at-once and
// token by token, and the fixture's files as editable bytes.
#ifndef TERNARY_TESTS_MODEL_FAMILY_REFERENCE_H_
#define TERNARY_TESTS_MODEL_FAMILY_REFERENCE_H_

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "io/safetensors_writer.h"
#include "model/checkpoint_builder.h"
#include "model/logit_compare.h"
#include "ternary/io/safetensors.h"
#include "ternary/model/gguf_checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/util/error.h"

namespace ternary::test {

struct RefCase {
  std::vector<int32_t> ids;
  std::vector<float> logits;  // ids.size() × vocab
};

// reference.json and its logits file in `dir`.
inline std::vector<RefCase> LoadReference(const std::filesystem::path& dir) {
  std::ifstream in(dir / "reference.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  const size_t vocab = j.at("vocab_size").get<size_t>();
  std::ifstream bin(dir / j.at("logits_file").get<std::string>(),
                    std::ios::binary);
  std::vector<RefCase> out;
  for (const auto& c : j.at("cases")) {
    RefCase r{c.at("ids").get<std::vector<int32_t>>(), {}};
    r.logits.resize(r.ids.size() * vocab);
    bin.seekg(static_cast<std::streamoff>(c.at("first_row").get<size_t>() *
                                          vocab * sizeof(float)));
    bin.read(reinterpret_cast<char*>(r.logits.data()),
             static_cast<std::streamsize>(r.logits.size() * sizeof(float)));
    REQUIRE(bin.good());  // little-endian floats, as x86 and Arm are
    out.push_back(std::move(r));
  }
  REQUIRE(out.size() == 2);
  return out;
}

// Every position of every case within `tolerance` of the reference row's
// range, with the reference's argmax, for the prompt at once and for the
// same tokens one at a time (the KV-cache path). Returns the largest gap.
template <class M>
double CheckAgainstReference(const M& model, const std::vector<RefCase>& cases,
                             double tolerance) {
  const size_t vocab = model.vocab();
  double worst = 0;
  for (const RefCase& c : cases) {
    auto state = model.NewState();
    const std::vector<float> all = model.Forward(c.ids, state);
    auto state1 = model.NewState();
    std::vector<float> step;
    for (int32_t id : c.ids) {
      const std::vector<float> r =
          model.Forward(std::span<const int32_t>(&id, 1), state1);
      step.insert(step.end(), r.begin(), r.end());
    }
    for (size_t t = 0; t < c.ids.size(); ++t) {
      const auto want = Row(c.logits, vocab, t);
      INFO("position " << t);
      const double gap_all = Gap(Row(all, vocab, t), want);
      const double gap_step = Gap(Row(step, vocab, t), want);
      CHECK(gap_all <= tolerance);
      CHECK(gap_step <= tolerance);
      worst = std::max({worst, gap_all, gap_step});
      const auto got = Row(all, vocab, t);
      CHECK(std::max_element(got.begin(), got.end()) - got.begin() ==
            std::max_element(want.begin(), want.end()) - want.begin());
    }
  }
  return worst;
}

// Every projection of every layer: the GGUF's ternary values are the HF
// folder's (after undoing the q/k permutation), α within `alpha_rel`.
inline void CheckSameTernary(const GgufCheckpoint& g, const HfCheckpoint& hf,
                             double alpha_rel) {
  const ModelConfig c = hf.config();
  const size_t h = c.dims.hidden, f = c.dims.ffn, qd = c.q_dim(),
               kv = c.kv_dim();
  const struct {
    TensorId::Kind kind;
    size_t rows, cols;
  } projections[] = {{TensorId::kQ, qd, h},   {TensorId::kK, kv, h},
                     {TensorId::kV, kv, h},   {TensorId::kO, h, qd},
                     {TensorId::kGate, f, h}, {TensorId::kUp, f, h},
                     {TensorId::kDown, h, f}};
  for (int l = 0; l < c.dims.layers; ++l) {
    for (const auto& p : projections) {
      const TensorId id{p.kind, l};
      INFO("tensor " << GgufTensorName(id));
      const TernaryMatrix a = g.Ternary(id, p.rows, p.cols);
      const TernaryMatrix b = hf.Ternary(id, p.rows, p.cols);
      CHECK(a.values == b.values);
      CHECK(std::fabs(a.alpha - b.alpha) <= alpha_rel * b.alpha);
    }
  }
}

// A fixture folder (config.json + model.safetensors) as editable bytes.
inline TinyCheckpoint ReadFixture(const std::filesystem::path& dir) {
  TinyCheckpoint c;
  c.config = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  const auto file = io::SafetensorsFile::Open(dir / "model.safetensors");
  for (const io::SafetensorsTensor& t : file.tensors()) {
    c.tensors.push_back(
        {t.name, t.dtype_name, t.shape, {t.data.begin(), t.data.end()}});
  }
  return c;
}

// Loading checkpoint c as model M throws a FormatError or ShapeError whose
// message is one line holding `needle`.
template <class M>
void ExpectOneLineLoadError(const TinyCheckpoint& c,
                            const std::string& needle) {
  const auto dir = TempDir("family_bad");
  c.Write(dir);
  CAPTURE(needle);
  std::string message = "(no exception)";
  try {
    (void)M::Load(dir);
  } catch (const FormatError& e) {
    message = e.what();
  } catch (const ShapeError& e) {
    message = e.what();
  }
  CAPTURE(message);
  CHECK(message.find(needle) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace ternary::test

#endif  // TERNARY_TESTS_MODEL_FAMILY_REFERENCE_H_
