// Target-independent arguments of the per-target matmul kernels.
#ifndef TERNARY_KERNELS_MATMUL_ARGS_H_
#define TERNARY_KERNELS_MATMUL_ARGS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "ternary/quant/activation.h"
#include "ternary/util/error.h"

namespace ternary {

// Turns natural-order int8 activation codes into the layout (or lookup
// tables) a format's kernel reads. q rows hold `cols` codes and are zero
// up to `q_stride`; out rows are `out_stride` bytes.
struct PrepareArgs {
  const int8_t* q;
  size_t q_stride;
  size_t n_tokens;
  size_t cols;
  int act_max_abs;  // bound on |q| (128 for int8, 8 for int4)
  int8_t* out;
  size_t out_stride;
};

// y[t·ldy + o] = Rescale(Σ_i W[o][i]·q[t][i]) for rows o in a range and all
// tokens t. With `s` set, the exact int32 sums are stored there instead.
struct MatMulArgs {
  const uint8_t* weights;  // packed by the format
  size_t rows;
  size_t cols;
  float alpha;         // weight scale, multiply convention
  const int8_t* acts;  // prepared by the format's Prepare
  size_t act_stride;
  int act_max_abs;
  const quant::ActScale* scales;  // one per token
  size_t n_tokens;
  float* y;
  int32_t* s;
  size_t ldy;
};

// The one float step of a BitLinear output, in bitnet.cpp's order:
// fl32(fl32(S / sa) · α).
inline float Rescale(int32_t s, quant::ActScale a, float alpha) noexcept {
  return static_cast<float>(s) / a.scale * alpha;
}

inline void StoreOutput(const MatMulArgs& a, size_t token, size_t row,
                        int32_t s) noexcept {
  if (a.s != nullptr) {
    a.s[token * a.ldy + row] = s;
  } else {
    a.y[token * a.ldy + row] = Rescale(s, a.scales[token], a.alpha);
  }
}

// Throws ShapeError unless activations of `act_cols` columns fit a
// rows×cols matrix and an output row stride of ldy.
inline void CheckMatMulShape(size_t rows, size_t cols, size_t act_cols,
                             size_t ldy) {
  if (act_cols != cols) {
    throw ShapeError("MatMul: activations have " + std::to_string(act_cols) +
                     " columns, weights " + std::to_string(cols));
  }
  if (ldy < rows) {
    throw ShapeError("MatMul: output stride " + std::to_string(ldy) + " < " +
                     std::to_string(rows) + " rows");
  }
}

}  // namespace ternary

#endif  // TERNARY_KERNELS_MATMUL_ARGS_H_
