#include "core/parse.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace xfed {
namespace {

bool is_decimal_number_text(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return false;  // no blanks, hex, "nan", "inf"
  return true;
}

}  // namespace

bool parse_double(const std::string& s, double* v) {
  if (!is_decimal_number_text(s)) return false;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);  // overflow gives inf (refused), underflow ~0
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return false;
  *v = d;
  return true;
}

bool parse_int64(const std::string& s, int64_t* v) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '-' && s.size() > 1))) return false;
  char* end = nullptr;
  errno = 0;
  const long long x = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || end != s.c_str() + s.size()) return false;
  *v = static_cast<int64_t>(x);
  return true;
}

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string exact_number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string range_text(double lo, double hi, bool lo_open) {
  return std::string(lo_open ? "(" : "[") + short_number(lo) + ", " + short_number(hi) + "]";
}

std::string check_number(const std::string& text, double lo, double hi, bool lo_open) {
  double v;
  if (!parse_double(text, &v)) return "'" + text + "' is not a finite number";
  if (!in_range(v, lo, hi, lo_open))
    return "'" + text + "': expected a number in " + range_text(lo, hi, lo_open);
  return "";
}

std::string check_whole_number(const std::string& text, int64_t lo, int64_t hi) {
  int64_t v;
  if (!parse_int64(text, &v) || v < lo || v > hi)
    return "'" + text + "': expected a whole number in [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]";
  return "";
}

}  // namespace xfed
