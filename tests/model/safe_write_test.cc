// io::AtomicFile and the output checks convert runs: a file is written
// through a fresh temporary renamed over it, so no other file is touched (an
// unrelated `<out>.tmp`, a link's name), a device, folder or FIFO is never
// replaced, the input checkpoint is never overwritten, and concurrent
// writers each leave a complete file (the last rename wins), no temporary.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ternary/io/atomic_file.h"
#include "ternary/io/gguf_writer.h"
#include "ternary/model/convert.h"
#include "ternary/util/error.h"

namespace ternary {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("ternary_safe_write_" + std::to_string(::getpid()) + "_" +
            std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void Put(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

// The names in `dir`, sorted.
std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void Write(const fs::path& p, const std::string& s) {
  io::WriteFileAtomically(p, s.data(), s.size());
}

TEST_CASE("atomic write: new and existing files, an unrelated .tmp kept") {
  TempDir dir;
  const fs::path out = dir.path / "out.gguf";
  // The old writer opened "<out>.tmp" itself, truncating whatever was there.
  Put(dir.path / "out.gguf.tmp", "not ours");
  Write(out, "first");
  CHECK(Slurp(out) == "first");
  Write(out, "second, longer");
  CHECK(Slurp(out) == "second, longer");
  CHECK(Slurp(dir.path / "out.gguf.tmp") == "not ours");
  CHECK(Names(dir.path) ==
        std::vector<std::string>{"out.gguf", "out.gguf.tmp"});

  // The temporary: hidden, in the destination's folder, removed on Commit.
  io::AtomicFile f(out);
  CHECK(f.temp_path().parent_path() == fs::canonical(dir.path));
  const std::string tmp_name = f.temp_path().filename().string();
  CHECK(tmp_name.rfind(".out.gguf.", 0) == 0);
  CHECK(tmp_name.size() == std::string(".out.gguf.XXXXXX.tmp").size());
  CHECK(fs::exists(f.temp_path()));
  f.Write("third", 5);
  CHECK(Slurp(out) == "second, longer");  // untouched until Commit
  f.Commit();
  CHECK(f.bytes_written() == 5);
  CHECK(Slurp(out) == "third");
  CHECK(Names(dir.path) ==
        std::vector<std::string>{"out.gguf", "out.gguf.tmp"});
}

TEST_CASE("atomic write: abandoned or failed writes leave no temporary") {
  TempDir dir;
  const fs::path out = dir.path / "out.bin";
  Write(out, "old");
  {
    io::AtomicFile f(out);
    f.Write("partial", 7);
  }  // no Commit: as when an exception unwinds
  CHECK(Slurp(out) == "old");
  CHECK(Names(dir.path) == std::vector<std::string>{"out.bin"});
  try {
    io::AtomicFile f(out);
    f.Write("partial", 7);
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  CHECK(Slurp(out) == "old");
  CHECK(Names(dir.path) == std::vector<std::string>{"out.bin"});
  // Commit fails when the destination became a folder meanwhile: the
  // temporary goes too.
  const fs::path later = dir.path / "later";
  {
    io::AtomicFile f(later);
    f.Write("x", 1);
    fs::create_directory(later);
    fs::create_directory(later / "keep");  // rename cannot replace it
    CHECK_THROWS_WITH_AS(f.Commit(), doctest::Contains("rename failed"), Error);
  }
  CHECK(Names(dir.path) == std::vector<std::string>{"later", "out.bin"});
  CHECK(fs::is_directory(later / "keep"));
}

TEST_CASE("atomic write: a link is followed, the link stays") {
  // Semantics chosen: writing through a link replaces its target (in the
  // target's folder), as opening the path for writing would; the link
  // itself is kept. (rename(2) alone would replace the link by a file.)
  TempDir dir;
  fs::create_directory(dir.path / "real");
  const fs::path target = dir.path / "real" / "model.gguf";
  Put(target, "old");
  const fs::path link = dir.path / "link.gguf";
  fs::create_symlink(target, link);
  Write(link, "new");
  CHECK(fs::is_symlink(link));
  CHECK(fs::read_symlink(link) == target);
  CHECK(Slurp(target) == "new");
  CHECK(Names(dir.path / "real") == std::vector<std::string>{"model.gguf"});
  CHECK(Names(dir.path) == std::vector<std::string>{"link.gguf", "real"});
  // A link to nothing is refused (what would it create, and where?).
  const fs::path dangling = dir.path / "dangling.gguf";
  fs::create_symlink(dir.path / "nowhere" / "x.gguf", dangling);
  CHECK_THROWS_WITH_AS(Write(dangling, "x"),
                       ("refusing to write " + dangling.string() +
                        ": it is a symbolic link to a missing file")
                           .c_str(),
                       UsageError);
  CHECK(fs::is_symlink(dangling));
  CHECK_FALSE(fs::exists(dir.path / "nowhere"));
}

TEST_CASE("atomic write: devices, folders, FIFOs and sockets are refused") {
  TempDir dir;
  // A folder.
  const fs::path folder = dir.path / "folder";
  fs::create_directory(folder);
  CHECK_THROWS_WITH_AS(Write(folder, "x"),
                       ("refusing to write " + folder.string() +
                        ": it is a directory, not a regular file")
                           .c_str(),
                       UsageError);
  CHECK(fs::is_directory(folder));
  // A FIFO (what /dev/stdout is on a pipe): refused, not "written".
  const fs::path fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH_AS(Write(fifo, "x"),
                       ("refusing to write " + fifo.string() +
                        ": it is a FIFO (pipe), not a regular file")
                           .c_str(),
                       UsageError);
  CHECK(fs::is_fifo(fifo));
  // A link to a FIFO is the FIFO.
  fs::create_symlink(fifo, dir.path / "to-fifo");
  CHECK_THROWS_AS(Write(dir.path / "to-fifo", "x"), UsageError);
  CHECK(fs::is_symlink(dir.path / "to-fifo"));
  // A socket.
  const fs::path sock = dir.path / "sock";
  const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock.string().size() < sizeof addr.sun_path) {
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    if (::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      CHECK_THROWS_WITH_AS(Write(sock, "x"),
                           doctest::Contains("it is a socket"), UsageError);
      CHECK(fs::is_socket(sock));
    }
  }
  ::close(s);
  // A character device: /dev/null stays /dev/null (as root the old writer
  // renamed a regular file over it).
  if (fs::is_character_file("/dev/null")) {
    CHECK_THROWS_WITH_AS(
        Write("/dev/null", "x"),
        "refusing to write /dev/null: it is a character device, not a "
        "regular file",
        UsageError);
    CHECK(fs::is_character_file("/dev/null"));
    io::GgufWriter w;
    CHECK_THROWS_AS(w.WriteFile("/dev/null"), UsageError);
    CHECK(fs::is_character_file("/dev/null"));
  }
  // A missing folder.
  CHECK_THROWS_WITH_AS(Write(dir.path / "no-such-dir" / "x.gguf", "x"),
                       ((dir.path / "no-such-dir" / "x.gguf").string() +
                        ": cannot open for writing: folder " +
                        (dir.path / "no-such-dir").string() + " does not exist")
                           .c_str(),
                       Error);
  // A file where a folder should be.
  Put(dir.path / "file", "f");
  CHECK_THROWS_WITH_AS(Write(dir.path / "file" / "x.gguf", "x"),
                       doctest::Contains("cannot open for writing"), Error);
  CHECK(Slurp(dir.path / "file") == "f");
  std::vector<std::string> names = Names(dir.path);
  std::erase(names, "sock");  // when the socket could be bound
  CHECK(names == std::vector<std::string>{"fifo", "file", "folder", "to-fifo"});
}

TEST_CASE("convert refuses to write over its input checkpoint") {
  TempDir dir;
  // The check runs before the checkpoint is read: stand-in files do.
  const fs::path in = dir.path / "model";
  fs::create_directory(in);
  Put(in / "config.json", "{}");
  Put(in / "model.safetensors", "weights");
  const std::string what = ": it is part of the input checkpoint";
  auto refused = [&](const fs::path& out) {
    CAPTURE(out);
    CHECK_THROWS_WITH_AS(ConvertHfToGguf(in, out),
                         ("refusing to write " + out.string() + what).c_str(),
                         UsageError);
    CHECK_THROWS_AS(io::CheckNotInput(out, in), UsageError);
  };
  refused(in / "model.safetensors");
  refused(in / "config.json");
  refused(dir.path / "model" / ".." / "model" / "model.safetensors");
  // The same file through a link or under another name (a hard link).
  fs::create_symlink(in / "model.safetensors", dir.path / "link.gguf");
  refused(dir.path / "link.gguf");
  fs::create_hard_link(in / "model.safetensors", dir.path / "hard.gguf");
  refused(dir.path / "hard.gguf");
  // The folder itself is a directory.
  CHECK_THROWS_WITH_AS(ConvertHfToGguf(in, in),
                       doctest::Contains("it is a directory"), UsageError);
  CHECK(Slurp(in / "model.safetensors") == "weights");
  CHECK(Slurp(in / "config.json") == "{}");
  // A new file in the folder, or a file elsewhere, is no overlap.
  CHECK_NOTHROW(io::CheckNotInput(in / "model.gguf", in));
  CHECK_NOTHROW(io::CheckNotInput(dir.path / "model.gguf", in));
  // A single input file.
  CHECK_THROWS_AS(
      io::CheckNotInput(dir.path / "hard.gguf", in / "model.safetensors"),
      UsageError);
  CHECK_NOTHROW(
      io::CheckNotInput(dir.path / "other.gguf", in / "model.safetensors"));
  CHECK(Names(in) ==
        std::vector<std::string>{"config.json", "model.safetensors"});
}

TEST_CASE("atomic write: concurrent writers leave one complete file") {
  TempDir dir;
  const fs::path out = dir.path / "out.bin";
  constexpr int kWriters = 8;
  // Large enough that the writes interleave; each writer's bytes differ.
  auto content = [](int w) {
    std::string s(300000 + 1000 * w, static_cast<char>('a' + w));
    s.replace(0, 8, "writer " + std::to_string(w));
    return s;
  };
  std::vector<std::string> contents;
  for (int w = 0; w < kWriters; ++w) contents.push_back(content(w));
  for (int round = 0; round < 10; ++round) {
    CAPTURE(round);
    std::vector<std::thread> threads;
    std::vector<std::string> errors(kWriters);
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        try {
          io::AtomicFile f(out);
          // In pieces, so that the writers interleave.
          const std::string& s = contents[w];
          for (size_t i = 0; i < s.size(); i += 4096) {
            f.Write(s.data() + i, std::min<size_t>(4096, s.size() - i));
          }
          f.Commit();
        } catch (const std::exception& e) {
          errors[w] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const std::string& e : errors) CHECK(e.empty());
    const std::string got = Slurp(out);
    bool whole = false;
    for (const std::string& c : contents) whole = whole || got == c;
    CHECK_MESSAGE(whole, "the file is no writer's complete content ("
                             << got.size() << " bytes, starts "
                             << got.substr(0, 8) << ")");
    CHECK(Names(dir.path) == std::vector<std::string>{"out.bin"});
  }
}

}  // namespace
}  // namespace ternary
