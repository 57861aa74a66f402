#include "core/run_identity.h"

#include <map>
#include <utility>
#include <vector>

#include "core/parse.h"

namespace xfed {
namespace {

constexpr const char* kMissing = "(not recorded)";

// (key, value) per "key=value" line, in the identity's order.
std::vector<std::pair<std::string, std::string>> lines_of(const std::string& identity) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& line : split_items(identity, '\n')) {
    const auto [key, value] = split_spec(line, '=');
    if (value) out.emplace_back(key, *value);
  }
  return out;
}

// `there` (the other identity's value) is `here`, or a "PREFIX=*" that `here` begins with.
bool same_value(const std::string& here, const std::string& there) {
  if (there == here) return true;
  const size_t n = there.size();
  return n >= 2 && there.compare(n - 2, 2, "=*") == 0 && here.compare(0, n - 1, there, 0, n - 1) == 0;
}

}  // namespace

std::optional<IdentityDifference> first_difference(const std::string& reference, const std::string& other) {
  const auto mine = lines_of(reference), theirs = lines_of(other);
  const std::map<std::string, std::string> mine_by_key(mine.begin(), mine.end());
  const std::map<std::string, std::string> theirs_by_key(theirs.begin(), theirs.end());
  for (const auto& [key, value] : mine) {
    const auto it = theirs_by_key.find(key);
    const std::string there = it == theirs_by_key.end() ? kMissing : it->second;
    if (!same_value(value, there)) return IdentityDifference{key, value, there};
  }
  for (const auto& [key, value] : theirs)
    if (!mine_by_key.count(key)) return IdentityDifference{key, kMissing, value};
  return std::nullopt;
}

std::string without_key(const std::string& identity, const std::string& key) {
  std::string out;
  for (const auto& [k, value] : lines_of(identity))
    if (k != key) out += k + "=" + value + "\n";
  return out;
}

}  // namespace xfed
