// Hostile files through every reader of whole files (io/read_file.h):
// config.json, tokenizer_config.json, tokenizer.json, tiktoken ranks,
// model.safetensors(.index.json), the safetensors header, checkpoint
// detection. Each is replaced by a FIFO (must fail at once, not block), a
// symlink to /dev/zero (must not read forever), a folder, a sparse file of
// 3 GiB (refused before reading) and JSON nested a million levels deep
// (refused before parsing), and must load again once restored.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expect_error.h"
#include "io/safetensors_writer.h"
#include "model/checkpoint_builder.h"
#include "ternary/io/hf_config.h"
#include "ternary/io/mapped_file.h"
#include "ternary/io/read_file.h"
#include "ternary/io/safetensors.h"
#include "ternary/model/checkpoint.h"
#include "ternary/model/hf_checkpoint.h"
#include "ternary/model/load_tokenizer.h"
#include "ternary/tokenizer/tokenizer.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

namespace fs = std::filesystem;

// A read that blocks would hang the test program: SIGALRM ends it instead
// (its default action), with a message from the shell or CTest.
struct Watchdog {
  Watchdog() { ::alarm(120); }
  ~Watchdog() { ::alarm(0); }
};

struct Temp {
  explicit Temp(const std::string& name) : path(test::TempDir(name)) {}
  ~Temp() { fs::remove_all(path); }
  fs::path path;
};

// Runs f, which must throw FormatError with a message containing every
// part, within a few seconds.
template <class F>
void ExpectFormatError(F&& f, std::initializer_list<std::string_view> parts) {
  const auto start = std::chrono::steady_clock::now();
  const std::string message = test::ExpectError<FormatError>(f, parts);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  INFO("message: " << message);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(seconds < 10.0);
}

enum class Hostile { kFifo, kDevZero, kFolder, kHuge, kDeep };
constexpr Hostile kAllHostile[] = {Hostile::kFifo, Hostile::kDevZero,
                                   Hostile::kFolder, Hostile::kHuge,
                                   Hostile::kDeep};
constexpr Hostile kNotJson[] = {Hostile::kFifo, Hostile::kDevZero,
                                Hostile::kFolder, Hostile::kHuge};

const char* Name(Hostile h) {
  switch (h) {
    case Hostile::kFifo:
      return "fifo";
    case Hostile::kDevZero:
      return "symlink to /dev/zero";
    case Hostile::kFolder:
      return "folder";
    case Hostile::kHuge:
      return "3 GiB sparse file";
    case Hostile::kDeep:
      return "JSON nested 10^6 deep";
  }
  return "?";
}

constexpr uint64_t kHugeBytes = uint64_t{3} << 30;

// {"a": then `levels` '[' (what grew to gigabytes in nlohmann's parsers).
std::string DeepJson(size_t levels, std::string_view prefix = "{\"a\": ") {
  return std::string(prefix) + std::string(levels, '[');
}

// Replaces `p` (whatever it is) with a hostile file of kind h.
void MakeHostile(const fs::path& p, Hostile h,
                 std::string_view deep_prefix = "{\"a\": ") {
  fs::remove_all(p);
  switch (h) {
    case Hostile::kFifo:
      REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
      break;
    case Hostile::kDevZero:
      fs::create_symlink("/dev/zero", p);
      break;
    case Hostile::kFolder:
      fs::create_directories(p);
      break;
    case Hostile::kHuge:
      test::WriteText(p, "");
      fs::resize_file(p, kHugeBytes);  // sparse: no disk used
      break;
    case Hostile::kDeep:
      test::WriteText(p, DeepJson(1000000, deep_prefix));
      break;
  }
}

// What the message says for h, after "PATH: ".
std::string Expected(Hostile h, std::string_view limit = "") {
  switch (h) {
    case Hostile::kFifo:
      return ": not a regular file (a fifo)";
    case Hostile::kDevZero:
      return ": not a regular file (a character device)";
    case Hostile::kFolder:
      return ": not a regular file (a directory)";
    case Hostile::kHuge:
      return ": 3221225472 bytes (3 GiB) is larger than the " +
             std::string(limit) + " may have";
    case Hostile::kDeep:
      return ": JSON nested deeper than 256 levels";
  }
  return "?";
}

// A Hugging Face folder the tokenizer loader and HfCheckpoint accept.
constexpr std::string_view kTokenizerJson = R"({
  "added_tokens": [{"id": 3, "content": "<s>", "special": true}],
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},
            "merges": ["a b"]}
})";

void WriteFolder(const fs::path& dir) {
  test::MakeTinyCheckpoint().Write(dir);
  test::WriteText(dir / "tokenizer.json", std::string(kTokenizerJson));
  test::WriteText(dir / "tokenizer_config.json", R"({"add_bos_token": false})");
}

// ------------------------------------------------------- read_file.h ----

TEST_CASE("hostile files: ReadFile: regular files only, bounded") {
  const Watchdog watchdog;
  Temp dir("hostile_read_file");
  const fs::path p = dir.path / "f.txt";
  const io::FileLimit limit{16, "a test file"};

  test::WriteText(p, "hello\n");
  CHECK(io::ReadFile(p, limit) == "hello\n");
  CHECK(io::ReadFileIfExists(p, limit) ==
        std::optional<std::string>("hello\n"));
  CHECK(io::ReadFilePrefix(p, 4) == "hell");
  CHECK(io::ReadFilePrefix(p, 100) == "hello\n");
  test::WriteText(p, std::string(16, 'x'));  // exactly the limit
  CHECK(io::ReadFile(p, limit).size() == 16);
  test::WriteText(p, "");
  CHECK(io::ReadFile(p, limit).empty());
  test::WriteText(p, std::string(17, 'x'));
  ExpectFormatError(
      [&] { (void)io::ReadFile(p, limit); },
      {"f.txt: 17 bytes is larger than the 16 bytes a test file may have"});
  // Through a symlink to a regular file: fine.
  test::WriteText(p, "x");
  fs::create_symlink(p, dir.path / "link");
  CHECK(io::ReadFile(dir.path / "link", limit) == "x");

  // Missing: an error, or nullopt from ReadFileIfExists (also for a
  // dangling symlink).
  ExpectFormatError([&] { (void)io::ReadFile(dir.path / "none", limit); },
                    {"none: cannot open file (no such file)"});
  CHECK(!io::ReadFileIfExists(dir.path / "none", limit));
  fs::create_symlink(dir.path / "none", dir.path / "dangling");
  CHECK(!io::ReadFileIfExists(dir.path / "dangling", limit));

  for (const Hostile h : kNotJson) {
    CAPTURE(Name(h));
    MakeHostile(p, h);
    ExpectFormatError([&] { (void)io::ReadFile(p, io::kTextFileLimit); },
                      {"f.txt" + Expected(h, "1 GiB a text file")});
    ExpectFormatError(
        [&] { (void)io::ReadFileIfExists(p, io::kTextFileLimit); },
        {"f.txt" + Expected(h, "1 GiB a text file")});
    if (h != Hostile::kHuge) {
      ExpectFormatError([&] { (void)io::ReadFilePrefix(p, 4); },
                        {"f.txt" + Expected(h)});
      // Memory-mapped files (safetensors, GGUF): the same check, and an
      // open that cannot block on a FIFO.
      ExpectFormatError([&] { (void)io::MappedFile::Open(p); },
                        {"f.txt" + Expected(h)});
    }
  }
  // /dev/zero itself, and a socket (open(2) would fail with ENXIO).
  ExpectFormatError(
      [&] { (void)io::ReadFile("/dev/zero", io::kTextFileLimit); },
      {"/dev/zero: not a regular file (a character device)"});
  const fs::path sock = dir.path / "sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(sock.string().size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, sock.c_str(), sock.string().size());
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) ==
          0);
  ExpectFormatError([&] { (void)io::ReadFile(sock, io::kTextFileLimit); },
                    {"sock: not a regular file (a socket)"});
  ::close(fd);
  ExpectFormatError([&] { (void)io::MappedFile::Open(dir.path / "none"); },
                    {"none: cannot open: No such file or directory"});
}

TEST_CASE("hostile files: ReadFile states size limits") {
  Temp dir("hostile_limits");
  const fs::path p = dir.path / "config.json";
  MakeHostile(p, Hostile::kHuge);
  ExpectFormatError([&] { (void)io::ReadFile(p, io::kConfigJsonLimit); },
                    {"config.json: 3221225472 bytes (3 GiB) is larger than "
                     "the 16 MiB a config.json may have"});
  fs::resize_file(p, 16 * io::kMiB + 1);
  ExpectFormatError([&] { (void)io::ReadFile(p, io::kConfigJsonLimit); },
                    {"config.json: 16777217 bytes (16.0 MiB) is larger than "
                     "the 16 MiB a config.json may have"});
  fs::resize_file(p, 16 * io::kMiB);  // at the limit: read (all zeros)
  CHECK(io::ReadFile(p, io::kConfigJsonLimit).size() == 16 * io::kMiB);
}

TEST_CASE("hostile files: CheckJsonDepth counts brackets") {
  const auto ok = [](std::string_view text) {
    CAPTURE(text);
    CHECK_NOTHROW(io::CheckJsonDepth(text, "t.json"));
  };
  const auto deep = [](std::string_view text) {
    ExpectFormatError([&] { io::CheckJsonDepth(text, "t.json"); },
                      {"t.json: JSON nested deeper than 256 levels"});
  };
  ok("");
  ok("{}");
  ok(std::string(256, '[') + std::string(256, ']'));
  deep(std::string(257, '[') + std::string(257, ']'));
  ok(std::string(128, '{') + std::string(128, '[') + std::string(256, ']'));
  deep(std::string(129, '{') + std::string(128, '['));
  // Closed levels do not count; depth is the deepest point, not the total.
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "[[]]";
  ok("[" + many + "]");
  // Brackets inside strings, escaped quotes and backslashes.
  ok("[\"" + std::string(1000, '[') + "\"]");
  ok(R"(["\"[[[[", "\\", "[\\\"[[["])" + std::string(255, '['));
  deep(R"(["\\"])" + std::string(257, '['));
  ok(R"({"a\\\\": "b"})" + std::string(255, '['));
  // An unterminated string ends the scan (the parser reports it).
  ok("\"" + std::string(1000, '['));
  deep(std::string(1000000, '['));
  ExpectFormatError([&] { io::CheckJsonDepth("[[[[", "t.json", 3); },
                    {"t.json: JSON nested deeper than 3 levels (at byte 3)"});
}

// -------------------------------------------------------- the readers ----

TEST_CASE("hostile files: config.json") {
  const Watchdog watchdog;
  Temp dir("hostile_config");
  WriteFolder(dir.path);
  const fs::path p = dir.path / "config.json";
  const std::string good = [&] {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  CHECK_NOTHROW(io::HfConfig::Load(dir.path));
  CHECK_NOTHROW(HfCheckpoint::Open(dir.path));
  for (const Hostile h : kAllHostile) {
    CAPTURE(Name(h));
    MakeHostile(p, h);
    // The deep file's message names config.json as Parse does (no folder).
    const std::string expected =
        (h == Hostile::kDeep ? "config.json" : p.string()) +
        Expected(h, "16 MiB a config.json");
    ExpectFormatError([&] { (void)io::HfConfig::Load(dir.path); }, {expected});
    ExpectFormatError([&] { (void)io::HfConfig::Load(p); }, {expected});
    ExpectFormatError([&] { (void)HfCheckpoint::Open(dir.path); }, {expected});
    // The tokenizer reads config.json too (bos/eos ids).
    const std::string tok_expected =
        p.string() + Expected(h, "16 MiB a config.json");
    ExpectFormatError([&] { (void)LoadTokenizer(dir.path); }, {tok_expected});
  }
  fs::remove_all(p);
  test::WriteText(p, good);
  CHECK_NOTHROW(io::HfConfig::Load(dir.path));
  CHECK_NOTHROW(LoadTokenizer(dir.path));
  // Parse from text checks depth as well.
  ExpectFormatError(
      [&] { (void)io::HfConfig::Parse(DeepJson(1000000), "c.json"); },
      {"c.json: JSON nested deeper than 256 levels"});
}

TEST_CASE("hostile files: tokenizer_config.json, tokenizer.json") {
  const Watchdog watchdog;
  Temp dir("hostile_tokenizer");
  WriteFolder(dir.path);
  CHECK_NOTHROW(LoadTokenizer(dir.path));
  struct File {
    const char* name;
    const char* limit;
    std::string good;
  };
  const File files[] = {
      {"tokenizer_config.json", "16 MiB a tokenizer_config.json",
       R"({"add_bos_token": false})"},
      {"tokenizer.json", "256 MiB a tokenizer.json",
       std::string(kTokenizerJson)},
  };
  for (const File& f : files) {
    const fs::path p = dir.path / f.name;
    for (const Hostile h : kAllHostile) {
      CAPTURE(f.name);
      CAPTURE(Name(h));
      MakeHostile(p, h);
      ExpectFormatError([&] { (void)LoadTokenizer(dir.path); },
                        {p.string() + Expected(h, f.limit)});
      if (std::string_view(f.name) == "tokenizer.json") {
        ExpectFormatError([&] { (void)Tokenizer::FromHfJson(p); },
                          {p.string() + Expected(h, f.limit)});
      }
    }
    fs::remove_all(p);
    test::WriteText(p, f.good);
    CHECK_NOTHROW(LoadTokenizer(dir.path));
  }
  // Absent tokenizer_config.json is still fine; absent tokenizer.json not.
  fs::remove(dir.path / "tokenizer_config.json");
  CHECK_NOTHROW(LoadTokenizer(dir.path));
  fs::remove(dir.path / "tokenizer.json");
  ExpectFormatError([&] { (void)LoadTokenizer(dir.path); },
                    {"tokenizer.json: cannot open file (no such file)"});
  // From text: the depth check runs before the SAX parser's stack grows.
  ExpectFormatError(
      [&] {
        (void)Tokenizer::FromHfJsonText(
            DeepJson(1000000, R"({"model": {"vocab": )"), "t.json");
      },
      {"t.json: JSON nested deeper than 256 levels"});
}

TEST_CASE("hostile files: tiktoken ranks file") {
  const Watchdog watchdog;
  Temp dir("hostile_tiktoken");
  const fs::path p = dir.path / "tokenizer.model";
  test::WriteText(p, "YQ== 0\nYg== 1\nYWI= 2\n");
  CHECK(Tokenizer::FromTiktoken(p).vocab_size() >= 3);
  for (const Hostile h : kNotJson) {
    CAPTURE(Name(h));
    MakeHostile(p, h);
    ExpectFormatError(
        [&] { (void)Tokenizer::FromTiktoken(p); },
        {p.string() + Expected(h, "256 MiB a tiktoken ranks file")});
  }
}

TEST_CASE("hostile files: safetensors index, weights, header") {
  const Watchdog watchdog;
  Temp dir("hostile_safetensors");
  WriteFolder(dir.path);
  CHECK_NOTHROW(io::SafetensorsCheckpoint::Open(dir.path));

  // model.safetensors itself (memory-mapped, so size is no issue; a FIFO
  // must not block in open).
  const fs::path single = dir.path / "model.safetensors";
  for (const Hostile h :
       {Hostile::kFifo, Hostile::kDevZero, Hostile::kFolder}) {
    CAPTURE(Name(h));
    MakeHostile(single, h);
    ExpectFormatError([&] { (void)io::SafetensorsCheckpoint::Open(dir.path); },
                      {single.string() + Expected(h)});
  }

  // model.safetensors.index.json.
  const fs::path index = dir.path / "model.safetensors.index.json";
  for (const Hostile h : kAllHostile) {
    CAPTURE(Name(h));
    MakeHostile(index, h, R"({"weight_map": )");
    ExpectFormatError(
        [&] { (void)io::SafetensorsCheckpoint::Open(dir.path); },
        {(h == Hostile::kDeep ? std::string("model.safetensors.index.json")
                              : index.string()) +
         Expected(h, "64 MiB a model.safetensors.index.json")});
  }
  fs::remove_all(index);
  test::WriteText(index, R"({"weight_map": {}})");
  CHECK_NOTHROW(io::SafetensorsCheckpoint::Open(dir.path));

  // The header: a million levels inside the 100 MB header limit.
  const std::string header = DeepJson(1000000);
  const std::vector<uint8_t> bytes = test::SerializeWithHeader(header, {});
  ExpectFormatError(
      [&] { (void)io::SafetensorsFile::Parse(bytes, "deep.safetensors"); },
      {"deep.safetensors header: JSON nested deeper than 256 levels"});
  fs::remove_all(single);
  test::WriteFile(single, bytes);
  fs::remove(index);
  ExpectFormatError(
      [&] { (void)io::SafetensorsCheckpoint::Open(dir.path); },
      {"model.safetensors header: JSON nested deeper than 256 levels"});
}

TEST_CASE("hostile files: checkpoint detection") {
  const Watchdog watchdog;
  Temp dir("hostile_detect");
  for (const Hostile h : {Hostile::kFifo, Hostile::kDevZero}) {
    CAPTURE(Name(h));
    const fs::path p = dir.path / "model.gguf";
    MakeHostile(p, h);
    ExpectFormatError([&] { (void)DetectCheckpointFormat(p); },
                      {"model.gguf: not a model"});
    ExpectFormatError([&] { (void)LoadTokenizer(p); },
                      {"model.gguf: not a model"});
  }
  test::WriteText(dir.path / "x.bin", "GGUF");
  CHECK(DetectCheckpointFormat(dir.path / "x.bin") == CheckpointFormat::kGguf);
  test::WriteText(dir.path / "x.bin", "GG");
  ExpectFormatError([&] { (void)DetectCheckpointFormat(dir.path / "x.bin"); },
                    {"x.bin: not a model"});
}

}  // namespace
}  // namespace ternary
