// The ternary projections of a model and their [rows, cols], for tests that
// walk every projection of a checkpoint.
#ifndef TERNARY_TESTS_MODEL_PROJECTIONS_H_
#define TERNARY_TESTS_MODEL_PROJECTIONS_H_

#include <cstddef>
#include <utility>
#include <vector>

#include "ternary/model/config.h"
#include "ternary/model/weights.h"

namespace ternary::test {

inline std::vector<TensorId> Projections(int layers) {
  std::vector<TensorId> ids;
  for (int l = 0; l < layers; ++l) {
    for (auto k : {TensorId::kQ, TensorId::kK, TensorId::kV, TensorId::kO,
                   TensorId::kGate, TensorId::kUp, TensorId::kDown}) {
      ids.push_back({k, l});
    }
  }
  return ids;
}

// [rows, cols] of a projection.
inline std::pair<size_t, size_t> ProjectionShape(const ModelConfig& c,
                                                 TensorId id) {
  const size_t h = c.dims.hidden, f = c.dims.ffn;
  switch (id.kind) {
    case TensorId::kQ:
      return {c.q_dim(), h};
    case TensorId::kK:
    case TensorId::kV:
      return {c.kv_dim(), h};
    case TensorId::kO:
      return {h, c.q_dim()};
    case TensorId::kGate:
    case TensorId::kUp:
      return {f, h};
    default:
      return {h, f};
  }
}

}  // namespace ternary::test

#endif  // TERNARY_TESTS_MODEL_PROJECTIONS_H_
