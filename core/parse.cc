#include "core/parse.h"

#include <cctype>
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

SpecParts split_spec(const std::string& text, char sep) {
  const auto at = text.find(sep);
  if (at == std::string::npos) return {text, std::nullopt};
  return {text.substr(0, at), text.substr(at + 1)};
}

std::vector<std::string> split_items(const std::string& text, char sep) {
  std::vector<std::string> items;
  size_t start = 0;
  while (true) {
    const auto at = text.find(sep, start);
    items.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return items;
    start = at + 1;
  }
}

std::optional<std::vector<int64_t>> parse_int_list(const std::string& text, char sep, int64_t lo,
                                                   int64_t hi) {
  std::vector<int64_t> out;
  for (const auto& item : split_items(text, sep)) {
    int64_t v;
    if (!parse_int64(item, &v) || v < lo || v > hi) return std::nullopt;
    out.push_back(v);
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_key_values(
    const std::string& text, char sep) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : split_items(text, sep)) {
    const auto parts = split_spec(item, '=');
    if (parts.name.empty() || !parts.args) return std::nullopt;
    out.emplace_back(parts.name, *parts.args);
  }
  return out;
}

bool parse_quantity(const std::string& text, double* value, std::string* unit) {
  size_t end = text.size();
  while (end > 0 && std::isalpha(static_cast<unsigned char>(text[end - 1]))) --end;
  if (!parse_double(text.substr(0, end), value)) return false;
  *unit = text.substr(end);
  for (auto& c : *unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

std::string trim_blanks(const std::string& text) {
  size_t first = 0, last = text.size();
  while (first < last && std::isspace(static_cast<unsigned char>(text[first]))) ++first;
  while (last > first && std::isspace(static_cast<unsigned char>(text[last - 1]))) --last;
  return text.substr(first, last - first);
}

}  // namespace xfed
