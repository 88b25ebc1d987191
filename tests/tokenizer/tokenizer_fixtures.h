// Shared fixtures of the tokenizer tests: test files, loaded once.
#ifndef TERNARY_TESTS_TOKENIZER_TOKENIZER_FIXTURES_H_
#define TERNARY_TESTS_TOKENIZER_TOKENIZER_FIXTURES_H_

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "ternary/tokenizer/tokenizer.h"

namespace ternary::test {

inline std::filesystem::path Llama3Dir() {
  return std::filesystem::path(TERNARY_TEST_DATA_DIR) / "llama3";
}
inline std::filesystem::path TinyDir() {
  return std::filesystem::path(TERNARY_MODELS_DIR) / "tiny-shakespeare";
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

inline std::string ReadGzip(const std::filesystem::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + path.string());
  std::string out;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(f, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  gzclose(f);
  if (n < 0) throw std::runtime_error("gzip error in " + path.string());
  return out;
}

inline nlohmann::json ReadJson(const std::filesystem::path& path) {
  return nlohmann::json::parse(ReadFile(path));
}

// Loading the 128k vocabularies takes a while; every test shares one.
inline const Tokenizer& Llama3Tiktoken() {
  static const Tokenizer tok =
      Tokenizer::FromTiktoken(Llama3Dir() / "tokenizer.model");
  return tok;
}
inline const Tokenizer& Llama3Hf() {
  static const Tokenizer tok = Tokenizer::FromHfJsonText(
      ReadGzip(Llama3Dir() / "tokenizer.json.gz"), "tokenizer.json.gz");
  return tok;
}
inline const Tokenizer& TinyHf() {
  static const Tokenizer tok =
      Tokenizer::FromHfJson(TinyDir() / "tokenizer.json");
  return tok;
}

// The tokenizer metadata of a GGUF file (just enough of the format to read
// tokenizer.ggml.*; the real reader lives in io/).
struct GgufVocab {
  std::vector<std::string> tokens, merges;
  std::vector<int32_t> token_types;
  int32_t bos = -1, eos = -1;
  bool has_pre = false;
};

inline GgufVocab ReadGgufVocab(const std::filesystem::path& path) {
  const std::string data = ReadFile(path);
  size_t pos = 0;
  const auto take = [&](size_t n) {
    if (pos + n > data.size()) throw std::runtime_error("truncated GGUF");
    const char* p = data.data() + pos;
    pos += n;
    return p;
  };
  const auto u32 = [&] {
    uint32_t v;
    std::memcpy(&v, take(4), 4);
    return v;
  };
  const auto u64 = [&] {
    uint64_t v;
    std::memcpy(&v, take(8), 8);
    return v;
  };
  const auto str = [&] {
    const uint64_t n = u64();
    return std::string(take(n), n);
  };
  if (std::string(take(4), 4) != "GGUF") throw std::runtime_error("not GGUF");
  u32();  // version
  u64();  // tensor count
  const uint64_t n_kv = u64();
  GgufVocab v;
  // Scalar sizes by GGUF type id (8 = string and 9 = array are handled apart).
  static constexpr size_t kSize[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string key = str();
    const uint32_t type = u32();
    if (type == 8) {
      str();
      v.has_pre |= key == "tokenizer.ggml.pre";
    } else if (type == 9) {
      const uint32_t elem = u32();
      const uint64_t n = u64();
      for (uint64_t i = 0; i < n; ++i) {
        if (elem == 8) {
          std::string s = str();
          if (key == "tokenizer.ggml.tokens") v.tokens.push_back(std::move(s));
          if (key == "tokenizer.ggml.merges") v.merges.push_back(std::move(s));
        } else {
          const char* p = take(kSize[elem]);
          if (key == "tokenizer.ggml.token_type") {
            int32_t t;
            std::memcpy(&t, p, 4);
            v.token_types.push_back(t);
          }
        }
      }
    } else {
      const char* p = take(kSize[type]);
      if (key == "tokenizer.ggml.bos_token_id") std::memcpy(&v.bos, p, 4);
      if (key == "tokenizer.ggml.eos_token_id") std::memcpy(&v.eos, p, 4);
    }
  }
  return v;
}

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("ternary_tokenizer_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path Write(const std::string& name,
                              const std::string& contents) const {
    const std::filesystem::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << contents;
    return p;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace ternary::test

#endif  // TERNARY_TESTS_TOKENIZER_TOKENIZER_FIXTURES_H_
