// The one strict parser of everything that comes from outside (flags, config files, specs
// such as --partition, --strategy, --compress, --prune, --link, --widths, CSV fields).
//
// Numbers: the whole string must be one decimal number, finite, and in range. NaN and inf
// never pass (a `<`/`>` range check lets NaN through, so every check here is written as
// "inside", never as "not outside"). Range messages print bounds in short form ("[1e-06,
// 0.95]", never DBL_MAX in 310 digits).
// Specs: "NAME[:ARGS]", lists "A,B,C", "KEY=VALUE" items and quantities "12.5mbit" are split
// here, and every piece is kept: an empty item ("a,,b", "a,") reaches the caller, which
// refuses it, instead of being skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// "NAME" or "NAME<sep>ARGS", split at the first `sep`; args is empty without one.
struct SpecParts {
  std::string name;
  std::optional<std::string> args;
};
SpecParts split_spec(const std::string& text, char sep = ':');
// Items between separators, empty ones included; "" gives one empty item.
std::vector<std::string> split_items(const std::string& text, char sep);
// Whole numbers in [lo, hi] separated by `sep` ("300,100", "3x32x32"); nullopt if any item
// is not one (or an item is empty).
std::optional<std::vector<int64_t>> parse_int_list(const std::string& text, char sep, int64_t lo,
                                                   int64_t hi);
// "KEY=VALUE" items separated by `sep`; nullopt if an item has no '=' or an empty key.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_key_values(
    const std::string& text, char sep = ',');
// A decimal number followed directly by a unit of letters, "12.5mbit" -> 12.5 and "mbit"
// (the unit in lower case); false unless the number part passes parse_double.
bool parse_quantity(const std::string& text, double* value, std::string* unit);
// Without leading and trailing blanks.
std::string trim_blanks(const std::string& text);

}  // namespace xfed
