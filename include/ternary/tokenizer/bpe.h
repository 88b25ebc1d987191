// Byte-level BPE within one pre-tokenized piece (docs/model.md §6.4).
#ifndef TERNARY_TOKENIZER_BPE_H_
#define TERNARY_TOKENIZER_BPE_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ternary {
namespace detail {

// (left id, right id) → merge, open addressing with linear probing. A flat
// table because the pair lookup is the inner loop of BPE (280,147 Llama 3
// merges; std::unordered_map costs a pointer chase per probe).
class MergeTable {
 public:
  struct Merge {
    int32_t rank;    // lower merges first
    int32_t result;  // id of left + right
  };

  size_t size() const noexcept { return size_; }

  void Reserve(size_t n) {
    if (n * 2 > keys_.size()) Rehash(std::bit_ceil(n * 2));
  }

  // Returns false, keeping the existing merge, if the pair already has one.
  bool Insert(int32_t left, int32_t right, Merge merge) {
    if ((size_ + 1) * 2 > keys_.size()) {
      Rehash(keys_.empty() ? 1024 : keys_.size() * 2);
    }
    const uint64_t key = Key(left, right);
    size_t i = Slot(key);
    while (keys_[i] != kEmpty) {
      if (keys_[i] == key) return false;
      i = (i + 1) & mask_;
    }
    keys_[i] = key;
    values_[i] = merge;
    ++size_;
    return true;
  }

  const Merge* Find(int32_t left, int32_t right) const noexcept {
    if (size_ == 0) return nullptr;
    const uint64_t key = Key(left, right);
    for (size_t i = Slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }

 private:
  // Ids are non-negative int32, so no pair packs to all ones.
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  static uint64_t Key(int32_t left, int32_t right) noexcept {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }
  size_t Slot(uint64_t key) const noexcept {
    return size_t((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
  }

  void Rehash(size_t capacity) {  // a power of two
    std::vector<uint64_t> old_keys = std::move(keys_);
    std::vector<Merge> old_values = std::move(values_);
    keys_.assign(capacity, kEmpty);
    values_.assign(capacity, Merge{0, 0});
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    size_ = 0;
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] == kEmpty) continue;
      size_t j = Slot(old_keys[i]);
      while (keys_[j] != kEmpty) j = (j + 1) & mask_;
      keys_[j] = old_keys[i];
      values_[j] = old_values[i];
      ++size_;
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<Merge> values_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
};

// Token bytes → id, open addressing over one arena of bytes: Encode looks up
// every piece here (ignore_merges) and loading does ~1.4M lookups, where a
// node-based map of 128k std::strings spends its time in cache misses.
class TokenTable {
 public:
  size_t size() const noexcept { return size_; }

  void Reserve(size_t n) {
    if (n * 2 > slots_.size()) Rehash(std::bit_ceil(n * 2));
  }

  // Returns false, keeping the existing id, if bytes are already present.
  bool Insert(std::string_view bytes, int32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) {
      Rehash(slots_.empty() ? 1024 : slots_.size() * 2);
    }
    const uint64_t hash = Hash(bytes);
    size_t i = hash & mask_;
    for (; slots_[i].id >= 0; i = (i + 1) & mask_) {
      if (Equal(slots_[i], hash, bytes)) return false;
    }
    slots_[i] = {hash, uint32_t(arena_.size()), uint32_t(bytes.size()), id};
    arena_.append(bytes);
    ++size_;
    return true;
  }

  // -1 when absent.
  int32_t Find(std::string_view bytes) const noexcept {
    if (size_ == 0) return -1;
    const uint64_t hash = Hash(bytes);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id < 0 || Equal(slot, hash, bytes)) return slot.id;
    }
  }

 private:
  struct Slot {
    uint64_t hash;
    uint32_t offset, length;  // in arena_
    int32_t id;               // -1: empty
  };

  static uint64_t Hash(std::string_view s) noexcept {
    // std::hash is murmur-based in libstdc++; mix so low bits are usable.
    return uint64_t(std::hash<std::string_view>{}(s)) * 0x9E3779B97F4A7C15ull;
  }
  bool Equal(const Slot& slot, uint64_t hash,
             std::string_view s) const noexcept {
    return slot.hash == hash && slot.length == s.size() &&
           std::string_view(arena_).substr(slot.offset, slot.length) == s;
  }

  void Rehash(size_t capacity) {  // a power of two
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{0, 0, 0, -1});
    mask_ = capacity - 1;
    for (const Slot& slot : old) {
      if (slot.id < 0) continue;
      size_t i = slot.hash & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = slot;
    }
  }

  std::string arena_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace detail

// Working memory of BpeModel::EncodePiece; one per Encode call, reused
// across its pieces so that BPE allocates nothing per piece.
struct BpeScratch {
  std::vector<int32_t> ids, next, prev;
  std::vector<uint64_t> heap;  // rank << 32 | left position
};

// Regular tokens as byte strings, their merges, and BPE over them. Knows
// nothing of special tokens or pre-tokenization.
class BpeModel {
 public:
  BpeModel() { byte_ids_.fill(-1); }

  // Optional: sizes the tables for this many tokens and merges.
  void Reserve(size_t tokens, size_t merges) {
    ids_.Reserve(tokens);
    merges_.Reserve(merges);
  }

  // Registers a regular token. Returns false, keeping the first id, when the
  // bytes already have one.
  bool AddToken(std::string_view bytes, int32_t id) {
    if (!ids_.Insert(bytes, id)) return false;
    if (bytes.size() == 1) byte_ids_[uint8_t(bytes[0])] = id;
    return true;
  }

  std::optional<int32_t> Find(std::string_view bytes) const {
    const int32_t id = ids_.Find(bytes);
    if (id < 0) return std::nullopt;
    return id;
  }

  size_t num_tokens() const noexcept { return ids_.size(); }

  // left followed by right becomes result; lower ranks merge first. Returns
  // false, keeping the first merge, when the pair already has one.
  bool AddMerge(int32_t left, int32_t right, int32_t result, int32_t rank) {
    return merges_.Insert(left, right, {rank, result});
  }

  size_t num_merges() const noexcept { return merges_.size(); }

  // Llama 3 / tiktoken: a piece that is itself a token is emitted whole,
  // even when the merges would not build it.
  void set_ignore_merges(bool ignore) noexcept { ignore_merges_ = ignore; }
  bool ignore_merges() const noexcept { return ignore_merges_; }

  // Appends the ids of piece to out. Starts from single bytes and merges the
  // adjacent pair of lowest rank, leftmost first, until none has a merge; a
  // lazy min-heap makes this O(n log n) (a piece can be a 100 KB letter run).
  // A byte without a token is dropped, as HF does without an unk token;
  // vocabularies from real byte-level tokenizers have all 256.
  void EncodePiece(std::string_view piece, BpeScratch& s,
                   std::vector<int32_t>& out) const {
    const size_t n = piece.size();
    if (n == 0) return;
    if (n == 1) {
      const int32_t id = byte_ids_[uint8_t(piece[0])];
      if (id >= 0) out.push_back(id);
      return;
    }
    if (ignore_merges_) {
      const int32_t id = ids_.Find(piece);
      if (id >= 0) {
        out.push_back(id);
        return;
      }
    }
    s.ids.resize(n);
    s.next.resize(n);
    s.prev.resize(n);
    s.heap.clear();
    for (size_t i = 0; i < n; ++i) {
      s.ids[i] = byte_ids_[uint8_t(piece[i])];
      s.next[i] = i + 1 < n ? int32_t(i + 1) : -1;
      s.prev[i] = int32_t(i) - 1;
    }
    // The merge of the pair starting at left_pos, if any.
    using Merge = detail::MergeTable::Merge;
    const auto merge_at = [&](int32_t left_pos) -> const Merge* {
      if (left_pos < 0) return nullptr;
      const int32_t right_pos = s.next[left_pos];
      if (right_pos < 0) return nullptr;
      const int32_t l = s.ids[left_pos], r = s.ids[right_pos];
      if (l < 0 || r < 0) return nullptr;
      return merges_.Find(l, r);
    };
    // Min-heap of (rank, position) in one word: lowest rank, then leftmost.
    // 8 bytes an entry: a 10^7-byte piece has ~3·10^7 entries over its life.
    const auto key = [](int32_t rank, int32_t pos) {
      return uint64_t(uint32_t(rank)) << 32 | uint32_t(pos);
    };
    const auto later = std::greater<uint64_t>();
    const auto push = [&](int32_t left_pos) {
      if (const auto* m = merge_at(left_pos)) {
        s.heap.push_back(key(m->rank, left_pos));
        std::push_heap(s.heap.begin(), s.heap.end(), later);
      }
    };
    // The first pairs at once: O(n), not O(n log n) pushes.
    for (size_t i = 0; i + 1 < n; ++i) {
      if (const auto* m = merge_at(int32_t(i))) {
        s.heap.push_back(key(m->rank, int32_t(i)));
      }
    }
    std::make_heap(s.heap.begin(), s.heap.end(), later);
    while (!s.heap.empty()) {
      std::pop_heap(s.heap.begin(), s.heap.end(), later);
      const uint64_t top = s.heap.back();
      s.heap.pop_back();
      // Stale unless the pair now at that position merges with that rank.
      // (If the pair changed into another with the same rank, that pair is
      // in the heap under the same key: merging it now is what its own
      // entry would do.)
      const auto left = int32_t(uint32_t(top));
      const Merge* m = merge_at(left);
      if (m == nullptr || uint32_t(m->rank) != uint32_t(top >> 32)) continue;
      const int32_t right = s.next[left];
      s.ids[left] = m->result;
      s.ids[right] = kDead;
      s.next[left] = s.next[right];
      if (s.next[right] >= 0) s.prev[s.next[right]] = left;
      push(s.prev[left]);
      push(left);
    }
    for (int32_t i = 0; i >= 0; i = s.next[i]) {
      if (s.ids[i] >= 0) out.push_back(s.ids[i]);
    }
  }

 private:
  static constexpr int32_t kDead = -2;

  detail::TokenTable ids_;
  std::array<int32_t, 256> byte_ids_;  // single-byte tokens, -1 if absent
  detail::MergeTable merges_;
  bool ignore_merges_ = false;
};

}  // namespace ternary

#endif  // TERNARY_TOKENIZER_BPE_H_
