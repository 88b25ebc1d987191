// The BitNet b1.58 model: Model<Dims, Policy, Family> (docs/model.md §2,
// §5).
#ifndef TERNARY_MODEL_MODEL_H_
#define TERNARY_MODEL_MODEL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ternary/kernels/dispatch.h"
#include "ternary/kernels/scratch.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/config.h"
#include "ternary/model/family.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/options.h"
#include "ternary/model/policy.h"
#include "ternary/model/weights.h"
#include "ternary/nn/attention.h"
#include "ternary/nn/bit_linear.h"
#include "ternary/nn/embedding.h"
#include "ternary/nn/ffn.h"
#include "ternary/nn/rms_norm.h"
#include "ternary/nn/rotary.h"
#include "ternary/simd/policies.h"
#include "ternary/simd/targets.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"
#include "ternary/util/thread_pool.h"

namespace ternary {

// A BitNet b1.58 decoder. kD fixes any subset of the dimensions at compile
// time (kDynamicDims: all read from the file); P picks the packing format,
// activation policy and SIMD dispatch; F the graph (model/family.h):
// family::BitNet (BitNetForCausalLM, 2B4T) or family::LlamaBitNet
// (LlamaForCausalLM with bitnet quantization). WithFamily picks F from a
// checkpoint's config.
//
//   auto model = Model<kTinyShakespeare>::Load("models/tiny-shakespeare");
//   auto state = model.NewState();
//   std::vector<float> logits = model.Forward(ids, state);  // n × vocab
//
// A Model is immutable after loading and may be shared by threads; each
// sequence has its own State (KV cache and scratch).
template <Dims kD = kDynamicDims, ModelPolicy P = Policy<>,
          FamilyPolicy F = family::BitNet>
class Model {
  static_assert(ValidateDims<kD, F::kSubNorms>());

 public:
  using Format = typename P::Format;
  using Act = typename P::Act;
  using Simd = typename P::Simd;
  using Family = F;
  static constexpr Dims kStaticDims = kD;

  template <quant::Role R>
  using Linear = nn::BitLinear<Format, Act, R, Simd>;

  // The sub-norms are empty in families without them (F::kSubNorms).
  struct Layer {
    nn::RmsNorm<kD.hidden> attn_norm;
    Linear<quant::Role::kAttnIn> q, k, v;
    nn::RmsNorm<kD.hidden> attn_sub_norm;
    Linear<quant::Role::kAttnOut> o;
    nn::RmsNorm<kD.hidden> ffn_norm;
    Linear<quant::Role::kFfnIn> gate, up;
    nn::RmsNorm<kD.ffn> ffn_sub_norm;
    Linear<quant::Role::kFfnOut> down;
  };

  // One sequence's KV cache and scratch buffers. Forward appends to it;
  // Reset() starts a new sequence.
  class State {
   public:
    size_t size() const noexcept { return cache_.size(); }  // tokens seen
    void Reset() noexcept { cache_.Resize(0); }
    // Forgets every position from n on (a shared prompt prefix is kept and
    // only the rest is run again).
    void Truncate(size_t n) noexcept {
      if (n < cache_.size()) cache_.Resize(n);
    }
    const nn::KvCache& cache() const noexcept { return cache_; }

   private:
    friend class Model;
    nn::KvCache cache_;
    size_t rows_ = 0;  // token rows the buffers below hold
    AlignedBuffer<float> x_, xn_, q_, attn_, tmp_, gate_, up_;
    QuantizedActs acts_;
    KernelScratch scratch_;

   public:
    // Bytes held: the KV cache, the activations and the kernels' scratch
    // (nothing is kept anywhere else between calls).
    size_t bytes() const noexcept {
      size_t b = (x_.size() + xn_.size() + q_.size() + attn_.size() +
                  tmp_.size() + gate_.size() + up_.size()) *
                 sizeof(float);
      b += acts_.bytes() + scratch_.bytes();
      b += 2 * cache_.layers() * cache_.capacity() * cache_.kv_dim() *
           sizeof(float);
      return b;
    }
  };

  // Prompt tokens go through the GEMM kernels this many at a time.
  static constexpr size_t kMaxBatch = 512;

  Model() = default;

  // Loads a Hugging Face folder (config.json + model.safetensors or shards)
  // or a .gguf file (ternary/model/checkpoint.h) and repacks every
  // projection into Format once. Throws FormatError (bad or unsupported
  // files, naming file and tensor/key; a checkpoint of another family than
  // F) or ShapeError (the file's dims disagree with kD, naming the field).
  static Model Load(const std::filesystem::path& path,
                    const LoadOptions& options = {}) {
    return WithCheckpoint(path, [&](auto& source, const std::string& name) {
      return FromSource(source, name, options);
    });
  }

  // Builds the model from any weight source (HF, GGUF, random).
  template <WeightSource S>
  static Model FromSource(S& source, const std::string& name = "config",
                          const LoadOptions& options = {}) {
    // A bad TERNARY_SIMD is reported here, before any work, not from the
    // first kernel call.
    if constexpr (std::is_same_v<Simd, simd::Dynamic>) {
      (void)simd::ActiveTarget();
    }
    Model m;
    m.config_ = source.config();
    if (m.config_.family != F::kFamily) {
      throw FormatError(name + ": the checkpoint is a " +
                        std::string(ModelFamilyName(m.config_.family)) +
                        " model; this Model type runs " +
                        std::string(F::kName) +
                        " (pick it with WithFamily, ternary/model/family.h)");
    }
    CheckDimsMatch<kD>(m.config_.dims, name);
    m.config_.Validate(name);
    const size_t h = m.hidden(), f = m.ffn(), qd = m.q_dim(), kv = m.kv_dim(),
                 vocab = m.vocab();
    m.embed_ = nn::Embedding<Simd>(source.Floats({TensorId::kEmbed}, vocab, h),
                                   vocab, h, options.head);
    for (int l = 0; l < static_cast<int>(m.layers()); ++l) {
      auto norm = [&](TensorId::Kind kind, size_t n) {
        return source.Floats({kind, l}, 1, n);
      };
      auto proj = [&]<quant::Role R>(TensorId::Kind kind, size_t rows,
                                     size_t cols) {
        if constexpr (std::is_same_v<Format, quant::I2S> && requires {
                        source.PackedI2S({kind, l}, rows, cols);
                      }) {
          if (options.map_weights) {
            if (const auto p = source.PackedI2S({kind, l}, rows, cols)) {
              m.mapped_ = source.Retain();
              return Linear<R>(PackedMatrix<quant::I2S>::View(p->bytes, rows,
                                                              cols, p->alpha));
            }
          }
        }
        TernaryMatrix t = source.Ternary({kind, l}, rows, cols);
        return Linear<R>::FromTernary(t.values, rows, cols, t.alpha);
      };
      // A family without sub-norms never asks the source for them.
      auto sub_norm = [&]<int kN>(TensorId::Kind kind, size_t n) {
        if constexpr (F::kSubNorms) {
          return nn::RmsNorm<kN>{norm(kind, n), m.config_.rms_norm_eps};
        } else {
          return nn::RmsNorm<kN>{};
        }
      };
      using quant::Role;
      const float eps = m.config_.rms_norm_eps;
      m.layers_.push_back(Layer{
          .attn_norm = {norm(TensorId::kAttnNorm, h), eps},
          .q = proj.template operator()<Role::kAttnIn>(TensorId::kQ, qd, h),
          .k = proj.template operator()<Role::kAttnIn>(TensorId::kK, kv, h),
          .v = proj.template operator()<Role::kAttnIn>(TensorId::kV, kv, h),
          .attn_sub_norm = sub_norm.template operator()<kD.hidden>(
              TensorId::kAttnSubNorm, qd),
          .o = proj.template operator()<Role::kAttnOut>(TensorId::kO, h, qd),
          .ffn_norm = {norm(TensorId::kFfnNorm, h), eps},
          .gate = proj.template operator()<Role::kFfnIn>(TensorId::kGate, f, h),
          .up = proj.template operator()<Role::kFfnIn>(TensorId::kUp, f, h),
          .ffn_sub_norm =
              sub_norm.template operator()<kD.ffn>(TensorId::kFfnSubNorm, f),
          .down =
              proj.template operator()<Role::kFfnOut>(TensorId::kDown, h, f),
      });
    }
    m.output_norm_ = nn::RmsNorm<kD.hidden>(
        source.Floats({TensorId::kOutputNorm}, 1, h), m.config_.rms_norm_eps);
    if (!m.config_.tie_word_embeddings) {
      m.lm_head_ = nn::Embedding<Simd>(
          source.Floats({TensorId::kLmHead}, vocab, h), vocab, h, options.head);
    }
    // RoPE tables for the trained context; later positions are computed.
    const size_t table = std::min<size_t>(
        static_cast<size_t>(std::max(m.config_.max_position_embeddings, 1)),
        size_t{1} << 16);
    m.rotary_ =
        nn::Rotary<kD.head_dim>(m.head_dim(), m.config_.rope_theta, table);
    return m;
  }

  const ModelConfig& config() const noexcept { return config_; }
  const nn::Embedding<Simd>& embedding() const noexcept { return embed_; }
  const nn::Embedding<Simd>& head() const noexcept {
    return config_.tie_word_embeddings ? embed_ : lm_head_;
  }
  // Bytes of the packed projections and the embedding / head tables.
  size_t WeightBytes() const noexcept {
    size_t bytes =
        embed_.bytes() + (config_.tie_word_embeddings ? 0 : lm_head_.bytes());
    for (const Layer& l : layers_) {
      for (const auto* w :
           {&l.q.weights(), &l.k.weights(), &l.v.weights(), &l.o.weights()})
        bytes += w->bytes().size();
      for (const auto* w :
           {&l.gate.weights(), &l.up.weights(), &l.down.weights()})
        bytes += w->bytes().size();
    }
    return bytes;
  }
  const Layer& layer(size_t l) const noexcept { return layers_[l]; }

  // Dimensions: compile-time constants where kD fixes them.
  size_t hidden() const noexcept { return Dim<kD.hidden>(config_.dims.hidden); }
  size_t ffn() const noexcept { return Dim<kD.ffn>(config_.dims.ffn); }
  size_t heads() const noexcept { return Dim<kD.heads>(config_.dims.heads); }
  size_t kv_heads() const noexcept {
    return Dim<kD.kv_heads>(config_.dims.kv_heads);
  }
  size_t head_dim() const noexcept {
    return Dim<kD.head_dim>(config_.dims.head_dim);
  }
  size_t layers() const noexcept { return Dim<kD.layers>(config_.dims.layers); }
  size_t vocab() const noexcept { return Dim<kD.vocab>(config_.dims.vocab); }
  size_t q_dim() const noexcept { return heads() * head_dim(); }
  size_t kv_dim() const noexcept { return kv_heads() * head_dim(); }

  // A fresh sequence; `reserve` positions of KV cache are allocated up
  // front (the cache grows as needed).
  State NewState(size_t reserve = 0) const {
    State s;
    s.cache_ = nn::KvCache(layers(), kv_dim(), reserve);
    return s;
  }

  // Runs `tokens` at positions state.size() … and appends them to the KV
  // cache. Writes logits (row stride vocab()) for all tokens or the last
  // one, as `which` says; `logits` must hold that many rows. Throws
  // UsageError for token ids outside the vocabulary (the state is then
  // unchanged).
  void Forward(std::span<const int32_t> tokens, State& state, float* logits,
               Logits which = Logits::kAll, ThreadPool* pool = nullptr) const {
    for (int32_t id : tokens) {
      if (id < 0 || static_cast<size_t>(id) >= vocab()) {
        throw UsageError("token id " + std::to_string(id) +
                         " outside the vocabulary [0, " +
                         std::to_string(vocab()) + ")");
      }
    }
    // One dispatch per call: the whole pass runs on one target's ops.
    WithOps<Simd>([&]<class Ops>() {
      for (size_t begin = 0; begin < tokens.size(); begin += kMaxBatch) {
        const size_t n = std::min(kMaxBatch, tokens.size() - begin);
        const bool last_chunk = begin + n == tokens.size();
        float* out = nullptr;
        Logits mode = Logits::kNone;
        if (which == Logits::kAll) {
          out = logits + begin * vocab();
          mode = Logits::kAll;
        } else if (which == Logits::kLast && last_chunk) {
          out = logits;
          mode = Logits::kLast;
        }
        ForwardChunk<Ops>(tokens.subspan(begin, n), state, out, mode, pool);
      }
    });
  }

  // Convenience: returns the logits (tokens.size() × vocab for kAll).
  std::vector<float> Forward(std::span<const int32_t> tokens, State& state,
                             Logits which = Logits::kAll,
                             ThreadPool* pool = nullptr) const {
    const size_t rows = which == Logits::kAll    ? tokens.size()
                        : which == Logits::kLast ? (tokens.empty() ? 0 : 1)
                                                 : 0;
    std::vector<float> out(rows * vocab());
    Forward(tokens, state, out.data(), which, pool);
    return out;
  }

 private:
  template <int kStatic>
  static constexpr size_t Dim(int runtime) noexcept {
    if constexpr (kStatic != kDynamic) {
      return static_cast<size_t>(kStatic);
    } else {
      return static_cast<size_t>(runtime);
    }
  }

  void Reserve(State& s, size_t rows) const {
    if (rows <= s.rows_) return;
    const size_t h = hidden();
    s.x_ = AlignedBuffer<float>(rows * h);
    s.xn_ = AlignedBuffer<float>(rows * h);
    s.tmp_ = AlignedBuffer<float>(rows * h);
    s.q_ = AlignedBuffer<float>(rows * q_dim());
    s.attn_ = AlignedBuffer<float>(rows * q_dim());
    s.gate_ = AlignedBuffer<float>(rows * ffn());
    s.up_ = AlignedBuffer<float>(rows * ffn());
    s.rows_ = rows;
  }

  // One chunk of at most kMaxBatch tokens with a target's ops
  // (kernels/ops-inl.h) or the scalar references (ref::Ops).
  template <class Ops>
  void ForwardChunk(std::span<const int32_t> tokens, State& s, float* logits,
                    Logits mode, ThreadPool* pool) const {
    const size_t n = tokens.size();
    if (n == 0) return;
    if (s.cache_.layers() != layers() || s.cache_.kv_dim() != kv_dim()) {
      throw UsageError("Model::Forward: the state belongs to another model");
    }
    const size_t h = hidden(), f = ffn(), qd = q_dim(), kv = kv_dim();
    const size_t pos0 = s.cache_.size();
    Reserve(s, n);
    s.cache_.Reserve(pos0 + n);
    float* x = s.x_.data();
    float* xn = s.xn_.data();
    float* q = s.q_.data();
    float* attn = s.attn_.data();
    float* tmp = s.tmp_.data();
    float* gate = s.gate_.data();
    float* up = s.up_.data();

    embed_.Lookup(tokens, x, h);
    for (size_t l = 0; l < layers(); ++l) {
      const Layer& w = layers_[l];
      float* kc = s.cache_.k(l);
      float* vc = s.cache_.v(l);
      // Attention: q/k/v share one quantized input; k and v land directly
      // in the cache rows of these positions.
      w.attn_norm.template Run<Ops>(x, n, h, xn, h);
      w.q.template Quantize<Ops>(xn, n, h, s.acts_);
      w.q.template Run<Ops>(s.acts_, q, qd, s.scratch_, pool);
      w.k.template Run<Ops>(s.acts_, kc + pos0 * kv, kv, s.scratch_, pool);
      w.v.template Run<Ops>(s.acts_, vc + pos0 * kv, kv, s.scratch_, pool);
      for (size_t t = 0; t < n; ++t) {
        rotary_.Apply(q + t * qd, heads(), pos0 + t);
        rotary_.Apply(kc + (pos0 + t) * kv, kv_heads(), pos0 + t);
      }
      Ops::Attention({q, qd, n, pos0, kc, vc, kv, heads(), kv_heads(),
                      head_dim(), attn, qd},
                     s.scratch_.attention(), pool);
      if constexpr (F::kSubNorms) {
        w.attn_sub_norm.template Run<Ops>(attn, n, qd, attn, qd);
      }
      w.o.template Quantize<Ops>(attn, n, qd, s.acts_);
      w.o.template Run<Ops>(s.acts_, tmp, h, s.scratch_, pool);
      Ops::AddRows(x, tmp, n * h);
      // FFN: down(ffn_sub_norm(act(gate) · up)), act relu² or SiLU.
      w.ffn_norm.template Run<Ops>(x, n, h, xn, h);
      w.gate.template Quantize<Ops>(xn, n, h, s.acts_);
      w.gate.template Run<Ops>(s.acts_, gate, f, s.scratch_, pool);
      w.up.template Run<Ops>(s.acts_, up, f, s.scratch_, pool);
      nn::GatedActivation<F::kFfnActivation, Ops>(gate, up, n * f, gate);
      if constexpr (F::kSubNorms) {
        w.ffn_sub_norm.template Run<Ops>(gate, n, f, gate, f);
      }
      w.down.template Quantize<Ops>(gate, n, f, s.acts_);
      w.down.template Run<Ops>(s.acts_, tmp, h, s.scratch_, pool);
      Ops::AddRows(x, tmp, n * h);
    }
    s.cache_.Resize(pos0 + n);
    if (mode == Logits::kNone) return;
    const size_t first = mode == Logits::kAll ? 0 : n - 1;
    const size_t rows = n - first;
    output_norm_.template Run<Ops>(x + first * h, rows, h, xn, h);
    head().template Project<Ops>(xn, rows, h, logits, vocab(),
                                 s.scratch_.head_acts(), pool);
  }

  ModelConfig config_;
  std::shared_ptr<const void> mapped_;  // the file projections point into
  nn::Embedding<Simd> embed_;
  std::vector<Layer> layers_;
  nn::RmsNorm<kD.hidden> output_norm_;
  nn::Embedding<Simd> lm_head_;  // empty when tied
  nn::Rotary<kD.head_dim> rotary_;
};

}  // namespace ternary

#endif  // TERNARY_MODEL_MODEL_H_
