// StopStrings: a stop string split over pieces, held-back partial matches,
// the earliest of several, flushing.
#include "ternary/runtime/stop_strings.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace ternary {
namespace {

// Feeds the pieces; returns what was shown (and flushed if no stop came).
std::string Shown(StopStrings& s, const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) out += s.Push(p);
  if (!s.stopped()) out += s.Flush();
  return out;
}

TEST_CASE("StopStrings: no stop strings pass everything through") {
  StopStrings s;
  CHECK(s.empty());
  CHECK(s.Push("abc") == "abc");
  CHECK(s.Push("") == "");
  CHECK(s.Flush().empty());
  CHECK_FALSE(s.stopped());
}

TEST_CASE("StopStrings: a stop string inside one piece") {
  StopStrings s({"END"});
  CHECK(s.Push("abcENDdef") == "abc");
  CHECK(s.stopped());
  CHECK(s.matched() == "END");
  CHECK(s.Push("more") == "");
}

TEST_CASE("StopStrings: a stop string split over pieces is never shown") {
  StopStrings s({"\n\nUser:"});
  CHECK(s.Push("Hello") == "Hello");
  CHECK(s.Push(" there\n") == " there");  // "\n" may start the stop string
  CHECK(s.Push("\nUs") == "");
  CHECK(s.Push("er: next") == "");
  CHECK(s.stopped());
}

TEST_CASE("StopStrings: a partial match that does not complete is shown") {
  StopStrings s({"STOP"});
  CHECK(s.Push("a ST") == "a ");
  CHECK(s.Push("OR") == "STOR");  // "STOR" is no prefix of "STOP"
  CHECK(s.Push("ST") == "");
  CHECK(s.Flush() == "ST");  // end of generation: the held text is shown
  CHECK_FALSE(s.stopped());
}

TEST_CASE("StopStrings: the earliest of several wins") {
  StopStrings s({"xyz", "b", ""});
  CHECK_FALSE(s.empty());
  CHECK(Shown(s, {"a", "xy", "zb"}) == "a");
  CHECK(s.matched() == "xyz");
  StopStrings t({"xyz", "b"});
  CHECK(Shown(t, {"axbxyz"}) == "ax");
  CHECK(t.matched() == "b");
}

TEST_CASE("StopStrings: overlapping prefixes keep the longest tail") {
  StopStrings s({"aab"});
  CHECK(s.Push("xaa") == "x");
  CHECK(s.Push("a") == "a");  // "aaa": the tail "aa" may still become "aab"
  CHECK(s.Push("b") == "");
  CHECK(s.stopped());
}

TEST_CASE("StopStrings: only empty stop strings means none") {
  StopStrings s({"", ""});
  CHECK(s.empty());
  CHECK(s.Push("text") == "text");
}

}  // namespace
}  // namespace ternary
