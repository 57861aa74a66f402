// Aggregation (protocol step 5, first half): from a round's decoded client updates to the
// one delta the server optimizer applies. An aggregation rule is a registered piece
// (`--aggregate NAME[:ARG]`); the built-in `mean` — the sample-weighted mean, summed in
// client-id order in float64 so that the result does not depend on arrival order or thread
// count — and the robust rules (robust_aggregation.h) register through register_aggregator
// like a user's rule (examples/geomedian_aggregator.cc).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace xfed::coordinator {

struct ClientUpdate {
  int64_t client = 0;
  int64_t samples = 0;
  at::Tensor delta;  // 1-D float32, the flat state layout
};

// A rule: the updates of the clients that answered, sorted by client id, at least one, each
// with samples > 0, finite and of the same length; returns a 1-D float32 delta of that
// length, or Status::too_few when the rule cannot decide with so few (the round is then
// skipped: the model stays as it is, and the round's metrics say `skipped`). It must be a
// pure function of its input (the same model on every transport).
using Aggregator = std::function<Result<at::Tensor>(const std::vector<ClientUpdate>& updates)>;
// Makes a rule from the text after "NAME:" (nullopt: none given); a bad argument is a
// usage error, which --aggregate reports.
using AggregatorFactory = std::function<Result<Aggregator>(const std::optional<std::string>& arg)>;

// Adds a rule under `name` for --aggregate; refuses a taken or malformed name.
Status register_aggregator(const std::string& name, AggregatorFactory factory);
// "NAME" or "NAME:ARG" as given to --aggregate; unknown names list the registered ones.
Result<Aggregator> make_aggregator(const std::string& spec);
// The aggregators a program registered beyond the built-ins (its run identity names them).
std::vector<std::string> added_aggregator_names();

// sum_k n_k delta_k / sum_k n_k as float32 (the built-in `mean`). Sorts `updates` by client id.
at::Tensor weighted_mean(std::vector<ClientUpdate>& updates);

}  // namespace xfed::coordinator
