// A run identity: the settings that define a run, as "key=value" lines in a fixed order
// (data, then model, then training; app/resume_check.h builds it). A checkpoint records it,
// and before round 1 the coordinator sends it to every worker; both compare with
// first_difference, which names the first key whose values differ, so a user learns which
// flag to fix ("--lr is '0.1' there, '0.05' here").
// A value of the other identity of the form "PREFIX=*" (PREFIX ending in '=') stands for
// any value of the reference that begins with PREFIX=: a worker that runs whatever
// TorchScript archive its coordinator sends says `--model=torchscript sha256=*`.
#pragma once

#include <optional>
#include <string>

namespace xfed {

struct IdentityDifference {
  std::string key;
  std::string reference_value;  // "(not recorded)" when the reference lacks the key
  std::string other_value;      // likewise for the other identity
};

// Keys in the reference's order, then keys only the other identity has.
std::optional<IdentityDifference> first_difference(const std::string& reference, const std::string& other);
// The identity without the line of `key` (if any).
std::string without_key(const std::string& identity, const std::string& key);

}  // namespace xfed
