// Stop strings over streamed text: generation ends where one of them
// appears, and the text a caller sees never contains it, even when it
// arrives split over several tokens. Text that could still turn into a stop
// string is held back until the next piece decides it.
#ifndef TERNARY_RUNTIME_STOP_STRINGS_H_
#define TERNARY_RUNTIME_STOP_STRINGS_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ternary {

class StopStrings {
 public:
  StopStrings() = default;
  // Empty strings are ignored (they would stop before the first token).
  explicit StopStrings(std::vector<std::string> stops) {
    for (std::string& s : stops) {
      if (!s.empty()) stops_.push_back(std::move(s));
    }
  }

  bool empty() const noexcept { return stops_.empty(); }
  // True once a stop string was seen; Push then returns nothing.
  bool stopped() const noexcept { return stopped_; }
  // The stop string that matched (empty before).
  const std::string& matched() const noexcept { return matched_; }

  // Adds the next piece of text; returns what may be shown now: everything
  // before the earliest stop string, or, when none has appeared, all but
  // the longest tail that is the start of some stop string.
  std::string Push(std::string_view piece) {
    if (stopped_) return {};
    held_.append(piece);
    size_t first = std::string::npos;
    for (const std::string& s : stops_) {
      const size_t at = held_.find(s);
      if (at < first) {
        first = at;
        matched_ = s;
      }
    }
    if (first != std::string::npos) {
      stopped_ = true;
      std::string out = held_.substr(0, first);
      held_.clear();
      return out;
    }
    const size_t keep = PartialTail();
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
  }

  // The held-back text, at the end of generation (no stop string came).
  std::string Flush() {
    std::string out;
    out.swap(held_);
    return out;
  }

 private:
  // Length of the longest suffix of held_ that is a proper prefix of a stop
  // string.
  size_t PartialTail() const {
    size_t best = 0;
    for (const std::string& s : stops_) {
      const size_t most = std::min(held_.size(), s.size() - 1);
      for (size_t n = most; n > best; --n) {
        if (std::string_view(held_).substr(held_.size() - n) ==
            std::string_view(s).substr(0, n)) {
          best = n;
          break;
        }
      }
    }
    return best;
  }

  std::vector<std::string> stops_;
  std::string held_;
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace ternary

#endif  // TERNARY_RUNTIME_STOP_STRINGS_H_
