// Command-line parsing shared by the `ternary` subcommands: options are
// declared where they are read, and leftovers are reported at the end.
//
// Why a hand parser and not CLI11 (Debian ships 2.1.2): llama.cpp's command
// lines, which `ternary` accepts with the program name swapped, use
// multi-character names behind a single dash (-ngl, -fa, -ub, -pg, -cnv,
// -sys), and CLI11 2.1.2 refuses to declare them ("Invalid one char name:
// -ngl"). llama.cpp also has switches that may take a value (`-fa` in old
// releases, `-fa on|off|auto` in new ones: FlagOrValue). This parser takes
// both, and still rejects every argument no subcommand reads (Finish).
#ifndef TERNARY_EXAMPLES_CLI_ARGS_H_
#define TERNARY_EXAMPLES_CLI_ARGS_H_

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ternary/util/error.h"

namespace ternary::cli {

// The arguments after a subcommand. Each getter consumes the option it
// finds ("-m X", "--model X" or "--model=X"); Finish() throws UsageError for
// anything left over, so typos never pass silently.
class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
    used_.assign(args_.size(), false);
  }
  explicit Args(std::vector<std::string> args)
      : args_(std::move(args)), used_(args_.size(), false) {}

  // The value of an option, or nullopt when absent; the last occurrence
  // wins (every occurrence is consumed).
  std::optional<std::string> Value(
      std::initializer_list<std::string_view> names) {
    std::vector<std::string> all = Values(names);
    if (all.empty()) return std::nullopt;
    return std::move(all.back());
  }

  // Every value of an option given more than once, in order (llama-bench
  // appends: `-p 16 -p 32` is `-p 16,32`).
  std::vector<std::string> Values(
      std::initializer_list<std::string_view> names) {
    std::vector<std::string> out;
    for (size_t i = 0; i < args_.size(); ++i) {
      if (used_[i]) continue;
      const std::string& a = args_[i];
      for (std::string_view n : names) {
        if (a == n) {
          if (i + 1 >= args_.size()) {
            throw UsageError("option " + a + " needs a value");
          }
          used_[i] = used_[i + 1] = true;
          out.push_back(args_[i + 1]);
          ++i;
          break;
        }
        if (a.size() > n.size() + 1 && a.compare(0, n.size(), n) == 0 &&
            a[n.size()] == '=') {
          used_[i] = true;
          out.push_back(a.substr(n.size() + 1));
          break;
        }
      }
    }
    return out;
  }

  // The integers of every occurrence of a comma-separated list option
  // (`-t 1,2 -t 4`: 1, 2, 4), each in [min, max]; empty when absent.
  std::vector<int64_t> IntLists(std::initializer_list<std::string_view> names,
                                int64_t min, int64_t max) {
    std::vector<int64_t> out;
    for (const std::string& v : Values(names)) {
      size_t start = 0;
      while (start <= v.size()) {
        size_t end = v.find(',', start);
        if (end == std::string::npos) end = v.size();
        const int64_t x =
            ParseInt(v.substr(start, end - start), *names.begin());
        if (x < min || x > max) {
          throw UsageError("option " + std::string(*names.begin()) +
                           " must be in [" + std::to_string(min) + ", " +
                           std::to_string(max) + "], got " + std::to_string(x));
        }
        out.push_back(x);
        start = end + 1;
      }
    }
    return out;
  }

  std::string Required(std::initializer_list<std::string_view> names) {
    std::optional<std::string> v = Value(names);
    if (!v)
      throw UsageError("missing required option " +
                       std::string(*names.begin()));
    return *v;
  }

  std::string String(std::initializer_list<std::string_view> names,
                     std::string fallback) {
    std::optional<std::string> v = Value(names);
    return v ? *v : fallback;
  }

  // A present-or-absent switch such as --verbose.
  bool Flag(std::initializer_list<std::string_view> names) {
    bool found = false;
    for (size_t i = 0; i < args_.size(); ++i) {
      for (std::string_view n : names) {
        if (!used_[i] && args_[i] == n) used_[i] = found = true;
      }
    }
    return found;
  }

  int64_t Int(std::initializer_list<std::string_view> names, int64_t fallback,
              int64_t min, int64_t max) {
    std::optional<std::string> v = Value(names);
    if (!v) return fallback;
    const int64_t x = ParseInt(*v, *names.begin());
    if (x < min || x > max) {
      throw UsageError("option " + std::string(*names.begin()) +
                       " must be in [" + std::to_string(min) + ", " +
                       std::to_string(max) + "], got " + *v);
    }
    return x;
  }

  double Double(std::initializer_list<std::string_view> names, double fallback,
                double min, double max) {
    std::optional<std::string> v = Value(names);
    if (!v) return fallback;
    double x = 0;
    const char* end = v->data() + v->size();
    auto [p, ec] = std::from_chars(v->data(), end, x);
    if (v->empty() || ec != std::errc() || p != end || !(x == x)) {
      throw UsageError("option " + std::string(*names.begin()) + ": '" + *v +
                       "' is not a number");
    }
    if (x < min || x > max) {
      throw UsageError("option " + std::string(*names.begin()) +
                       " must be in [" + FormatNumber(min) + ", " +
                       FormatNumber(max) + "], got " + *v);
    }
    return x;
  }

  // A switch that may be followed by one of `values` (llama.cpp's `-fa` is
  // bare in older releases, `-fa on|off|auto` in newer ones; "-fa=on" works
  // too): nullopt when absent, "" when bare, else the value.
  std::optional<std::string> FlagOrValue(
      std::initializer_list<std::string_view> names,
      std::initializer_list<std::string_view> values) {
    std::optional<std::string> found;
    for (size_t i = 0; i < args_.size(); ++i) {
      if (used_[i]) continue;
      const std::string& a = args_[i];
      for (std::string_view n : names) {
        if (a == n) {
          used_[i] = true;
          found = "";
          if (i + 1 < args_.size() && !used_[i + 1]) {
            for (std::string_view v : values) {
              if (args_[i + 1] == v) {
                used_[i + 1] = true;
                found = args_[i + 1];
                ++i;
                break;
              }
            }
          }
          break;
        }
        if (a.size() > n.size() + 1 && a.compare(0, n.size(), n) == 0 &&
            a[n.size()] == '=') {
          used_[i] = true;
          found = a.substr(n.size() + 1);
          break;
        }
      }
    }
    return found;
  }

  // A comma-separated list of integers, e.g. --ids 1,2,3.
  std::vector<int64_t> IntList(std::initializer_list<std::string_view> names) {
    std::optional<std::string> v = Value(names);
    std::vector<int64_t> out;
    if (!v) return out;
    size_t start = 0;
    while (start <= v->size()) {
      size_t end = v->find(',', start);
      if (end == std::string::npos) end = v->size();
      out.push_back(ParseInt(v->substr(start, end - start), *names.begin()));
      start = end + 1;
    }
    return out;
  }

  // Throws UsageError naming the first argument no getter consumed.
  void Finish() const {
    for (size_t i = 0; i < args_.size(); ++i) {
      if (!used_[i]) throw UsageError("unknown argument '" + args_[i] + "'");
    }
  }

 private:
  static int64_t ParseInt(const std::string& s, std::string_view option) {
    int64_t x = 0;
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, x);
    if (s.empty() || ec != std::errc() || p != end) {
      throw UsageError("option " + std::string(option) + ": '" + s +
                       "' is not an integer");
    }
    return x;
  }

  static std::string FormatNumber(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
  }

  std::vector<std::string> args_;
  std::vector<bool> used_;
};

// A subcommand: `ternary NAME ...`.
struct Command {
  std::string_view name;
  std::string_view usage;  // one line, after "ternary NAME "
  int (*run)(Args& args);
  std::string_view help = {};  // what `ternary NAME --help` adds, if any
};

}  // namespace ternary::cli

#endif  // TERNARY_EXAMPLES_CLI_ARGS_H_
