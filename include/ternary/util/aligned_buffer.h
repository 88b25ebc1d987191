// Owning, zero-initialised, 64-byte aligned array for SIMD data.
#ifndef TERNARY_UTIL_ALIGNED_BUFFER_H_
#define TERNARY_UTIL_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

#if defined(__linux__) && __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif
#if defined(MADV_HUGEPAGE)
#define TERNARY_HAS_MADVISE 1
#else
#define TERNARY_HAS_MADVISE 0
#endif

namespace ternary {

inline constexpr size_t kAlignment = 64;  // one cache line, one AVX-512 vector
inline constexpr size_t kHugePage = size_t{2} << 20;  // x86-64 / arm64 THP

template <class T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>,
                "AlignedBuffer holds plain data only");

 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) : size_(n) {
    if (n == 0) return;
    // Round the allocation up to whole cache lines so vector loads of the
    // last partial vector stay inside the allocation.
    const size_t bytes =
        (n * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    // Weight-sized buffers start on a huge-page boundary and ask for huge
    // pages (before the first touch), so streaming them in decode walks
    // fewer page-table entries. The alignment's lead-in and the size
    // rounded up to whole 2 MiB are never touched: address space, not
    // memory (only the `bytes` in use are advised and zeroed).
    const size_t align = bytes >= kHugePage ? kHugePage : kAlignment;
    void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
    if (p == nullptr) throw std::bad_alloc();
#if TERNARY_HAS_MADVISE
    if (align == kHugePage) ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint
#endif
    std::memset(p, 0, bytes);
    data_.reset(static_cast<T*>(p));
  }

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](size_t i) noexcept { return data_.get()[i]; }
  const T& operator[](size_t i) const noexcept { return data_.get()[i]; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }
  std::span<T> span() noexcept { return {data(), size_}; }
  std::span<const T> span() const noexcept { return {data(), size_}; }

 private:
  struct Free {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

}  // namespace ternary

#endif  // TERNARY_UTIL_ALIGNED_BUFFER_H_
