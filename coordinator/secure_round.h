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
  // `support`: the round's shared positions (protocol::secagg_support); `clients`: the
  // federation's size (ids below it).
  SecureRound(const protocol::SecAggTask& task, uint64_t run_seed, uint32_t round, std::vector<int64_t> support,
              int64_t clients);
  const protocol::SecAggBounds& bounds() const { return bounds_; }
  secagg::CoordinatorSession& session() { return session_; }
  // Where each client that advertised is served (the steps go there).
  void advertised(int64_t client, int rank) { rank_of_[client] = rank; }
  const std::map<int64_t, int>& ranks() const { return rank_of_; }
  // The mean of the survivors' values as a flat delta of `total` floats (zero off the
  // support), or why nothing was unmasked; `*summands` is how many clients it averages.
  Result<at::Tensor> mean_delta(int64_t total, int64_t* summands) const;

 private:
  protocol::SecAggBounds bounds_;
  secagg::CoordinatorSession session_;
  std::vector<int64_t> support_;
  std::map<int64_t, int> rank_of_;
};

// --secure-aggregation's value: "on" (every default) or threshold=T,degree=K,range=R,bits=B
// (T >= 2, K even in [2, 1024] with T <= K, R in (0, 1e6], B in [1, 24]); unset T and K stay 0
// (the defaults below, per round). Defaults: range 0.1, bits 16 (bench/secure_aggregation.sh: a small range keeps the shared positions from releasing many rounds of error feedback at once). A usage error names the flag.
constexpr double kDefaultSecAggRange = 0.1;
constexpr int kDefaultSecAggBits = 16;
Result<protocol::SecAggTask> parse_secure_aggregation(const std::string& text);
// The same as text: what a run identity holds (every rank must agree).
std::string secure_aggregation_identity(const protocol::SecAggTask& task);

// k and t when --secure-aggregation leaves them out, for `n` clients a round: k the least even
// number >= 2 log2 n (SecAgg+'s O(log n)), t = k/2 + 1 (a majority of a client's neighbours).
uint32_t default_degree(int64_t n);
uint32_t default_threshold(uint32_t degree);
// m = bits + ceil(log2 n): the least ring in which n values of `bits` bits cannot wrap.
int ring_bits_for(int bits, int64_t n);

}  // namespace xfed::coordinator
