// Target-independent arguments of the dense (embedding / LM head) kernels.
#ifndef TERNARY_KERNELS_DENSE_ARGS_H_
#define TERNARY_KERNELS_DENSE_ARGS_H_

#include <cstddef>
#include <cstdint>

#include "ternary/quant/activation.h"

namespace ternary {

// y[t·ldy + o] = Σ_i W[o][i] · x[t·ldx + i], W rows of float/f16/bf16.
struct DenseArgs {
  const void* w;
  size_t rows;
  size_t cols;
  const float* x;
  size_t ldx;
  size_t n_tokens;
  float* y;
  size_t ldy;
};

// y[t·ldy + o] = (Σ_i q_w[o][i]·q_x[t][i]) · w_scale[o] / x_scale[t] with
// int8 weights (Q8RowMatrix) and int8 per-token activations.
struct Q8Args {
  const int8_t* w;
  size_t rows;
  size_t cols;
  size_t w_stride;
  const float* w_scale;
  const int32_t* w_sum;
  const int8_t* x;  // codes in [−127, 127], rows zero-padded to w_stride
  size_t x_stride;
  const quant::ActScale* x_scale;
  size_t n_tokens;
  float* y;
  size_t ldy;
};

}  // namespace ternary

#endif  // TERNARY_KERNELS_DENSE_ARGS_H_
