// Writing a file atomically: the bytes go to a fresh temporary next to the
// destination, which replaces the destination by rename(2) only once it is
// complete and on disk. Readers and concurrent writers never see a partial
// file: each writer renames a complete file of its own and the last rename
// wins. POSIX only.
//
//   io::AtomicFile f(out);      // checks `out`, creates the temporary
//   f.Write(bytes, n);          // as often as needed
//   f.Commit();                 // fsync, rename over `out`, fsync the folder
//
// Destination rules (CheckOutputPath):
//   - an existing destination must be a regular file: a directory, device,
//     FIFO or socket is refused (UsageError), so `-o /dev/null` never
//     replaces the device node and `-o /dev/stdout` on a pipe is refused
//     rather than "written" with 0 bytes;
//   - a symbolic link is followed: its final target is the file replaced
//     (in the target's folder), and the link itself stays as it was, as
//     when a file is opened for writing through it. A link to a missing
//     file is refused;
//   - the destination's folder must exist (Error "...: cannot open for
//     writing: folder ... does not exist").
// The temporary is created with O_CREAT | O_EXCL | O_NOFOLLOW under a
// random name, `.<name>.XXXXXX.tmp`: it never follows a link and never
// opens a file that already exists, so an unrelated `<out>.tmp` is never
// touched. It is removed on every error and by the destructor (exceptions
// included) unless Commit succeeded.
#ifndef TERNARY_IO_ATOMIC_FILE_H_
#define TERNARY_IO_ATOMIC_FILE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ternary/util/error.h"

namespace ternary::io {

namespace atomic_file_detail {

inline std::string ErrnoText(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// "a directory", "a character device", ... for st_mode.
inline const char* KindOf(mode_t mode) noexcept {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

inline uint64_t RandomBits() {
  static std::atomic<uint64_t> counter{0};
  uint64_t x =
      static_cast<uint64_t>(
          std::chrono::steady_clock::now().time_since_epoch().count()) ^
      (uint64_t(getpid()) << 32) ^
      (counter.fetch_add(0x9E3779B97F4A7C15u) + 0x632BE59BD9B4E019u);
  try {
    std::random_device rd;
    x ^= (uint64_t{rd()} << 32) ^ rd();
  } catch (...) {  // no entropy source: the clock, pid and counter do
  }
  // splitmix64 finaliser
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
  return x ^ (x >> 31);
}

}  // namespace atomic_file_detail

// Where a write to `path` lands: `path` itself, or the final target of the
// symbolic link `path` is. Throws UsageError when an existing destination
// is not a regular file (or is a dangling link), Error when its folder does
// not exist. Touches nothing.
inline std::filesystem::path CheckOutputPath(
    const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  using atomic_file_detail::ErrnoText;
  using atomic_file_detail::KindOf;
  const std::string name = path.string();
  if (path.empty()) throw UsageError("empty output path");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {  // follows links
    if (!S_ISREG(st.st_mode)) {
      throw UsageError("refusing to write " + name + ": it is " +
                       KindOf(st.st_mode) + ", not a regular file");
    }
    std::error_code ec;
    fs::path dest = fs::canonical(path, ec);
    if (ec) throw Error(name + ": cannot resolve the path: " + ec.message());
    return dest;
  }
  const int err = errno;
  struct stat lst {};
  if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
    throw UsageError("refusing to write " + name +
                     ": it is a symbolic link to a missing file");
  }
  if (err != ENOENT) {
    throw Error(name + ": cannot open for writing: " + ErrnoText(err));
  }
  // A new file: its folder must exist.
  fs::path parent = path.parent_path();
  if (parent.empty()) parent = ".";
  struct stat pst {};
  if (::stat(parent.c_str(), &pst) != 0) {
    const int perr = errno;
    if (perr == ENOENT || perr == ENOTDIR) {
      throw Error(name + ": cannot open for writing: folder " +
                  parent.string() + " does not exist");
    }
    throw Error(name + ": cannot open for writing: " + parent.string() + ": " +
                ErrnoText(perr));
  }
  if (!S_ISDIR(pst.st_mode)) {
    throw Error(name + ": cannot open for writing: " + parent.string() +
                " is not a folder");
  }
  if (path.filename().empty() || path.filename() == "." ||
      path.filename() == "..") {
    throw UsageError("refusing to write " + name + ": it names a folder");
  }
  std::error_code ec;
  const fs::path dir = fs::canonical(parent, ec);
  if (ec) throw Error(name + ": cannot resolve the folder: " + ec.message());
  return dir / path.filename();
}

// Throws UsageError "refusing to write OUT: it is part of the input
// checkpoint" when writing `out` would replace `input` (a file) or a file
// directly inside `input` (a folder): the same resolved path, or the same
// file (device and inode) under another name or through a link. A missing
// `input` is no overlap (its loader reports it).
inline void CheckNotInput(const std::filesystem::path& out,
                          const std::filesystem::path& input) {
  namespace fs = std::filesystem;
  const fs::path dest = CheckOutputPath(out);
  const auto refuse = [&] {
    throw UsageError("refusing to write " + out.string() +
                     ": it is part of the input checkpoint");
  };
  struct stat dst {};
  const bool dest_exists = ::stat(dest.c_str(), &dst) == 0;
  const auto same = [&](const fs::path& p) {
    std::error_code ec;
    const fs::path c = fs::weakly_canonical(p, ec);
    if (!ec && c == dest) return true;
    struct stat st {};
    return dest_exists && ::stat(p.c_str(), &st) == 0 &&
           st.st_dev == dst.st_dev && st.st_ino == dst.st_ino;
  };
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    std::error_code canon_ec;
    const fs::path in_dir = fs::canonical(input, canon_ec);
    // Anything written straight into the input folder under an input
    // file's name, or onto any file of the folder.
    for (fs::directory_iterator it(input, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (!canon_ec && dest == in_dir / it->path().filename()) refuse();
      if (same(it->path())) refuse();
    }
  } else if (fs::exists(input, ec)) {
    if (same(input)) refuse();
  }
}

// One atomic write of `path` (see the top of this file).
class AtomicFile {
 public:
  explicit AtomicFile(const std::filesystem::path& path)
      : path_(path), dest_(CheckOutputPath(path)) {
    using atomic_file_detail::ErrnoText;
    const std::filesystem::path dir = dest_.parent_path();
    const std::string base = "." + dest_.filename().string() + ".";
    static constexpr char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < 100; ++attempt) {
      uint64_t bits = atomic_file_detail::RandomBits();
      std::string suffix(6, 'x');
      for (char& c : suffix) {
        c = kChars[bits % 62];
        bits /= 62;
      }
      std::filesystem::path tmp = dir / (base + suffix + ".tmp");
      const int fd = ::open(
          tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
          0666);  // the umask applies, as with fopen
      if (fd >= 0) {
        fd_ = fd;
        tmp_ = std::move(tmp);
        return;
      }
      const int err = errno;
      if (err != EEXIST && err != EINTR) {
        throw Error(path_.string() +
                    ": cannot open for writing: " + ErrnoText(err));
      }
    }
    throw Error(path_.string() +
                ": cannot open for writing: no free temporary name in " +
                dir.string());
  }
  ~AtomicFile() { Discard(); }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // The path given, where the file lands (links resolved), the temporary.
  const std::filesystem::path& path() const noexcept { return path_; }
  const std::filesystem::path& destination() const noexcept { return dest_; }
  const std::filesystem::path& temp_path() const noexcept { return tmp_; }
  uint64_t bytes_written() const noexcept { return written_; }

  // Appends n bytes. Throws Error naming the file (the temporary is then
  // removed).
  void Write(const void* data, size_t n) {
    if (fd_ < 0) throw Error(path_.string() + ": write after close");
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const size_t chunk = std::min<size_t>(n, size_t{1} << 30);
      const ssize_t w = ::write(fd_, p, chunk);
      if (w < 0) {
        if (errno == EINTR) continue;
        Fail("write failed");
      }
      p += w;
      n -= static_cast<size_t>(w);
      written_ += static_cast<uint64_t>(w);
    }
  }

  // Flushes the temporary to disk and renames it over the destination;
  // then syncs the folder so that the rename survives a crash.
  void Commit() {
    if (fd_ < 0) throw Error(path_.string() + ": already closed");
    if (::fsync(fd_) != 0 && errno != EINVAL) Fail("fsync failed");
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0 && errno != EINTR) Fail("close failed");
    if (::rename(tmp_.c_str(), dest_.c_str()) != 0) Fail("rename failed");
    tmp_.clear();
    // Best effort: some file systems cannot sync a folder.
    const int dfd =
        ::open(dest_.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }

  // Closes and removes the temporary (no-op after Commit).
  void Discard() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    if (!tmp_.empty()) {
      ::unlink(tmp_.c_str());
      tmp_.clear();
    }
  }

 private:
  [[noreturn]] void Fail(const char* what) {
    const int err = errno;
    Discard();
    throw Error(path_.string() + ": " + what + ": " +
                atomic_file_detail::ErrnoText(err));
  }

  std::filesystem::path path_;
  std::filesystem::path dest_;
  std::filesystem::path tmp_;
  int fd_ = -1;
  uint64_t written_ = 0;
};

// Writes `bytes` to `path` atomically.
inline void WriteFileAtomically(const std::filesystem::path& path,
                                const void* bytes, size_t n) {
  AtomicFile f(path);
  f.Write(bytes, n);
  f.Commit();
}

}  // namespace ternary::io

#endif  // TERNARY_IO_ATOMIC_FILE_H_
