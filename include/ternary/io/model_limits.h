// Limits on the hyperparameters a checkpoint may declare, shared by the HF
// reader (io/hf_config.h), the GGUF reader (model/gguf_checkpoint.h) and
// ModelConfig::Validate, so `convert` never writes a file the GGUF reader
// refuses.
#ifndef TERNARY_IO_MODEL_LIMITS_H_
#define TERNARY_IO_MODEL_LIMITS_H_

#include <limits>

namespace ternary::io {

// rms_norm_eps is added to mean(x²) of unit-scale activations: anything
// near 1 or above drowns the signal (1e39 is inf as float: every logit 0).
inline constexpr double kMaxRmsNormEps = 1.0;  // exclusive
// The RoPE table size; the CLI's -c takes at most as many positions.
inline constexpr int kMaxPositionEmbeddings = 1 << 24;
// rope_theta must be > 0 and finite as a float32 (GGUF stores it so).
inline constexpr double kMaxRopeTheta = std::numeric_limits<float>::max();

}  // namespace ternary::io

#endif  // TERNARY_IO_MODEL_LIMITS_H_
