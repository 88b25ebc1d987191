// A progress bar on stderr for slow loads (the Engine's load progress,
// convert's tensors).
#ifndef TERNARY_EXAMPLES_CLI_PROGRESS_H_
#define TERNARY_EXAMPLES_CLI_PROGRESS_H_

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

namespace ternary::cli {

// Draws "label [#####.....]  45%  3.2 s" on one stderr line, only when
// stderr is a terminal and only once the work has taken longer than
// kDelay (a small model loads before a bar would be seen). Done() erases it.
class ProgressBar {
 public:
  static constexpr double kDelay = 0.4;  // seconds

  ProgressBar(std::string label, uint64_t total)
      : label_(std::move(label)),
        total_(total),
        enabled_(isatty(STDERR_FILENO) != 0),
        start_(std::chrono::steady_clock::now()) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { Done(); }

  void Add(uint64_t n) { Update(done_ + n, total_); }

  // For callers that report (done, total) themselves.
  void Update(uint64_t done, uint64_t total) {
    total_ = total;
    done_ = std::min(total, done);
    if (!enabled_ || total_ == 0) return;
    const double t = Elapsed();
    if (t < kDelay) return;
    const int percent = static_cast<int>(100 * done_ / total_);
    if (percent == last_percent_ && t - last_draw_ < 0.5) return;
    last_percent_ = percent;
    last_draw_ = t;
    constexpr int kWidth = 30;
    const int filled = percent * kWidth / 100;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r%s [%s] %3d%%  %.1f s", label_.c_str(), bar.c_str(),
                 percent, t);
    std::fflush(stderr);
    drawn_ = true;
  }

  // Erases the bar (if it was drawn).
  void Done() {
    if (!drawn_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }

  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }

 private:
  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  bool enabled_;
  bool drawn_ = false;
  int last_percent_ = -1;
  double last_draw_ = 0.0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_PROGRESS_H_
