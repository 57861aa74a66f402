// Check macros for misuse and broken invariants.
//
// A failed check throws xfed::Error carrying file:line, the expression and both values,
// so a bug surfaces where it happens instead of corrupting state further on. Expected
// failures at I/O edges (bad files, corrupt frames, timeouts) use Status/Result instead
// (core/status.h); checks are for "this cannot happen unless the code is wrong".
#pragma once

#include <new>
#include <sstream>
#include <stdexcept>
#include <string>

namespace xfed {

// Thrown by XFED_CHECK*; also the base of the usage errors the CLI maps to exit code 2.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user input (flag, config key, data file): the CLI prints what() and exits with 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// What an exception says, in one line: LibTorch appends a backtrace of many lines to its
// errors (an allocation that failed, say) that a user cannot act on; out of memory says so.
inline std::string one_line(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return "out of memory";
  const std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

namespace detail {
template <typename A, typename B>
[[noreturn]] void fail_compare(const char* file, int line, const char* expr, const A& a,
                               const B& b, const std::string& context) {
  std::ostringstream os;
  os << file << ":" << line << ": check failed: " << expr << " (" << a << " vs " << b << ")";
  if (!context.empty()) os << ": " << context;
  throw Error(os.str());
}
[[noreturn]] inline void fail(const char* file, int line, const char* expr,
                              const std::string& context) {
  std::ostringstream os;
  os << file << ":" << line << ": check failed: " << expr;
  if (!context.empty()) os << ": " << context;
  throw Error(os.str());
}
}  // namespace detail

}  // namespace xfed

#define XFED_CHECK(cond, ...)                                                       \
  do {                                                                              \
    if (!(cond)) ::xfed::detail::fail(__FILE__, __LINE__, #cond, std::string{__VA_ARGS__}); \
  } while (0)

#define XFED_CHECK_OP_(a, b, op, ...)                                                \
  do {                                                                               \
    const auto& xfed_a_ = (a);                                                       \
    const auto& xfed_b_ = (b);                                                       \
    if (!(xfed_a_ op xfed_b_))                                                       \
      ::xfed::detail::fail_compare(__FILE__, __LINE__, #a " " #op " " #b, xfed_a_, xfed_b_, \
                                   std::string{__VA_ARGS__});                        \
  } while (0)

#define XFED_CHECK_EQ(a, b, ...) XFED_CHECK_OP_(a, b, ==, __VA_ARGS__)
#define XFED_CHECK_NE(a, b, ...) XFED_CHECK_OP_(a, b, !=, __VA_ARGS__)
#define XFED_CHECK_LT(a, b, ...) XFED_CHECK_OP_(a, b, <, __VA_ARGS__)
#define XFED_CHECK_LE(a, b, ...) XFED_CHECK_OP_(a, b, <=, __VA_ARGS__)
#define XFED_CHECK_GT(a, b, ...) XFED_CHECK_OP_(a, b, >, __VA_ARGS__)
#define XFED_CHECK_GE(a, b, ...) XFED_CHECK_OP_(a, b, >=, __VA_ARGS__)
