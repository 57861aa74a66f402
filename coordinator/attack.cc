#include "coordinator/attack.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/check.h"
#include "core/parse.h"
#include "core/rng.h"

namespace xfed::coordinator {
namespace {

using Kind = AttackSpec::Kind;

const std::vector<std::pair<std::string, Kind>>& kinds() {
  static const std::vector<std::pair<std::string, Kind>> k{
      {"signflip", Kind::kSignflip}, {"scaled", Kind::kScaled}, {"gaussian", Kind::kGaussian},
      {"alie", Kind::kAlie},         {"ipm", Kind::kIpm},       {"labelflip", Kind::kLabelflip},
      {"stats", Kind::kStats}};
  return k;
}

double default_scale(Kind kind) {
  switch (kind) {
    case Kind::kScaled: return 10;
    case Kind::kIpm: return 10;
    case Kind::kStats: return 10;
    default: return 1;
  }
}

// Phi^-1(p) by bisection on the normal CDF (p in (0, 1)).
double normal_quantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// Mean per coordinate of the honest updates, in client order (float64).
at::Tensor honest_mean(const std::vector<ClientUpdate>& honest) {
  auto sum = at::zeros({honest.front().delta.numel()}, at::kDouble);
  for (const auto& u : honest) sum.add_(u.delta.to(at::kDouble));
  return sum / static_cast<double>(honest.size());
}

// Sample standard deviation per coordinate of the honest updates around their `mean`.
at::Tensor honest_std(const std::vector<ClientUpdate>& honest, const at::Tensor& mean) {
  auto sq = at::zeros_like(mean);
  for (const auto& u : honest) {
    const auto d = u.delta.to(at::kDouble) - mean;
    sq.add_(d * d);
  }
  return (sq / static_cast<double>(std::max<size_t>(1, honest.size() - 1))).sqrt();
}

at::Tensor gaussian_noise(int64_t n, double std, uint64_t seed, int64_t round, int64_t client) {
  std::mt19937_64 rng(mix_seed(mix_seed(seed, kStreamAttack, static_cast<uint64_t>(round)), kStreamAttack,
                               static_cast<uint64_t>(client)));
  std::normal_distribution<float> normal(0.0f, static_cast<float>(std));
  auto out = at::empty({n}, at::kFloat);
  float* p = out.data_ptr<float>();
  for (int64_t j = 0; j < n; ++j) p[j] = normal(rng);
  return out;
}

}  // namespace

Result<AttackSpec> AttackSpec::parse(const std::string& text) {
  const std::string usage = "--attack '" + text +
                            "': expected KIND:K[,scale=S] with KIND signflip | scaled | gaussian | alie | ipm | "
                            "labelflip | stats, K >= 1 hostile clients and S a finite number";
  const auto parts = split_spec(text);
  AttackSpec spec;
  const auto kind = std::find_if(kinds().begin(), kinds().end(), [&](const auto& k) { return k.first == parts.name; });
  if (kind == kinds().end() || !parts.args) return Status::usage(usage);
  spec.kind = kind->second;
  const auto items = split_items(*parts.args, ',');
  if (!parse_int64(items[0], &spec.hostile) || spec.hostile < 1 || spec.hostile > 1000000) return Status::usage(usage);
  for (size_t i = 1; i < items.size(); ++i) {
    double s = 0;
    if (items[i].rfind("scale=", 0) != 0 || spec.scale || !parse_double(items[i].substr(6), &s))
      return Status::usage(usage);
    spec.scale = s;
  }
  if (spec.scale && spec.kind == Kind::kLabelflip) return Status::usage("--attack '" + text + "': labelflip takes no scale");
  if (spec.scale && spec.kind == Kind::kGaussian && !(*spec.scale > 0))
    return Status::usage("--attack '" + text + "': gaussian's scale is a standard deviation, > 0");
  return spec;
}

std::string AttackSpec::name() const {
  for (const auto& [n, k] : kinds())
    if (k == kind) return n;
  return "?";
}

std::set<int64_t> hostile_clients(int64_t clients, int64_t k, uint64_t seed) {
  XFED_CHECK(k >= 0 && k <= clients, "hostile_clients: K outside [0, clients]");
  std::vector<int64_t> ids(clients);
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(mix_seed(seed, kStreamAttack)));
  return std::set<int64_t>(ids.begin(), ids.begin() + k);
}

double alie_z(int64_t n, int64_t hostile) {
  const int64_t s = n / 2 + 1 - hostile;
  const double p = std::clamp(static_cast<double>(n - s) / static_cast<double>(n), 0.5, 0.999);
  return normal_quantile(p);
}

void apply_attack(const AttackSpec& spec, const std::set<int64_t>& hostile, uint64_t seed, int64_t round,
                  std::vector<ClientUpdate>& updates) {
  if (!spec.rewrites_updates()) return;
  std::vector<ClientUpdate> honest;
  int64_t attackers = 0;
  for (const auto& u : updates) {
    if (hostile.count(u.client))
      ++attackers;
    else
      honest.push_back(u);
  }
  if (attackers == 0) return;
  const double s = spec.scale.value_or(default_scale(spec.kind));
  const bool needs_honest = spec.kind == Kind::kAlie || spec.kind == Kind::kIpm;
  if (needs_honest && honest.empty()) return;  // nothing to imitate: they send what they trained
  std::optional<at::Tensor> crafted;
  if (needs_honest) {
    const auto mean = honest_mean(honest);
    if (spec.kind == Kind::kIpm) {
      crafted = (-s * mean).to(at::kFloat);
    } else {  // ALIE: the standard deviation only here
      const double z = spec.scale ? s : alie_z(static_cast<int64_t>(updates.size()), attackers);
      crafted = (mean - z * honest_std(honest, mean)).to(at::kFloat);
    }
  }
  for (auto& u : updates) {
    if (!hostile.count(u.client)) continue;
    switch (spec.kind) {
      case Kind::kSignflip: u.delta = u.delta * static_cast<float>(-s); break;
      case Kind::kScaled: u.delta = u.delta * static_cast<float>(s); break;
      case Kind::kGaussian: u.delta = gaussian_noise(u.delta.numel(), s, seed, round, u.client); break;
      default: u.delta = crafted->clone(); break;
    }
  }
}

namespace {

// The forged statistics of one tap with the counts of `honest`.
pruning::ClassStats forged_tap(const pruning::ClassStats& honest, double scale, std::mt19937_64& rng) {
  const int64_t m = honest.units(), classes = honest.classes();
  const double n = honest.samples();
  const double rms = n > 0 ? std::sqrt(std::max(0.0, honest.second.diagonal().sum().item<double>()) / (n * m)) : 0;
  const double spread = std::max(rms, 1e-3) / 10;
  auto means = at::zeros({m, classes}, at::kDouble);
  auto* mu = means.data_ptr<double>();
  std::bernoulli_distribution coin(0.5);
  for (int64_t j = 0; j < m; ++j) {
    const bool chosen = coin(rng);
    for (int64_t l = 0; l < classes; ++l) {
      const double sign = coin(rng) ? 1.0 : -1.0;  // drawn for every unit: J's draws do not shift
      if (chosen) mu[j * classes + l] = scale * std::max(rms, 1e-3) * sign;
    }
  }
  pruning::ClassStats out;
  out.counts = honest.counts.clone();
  out.sums = means * honest.counts.unsqueeze(0);
  // sum_l n_l mu_l mu_l^T + n spread^2 I: exactly the scatter of the forged classes (in loops:
  // a BLAS product's order follows the thread count, and the plan must be one everywhere)
  out.second = at::zeros({m, m}, at::kDouble);
  auto* q = out.second.data_ptr<double>();
  const auto* counts = out.counts.data_ptr<double>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double v = i == j ? n * spread * spread : 0.0;
      for (int64_t l = 0; l < classes; ++l) v += counts[l] * mu[i * classes + l] * mu[j * classes + l];
      q[i * m + j] = v;
    }
  return out;
}

}  // namespace

void forge_statistics(const AttackSpec& spec, uint64_t seed, int64_t round, int64_t client,
                      pruning::Evidence& evidence) {
  if (!spec.poisons_statistics()) return;
  const double s = spec.scale.value_or(default_scale(spec.kind));
  std::mt19937_64 rng(mix_seed(seed, kStreamAttack, static_cast<uint64_t>(round), static_cast<uint64_t>(client) + 1));
  for (auto& tap : evidence.taps)
    if (tap) *tap = forged_tap(*tap, s, rng);
}

}  // namespace xfed::coordinator
