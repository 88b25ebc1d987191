// libFuzzer target: tiktoken ranks files (Tokenizer::FromTiktoken), then
// encode and decode. The loader takes a path, so the input goes to a memfd
// opened through /proc/self/fd (no disk writes per run).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "ternary/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = [] {
    const int f = memfd_create("fuzz.tiktoken", MFD_CLOEXEC);
    if (f < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    return f;
  }();
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
    std::perror("memfd write");
    std::abort();
  }
  ternary::fuzz::ExpectingErrors([&] {
    const auto tok = ternary::Tokenizer::FromTiktoken(path);
    ternary::fuzz::ExerciseTokenizer(tok);
  });
  return 0;
}
