// The BitNet b1.58 model: Model<Dims, Policy, Family> (docs/model.md §2,
// §5).
#ifndef TERNARY_MODEL_MODEL_H_
#define TERNARY_MODEL_MODEL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
    // A batch of several sequences: its keys and values before they go to
    // each sequence's cache, and its logits rows before they are handed out.
    AlignedBuffer<float> k_, v_, logits_;
    QuantizedActs acts_;
    KernelScratch scratch_;

   public:
    // Bytes held: the KV cache, the activations and the kernels' scratch
    // (nothing is kept anywhere else between calls).
    size_t bytes() const noexcept {
      size_t b =
          (x_.size() + xn_.size() + q_.size() + attn_.size() + tmp_.size() +
           gate_.size() + up_.size() + k_.size() + v_.size() + logits_.size()) *
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
    return WithCheckpoint(path, options,
                          [&](auto& source, const std::string& name) {
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
    // A tensor copied or decoded into the model: its mapped pages can go
    // (GgufCheckpoint::Release), so loading peaks at about the model's size.
    auto done_with = [&](TensorId id) {
      if constexpr (requires { source.Release(id); }) source.Release(id);
    };
    // The embedding / LM head: a file's Q6_K, Q4_0, F16 or BF16 table as
    // it is (in place when mapping) when the requested precision is the
    // file's or kAuto; otherwise decoded and stored at the requested
    // precision.
    auto head_table = [&](TensorId id) {
      if constexpr (requires { source.HeadTable(id, vocab, h); }) {
        const auto b = source.HeadTable(id, vocab, h);
        if (b && (options.head == nn::HeadPrecision::kAuto ||
                  options.head == b->precision)) {
          if (options.map_weights) m.mapped_ = source.Retain();
          auto lend = [&](auto table) {
            nn::Embedding<Simd> e(std::move(table));
            if (!options.map_weights) done_with(id);
            return e;
          };
          auto blocks = [&]<class B>(B) {
            return lend(options.map_weights
                            ? BlockMatrix<B>::View(b->bytes, vocab, h)
                            : BlockMatrix<B>::FromBytes(b->bytes, vocab, h));
          };
          auto dense = [&]<class T>(T) {
            const std::span<const T> v(
                reinterpret_cast<const T*>(b->bytes.data()),
                b->bytes.size() / sizeof(T));
            return lend(options.map_weights
                            ? DenseMatrix<T>::View(v, vocab, h)
                            : DenseMatrix<T>::Copy(v, vocab, h));
          };
          switch (b->precision) {
            case nn::HeadPrecision::kQ6K:
              return blocks(quant::BlockQ6_K{});
            case nn::HeadPrecision::kQ4_0:
              return blocks(quant::BlockQ4_0{});
            case nn::HeadPrecision::kF16:
              return dense(hwy::float16_t{});
            default:
              return dense(hwy::bfloat16_t{});
          }
        }
      }
      nn::Embedding<Simd> e(source.Floats(id, vocab, h), vocab, h,
                            options.head);
      done_with(id);
      return e;
    };
    m.embed_ = head_table({TensorId::kEmbed});
    for (int l = 0; l < static_cast<int>(m.layers()); ++l) {
      auto norm = [&](TensorId::Kind kind, size_t n) {
        return source.Floats({kind, l}, 1, n);
      };
      auto proj = [&]<quant::Role R>(TensorId::Kind kind, size_t rows,
                                     size_t cols) {
        if constexpr (std::is_same_v<Format, quant::I2S> && requires {
                        source.PackedI2S({kind, l}, rows, cols);
                      }) {
          // The file's bytes are PackedMatrix<I2S>'s: used in place, or
          // copied as they are (no decode and repack).
          if (const auto p = source.PackedI2S({kind, l}, rows, cols)) {
            if (!options.map_weights) {
              Linear<R> copied(PackedMatrix<quant::I2S>::Copy(p->bytes, rows,
                                                              cols, p->alpha));
              done_with({kind, l});
              return copied;
            }
            m.mapped_ = source.Retain();
            return Linear<R>(
                PackedMatrix<quant::I2S>::View(p->bytes, rows, cols, p->alpha));
          }
        }
        TernaryMatrix t = source.Ternary({kind, l}, rows, cols);
        done_with({kind, l});
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
      m.lm_head_ = head_table({TensorId::kLmHead});
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
    const BatchItem item{tokens, &state, logits, which};
    ForwardBatch(std::span<const BatchItem>(&item, 1), state, pool);
  }

  // One sequence's part of a batched forward pass: its new tokens, its
  // State (KV cache), and where its logits go (as Forward's `which`).
  struct BatchItem {
    std::span<const int32_t> tokens;
    State* state = nullptr;
    float* logits = nullptr;
    Logits which = Logits::kLast;
  };

  // Runs several sequences, each at its own positions, through the model
  // together: every projection is one GEMM over all their tokens (each
  // weight matrix is read once per batch instead of once per sequence) and
  // the LM head one GEMM over all logits rows; attention runs per sequence
  // on its own cache. Each item's logits equal those of Forward on that
  // item alone (every row is computed with the same operations). `work`
  // lends the batch's activation buffers (any State of this model, e.g.
  // one of the items'). Items must have distinct states. Throws UsageError
  // for token ids outside the vocabulary (no state is then changed).
  void ForwardBatch(std::span<const BatchItem> items, State& work,
                    ThreadPool* pool = nullptr) const {
    for (const BatchItem& item : items) {
      if (item.state == nullptr) {
        throw UsageError("Model::ForwardBatch: an item without a State");
      }
      CheckState(*item.state);
      for (int32_t id : item.tokens) {
        if (id < 0 || static_cast<size_t>(id) >= vocab()) {
          throw UsageError("token id " + std::to_string(id) +
                           " outside the vocabulary [0, " +
                           std::to_string(vocab()) + ")");
        }
      }
    }
    for (size_t i = 0; i < items.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (items[i].state == items[j].state) {
          throw UsageError("Model::ForwardBatch: a State appears twice");
        }
      }
    }
    CheckState(work);
    // Cut the items into segments of at most kMaxBatch rows per pass; an
    // item longer than that runs over several passes, in order.
    std::vector<Segment> pass;
    size_t rows = 0;
    // One dispatch per call: the whole pass runs on one target's ops.
    WithOps<Simd>([&]<class Ops>() {
      for (const BatchItem& item : items) {
        const size_t n = item.tokens.size();
        for (size_t begin = 0; begin < n;) {
          if (rows == kMaxBatch) {
            ForwardSegments<Ops>(pass, work, pool);
            pass.clear();
            rows = 0;
          }
          const size_t take = std::min(kMaxBatch - rows, n - begin);
          Segment seg{item.tokens.subspan(begin, take), item.state, nullptr,
                      Logits::kNone};
          const bool last = begin + take == n;
          if (item.which == Logits::kAll) {
            seg.logits = item.logits + begin * vocab();
            seg.which = Logits::kAll;
          } else if (item.which == Logits::kLast && last) {
            seg.logits = item.logits;
            seg.which = Logits::kLast;
          }
          pass.push_back(seg);
          rows += take;
          begin += take;
        }
      }
      if (!pass.empty()) ForwardSegments<Ops>(pass, work, pool);
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

  // A piece of one sequence within a pass (BatchItem, cut to the pass).
  using Segment = BatchItem;

  void CheckState(const State& s) const {
    if (s.cache_.layers() != layers() || s.cache_.kv_dim() != kv_dim()) {
      throw UsageError("Model::Forward: the state belongs to another model");
    }
  }

  void Reserve(State& s, size_t rows, bool staged_kv) const {
    if (rows > s.rows_) {
      const size_t h = hidden();
      s.x_ = AlignedBuffer<float>(rows * h);
      s.xn_ = AlignedBuffer<float>(rows * h);
      s.tmp_ = AlignedBuffer<float>(rows * h);
      s.q_ = AlignedBuffer<float>(rows * q_dim());
      s.attn_ = AlignedBuffer<float>(rows * q_dim());
      s.gate_ = AlignedBuffer<float>(rows * ffn());
      s.up_ = AlignedBuffer<float>(rows * ffn());
      s.k_ = {};
      s.v_ = {};
      s.rows_ = rows;
    }
    if (staged_kv && s.k_.size() < s.rows_ * kv_dim()) {
      s.k_ = AlignedBuffer<float>(s.rows_ * kv_dim());
      s.v_ = AlignedBuffer<float>(s.rows_ * kv_dim());
    }
  }

  // One pass of at most kMaxBatch rows (segments of distinct sequences)
  // with a target's ops (kernels/ops-inl.h) or the scalar references
  // (ref::Ops). A single segment writes its keys and values straight into
  // its cache; several stage them in `work` and copy each to its cache.
  template <class Ops>
  void ForwardSegments(std::span<const Segment> segs, State& work,
                       ThreadPool* pool) const {
    size_t n = 0;
    for (const Segment& g : segs) n += g.tokens.size();
    if (n == 0) return;
    const size_t h = hidden(), f = ffn(), qd = q_dim(), kv = kv_dim();
    const bool staged = segs.size() > 1;
    Reserve(work, n, staged);
    std::vector<size_t> pos0(segs.size()), row0(segs.size());
    for (size_t i = 0, row = 0; i < segs.size(); ++i) {
      State& st = *segs[i].state;
      pos0[i] = st.cache_.size();
      row0[i] = row;
      row += segs[i].tokens.size();
      st.cache_.Reserve(pos0[i] + segs[i].tokens.size());
    }
    float* x = work.x_.data();
    float* xn = work.xn_.data();
    float* q = work.q_.data();
    float* attn = work.attn_.data();
    float* tmp = work.tmp_.data();
    float* gate = work.gate_.data();
    float* up = work.up_.data();
    QuantizedActs& acts = work.acts_;
    KernelScratch& scratch = work.scratch_;

    for (size_t i = 0; i < segs.size(); ++i) {
      embed_.Lookup(segs[i].tokens, x + row0[i] * h, h);
    }
    for (size_t l = 0; l < layers(); ++l) {
      const Layer& w = layers_[l];
      // Attention: q/k/v share one quantized input.
      w.attn_norm.template Run<Ops>(x, n, h, xn, h);
      w.q.template Quantize<Ops>(xn, n, h, acts);
      w.q.template Run<Ops>(acts, q, qd, scratch, pool);
      if (staged) {
        w.k.template Run<Ops>(acts, work.k_.data(), kv, scratch, pool);
        w.v.template Run<Ops>(acts, work.v_.data(), kv, scratch, pool);
      } else {  // straight into the cache rows of these positions
        State& st = *segs[0].state;
        w.k.template Run<Ops>(acts, st.cache_.k(l) + pos0[0] * kv, kv, scratch,
                              pool);
        w.v.template Run<Ops>(acts, st.cache_.v(l) + pos0[0] * kv, kv, scratch,
                              pool);
      }
      for (size_t i = 0; i < segs.size(); ++i) {
        State& st = *segs[i].state;
        const size_t m = segs[i].tokens.size();
        float* kc = st.cache_.k(l);
        float* vc = st.cache_.v(l);
        if (staged) {
          std::memcpy(kc + pos0[i] * kv, work.k_.data() + row0[i] * kv,
                      m * kv * sizeof(float));
          std::memcpy(vc + pos0[i] * kv, work.v_.data() + row0[i] * kv,
                      m * kv * sizeof(float));
        }
        for (size_t t = 0; t < m; ++t) {
          rotary_.Apply(q + (row0[i] + t) * qd, heads(), pos0[i] + t);
          rotary_.Apply(kc + (pos0[i] + t) * kv, kv_heads(), pos0[i] + t);
        }
        Ops::Attention({q + row0[i] * qd, qd, m, pos0[i], kc, vc, kv, heads(),
                        kv_heads(), head_dim(), attn + row0[i] * qd, qd},
                       scratch.attention(), pool);
      }
      if constexpr (F::kSubNorms) {
        w.attn_sub_norm.template Run<Ops>(attn, n, qd, attn, qd);
      }
      w.o.template Quantize<Ops>(attn, n, qd, acts);
      w.o.template Run<Ops>(acts, tmp, h, scratch, pool);
      Ops::AddRows(x, tmp, n * h);
      // FFN: down(ffn_sub_norm(act(gate) · up)), act relu² or SiLU.
      w.ffn_norm.template Run<Ops>(x, n, h, xn, h);
      w.gate.template Quantize<Ops>(xn, n, h, acts);
      w.gate.template Run<Ops>(acts, gate, f, scratch, pool);
      w.up.template Run<Ops>(acts, up, f, scratch, pool);
      nn::GatedActivation<F::kFfnActivation, Ops>(gate, up, n * f, gate);
      if constexpr (F::kSubNorms) {
        w.ffn_sub_norm.template Run<Ops>(gate, n, f, gate, f);
      }
      w.down.template Quantize<Ops>(gate, n, f, acts);
      w.down.template Run<Ops>(acts, tmp, h, scratch, pool);
      Ops::AddRows(x, tmp, n * h);
    }
    for (size_t i = 0; i < segs.size(); ++i) {
      State& st = *segs[i].state;
      st.cache_.Resize(pos0[i] + segs[i].tokens.size());
    }

    // Logits: the rows each segment asks for, normed into xn and projected
    // by one GEMM; straight into the caller's buffer for one segment.
    size_t out_rows = 0;
    for (size_t i = 0; i < segs.size(); ++i) {
      const size_t m = segs[i].tokens.size();
      const size_t first = segs[i].which == Logits::kAll ? 0 : m - 1;
      if (segs[i].which == Logits::kNone) continue;
      output_norm_.template Run<Ops>(x + (row0[i] + first) * h, m - first, h,
                                     xn + out_rows * h, h);
      out_rows += m - first;
    }
    if (out_rows == 0) return;
    const bool direct = segs.size() == 1;
    float* out = direct ? segs[0].logits : nullptr;
    if (!direct) {
      if (work.logits_.size() < out_rows * vocab()) {
        work.logits_ = AlignedBuffer<float>(out_rows * vocab());
      }
      out = work.logits_.data();
    }
    head().template Project<Ops>(xn, out_rows, h, out, vocab(),
                                 scratch.head_acts(), pool);
    if (direct) return;
    for (size_t i = 0, row = 0; i < segs.size(); ++i) {
      if (segs[i].which == Logits::kNone) continue;
      const size_t rows =
          segs[i].which == Logits::kAll ? segs[i].tokens.size() : 1;
      std::memcpy(segs[i].logits, out + row * vocab(),
                  rows * vocab() * sizeof(float));
      row += rows;
    }
  }

  ModelConfig config_;
  std::shared_ptr<const void> mapped_;  // the file weights point into
  nn::Embedding<Simd> embed_;
  std::vector<Layer> layers_;
  nn::RmsNorm<kD.hidden> output_norm_;
  nn::Embedding<Simd> lm_head_;  // empty when tied
  nn::Rotary<kD.head_dim> rotary_;
};

}  // namespace ternary

#endif  // TERNARY_MODEL_MODEL_H_
