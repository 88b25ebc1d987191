// Finding added tokens (specials, user-defined tokens) in text before
// pre-tokenization: leftmost-longest, in time linear in the text.
#ifndef TERNARY_TOKENIZER_ADDED_TOKENS_H_
#define TERNARY_TOKENIZER_ADDED_TOKENS_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ternary::detail {

// Matches a set of byte strings in text the way Tokenizer::Encode consumes
// added tokens: scanning left to right, the first position where any token
// starts wins, and there the longest token; the scan resumes after it. Among
// tokens with the same text the lowest id wins. With parse_special off,
// special tokens do not exist for the scan (user-defined tokens still do).
//
// This used to be a loop over the tokens at every byte, O(text × tokens):
// 20,000 added tokens made 100 KB of text take 16 s. Here an Aho-Corasick
// automaton over the *reversed* tokens is run backwards over the text; at
// each position its state knows the longest token starting there. So a scan
// costs O(text) transitions, whatever the tokens (a forward automaton finds
// matches by their end, and turning that into leftmost-longest needs either
// backtracking or all overlapping matches). The backward pass runs in blocks
// of the text, so the scratch stays O(block) for any text size.
class AddedTokenMatcher {
 public:
  static constexpr size_t kBlock = size_t{1} << 16;

  struct Token {
    std::string_view text;  // not empty
    int32_t id;
    bool special;
  };

  // Replaces the token set. The texts are only read here.
  void Build(std::vector<Token> tokens) {
    *this = AddedTokenMatcher();
    if (tokens.empty()) return;
    // Reversed texts in lexicographic order: then the trie is built with a
    // stack, and each state's children appear in byte order.
    const auto reversed_less = [](const Token& a, const Token& b) {
      return std::lexicographical_compare(
          a.text.rbegin(), a.text.rend(), b.text.rbegin(), b.text.rend(),
          [](char x, char y) { return uint8_t(x) < uint8_t(y); });
    };
    std::sort(tokens.begin(), tokens.end(), reversed_less);

    struct Edge {
      uint32_t parent, child;
      uint8_t byte;
    };
    std::vector<Edge> edges;
    std::vector<uint32_t> terminal_of;  // state → terminal index or kNone
    terminal_of.push_back(kNone);       // the root
    std::vector<uint32_t> path = {0};   // states along the previous text
    std::string_view previous;
    for (const Token& t : tokens) {
      const std::string_view s = t.text;
      size_t common = 0;  // shared reversed prefix with the previous text
      while (common < s.size() && common < previous.size() &&
             s[s.size() - 1 - common] ==
                 previous[previous.size() - 1 - common]) {
        ++common;
      }
      path.resize(common + 1);
      for (size_t d = common; d < s.size(); ++d) {
        const auto state = uint32_t(terminal_of.size());
        terminal_of.push_back(kNone);
        edges.push_back({path.back(), state, uint8_t(s[s.size() - 1 - d])});
        path.push_back(state);
      }
      previous = s;
      uint32_t& term = terminal_of[path.back()];
      if (term == kNone) {
        term = uint32_t(terminals_.size());
        terminals_.push_back({-1, -1, uint32_t(s.size())});
      }
      Terminal& tm = terminals_[term];
      if (tm.id_any < 0 || t.id < tm.id_any) tm.id_any = t.id;
      if (!t.special && (tm.id_user < 0 || t.id < tm.id_user))
        tm.id_user = t.id;
      max_length_ = std::max(max_length_, s.size());
      for (const char c : s) used_[uint8_t(c)] = true;
      starts_[uint8_t(s[0])] = true;
    }

    // Children as ranges of one array (counting sort by parent; stable, so
    // each range stays in byte order).
    const size_t states = terminal_of.size();
    first_child_.assign(states + 1, 0);
    for (const Edge& e : edges) ++first_child_[e.parent + 1];
    for (size_t i = 0; i < states; ++i) first_child_[i + 1] += first_child_[i];
    child_byte_.resize(edges.size());
    child_state_.resize(edges.size());
    {
      std::vector<uint32_t> fill(first_child_.begin(), first_child_.end() - 1);
      for (const Edge& e : edges) {
        const uint32_t k = fill[e.parent]++;
        child_byte_[k] = e.byte;
        child_state_[k] = e.child;
      }
    }
    root_next_.fill(0);
    for (uint32_t k = first_child_[0]; k < first_child_[1]; ++k) {
      root_next_[child_byte_[k]] = child_state_[k];
    }

    // Failure links and, per state, the longest token (of each kind) that is
    // a suffix of the state's reversed text: breadth first, so a state's
    // failure target (shallower) is done before it.
    fail_.assign(states, 0);
    longest_[0].assign(states, kNone);
    longest_[1].assign(states, kNone);
    std::vector<uint32_t> queue;
    queue.reserve(states);
    queue.push_back(0);
    for (size_t head = 0; head < queue.size(); ++head) {
      const uint32_t u = queue[head];
      const uint32_t term = terminal_of[u];
      for (int kind = 0; kind < 2; ++kind) {
        const bool here =
            term != kNone && (kind == 0 ? terminals_[term].id_any
                                        : terminals_[term].id_user) >= 0;
        longest_[kind][u] =
            here ? term : (u == 0 ? kNone : longest_[kind][fail_[u]]);
      }
      for (uint32_t k = first_child_[u]; k < first_child_[u + 1]; ++k) {
        const uint32_t v = child_state_[k];
        fail_[v] = u == 0 ? 0 : Next(fail_[u], child_byte_[k]);
        queue.push_back(v);
      }
    }
  }

  bool empty() const noexcept { return terminals_.empty(); }
  size_t max_length() const noexcept { return max_length_; }

  // Calls on_match(position, id, length) for each token found, in order;
  // they do not overlap. Time O(text.size()), scratch O(block). min_block
  // (at least 1) is for tests: the result does not depend on it.
  template <class F>
  void ForEachMatch(std::string_view text, bool parse_special, F&& on_match,
                    size_t min_block = kBlock) const {
    if (empty() || text.empty()) return;
    const std::vector<uint32_t>& longest = longest_[parse_special ? 0 : 1];
    const size_t n = text.size();
    // Each block is scanned with max_length - 1 bytes of lead-in, so blocks
    // of at least max_length bytes keep the total under 2 × text.size().
    const size_t block = std::max({min_block, max_length_, size_t{1}});
    std::vector<uint32_t> found;  // sized at the first candidate
    size_t block_begin = 0, block_end = 0;
    for (size_t i = 0; i < n;) {
      if (i >= block_end) {
        // Skip to the next byte that can start a token (most text has few).
        while (i < n && !starts_[uint8_t(text[i])]) ++i;
        if (i == n) break;
        // found[s - i] for s in [i, block_end): the longest token starting
        // at s. The state at s depends on text[s, s + max_length) only, so
        // the backward pass starts max_length - 1 bytes past the block.
        if (found.empty()) found.resize(std::min(block, n));
        block_begin = i;
        block_end = std::min(n, i + block);
        const size_t start = std::min(n, block_end - 1 + max_length_);
        uint32_t state = 0;
        for (size_t p = start; p-- > block_begin;) {
          const auto c = uint8_t(text[p]);
          state = used_[c] ? Next(state, c) : 0;
          if (p < block_end) found[p - block_begin] = longest[state];
        }
      }
      const uint32_t term = found[i - block_begin];
      if (term == kNone) {
        ++i;
        continue;
      }
      const Terminal& t = terminals_[term];
      on_match(i, parse_special ? t.id_any : t.id_user, size_t(t.length));
      i += t.length;
    }
  }

 private:
  static constexpr uint32_t kNone = ~uint32_t{0};

  struct Terminal {
    int32_t id_any;   // lowest id with this text; -1: none
    int32_t id_user;  // lowest non-special id with this text; -1: none
    uint32_t length;
  };

  // Goto with failure links: the deepest state whose reversed text is a
  // suffix of (state's text + c). Amortized O(1) per byte of a scan.
  uint32_t Next(uint32_t state, uint8_t c) const noexcept {
    while (state != 0) {
      const auto begin = child_byte_.begin() + first_child_[state];
      const auto end = child_byte_.begin() + first_child_[state + 1];
      const auto it = std::lower_bound(begin, end, c);
      if (it != end && *it == c) {
        return child_state_[size_t(it - child_byte_.begin())];
      }
      state = fail_[state];
    }
    return root_next_[c];
  }

  std::vector<Terminal> terminals_;
  std::vector<uint32_t> first_child_;  // state → range in child_*
  std::vector<uint8_t> child_byte_;
  std::vector<uint32_t> child_state_;
  std::array<uint32_t, 256> root_next_{};  // the root's children, dense
  std::array<bool, 256> used_{};           // bytes in some token
  std::array<bool, 256> starts_{};         // first bytes of tokens
  std::vector<uint32_t> fail_;
  // [0]: all tokens, [1]: user-defined only. State → terminal or kNone.
  std::array<std::vector<uint32_t>, 2> longest_;
  size_t max_length_ = 0;
};

}  // namespace ternary::detail

#endif  // TERNARY_TOKENIZER_ADDED_TOKENS_H_
