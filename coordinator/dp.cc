#include "coordinator/dp.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/check.h"
#include "core/parse.h"
#include "core/privacy_noise.h"
#include "core/rng.h"
#include "pruning/private_stats.h"

namespace xfed::coordinator {
namespace {

constexpr double kMaxSpecValue = 1e6;

bool parse_in(const std::string& text, double lo, double hi, bool lo_open, double* v) {
  return parse_double(text, v) && in_range(*v, lo, hi, lo_open);
}

}  // namespace

Result<DpSpec> DpSpec::parse(const std::string& text) {
  const std::string usage = "--dp '" + text +
                            "': expected clip=C,noise=Z[,mode=central|local|distributed][,adaptive=QUANTILE][,delta=D][,target_epsilon=E]"
                            "[,seed=S][,stats_noise=Z_S][,stats_clip=R] with C, Z, Z_S and R in (0, 1e6], QUANTILE and D in "
                            "(0, 1), E in (0, 1e6], S a whole number";
  const auto items = parse_key_values(text, ',');
  if (!items) return Status::usage(usage);
  DpSpec spec;
  bool has_clip = false, has_noise = false;
  std::vector<std::string> seen;
  for (const auto& [key, value] : *items) {
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return Status::usage("--dp '" + text + "': " + key + " given twice");
    seen.push_back(key);
    double v = 0;
    bool ok = false;
    if (key == "clip") {
      ok = has_clip = parse_in(value, 0, kMaxSpecValue, true, &spec.clip);
    } else if (key == "noise") {
      ok = has_noise = parse_in(value, 0, kMaxSpecValue, true, &spec.noise);
    } else if (key == "adaptive") {
      ok = parse_in(value, 0, 1, true, &v) && v < 1;
      spec.adaptive = v;
    } else if (key == "delta") {
      ok = parse_in(value, 0, 1, true, &spec.delta) && spec.delta < 1;
    } else if (key == "target_epsilon") {
      ok = parse_in(value, 0, kMaxSpecValue, true, &v);
      spec.target_epsilon = v;
    } else if (key == "mode") {
      ok = value == "central" || value == "local" || value == "distributed";
      spec.local = value == "local";
      spec.distributed = value == "distributed";
    } else if (key == "stats_noise") {
      ok = parse_in(value, 0, kMaxSpecValue, true, &v);
      spec.stats_noise = v;
    } else if (key == "stats_clip") {
      ok = parse_in(value, 0, kMaxSpecValue, true, &spec.stats_clip);
    } else if (key == "seed") {
      int64_t s = 0;
      ok = parse_int64(value, &s) && s >= 0;
      spec.seed = static_cast<uint64_t>(s);
    }
    if (!ok) return Status::usage(usage);
  }
  if (!has_clip || !has_noise) return Status::usage(usage);
  if (spec.clients_noise() && (spec.stats_noise || spec.stats_clip != kDefaultStatsClip))
    return Status::usage("--dp '" + text + "': stats_noise and stats_clip are for DI pruning under central --dp; "
                         "mode=local and mode=distributed do not prune");
  if (spec.clients_noise() && spec.adaptive)
    return Status::usage("--dp '" + text + "': adaptive clipping counts the clipped updates at the coordinator: "
                         "central mode only");
  return spec;
}

std::string DpSpec::identity() const {
  std::ostringstream os;
  os << "clip=" << exact_number(clip) << ",noise=" << exact_number(noise);
  if (local) os << ",mode=local";
  if (distributed) os << ",mode=distributed";
  if (adaptive) os << ",adaptive=" << exact_number(*adaptive);
  os << ",delta=" << exact_number(delta);
  if (target_epsilon) os << ",target_epsilon=" << exact_number(*target_epsilon);
  if (stats_noise) os << ",stats_noise=" << exact_number(*stats_noise);
  if (stats_clip != kDefaultStatsClip) os << ",stats_clip=" << exact_number(stats_clip);
  return os.str();
}

PrivateAggregation::PrivateAggregation(const DpSpec& spec, int64_t clients, double fraction, double stats_fraction)
    : spec_(spec),
      clients_(clients),
      q_(fraction),
      q_stats_(stats_fraction),
      accountant_(fraction, spec.noise, spec.delta),
      stats_accountant_(stats_fraction, spec.stats_noise_multiplier(), spec.delta),
      secret_(spec.seed ? secret_of_seed(*spec.seed) : random_secret()),
      clip_(spec.clip) {}

Status check_one_round_fits(const DpSpec& spec, const PrivacySpent& one_round, const std::string& how) {
  if (!spec.target_epsilon || one_round.epsilon <= *spec.target_epsilon) return Status::ok();
  return Status::usage("--dp target_epsilon=" + exact_number(*spec.target_epsilon) + ": one round alone spends epsilon " +
                       short_number(one_round.epsilon) + " (" + how + ")");
}

Result<PrivateAggregation> PrivateAggregation::make(const DpSpec& spec, int64_t clients, double fraction,
                                                    double stats_fraction) {
  if (!(clients >= 1 && fraction > 0 && fraction <= 1 && stats_fraction >= 0 && stats_fraction <= 1))
    return Status::usage("--dp: needs --clients >= 1 and --fraction in (0, 1]");
  PrivateAggregation dp(spec, clients, fraction, stats_fraction);
  if (spec.adaptive && !(2 * dp.count_noise_std() > spec.noise))
    return Status::usage("--dp adaptive=" + exact_number(*spec.adaptive) + ": the clipped-count noise (std " +
                         short_number(dp.count_noise_std()) + " = expected clients / 20) must be above noise/2 = " +
                         short_number(spec.noise / 2) + "; sample more clients per round or drop adaptive");
  if (auto st = check_one_round_fits(spec, dp.spent(1), "raise noise, lower --fraction or raise the target"); !st)
    return st;
  return dp;
}

namespace {

// Each of `clients` with probability q, from the keystream of `key`; sorted.
std::vector<int64_t> poisson_sample(int64_t clients, double q, const SecretKey& key) {
  const auto u = secret_uniforms(static_cast<size_t>(clients), key);
  std::vector<int64_t> sampled;
  for (int64_t c = 0; c < clients; ++c)
    if (q >= 1 || u[static_cast<size_t>(c)] < q) sampled.push_back(c);
  return sampled;
}

}  // namespace

std::vector<int64_t> PrivateAggregation::sample(int64_t round) const {
  return poisson_sample(clients_, q_, derive_secret(secret_, kStreamDpSampling, static_cast<uint64_t>(round)));
}

std::vector<int64_t> PrivateAggregation::sample_stats(int64_t round) const {
  return poisson_sample(clients_, q_stats_, derive_secret(secret_, kStreamDpStatsSampling, static_cast<uint64_t>(round)));
}

double PrivateAggregation::stats_noise_std(int64_t taps) const {
  return spec_.stats_noise_multiplier() * std::sqrt(3.0 * static_cast<double>(taps));
}

pruning::Evidence PrivateAggregation::private_evidence(const std::map<int64_t, pruning::Evidence>& stats,
                                                       const std::vector<int64_t>& tap_units, int64_t classes,
                                                       int64_t round) {
  const auto gathered = std::count_if(tap_units.begin(), tap_units.end(), [](int64_t m) { return m > 0; });
  const double sigma = stats_noise_std(gathered);
  pruning::Evidence out;
  out.taps.resize(tap_units.size());
  for (size_t t = 0; t < tap_units.size(); ++t) {
    const int64_t units = tap_units[t];
    if (units == 0) continue;
    const double clip = spec_.stats_clip * std::sqrt(static_cast<double>(units));
    auto sum = pruning::ClassStats::zeros(units, classes);
    for (const auto& [client, e] : stats) {  // client order
      if (t >= e.taps.size() || !e.taps[t]) continue;
      sum += pruning::bounded_contribution(*e.taps[t], clip);
    }
    const auto key = derive_secret(secret_, kStreamDpStatsNoise, static_cast<uint64_t>(round), t);
    int64_t drawn = 0;  // one keystream per tap, consumed in order
    const auto normals = secret_gaussian(classes + units * classes + units * (units + 1) / 2, 1.0, key);
    pruning::add_private_noise(sum, sigma, clip, [&](int64_t n) {
      auto draws = at::from_blob(const_cast<double*>(normals.data() + drawn), {n}, at::kDouble).clone();
      drawn += n;
      return draws;
    });
    pruning::make_usable(sum, sigma);
    out.taps[t] = std::move(sum);
  }
  ++stats_rounds_;
  return out;
}

PrivacySpent PrivateAggregation::spent(int64_t rounds, int64_t stats_rounds) const {
  return accountant_.spent_with(rounds, stats_accountant_, stats_rounds);
}

double PrivateAggregation::update_noise_multiplier() const {
  if (!spec_.adaptive) return spec_.noise;
  const double count_term = 1 / (4 * count_noise_std() * count_noise_std());
  return 1 / std::sqrt(1 / (spec_.noise * spec_.noise) - count_term);
}

at::Tensor PrivateAggregation::aggregate(const std::vector<ClientUpdate>& updates, int64_t numel, int64_t round) {
  const double c = clip_;
  auto sum = at::zeros({numel}, at::kDouble);
  int64_t within = 0;  // updates with norm <= C (adaptive clipping's count)
  for (const auto& u : updates) {  // client-id order
    XFED_CHECK_EQ(u.delta.numel(), numel, "--dp: an update of another length");
    const double norm = l2_norm(u.delta);
    within += norm <= c;
    const double scale = norm > c ? c / norm : 1.0;
    sum.add_(u.delta.to(at::kDouble), scale);
  }
  const auto noise = secret_gaussian(numel, update_noise_multiplier() * c,
                                     derive_secret(secret_, kStreamDpNoise, static_cast<uint64_t>(round)));
  double* s = sum.data_ptr<double>();
  for (int64_t j = 0; j < numel; ++j) s[j] += noise[static_cast<size_t>(j)];
  if (spec_.adaptive) {
    const double noisy_count =
        static_cast<double>(within) +
        secret_gaussian(1, count_noise_std(), derive_secret(secret_, kStreamDpClipCount, static_cast<uint64_t>(round)))[0];
    const double below = noisy_count / expected_clients();
    clip_ = c * std::exp(-kAdaptiveClipLr * (below - *spec_.adaptive));
  }
  return (sum / expected_clients()).to(at::kFloat);
}

int64_t PrivateAggregation::last_round_within_target(int64_t rounds,
                                                     const std::function<int64_t(int64_t)>& stats_through) const {
  if (!spec_.target_epsilon) return rounds;
  int64_t lo = 0, hi = rounds;  // ε grows with the rounds: the last within is found by bisection
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (spent(mid, stats_through ? stats_through(mid) : 0).epsilon <= *spec_.target_epsilon)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

void PrivateAggregation::save(ByteWriter& w) const {
  w.put_bytes(secret_.data(), secret_.size());
  w.put_f64(clip_);
  w.put_u64(static_cast<uint64_t>(stats_rounds_));
}

Status PrivateAggregation::restore(ByteReader& r) {
  SecretKey secret;
  double clip = 0;
  if (!r.get_bytes(secret.data(), secret.size()) || !r.get_f64(&clip) || !(clip > 0 && std::isfinite(clip)))
    return Status::corruption("the --dp state is malformed");
  uint64_t stats_rounds = 0;  // absent in checkpoints from before DI pruning under --dp
  if (!r.done() && (!r.get_u64(&stats_rounds) || stats_rounds > (uint64_t{1} << 40)))
    return Status::corruption("the --dp state is malformed");
  secret_ = secret;
  clip_ = clip;
  stats_rounds_ = static_cast<int64_t>(stats_rounds);
  return Status::ok();
}

LocalAccounting::LocalAccounting(const DpSpec& spec, int64_t clients)
    : spec_(spec), per_client_(1.0, spec.noise / 2, spec.delta), rounds_of_(static_cast<size_t>(clients), 0) {}

Result<LocalAccounting> LocalAccounting::make(const DpSpec& spec, int64_t clients) {
  if (clients < 1) return Status::usage("--dp: needs --clients >= 1");
  LocalAccounting local(spec, clients);
  if (auto st = check_one_round_fits(spec, local.per_client_.spent(1), "raise noise or the target"); !st) return st;
  return local;
}

void LocalAccounting::count(const std::vector<int64_t>& sampled) {
  for (int64_t c : sampled) most_ = std::max(most_, ++rounds_of_.at(static_cast<size_t>(c)));
}

bool LocalAccounting::would_exceed_target(const std::vector<int64_t>& sampled) const {
  if (!spec_.target_epsilon) return false;
  int64_t most = most_;
  for (int64_t c : sampled) most = std::max(most, rounds_of_.at(static_cast<size_t>(c)) + 1);
  return per_client_.spent(most).epsilon > *spec_.target_epsilon;
}

}  // namespace xfed::coordinator
