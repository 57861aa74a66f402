// Strict number parsing for specs and flags: the whole string must be a finite number.
#pragma once

#include <cmath>
#include <string>

namespace xfed {

inline bool parse_double(const std::string& s, double* v) {
  try {
    size_t used = 0;
    *v = std::stod(s, &used);
    return used == s.size() && std::isfinite(*v);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace xfed
