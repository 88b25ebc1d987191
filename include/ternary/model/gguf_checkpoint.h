// GGUF files as a weight source: bitnet.cpp I2_S, llama.cpp TQ1_0/TQ2_0,
// ik_llama.cpp IQ2_BN/IQ1_BN (docs/formats.md §4, §7, §8, §10), of the
// families of model/family.h: archs bitnet-b1.58 / bitnet-25 (2B4T), llama
// (ternary Llama3 / Falcon3 / Falcon-E, q/k rows permuted for interleaved
// RoPE) and bitnet (1bitLLM) (docs/model.md §5.3).
#ifndef TERNARY_MODEL_GGUF_CHECKPOINT_H_
#define TERNARY_MODEL_GGUF_CHECKPOINT_H_

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ternary/io/gguf.h"
#include "ternary/io/gguf_types.h"
#include "ternary/model/config.h"
#include "ternary/model/weights.h"
#include "ternary/quant/ggml_blocks.h"
#include "ternary/quant/i2s_layout.h"
#include "ternary/util/aligned_buffer.h"
#include "ternary/util/error.h"

namespace ternary {

// The llama.cpp name of a tensor (docs/formats.md §10.1, §10.3), e.g.
// "blk.3.ffn_down.weight".
inline std::string GgufTensorName(TensorId id) {
  const std::string blk = "blk." + std::to_string(id.layer) + ".";
  switch (id.kind) {
    case TensorId::kEmbed:
      return "token_embd.weight";
    case TensorId::kOutputNorm:
      return "output_norm.weight";
    case TensorId::kLmHead:
      return "output.weight";
    case TensorId::kAttnNorm:
      return blk + "attn_norm.weight";
    case TensorId::kAttnSubNorm:
      return blk + "attn_sub_norm.weight";
    case TensorId::kFfnNorm:
      return blk + "ffn_norm.weight";
    case TensorId::kFfnSubNorm:
      return blk + "ffn_sub_norm.weight";
    case TensorId::kQ:
      return blk + "attn_q.weight";
    case TensorId::kK:
      return blk + "attn_k.weight";
    case TensorId::kV:
      return blk + "attn_v.weight";
    case TensorId::kO:
      return blk + "attn_output.weight";
    case TensorId::kGate:
      return blk + "ffn_gate.weight";
    case TensorId::kUp:
      return blk + "ffn_up.weight";
    case TensorId::kDown:
      return blk + "ffn_down.weight";
  }
  return "?";
}

// The per-layer tensors of the graph, in the order our writer emits them.
inline constexpr std::array<TensorId::Kind, 11> kGgufLayerTensors = {
    TensorId::kAttnNorm,   TensorId::kQ,           TensorId::kK,
    TensorId::kV,          TensorId::kAttnSubNorm, TensorId::kO,
    TensorId::kFfnNorm,    TensorId::kGate,        TensorId::kUp,
    TensorId::kFfnSubNorm, TensorId::kDown};

// GGUF architectures whose graph is BitNet b1.58 2B4T's (relu² FFN, sub
// norms, GQA, NEOX RoPE, scale inside the ternary payload). bitnet.cpp's
// fork and ik_llama.cpp map both to build_bitnet_158. (GgufCheckpoint also
// reads archs bitnet and llama: docs/model.md §5.3.)
inline bool IsBitNet158Arch(std::string_view arch) noexcept {
  return arch == "bitnet-b1.58" || arch == "bitnet-25";
}

// llama.cpp's convert_hf_to_gguf.py `permute` of a q or k matrix (written
// for interleaved, NORM RoPE): with d = head_dim, the file's row
// h·d + 2j + t is the HF row h·d + t·d/2 + j (t ∈ {0, 1}, j < d/2), so
// rows (2j, 2j+1) of a head hold the pair that split-halves RoPE rotates.
// `values` is rows × cols, rows = heads · head_dim. kFromFile undoes the
// permutation (reading such a file), kToFile applies it (convert).
enum class NormRopeRows { kFromFile, kToFile };
inline void ReorderNormRopeRows(std::span<int8_t> values, size_t heads,
                                size_t head_dim, size_t cols,
                                NormRopeRows direction) {
  std::vector<int8_t> out(values.size());
  const size_t half = head_dim / 2;
  const bool to_file = direction == NormRopeRows::kToFile;
  for (size_t h = 0; h < heads; ++h) {
    for (size_t j = 0; j < half; ++j) {
      for (size_t t = 0; t < 2; ++t) {
        const size_t file_row = h * head_dim + 2 * j + t;
        const size_t hf_row = h * head_dim + t * half + j;
        std::copy_n(values.data() + (to_file ? hf_row : file_row) * cols, cols,
                    out.data() + (to_file ? file_row : hf_row) * cols);
      }
    }
  }
  std::copy(out.begin(), out.end(), values.begin());
}

inline void UnpermuteNormRopeRows(std::span<int8_t> values, size_t heads,
                                  size_t head_dim, size_t cols) {
  ReorderNormRopeRows(values, heads, head_dim, cols, NormRopeRows::kFromFile);
}

// A .gguf file, memory-mapped while the object lives. Every tensor is
// decoded when the model asks for it.
//
// Ternary projections: I2_S (one f32 α per tensor), TQ2_0/TQ1_0 (fp16 d per
// 256-block), IQ2_BN/IQ1_BN (d per row), or F32/F16/BF16 holding
// fake-ternarised values {−a, 0, +a} (bitnet.cpp's f32 intermediate).
// BitNet has one α per tensor, so block and row scales must agree: α = the
// d of the first block (row) holding a non-zero value, and every other such
// block (row) must be within one fp16 step of it (|d − α| ≤ α·2⁻¹⁰, which
// also covers writers that round d per block); blocks of zeros are ignored,
// whatever d they store (llama.cpp writes 0). Anything else is a per-block
// quantization BitNet's kernels cannot run: FormatError.
//
// Norms, embeddings and output: F32, F16, BF16, Q8_0, Q6_K or Q4_0, decoded
// to float exactly as ggml does. No output.weight = tied embeddings.
class GgufCheckpoint {
 public:
  // Throws FormatError naming the file (and the key or tensor) for files
  // that are not GGUF, architectures other than bitnet-b1.58, bitnet-25,
  // bitnet and llama,
  // missing or mistyped keys, and tensors this graph does not have.
  // `i2s_layout`: the block layout of its I2_S tensors, which the file does
  // not record (quant/i2s_layout.h).
  static GgufCheckpoint Open(
      const std::filesystem::path& path,
      quant::I2SLayout i2s_layout = quant::I2SLayout::kX86) {
    return GgufCheckpoint(io::GgufFile::Open(path), i2s_layout);
  }
  // From an already parsed file (e.g. io::GgufFile::Parse of a buffer).
  explicit GgufCheckpoint(io::GgufFile file,
                          quant::I2SLayout i2s_layout = quant::I2SLayout::kX86)
      : file_(std::make_shared<io::GgufFile>(std::move(file))),
        i2s_layout_(i2s_layout) {
    ReadConfig();
    CheckTensorNames();
  }

  GgufCheckpoint(GgufCheckpoint&&) noexcept = default;
  GgufCheckpoint& operator=(GgufCheckpoint&&) noexcept = default;

  const io::GgufFile& file() const noexcept { return *file_; }
  const std::string& name() const noexcept { return file_->name(); }
  std::string_view architecture() const noexcept { return arch_; }
  quant::I2SLayout i2s_layout() const noexcept { return i2s_layout_; }

  ModelConfig config() const { return config_; }

  TernaryMatrix Ternary(TensorId id, size_t rows, size_t cols) const {
    const std::string tname = GgufTensorName(id);
    const io::GgufTensorInfo& t = Require(tname);
    ExpectDims(t, rows, cols);
    TernaryMatrix m;
    try {
      m = DecodeTernary(t, tname, rows, cols);
    } catch (const ShapeError& e) {  // e.g. an I2_S tensor of N % 128 != 0
      throw FormatError(Where(tname) + ": " + e.what());
    }
    if (PermutedForNormRope(id)) {
      const size_t heads =
          id.kind == TensorId::kQ ? config_.dims.heads : config_.dims.kv_heads;
      UnpermuteNormRopeRows(m.values, heads, config_.dims.head_dim, cols);
    }
    if (const std::optional<float> scale = ScaleTensor(tname)) {
      m.alpha *= *scale;
      CheckAlpha(tname, m.alpha);
    }
    return m;
  }

  // An I2_S projection in place: bitnet.cpp's x86 payload (128-value blocks
  // of 32 bytes over the flattened tensor, then α) holds PackedMatrix<I2S>'s
  // bytes when cols % 128 == 0, so a model can use the mapped file without
  // a copy (Retain() keeps it mapped). Empty for other types, shapes and
  // the Arm layout; bad payloads throw as Ternary() does.
  std::optional<PackedTernary> PackedI2S(TensorId id, size_t rows,
                                         size_t cols) const {
    const std::string tname = GgufTensorName(id);
    const io::GgufTensorInfo& t = Require(tname);
    ExpectDims(t, rows, cols);
    if (t.type != io::GgmlType::kI2_S ||
        i2s_layout_ != quant::I2SLayout::kX86 ||
        cols % quant::I2SPayload::kBlockElements != 0 ||
        PermutedForNormRope(id) || file_->FindTensor(ScaleName(tname))) {
      return std::nullopt;  // copied: other layout, rows moved, or rescaled
    }
    const std::span<const uint8_t> data = file_->TensorData(t);
    const size_t n = rows * cols;
    bool bad_code = data.size() != quant::I2SPayload::Bytes(n);
    for (size_t i = 0; i < n / 4 && !bad_code; ++i) {
      const unsigned x = data[i];
      bad_code = ((x >> 1) & x & 0x55u) != 0;  // some 2-bit code is 3
    }
    if (bad_code) Ternary(id, rows, cols);  // throws, naming the problem
    const PackedTernary p{data.first(n / 4),
                          quant::ggml_detail::LoadF32(&data[n / 4])};
    CheckAlpha(tname, p.alpha);
    return p;
  }
  // An embedding / output table as the file stores it, used in place or
  // copied without a conversion:
  //  - Q6_K or Q4_0: ggml's blocks are BlockMatrix's, so the model reads
  //    the mapped file as the peers do instead of decoding it (and, for
  //    --head q6_k, quantizing it again: ~14 s for 2B4T);
  //  - F16 or BF16: DenseMatrix's rows, so the table never passes through
  //    f32 (for 2B4T's F16 file a 1.31 GB transient, twice the table).
  // Empty for other types or a row that is not whole blocks; a non-finite
  // block scale or value throws as Floats() does.
  std::optional<TableBytes> HeadTable(TensorId id, size_t rows,
                                      size_t cols) const {
    const std::string tname = GgufTensorName(id);
    const io::GgufTensorInfo& t = Require(tname);
    ExpectDims(t, rows, cols);
    // Per type: the precision, a block's values and bytes, and where its
    // 16-bit float sits (a block's scale d, or an F16 / BF16 value itself)
    // with the exponent bits that, all set, make it ±inf or NaN.
    struct Layout {
      nn::HeadPrecision precision;
      size_t values, bytes, at;
      uint16_t exponent;
    };
    Layout l;
    switch (t.type) {
      case io::GgmlType::kQ6_K:
        l = {nn::HeadPrecision::kQ6K, quant::BlockQ6_K::kElements,
             quant::BlockQ6_K::kBytes, 208, 0x7C00u};
        break;
      case io::GgmlType::kQ4_0:
        l = {nn::HeadPrecision::kQ4_0, quant::BlockQ4_0::kElements,
             quant::BlockQ4_0::kBytes, 0, 0x7C00u};
        break;
      case io::GgmlType::kF16:
        l = {nn::HeadPrecision::kF16, 1, 2, 0, 0x7C00u};
        break;
      case io::GgmlType::kBF16:
        l = {nn::HeadPrecision::kBF16, 1, 2, 0, 0x7F80u};
        break;
      default:
        return std::nullopt;
    }
    if (cols % l.values != 0) return std::nullopt;
    const std::span<const uint8_t> data = file_->TensorData(t);
    for (size_t b = 0; b < data.size(); b += l.bytes) {
      uint16_t v;
      std::memcpy(&v, &data[b + l.at], 2);
      if ((v & l.exponent) == l.exponent) Floats(id, rows, cols);  // throws
    }
    return TableBytes{l.precision, data};
  }

  // Whether the file's q/k rows are in llama.cpp's interleaved-RoPE order
  // (arch llama; the bitnet* archs keep the HF order, NEOX RoPE).
  bool PermutedForNormRope(TensorId id) const noexcept {
    return arch_ == "llama" &&
           (id.kind == TensorId::kQ || id.kind == TensorId::kK);
  }

  // The tensor has been copied or decoded and is not used in place: its
  // mapped pages leave the process's RSS (a load that copies peaks at the
  // model's size, not the model's plus the file's).
  void Release(TensorId id) const noexcept {
    if (const io::GgufTensorInfo* t = file_->FindTensor(GgufTensorName(id))) {
      file_->ReleaseTensorData(*t);
    }
  }

  // Keeps the mapped file (and spans into it) alive.
  std::shared_ptr<const void> Retain() const noexcept { return file_; }

  AlignedBuffer<float> Floats(TensorId id, size_t rows, size_t cols) const {
    const std::string tname = GgufTensorName(id);
    const io::GgufTensorInfo& t = Require(tname);
    ExpectDims(t, rows, cols);
    switch (t.type) {
      case io::GgmlType::kF32:
      case io::GgmlType::kF16:
      case io::GgmlType::kBF16:
      case io::GgmlType::kQ8_0:
      case io::GgmlType::kQ6_K:
      case io::GgmlType::kQ4_0:
        break;
      default:
        Fail("tensor '" + tname + "' has type " + TypeName(t) +
             ", expected F32, F16, BF16, Q8_0, Q6_K or Q4_0");
    }
    AlignedBuffer<float> out(rows * cols);
    quant::DequantizeRow(t.type, file_->TensorData(t), out.span());
    // NaN/inf values, or block scales (Q8_0, Q6_K, Q4_0) that decode to them.
    const size_t i = FirstNonFinite(out.span());
    if (i != out.size()) {
      const bool blocks = t.type == io::GgmlType::kQ8_0 ||
                          t.type == io::GgmlType::kQ6_K ||
                          t.type == io::GgmlType::kQ4_0;
      Fail("tensor '" + tname + "' (" + TypeName(t) +
           ") holds a non-finite value (" + NonFiniteName(out[i]) + ") at " +
           (rows == 1 ? "element " + std::to_string(i)
                      : "row " + std::to_string(i / cols) + ", column " +
                            std::to_string(i % cols)) +
           (blocks ? " (a non-finite block scale)" : ""));
    }
    return out;
  }

 private:
  TernaryMatrix DecodeTernary(const io::GgufTensorInfo& t,
                              const std::string& tname, size_t rows,
                              size_t cols) const {
    const std::span<const uint8_t> data = file_->TensorData(t);
    const std::string where = Where(tname);
    TernaryMatrix m;
    m.values.resize(rows * cols);
    const std::span<int8_t> values(m.values);
    switch (t.type) {
      case io::GgmlType::kI2_S:
        m.alpha = quant::DecodeI2S(data, values, where, i2s_layout_);
        CheckAlpha(tname, m.alpha);
        return m;
      case io::GgmlType::kTQ2_0:
      case io::GgmlType::kTQ1_0: {
        std::vector<float> d(rows * cols / 256);
        if (t.type == io::GgmlType::kTQ2_0) {
          quant::DecodeTQ2_0(data, values, d, where);
        } else {
          quant::DecodeTQ1_0(data, values, d);
        }
        m.alpha = CommonScale(tname, values, d, 256, "block");
        return m;
      }
      case io::GgmlType::kIQ2_BN:
      case io::GgmlType::kIQ1_BN: {
        std::vector<float> d(rows);
        if (t.type == io::GgmlType::kIQ2_BN) {
          quant::DecodeIQ2_BN(data, rows, values, d, where);
        } else {
          quant::DecodeIQ1_BN(data, rows, values, d);
        }
        m.alpha = CommonScale(tname, values, d, cols, "row");
        return m;
      }
      case io::GgmlType::kF32:
      case io::GgmlType::kF16:
      case io::GgmlType::kBF16:
        m.alpha = FakeTernary(t, values);
        return m;
      case io::GgmlType::kTL1:
      case io::GgmlType::kTL2:
        Fail("tensor '" + tname + "' has type " + TypeName(t) +
             ": bitnet.cpp's LUT layouts depend on the kernel_config.ini of "
             "the build that wrote them, which the file does not record; "
             "use an I2_S file (or convert the HF folder)");
      default:
        Fail("tensor '" + tname + "' has type " + TypeName(t) +
             ", expected a ternary type (I2_S, TQ1_0, TQ2_0, IQ1_BN, IQ2_BN) "
             "or fake-ternarised F32/F16/BF16");
    }
  }

  [[noreturn]] void Fail(const std::string& what) const {
    throw FormatError(file_->name() + ": " + what);
  }

  // "blk.0.attn_q.weight" → "blk.0.attn_q.scale".
  static std::string ScaleName(const std::string& tname) {
    return tname.substr(0, tname.size() - 7) + ".scale";
  }

  // 1bitLLM (arch bitnet): an optional per-tensor scale multiplied after
  // the matmul (llama.cpp's build_bitnet: ggml_mul by blk.N.<name>.scale),
  // one F32 value; llama.cpp's and ik_llama's converters write sign weights
  // with the absmean α there.
  std::optional<float> ScaleTensor(const std::string& tname) const {
    const io::GgufTensorInfo* s = file_->FindTensor(ScaleName(tname));
    if (s == nullptr) return std::nullopt;
    if (s->type != io::GgmlType::kF32 || s->ne[0] != 1 || s->ne[1] != 1 ||
        s->ne[2] != 1 || s->ne[3] != 1) {
      Fail("tensor '" + std::string(s->name) +
           "' must be one F32 value (a per-tensor scale)");
    }
    float v = 0.0f;
    quant::DequantizeRow(s->type, file_->TensorData(*s),
                         std::span<float>(&v, 1));
    if (!(std::isfinite(v) && v >= 0.0f)) {
      Fail("tensor '" + std::string(s->name) + "' is " + std::to_string(v) +
           ", expected a finite scale >= 0");
    }
    return v;
  }
  std::string Where(const std::string& tname) const {
    return file_->name() + ": tensor '" + tname + "'";
  }
  static std::string TypeName(const io::GgufTensorInfo& t) {
    return std::string(io::GgmlTypeName(t.type));
  }

  const io::GgufTensorInfo& Require(const std::string& tname) const {
    const io::GgufTensorInfo* t = file_->FindTensor(tname);
    if (t == nullptr) Fail("missing tensor '" + tname + "'");
    return *t;
  }

  // ggml order: ne0 = columns (contiguous), ne1 = rows; trailing dims 1,
  // as llama.cpp's check_tensor_dims.
  void ExpectDims(const io::GgufTensorInfo& t, size_t rows, size_t cols) const {
    const std::array<int64_t, 4> want = {static_cast<int64_t>(cols),
                                         static_cast<int64_t>(rows), 1, 1};
    if (t.ne == want) return;
    auto str = [](std::span<const int64_t> ne) {
      std::string s = "{";
      for (size_t i = 0; i < ne.size(); ++i) {
        s += (i ? ", " : "") + std::to_string(ne[i]);
      }
      return s + "}";
    };
    const size_t n_want = rows == 1 ? 1 : 2;
    Fail("tensor '" + std::string(t.name) + "' has dims " + str(t.dims()) +
         ", expected " + str(std::span<const int64_t>(want.data(), n_want)) +
         " (ggml order: ne0 = columns)");
  }

  void CheckAlpha(const std::string& tname, float alpha) const {
    if (!(std::isfinite(alpha) && alpha >= 0.0f)) {
      Fail("tensor '" + tname + "' has scale " + std::to_string(alpha) +
           ", expected a finite value >= 0");
    }
  }

  // One α from per-block (per-row) scales d: see the class comment.
  float CommonScale(const std::string& tname, std::span<const int8_t> values,
                    std::span<const float> d, size_t block,
                    const char* unit) const {
    std::optional<float> alpha;
    size_t first = 0;
    for (size_t b = 0; b < d.size(); ++b) {
      bool nonzero = false;
      for (size_t i = b * block; i < (b + 1) * block && !nonzero; ++i) {
        nonzero = values[i] != 0;
      }
      if (!nonzero) continue;
      if (!(std::isfinite(d[b]) && d[b] > 0.0f)) {
        Fail("tensor '" + tname + "' has scale " + std::to_string(d[b]) +
             " in " + unit + " " + std::to_string(b) +
             ", expected a finite value > 0");
      }
      if (!alpha) {
        alpha = d[b];
        first = b;
        continue;
      }
      if (std::fabs(d[b] - *alpha) > *alpha * 0x1p-10f) {
        Fail("tensor '" + tname + "' has " + unit + " scales " +
             std::to_string(*alpha) + " (" + unit + " " +
             std::to_string(first) + ") and " + std::to_string(d[b]) + " (" +
             unit + " " + std::to_string(b) +
             "): BitNet needs one scale per tensor (per-" + unit +
             " quantization of non-ternary weights is not supported)");
      }
    }
    return alpha.value_or(0.0f);
  }

  // F32/F16/BF16 projection: every value must be 0 or ±a for one a.
  float FakeTernary(const io::GgufTensorInfo& t,
                    std::span<int8_t> values) const {
    std::vector<float> w(values.size());
    quant::DequantizeRow(t.type, file_->TensorData(t), w);
    float a = 0.0f;
    for (size_t i = 0; i < w.size(); ++i) {
      const float x = w[i];
      if (x != 0.0f && a == 0.0f) a = std::fabs(x);
      if (!(x == 0.0f || std::fabs(x) == a)) {
        Fail("tensor '" + std::string(t.name) + "' is " + TypeName(t) +
             " but not ternary: element " + std::to_string(i) + " is " +
             std::to_string(x) + ", expected 0 or +-" + std::to_string(a) +
             " (quantize it to I2_S or convert from the HF folder)");
      }
      values[i] = static_cast<int8_t>(x > 0.0f ? 1 : x < 0.0f ? -1 : 0);
    }
    CheckAlpha(std::string(t.name), a);
    return a;
  }

  // A positive dimension that fits int.
  int Dim(const std::string& key) const {
    const uint64_t v = file_->GetU64(key);
    if (v == 0 || v > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
      Fail("metadata key '" + key + "' is " + std::to_string(v) +
           ", expected a positive dimension");
    }
    return static_cast<int>(v);
  }
  std::optional<int> OptionalDim(const std::string& key) const {
    if (file_->Find(key) == nullptr) return std::nullopt;
    return Dim(key);
  }

  // The family of the file (docs/model.md §5.3): bitnet-b1.58 / bitnet-25
  // → 2B4T's graph, except that a file with a SentencePiece vocabulary
  // (tokenizer.ggml.model "llama") holds 1bitLLM's weights, which
  // bitnet.cpp's converter tags bitnet-b1.58 since 2026-07 (3b04140);
  // llama → ternary Llama (LlamaForCausalLM + bitnet quantization); bitnet
  // → 1bitLLM. A <arch>.hidden_act key ("silu", "relu2"), where present,
  // decides between the two sub-norm graphs.
  ModelFamily DetectFamily() const {
    if (arch_ == "llama") return ModelFamily::kLlamaBitNet;
    ModelFamily f =
        arch_ == "bitnet" ? ModelFamily::kOneBitLlm
        : file_->GetOptionalString("tokenizer.ggml.model").value_or("") ==
                "llama"
            ? ModelFamily::kOneBitLlm
            : ModelFamily::kBitNet;
    const std::string key = arch_ + ".hidden_act";
    if (const auto act = file_->GetOptionalString(key)) {
      if (*act == "silu") {
        f = ModelFamily::kOneBitLlm;
      } else if (*act == "relu2" || *act == "relu_squared") {
        f = ModelFamily::kBitNet;
      } else {
        Fail("metadata key '" + key + "' is '" + std::string(*act) +
             "' (supported: silu, relu2)");
      }
    }
    return f;
  }

  void ReadConfig() {
    arch_ = std::string(file_->architecture());
    if (!IsBitNet158Arch(arch_) && arch_ != "bitnet" && arch_ != "llama") {
      Fail("unsupported architecture '" + arch_ +
           "' (supported: bitnet-b1.58, bitnet-25, bitnet, llama)");
    }
    config_.family = DetectFamily();
    const std::string p = arch_ + ".";
    Dims& d = config_.dims;
    d.hidden = Dim(p + "embedding_length");
    d.ffn = Dim(p + "feed_forward_length");
    d.layers = Dim(p + "block_count");
    d.heads = Dim(p + "attention.head_count");
    d.kv_heads = OptionalDim(p + "attention.head_count_kv").value_or(d.heads);
    // head_dim: the rotated dims (all of them in BitNet), else hidden/heads
    // as llama.cpp derives n_embd_head_k.
    const std::optional<int> rot = OptionalDim(p + "rope.dimension_count");
    const std::optional<int> key_len = OptionalDim(p + "attention.key_length");
    d.head_dim = rot ? *rot : key_len ? *key_len : d.hidden / d.heads;
    if (key_len && *key_len != d.head_dim) {
      Fail("metadata: " + p + "rope.dimension_count " + std::to_string(*rot) +
           " differs from " + p + "attention.key_length " +
           std::to_string(*key_len) + " (partial RoPE is not supported)");
    }
    if (const std::optional<int> v = OptionalDim(p + "vocab_size")) {
      d.vocab = *v;
    } else if (const auto tokens =
                   file_->GetOptionalStringArray("tokenizer.ggml.tokens")) {
      d.vocab = static_cast<int>(std::min<size_t>(
          tokens->size(), size_t{std::numeric_limits<int>::max()}));
    } else if (const io::GgufTensorInfo* e =
                   file_->FindTensor("token_embd.weight")) {
      d.vocab = static_cast<int>(std::min<int64_t>(
          e->ne[1], int64_t{std::numeric_limits<int>::max()}));
    } else {
      Fail("missing metadata key '" + p + "vocab_size'");
    }
    config_.max_position_embeddings =
        OptionalDim(p + "context_length").value_or(4096);
    config_.rms_norm_eps =
        file_->GetF32(p + "attention.layer_norm_rms_epsilon");
    // llama.cpp's default when the key is absent.
    config_.rope_theta =
        file_->GetOptionalF32(p + "rope.freq_base").value_or(10000.0f);
    if (const auto type = file_->GetOptionalString(p + "rope.scaling.type")) {
      const float factor =
          file_->GetOptionalF32(p + "rope.scaling.factor").value_or(1.0f);
      if (!(*type == "none" || (*type == "linear" && factor == 1.0f))) {
        Fail("metadata key '" + p + "rope.scaling.type' is '" +
             std::string(*type) + "' (factor " + std::to_string(factor) +
             "): RoPE scaling is not supported");
      }
    }
    config_.tie_word_embeddings = file_->FindTensor("output.weight") == nullptr;
    if (const auto bos = file_->GetOptionalU32("tokenizer.ggml.bos_token_id")) {
      config_.bos_token_id = *bos;
    }
    if (const auto eos = file_->GetOptionalU32("tokenizer.ggml.eos_token_id")) {
      config_.eos_token_id = *eos;
    }
    if (!(config_.rms_norm_eps >= 0.0f &&
          config_.rms_norm_eps < ModelConfig::kMaxRmsNormEps)) {
      Fail("metadata key '" + p + "attention.layer_norm_rms_epsilon' is " +
           std::to_string(config_.rms_norm_eps) + ", expected >= 0 and < 1");
    }
    if (!(config_.rope_theta > 0.0 && std::isfinite(config_.rope_theta))) {
      Fail("metadata key '" + p + "rope.freq_base' is " +
           std::to_string(config_.rope_theta) + ", expected > 0");
    }
    if (config_.max_position_embeddings > ModelConfig::kMaxPositionEmbeddings) {
      Fail("metadata key '" + p + "context_length' is " +
           std::to_string(config_.max_position_embeddings) +
           ", more than the " +
           std::to_string(ModelConfig::kMaxPositionEmbeddings) + " supported");
    }
    for (const auto& [key, id] :
         {std::pair{"tokenizer.ggml.bos_token_id", config_.bos_token_id},
          std::pair{"tokenizer.ggml.eos_token_id", config_.eos_token_id}}) {
      if (id >= d.vocab) {
        Fail("metadata key '" + std::string(key) + "' is " +
             std::to_string(id) + ", outside the vocabulary [0, " +
             std::to_string(d.vocab) + ")");
      }
    }
  }

  // Every tensor must be one this graph reads: llama.cpp also refuses
  // files with extra tensors, and an ignored bias or scale would silently
  // compute another model.
  void CheckTensorNames() const {
    for (const io::GgufTensorInfo& t : file_->tensors()) {
      if (IsGraphTensor(t.name)) continue;
      // bitnet.cpp writes a TL1/TL2 tensor's scale as '<name>_scale' too;
      // the TL tensor itself is then refused with the reason.
      if (t.name.ends_with("_scale")) {
        const io::GgufTensorInfo* w =
            file_->FindTensor(t.name.substr(0, t.name.size() - 6));
        if (w != nullptr &&
            (w->type == io::GgmlType::kTL1 || w->type == io::GgmlType::kTL2)) {
          continue;
        }
      }
      std::string why = "not part of the " + arch_ + " graph";
      if (t.name.ends_with(".scale")) {
        why =
            "per-tensor .scale tensors (1bitLLM 'bitnet' layout) belong to "
            "arch bitnet only";
      } else if (t.name.ends_with(".bias")) {
        why = "biases are not supported";
      }
      Fail("unexpected tensor '" + std::string(t.name) + "': " + why);
    }
  }

  // A global tensor name, or "blk.<l>.<kind>" with l < block_count. Layer
  // names are parsed, not listed: block_count comes from the file, and
  // listing 2^31 layers' names hung the loader (fuzz/README.md).
  bool IsGraphTensor(std::string_view name) const {
    for (const auto k :
         {TensorId::kEmbed, TensorId::kOutputNorm, TensorId::kLmHead}) {
      if (GgufTensorName({k}) == name) return true;
    }
    if (!name.starts_with("blk.")) return false;
    int l = -1;
    const auto [end, ec] =
        std::from_chars(name.data() + 4, name.data() + name.size(), l);
    if (ec != std::errc() || l < 0 || l >= config_.dims.layers) return false;
    for (TensorId::Kind k : kGgufLayerTensors) {
      const TensorId id{k, l};
      if (!HasSubNorms(config_.family) &&
          (k == TensorId::kAttnSubNorm || k == TensorId::kFfnSubNorm)) {
        continue;
      }
      const std::string tname = GgufTensorName(id);
      if (tname == name) return true;
      if (arch_ == "bitnet" && id.IsTernary() && ScaleName(tname) == name) {
        return true;
      }
    }
    return false;
  }

  // Shared with the models that use its tensors in place.
  std::shared_ptr<const io::GgufFile> file_;
  quant::I2SLayout i2s_layout_ = quant::I2SLayout::kX86;
  std::string arch_;
  ModelConfig config_;
};

static_assert(WeightSource<GgufCheckpoint>);

}  // namespace ternary

#endif  // TERNARY_MODEL_GGUF_CHECKPOINT_H_
