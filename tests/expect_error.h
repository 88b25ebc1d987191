// Expecting an exception of a given type whose message names what is wrong.
#ifndef TERNARY_TESTS_EXPECT_ERROR_H_
#define TERNARY_TESTS_EXPECT_ERROR_H_

#include <doctest/doctest.h>

#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ternary::test {

// Runs f, which must throw E with a message containing every part; returns
// the message (or what happened instead) for further checks.
template <class E, class F>
std::string ExpectError(F&& f, std::initializer_list<std::string_view> parts) {
  std::string message;
  bool right_type = false;
  try {
    f();
    message = "(no exception)";
  } catch (const E& e) {
    right_type = true;
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("(another exception) ") + e.what();
  }
  INFO("message: " << message);
  CHECK(right_type);
  for (std::string_view part : parts) {
    INFO("expected in the message: " << part);
    CHECK(message.find(part) != std::string::npos);
  }
  return message;
}

}  // namespace ternary::test

#endif  // TERNARY_TESTS_EXPECT_ERROR_H_
