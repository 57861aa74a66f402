// Client-level differential privacy, central model (DP-FedAvg, McMahan et al. 2018):
// `--dp clip=C,noise=Z[,adaptive=QUANTILE][,delta=D][,target_epsilon=E][,seed=S]`.
//
// Each round every client is in the round with probability q = --fraction, independently
// (Poisson sampling, what the accountant assumes). The coordinator clips each *decoded*
// update to L2 norm C — so the sensitivity holds whatever compression and error feedback did
// on the client — sums them in client-id order, adds N(0, (Z·C)^2) to each coordinate and
// divides by the expected number of clients q·N (not by those that answered: a client that
// fails or is late only lowers the sum). Every round releases its noised sum, even with no
// update at all, so rounds are never skipped under --dp. The server optimizer's step is
// post-processing.
//
// Adaptive clipping (Andrew et al. 2021, "Differentially private learning with adaptive
// clipping"): C follows the QUANTILE of the update norms, C <- C·exp(-0.2 (b - QUANTILE)),
// b the fraction of clipped-count bits 1[norm <= C] with N(0, σ_b^2) noise, σ_b = qN/20; the
// update noise becomes Z_Δ = (Z^-2 - (2σ_b)^-2)^-1/2, so that the pair costs what Z alone
// does (their Theorem 1).
//
// The randomness that privacy rests on — which clients are sampled, the noise — comes from
// a 32-byte secret (the OS's random source, or `seed=S` for experiments that must repeat)
// through ChaCha20 (core/crypto.h), never from the run seed, which the identity check sends to
// every worker. The secret and C are checkpointed, so a resumed run is the same run.
//
// What ε covers: the sequence of models (and anything computed from them alone). The metrics
// file's per-round client counts and train_loss are the operator's, not covered.
//
// DI pruning under central --dp (`stats_noise=Z_S`, `stats_clip=R`): a statistics round
// asks each client with probability q_s (the pruning's stats_fraction, or q) from the secret;
// clients clip each activation vector to root mean square R (TrainTask::stats_clip_rms); the
// coordinator bounds each client's statistics (a per-sample average, each part clipped) and
// adds Gaussian noise of multiplier Z_S (pruning/private_stats.h) — a second sampled Gaussian
// mechanism, composed with the training rounds in the same RDP budget. Input statistics are
// gathered afresh in every statistics round (never kept per client).
//
// `mode=local` (LocalAccounting below): each client clips its own update to C and adds
// N(0, (Z·C)^2) before compression (core/privacy_noise.h), from its own process's secret; the
// coordinator, no longer trusted with updates, aggregates what arrives with any rule. Clients
// are sampled as without --dp (the coordinator knows who took part: no amplification).
// `mode=distributed` (with --secure-aggregation): the same accounting with Z the noise of the
// *sum*, which each client contributes a share of; the coordinator only ever sees the sum.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/rdp_accountant.h"
#include "core/coding.h"
#include "core/crypto.h"
#include "core/status.h"
#include "pruning/evidence.h"

namespace xfed::coordinator {

constexpr double kDefaultStatsClip = 1.0;

struct DpSpec {
  double clip = 0;                        // C, the initial one under adaptive
  double noise = 0;                       // Z, the noise multiplier
  std::optional<double> adaptive;         // target quantile of the update norms
  double delta = 1e-5;
  std::optional<double> target_epsilon;   // stop before a round would exceed it
  std::optional<uint64_t> seed;           // the noise's secret made from S (experiments only)
  bool local = false;                     // mode=local: clients noise their own updates
  // mode=distributed (with --secure-aggregation): each client adds its share of the noise,
  // N(0, (Z·C)^2 / m) for m = the survivors a round needs, so that the masked sum the
  // coordinator unmasks carries N(0, (Z·C)^2) or more; accounted as mode=local is.
  bool distributed = false;
  bool clients_noise() const { return local || distributed; }
  std::optional<double> stats_noise;      // Z_S of the DI statistics (Z when not given)
  double stats_clip = kDefaultStatsClip;  // R: activation vectors' RMS bound in the statistics

  double stats_noise_multiplier() const { return stats_noise.value_or(noise); }

  // The text of --dp; a bad spec is a usage error naming --dp.
  static Result<DpSpec> parse(const std::string& text);
  // The spec without seed= (what the run identity records: workers see it).
  std::string identity() const;
};

constexpr double kAdaptiveClipLr = 0.2;          // η_C of Andrew et al.
constexpr double kAdaptiveCountNoiseShare = 20;  // σ_b = expected clients / this

// A usage error naming --dp when `target_epsilon` is below what one round spends.
Status check_one_round_fits(const DpSpec& spec, const PrivacySpent& one_round, const std::string& how);

class PrivateAggregation {
 public:
  // `clients` N, `fraction` q, `stats_fraction` q_s of the DI statistics rounds (0: the run
  // has none): a usage error when the spec cannot work with them (adaptive clipping whose
  // count noise would leave no budget for the update).
  static Result<PrivateAggregation> make(const DpSpec& spec, int64_t clients, double fraction,
                                         double stats_fraction = 0);

  // The clients of `round`: each with probability q, from the secret; sorted.
  std::vector<int64_t> sample(int64_t round) const;
  // The round's noised mean of clipped updates (client-id order), `numel` values; updates C
  // under adaptive clipping. `updates` may be empty.
  at::Tensor aggregate(const std::vector<ClientUpdate>& updates, int64_t numel, int64_t round);
  double clip() const { return clip_; }  // C of the next round
  // The clients asked for statistics in round `round`: each with probability q_s; sorted.
  std::vector<int64_t> sample_stats(int64_t round) const;
  // One statistics round's release: the sum of the clients' bounded statistics (client
  // order) plus noise, made usable for DI. tap_units[t]: units of tap t, 0 for a tap not
  // gathered. Counts the round.
  pruning::Evidence private_evidence(const std::map<int64_t, pruning::Evidence>& stats,
                                     const std::vector<int64_t>& tap_units, int64_t classes, int64_t round);
  int64_t stats_rounds() const { return stats_rounds_; }
  // The noise std of a statistics round in bounded units: Z_S·√(3T), T taps gathered.
  double stats_noise_std(int64_t taps) const;

  // (ε, δ) after `rounds` training rounds and `stats_rounds` statistics rounds.
  PrivacySpent spent(int64_t rounds, int64_t stats_rounds = 0) const;
  // The last round r <= `rounds` with ε(r, stats_through(r)) <= target_epsilon (`rounds`
  // without a target); stats_through(r): the statistics rounds up to round r (a bound).
  int64_t last_round_within_target(int64_t rounds,
                                   const std::function<int64_t(int64_t)>& stats_through = nullptr) const;
  const DpSpec& spec() const { return spec_; }
  double expected_clients() const { return q_ * static_cast<double>(clients_); }
  double update_noise_multiplier() const;  // Z_Δ (Z without adaptive clipping)

  // The state a resumed run needs: the secret, C and the statistics rounds.
  void save(ByteWriter& w) const;
  Status restore(ByteReader& r);

 private:
  PrivateAggregation(const DpSpec& spec, int64_t clients, double fraction, double stats_fraction);
  double count_noise_std() const { return expected_clients() / kAdaptiveCountNoiseShare; }

  DpSpec spec_;
  int64_t clients_;
  double q_;
  double q_stats_;
  RdpAccountant accountant_;
  RdpAccountant stats_accountant_;
  SecretKey secret_;
  double clip_;
  int64_t stats_rounds_ = 0;
};

// mode=local: the privacy each client has spent. A client sampled in k rounds released k
// Gaussian mechanisms of sensitivity 2C (its data replaced by any other moves its clipped
// update by at most 2C) and noise std Z·C: RDP 2kα/Z², i.e. RdpAccountant(q = 1, Z/2). The
// run reports the most-sampled client's (ε, δ).
class LocalAccounting {
 public:
  static Result<LocalAccounting> make(const DpSpec& spec, int64_t clients);
  // One round's sampled clients (before it runs).
  void count(const std::vector<int64_t>& sampled);
  // Whether counting `sampled` would take a client past target_epsilon.
  bool would_exceed_target(const std::vector<int64_t>& sampled) const;
  PrivacySpent spent() const { return per_client_.spent(most_); }
  const DpSpec& spec() const { return spec_; }

 private:
  LocalAccounting(const DpSpec& spec, int64_t clients);
  DpSpec spec_;
  RdpAccountant per_client_;
  std::vector<int64_t> rounds_of_;  // per client: rounds it was sampled in
  int64_t most_ = 0;
};

}  // namespace xfed::coordinator
