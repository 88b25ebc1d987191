// Read-only memory map of a whole file (POSIX mmap).
#ifndef TERNARY_IO_MAPPED_FILE_H_
#define TERNARY_IO_MAPPED_FILE_H_

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <utility>

#include "ternary/io/read_file.h"
#include "ternary/util/error.h"

namespace ternary::io {

// Maps a file once and hands out its bytes; model weights are read in place,
// never copied. Move-only; the mapping lives until the object is destroyed,
// and moving does not change the address of the bytes. An empty file is
// valid and gives an empty span (mmap cannot map zero bytes).
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept { Swap(other); }
  MappedFile& operator=(MappedFile&& other) noexcept {
    if (this != &other) {
      MappedFile tmp(std::move(other));
      Swap(tmp);
    }
    return *this;
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }

  // Throws FormatError naming the file if it cannot be opened, is not a
  // regular file, or cannot be mapped.
  static MappedFile Open(const std::filesystem::path& path) {
    MappedFile f;
    f.path_ = path;
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
    // refused as not a regular file); regular files ignore the flag.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) Fail(path, "cannot open");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      errno = err;
      Fail(path, "cannot stat");
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      // "...: not a regular file (a fifo)", as io::ReadFile says it.
      detail::FailNotRegular(path, st.st_mode);
    }
    f.size_ = static_cast<size_t>(st.st_size);
    if (f.size_ != 0) {
      void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        errno = err;
        f.size_ = 0;
        Fail(path, "cannot mmap");
      }
      f.data_ = p;
    }
    ::close(fd);  // the mapping keeps its own reference to the file
    return f;
  }

  std::span<const uint8_t> bytes() const noexcept {
    return {static_cast<const uint8_t*>(data_), size_};
  }

  // Drops this process's pages of `range` (a part of bytes()), as for data
  // already copied elsewhere: they stop counting in its RSS, stay in the
  // page cache, and are read again if touched (a private read-only mapping,
  // so nothing is lost). Only whole pages inside the range are dropped.
  void Release(std::span<const uint8_t> range) const noexcept {
    const auto* base = static_cast<const uint8_t*>(data_);
    if (data_ == nullptr || range.data() < base ||
        range.data() + range.size() > base + size_) {
      return;
    }
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t lo = reinterpret_cast<uintptr_t>(range.data());
    const uintptr_t first = (lo + page - 1) / page * page;
    const uintptr_t last = (lo + range.size()) / page * page;
    if (first < last) {
      ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    }
  }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  [[noreturn]] static void Fail(const std::filesystem::path& path,
                                const char* what) {
    throw FormatError(path.string() + ": " + what + ": " +
                      std::strerror(errno));
  }
  void Swap(MappedFile& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(path_, o.path_);
  }

  void* data_ = nullptr;
  size_t size_ = 0;
  std::filesystem::path path_;
};

}  // namespace ternary::io

#endif  // TERNARY_IO_MAPPED_FILE_H_
