// Small output helpers of the subcommands: JSON strings, quoted token text,
// sizes, files, timing.
#ifndef TERNARY_EXAMPLES_CLI_OUTPUT_H_
#define TERNARY_EXAMPLES_CLI_OUTPUT_H_

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ternary/tokenizer/utf8.h"
#include "ternary/util/error.h"
#include "ternary/version.h"

namespace ternary::cli {

// What `git describe` said when this binary was configured, if the build
// defines it (-DTERNARY_GIT_DESCRIBE="v0.1.0-12-gabcdef0"); otherwise the
// project version (`--version`, bench's build_commit).
#ifdef TERNARY_GIT_DESCRIBE
inline constexpr const char* kBuildDescribe = TERNARY_GIT_DESCRIBE;
#else
inline constexpr const char* kBuildDescribe = "v" TERNARY_VERSION_STRING;
#endif

// A JSON string literal; invalid UTF-8 becomes U+FFFD.
inline std::string JsonString(std::string_view s) {
  const std::string valid = SanitizeUtf8(s);
  std::string out = "\"";
  for (const char ch : valid) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

// Token bytes for a terminal: 'text' with \n, \t, \\, \' and \xNN for
// control bytes and bytes that are not (complete) UTF-8.
inline std::string Quoted(std::string_view s) {
  std::string out = "'";
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const Utf8Scan scan = ScanUtf8(s, i);
    if (c >= 0x80 && scan.valid) {
      out.append(s, i, scan.length);
      i += scan.length;
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  return out + "'";
}

// "6.05 MiB".
inline std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", v, kUnits[u]);
  return buf;
}

// "14.2 M", "2.41 B".
inline std::string FormatCount(uint64_t n) {
  char buf[32];
  if (n >= 1000000000) {
    std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
  } else if (n >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.1f M", n / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  }
  return buf;
}

// A number for JSON: %.6g, or null when not finite.
inline std::string JsonNumber(double x, const char* format = "%.6g") {
  if (!std::isfinite(x)) return "null";
  char buf[48];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

// Writes bytes to stdout; false on a write error (a closed pipe).
inline bool WriteStdout(std::string_view s, bool flush = false) {
  if (!s.empty() && std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) {
    return false;
  }
  return !flush || std::fflush(stdout) == 0;
}

// --log-disable: informational stderr lines (notes, warnings, progress,
// timings) are left out; errors are still reported.
inline bool& LogDisabled() {
  static bool disabled = false;
  return disabled;
}

// One informational line on stderr, "ternary: <text>", unless
// --log-disable.
inline void Note(std::string_view text) {
  if (LogDisabled()) return;
  std::fprintf(stderr, "ternary: %.*s\n", static_cast<int>(text.size()),
               text.data());
}

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start_)
        .count();
  }
  void Restart() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_OUTPUT_H_
