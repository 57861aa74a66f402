// The attack bench (`--attack KIND:K[,scale=S]`, simulate and mpi only): K clients, chosen
// by the seed, are hostile, so that defences (robust_aggregation.h) are measured rather than
// assumed. Model-poisoning kinds rewrite the hostile clients' decoded updates before
// aggregation, knowing every honest update of the round (the strongest, omniscient attacker
// of the papers); the crafted update is what a client could send, since a frame names its own
// codecs. Data poisoning (`labelflip`) is done on the hostile clients' data (app/run_setup).
//
//   signflip  -S * own update (S = 1)                 scaled  S * own update (S = 10)
//   gaussian  N(0, S^2) per coordinate (S = 1)        ipm     -S * mean of honest (S = 10; Xie et al. 2020
//                                                             use 0.1 against median and Krum)
//   alie      mean - z * std of honest, per coordinate, z from Baruch et al. 2019 (S: z)
//   labelflip labels y -> classes - 1 - y on the hostile clients' data
//   stats     in DI statistics rounds, forged class statistics (forge_statistics): a seeded
//             half of the units gets class means S x RMS activation apart and a small spread,
//             the other half nothing, so that random units look discriminative (S = 10)
//
// Pure: the result depends on (seed, round, the updates) only, so every transport gives one model.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator/aggregator.h"
#include "core/status.h"
#include "pruning/evidence.h"

namespace xfed::coordinator {

struct AttackSpec {
  enum class Kind { kSignflip, kScaled, kGaussian, kAlie, kIpm, kLabelflip, kStats };
  Kind kind = Kind::kSignflip;
  int64_t hostile = 0;          // K
  std::optional<double> scale;  // S (each kind has its default)

  // "KIND:K[,scale=S]"; a bad spec is a usage error naming --attack.
  static Result<AttackSpec> parse(const std::string& text);
  bool poisons_data() const { return kind == Kind::kLabelflip; }
  bool poisons_statistics() const { return kind == Kind::kStats; }
  bool rewrites_updates() const { return !poisons_data() && !poisons_statistics(); }
  std::string name() const;
};

// The hostile clients of a run: K of `clients`, chosen by the seed alone.
std::set<int64_t> hostile_clients(int64_t clients, int64_t k, uint64_t seed);

// Rewrites the updates of hostile clients (in `updates`, client-id order) for round `round`.
void apply_attack(const AttackSpec& spec, const std::set<int64_t>& hostile, uint64_t seed, int64_t round,
                  std::vector<ClientUpdate>& updates);

// --attack stats: replaces a hostile client's class statistics of every tap by forged ones
// that pass ClassStats::check_consistent (its own counts; second moments that match the
// forged sums): for a seeded half J of the units, class means mu_jl = S a r_jl (r = +-1 per
// unit and class, a the client's RMS activation), for the others 0; every unit a within-class
// spread of a/10. Pure in (seed, round, client).
void forge_statistics(const AttackSpec& spec, uint64_t seed, int64_t round, int64_t client,
                      pruning::Evidence& evidence);

// ALIE's z for n answering clients of which `hostile` are hostile: the largest z for which
// the crafted value stays within the honest majority, Phi^-1((n - s) / n), s = floor(n/2 + 1) - hostile.
double alie_z(int64_t n, int64_t hostile);

}  // namespace xfed::coordinator
