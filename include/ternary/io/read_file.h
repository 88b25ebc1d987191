// Reading a whole small file (config.json, tokenizer.json, a prompt) without
// trusting it: only regular files (a FIFO, /dev/zero, a socket or a folder is
// refused before anything is read, and opening a FIFO cannot block), at most
// a per-kind number of bytes (checked before reading), exactly the size the
// file had when opened. And a bound on JSON nesting, checked before a parser
// builds one object per level.
#ifndef TERNARY_IO_READ_FILE_H_
#define TERNARY_IO_READ_FILE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "ternary/util/error.h"

namespace ternary::io {

// The most bytes a kind of file may have; `what` ends the message
// "PATH: N bytes (X MiB) is larger than the 16 MiB <what> may have".
struct FileLimit {
  uint64_t max_bytes;
  std::string_view what;
};

inline constexpr uint64_t kMiB = uint64_t{1} << 20;

// config.json, tokenizer_config.json, generation_config.json: a few KB in
// every real checkpoint (Llama 3's tokenizer_config.json, with its chat
// template and 256 added tokens, is 50 KB).
inline constexpr FileLimit kConfigJsonLimit{16 * kMiB, "a config.json"};
inline constexpr FileLimit kTokenizerConfigJsonLimit{16 * kMiB,
                                                     "a tokenizer_config.json"};
// tokenizer.json: Llama 3's is 9 MB; the largest vocabularies in use
// (Gemma's 256k tokens) are about 35 MB.
inline constexpr FileLimit kTokenizerJsonLimit{256 * kMiB, "a tokenizer.json"};
// tiktoken ranks (Llama 3's tokenizer.model): 2.2 MB.
inline constexpr FileLimit kTiktokenRanksLimit{256 * kMiB,
                                               "a tiktoken ranks file"};
// model.safetensors.index.json: one "name": "shard" line per tensor, about
// 100 bytes each; 64 MiB is over half a million tensors.
inline constexpr FileLimit kSafetensorsIndexLimit{
    64 * kMiB, "a model.safetensors.index.json"};
// Text the CLI reads with -f (a prompt, perplexity text). The text, its
// token ids (4 bytes per ~4 bytes of text) and the tokenizer's work buffers
// are all held at once, so 1 GiB of text peaks at a few GiB of memory; it
// is also far more than perplexity can evaluate on a CPU in a day
// (wikitext-2's test split is 1.3 MB, wikitext-103's training split 540 MB).
inline constexpr FileLimit kTextFileLimit{1024 * kMiB, "a text file"};

// JSON nested deeper than this is refused before parsing. Real files nest
// 3 (config.json) to 5 (tokenizer.json) levels.
inline constexpr size_t kMaxJsonDepth = 256;

namespace detail {

// "512 bytes", "16 MiB", "3.2 GiB" (exact for the limits above).
inline std::string FormatFileSize(uint64_t bytes) {
  char buf[48];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu bytes",
                  static_cast<unsigned long long>(bytes));
    return buf;
  }
  const char* unit = "KiB";
  double x = static_cast<double>(bytes) / 1024.0;
  for (const char* u : {"MiB", "GiB", "TiB", "PiB", "EiB"}) {
    if (x < 1024.0) break;
    x /= 1024.0;
    unit = u;
  }
  if (x == static_cast<double>(static_cast<uint64_t>(x))) {
    std::snprintf(buf, sizeof buf, "%llu %s",
                  static_cast<unsigned long long>(x), unit);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", x, unit);
  }
  return buf;
}

// "a fifo", "a directory", ... for a mode that is not a regular file.
inline const char* FileTypeName(mode_t mode) noexcept {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a fifo";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

[[noreturn]] inline void FailNotRegular(const std::filesystem::path& path,
                                        mode_t mode) {
  throw FormatError(path.string() + ": not a regular file (" +
                    FileTypeName(mode) + ")");
}

[[noreturn]] inline void FailErrno(const std::filesystem::path& path,
                                   const char* what, int err) {
  throw FormatError(path.string() + ": " + what + " (" +
                    (err == ENOENT ? "no such file" : std::strerror(err)) +
                    ")");
}

// Closes a descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// Opens `path` for reading as a regular file; -1 with errno ENOENT when it
// does not exist and `missing_ok`. Throws FormatError otherwise.
inline int OpenRegular(const std::filesystem::path& path, bool missing_ok,
                       struct stat* st) {
  // stat first, so that a device is never opened at all (opening some has
  // effects); the fstat below closes the race with a file replaced since.
  if (::stat(path.c_str(), st) != 0) {
    const int err = errno;
    if (err == ENOENT && missing_ok) return -1;
    FailErrno(path, "cannot open file", err);
  }
  if (!S_ISREG(st->st_mode)) FailNotRegular(path, st->st_mode);
  // O_NONBLOCK: opening a FIFO put in place since the stat returns at once.
  const int fd =
      ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT && missing_ok) return -1;
    FailErrno(path, "cannot open file", err);
  }
  if (::fstat(fd, st) != 0) {
    const int err = errno;
    ::close(fd);
    FailErrno(path, "cannot stat", err);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    FailNotRegular(path, st->st_mode);
  }
  // Regular files ignore O_NONBLOCK; clear it anyway.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

// Reads exactly `size` bytes of `fd`, then checks the file ended there.
inline std::string ReadExactly(int fd, uint64_t size,
                               const std::filesystem::path& path) {
  std::string text(static_cast<size_t>(size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const size_t want = std::min<size_t>(text.size() - got, size_t{1} << 30);
    const ssize_t r = ::read(fd, text.data() + got, want);
    if (r < 0) {
      if (errno == EINTR) continue;
      FailErrno(path, "read error", errno);
    }
    if (r == 0) {
      throw FormatError(path.string() + ": changed while being read (" +
                        std::to_string(got) + " of " + std::to_string(size) +
                        " bytes)");
    }
    got += static_cast<size_t>(r);
  }
  char extra = 0;
  for (;;) {
    const ssize_t r = ::read(fd, &extra, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      throw FormatError(path.string() + ": grew while being read (more than " +
                        std::to_string(size) + " bytes)");
    }
    break;
  }
  return text;
}

inline std::optional<std::string> ReadFileImpl(
    const std::filesystem::path& path, const FileLimit& limit,
    bool missing_ok) {
  struct stat st {};
  const Fd fd(OpenRegular(path, missing_ok, &st));
  if (fd.get() < 0) return std::nullopt;
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > limit.max_bytes) {
    // "PATH: 3221225472 bytes (3 GiB) is larger than the 16 MiB a
    // config.json may have".
    const std::string approx =
        size < 1024 ? "" : " (" + FormatFileSize(size) + ")";
    throw FormatError(path.string() + ": " + std::to_string(size) + " bytes" +
                      approx + " is larger than the " +
                      FormatFileSize(limit.max_bytes) + " " +
                      std::string(limit.what) + " may have");
  }
  return ReadExactly(fd.get(), size, path);
}

}  // namespace detail

// The whole of `path`, a regular file (symlinks followed) of at most
// limit.max_bytes. Throws FormatError "PATH: ..." when it is missing,
// unreadable, not a regular file ("not a regular file (a fifo)"), too large
// (checked before reading) or changes size while being read.
inline std::string ReadFile(const std::filesystem::path& path,
                            const FileLimit& limit) {
  return *detail::ReadFileImpl(path, limit, /*missing_ok=*/false);
}

// As ReadFile, but nullopt when `path` does not exist.
inline std::optional<std::string> ReadFileIfExists(
    const std::filesystem::path& path, const FileLimit& limit) {
  return detail::ReadFileImpl(path, limit, /*missing_ok=*/true);
}

// Up to `n` bytes from the start of `path`, a regular file (as ReadFile;
// for sniffing a magic number).
inline std::string ReadFilePrefix(const std::filesystem::path& path, size_t n) {
  struct stat st {};
  const detail::Fd fd(detail::OpenRegular(path, /*missing_ok=*/false, &st));
  std::string text(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd.get(), text.data() + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) detail::FailErrno(path, "read error", errno);
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  text.resize(got);
  return text;
}

// Throws FormatError "NAME: JSON nested deeper than 256 levels" when the
// arrays and objects of `text` nest deeper than max_depth. Only brackets
// outside strings count; the text need not be valid JSON (the parser that
// runs next reports that). O(1) memory: nlohmann's DOM and SAX parsers keep
// a stack entry (and the DOM an allocation) per level, so 10^8 '[' grew to
// gigabytes before failing.
inline void CheckJsonDepth(std::string_view text, std::string_view name,
                           size_t max_depth = kMaxJsonDepth) {
  size_t depth = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const char c = *p++;
    if (c == '"') {
      // Skip the string: to the next quote not escaped by a backslash.
      for (;;) {
        const void* q = std::memchr(p, '"', static_cast<size_t>(end - p));
        if (q == nullptr) return;  // unterminated: the parser reports it
        const char* quote = static_cast<const char*>(q);
        size_t backslashes = 0;
        for (const char* b = quote; b > p && b[-1] == '\\'; --b) ++backslashes;
        p = quote + 1;
        if (backslashes % 2 == 0) break;
      }
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        throw FormatError(std::string(name) + ": JSON nested deeper than " +
                          std::to_string(max_depth) + " levels (at byte " +
                          std::to_string(p - 1 - text.data()) + ")");
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
}

}  // namespace ternary::io

#endif  // TERNARY_IO_READ_FILE_H_
