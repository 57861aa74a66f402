// Secure aggregation at the coordinator (#19): the state of one round's SecAgg+ steps
// (secagg/session.h), between the training phase — whose answers are key adverts, not
// updates — and the unmasked sum. What it can hold for one client is that client's advert,
// its sealed shares (for others to open), its masked vector and the shares it hands over:
// never a client's values. The only float vector it gives out is the round's decoded sum,
// scattered back onto the round's shared positions (sum_delta). Pure bookkeeping; the
// coordinator's steps (secure_aggregation.cc) move the frames.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/state_layout.h"
#include "protocol/messages.h"
#include "protocol/secagg_messages.h"
#include "secagg/session.h"

namespace xfed::coordinator {

class SecureRound {
 public:
  // A training round's: `support` the round's shared positions (protocol::secagg_support);
  // `clients`: the federation's size (ids below it).
  SecureRound(const protocol::SecAggTask& task, uint64_t run_seed, uint32_t round, std::vector<int64_t> support,
              int64_t clients);
  // A stats round's: `length` values (pruning/masked_stats.h) summed, no positions.
  static SecureRound for_statistics(const protocol::SecAggTask& task, uint64_t run_seed, uint32_t round,
                                    size_t length, int64_t clients);
  bool statistics() const { return statistics_; }
  const protocol::SecAggBounds& bounds() const { return bounds_; }
  secagg::CoordinatorSession& session() { return session_; }
  // Where each client that advertised is served (the steps go there).
  void advertised(int64_t client, int rank) { rank_of_[client] = rank; }
  const std::map<int64_t, int>& ranks() const { return rank_of_; }
  // The mean of the survivors' values as a flat delta of `total` floats (zero off the
  // support), or why nothing was unmasked; `*summands` is how many clients it averages.
  Result<at::Tensor> mean_delta(int64_t total, int64_t* summands) const;
  // The survivors' sum, or why nothing was unmasked; `*summands` is how many clients it adds.
  Result<std::vector<double>> sum(int64_t* summands) const;

 private:
  SecureRound(secagg::RoundParams params, std::vector<int64_t> support, int64_t clients, bool statistics);

  protocol::SecAggBounds bounds_;
  secagg::CoordinatorSession session_;
  std::vector<int64_t> support_;
  std::map<int64_t, int> rank_of_;
  bool statistics_ = false;
};

// --secure-aggregation's value: "on" (every default) or
// threshold=T,degree=K,range=R,bits=B,stats_range=A (T >= 2, K even in [2, 1024] with T <= K,
// R in (0, 1e6], B in [1, 24], A in (0, 1e6]); unset T and K stay 0 (the defaults below, per
// round). Defaults: range 0.1, bits 16 (bench/secure_aggregation.sh: a small range keeps the
// shared positions from releasing many rounds of error feedback at once), stats_range 16
// (activations clipped to [-16, 16] in masked class statistics; pruning/masked_stats.h). A
// usage error names the flag.
constexpr double kDefaultSecAggRange = 0.1;
constexpr int kDefaultSecAggBits = 16;
constexpr double kDefaultSecAggStatsRange = 16.0;
struct SecureAggregationSpec {
  protocol::SecAggTask task;  // the training rounds' block (k, t, R, B; ring and noise per round)
  double stats_range = kDefaultSecAggStatsRange;  // A, for the stats rounds' block
};
Result<SecureAggregationSpec> parse_secure_aggregation(const std::string& text);
// The same as text: what a run identity holds (every rank must agree).
std::string secure_aggregation_identity(const SecureAggregationSpec& spec);

// k and t when --secure-aggregation leaves them out, for `n` clients a round: k the least even
// number >= 2 log2 n (SecAgg+'s O(log n)), t = k/2 + 1 (a majority of a client's neighbours).
uint32_t default_degree(int64_t n);
uint32_t default_threshold(uint32_t degree);
// m = bits + ceil(log2 n): the least ring in which n values of `bits` bits cannot wrap.
int ring_bits_for(int bits, int64_t n);
// A stats round's bits per value for `n` clients: as many as a ring of 32 bits holds (31 at
// most); pruning/masked_stats.h says what they buy.
int stats_bits(int64_t n);

}  // namespace xfed::coordinator
