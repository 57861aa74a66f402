// Strict number parsing for everything that comes from outside (flags, config files, specs
// such as --compress or --prune, CSV fields): the whole string must be one decimal number,
// finite, and in range. NaN and inf never pass (a `<`/`>` range check lets NaN through, so
// every check here is written as "inside", never as "not outside"). Range messages print
// bounds in short form ("[1e-06, 0.95]", never DBL_MAX in 310 digits).
#pragma once

#include <cstdint>
#include <string>

namespace xfed {

// A finite double spelled in decimal (no leading blanks, no hex, no "nan"/"inf").
bool parse_double(const std::string& s, double* v);
// A decimal integer that fits int64 (no sign other than '-', no blanks, no exponent).
bool parse_int64(const std::string& s, int64_t* v);

// A number in short form: 1e+06, 0.95, 3 (%.6g; exact enough for messages).
std::string short_number(double v);
// The shortest of %.15g / %.17g that reads back as exactly v (specs that travel as text).
std::string exact_number(double v);
// "[lo, hi]" or "(lo, hi]" when lo itself is excluded.
std::string range_text(double lo, double hi, bool lo_open = false);

// v in [lo, hi] (or (lo, hi]); false for NaN.
inline bool in_range(double v, double lo, double hi, bool lo_open = false) {
  return (lo_open ? v > lo : v >= lo) && v <= hi;
}

// The checks of a flag's value as text: "" when `text` is a finite number in range, else
// the reason ("'nan' is not a finite number", "'-5': expected a number in (0, 1e+06]").
std::string check_number(const std::string& text, double lo, double hi, bool lo_open = false);
std::string check_whole_number(const std::string& text, int64_t lo, int64_t hi);

}  // namespace xfed
