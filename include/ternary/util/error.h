// Exceptions thrown by the library: bad files, wrong shapes, bad usage.
#ifndef TERNARY_UTIL_ERROR_H_
#define TERNARY_UTIL_ERROR_H_

#include <stdexcept>
#include <string>

namespace ternary {

// Base of every exception the library throws. Kernels never throw; loaders
// and constructors validate their input once and throw one of these.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file is truncated, corrupt or of an unsupported kind. The message names
// the file and, where known, the tensor or key.
class FormatError : public Error {
 public:
  using Error::Error;
};

// A tensor or buffer has dimensions the caller's configuration cannot take.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// The caller asked for something invalid (bad argument, unknown option).
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace ternary

// Debug-only invariant check for noexcept code (like HWY_DASSERT).
#ifndef NDEBUG
#include <cstdio>
#include <cstdlib>
#define TERNARY_DASSERT(cond)                                         \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                  \
      std::abort();                                                   \
    }                                                                 \
  } while (0)
#else
#define TERNARY_DASSERT(cond) \
  do {                        \
  } while (0)
#endif

#endif  // TERNARY_UTIL_ERROR_H_
