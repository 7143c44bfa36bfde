#pragma once

// Expecting an exception, in the spirit of fmt's EXPECT_THROW_MSG: the statement must throw
// the given type, and the test can then look at its message or at the exception itself.

#include <gtest/gtest.h>

#include <exception>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>

namespace ranks_test {

/// The exception of type E that f() throws. A test failure, and nullopt, if f throws nothing
/// or something else (`what` names the statement in the failure).
template <class E, class F>
std::optional<E> thrown(F&& f, const char* what = "the statement") {
  try {
    std::forward<F>(f)();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& other) {
    ADD_FAILURE() << what << " threw " << typeid(other).name() << " (" << other.what()
                  << "), not a " << typeid(E).name();
    return std::nullopt;
  }
  ADD_FAILURE() << what << " threw nothing; expected a " << typeid(E).name();
  return std::nullopt;
}

}  // namespace ranks_test

/// Expects `statement` to throw an `exception` whose what() contains `substring`.
#define EXPECT_THROW_MSG(statement, exception, substring)                                    \
  do {                                                                                       \
    if (auto thrown_ = ::ranks_test::thrown<exception>([&] { statement; }, #statement)) {    \
      EXPECT_NE(std::string(thrown_->what()).find(substring), std::string::npos)             \
          << #statement << " threw \"" << thrown_->what() << "\", which does not contain \"" \
          << (substring) << "\"";                                                            \
    }                                                                                        \
  } while (false)
