#include "core/partition.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "core/parse.h"
#include "core/rng.h"

namespace xfed {
namespace {

using Indices = std::vector<int64_t>;

Partition finish(std::vector<Indices> parts) {
  for (auto& p : parts) std::sort(p.begin(), p.end());
  return Partition{std::move(parts)};
}

Partition split_iid(int64_t n, int64_t clients, std::mt19937_64& rng) {
  Indices all(n);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  std::vector<Indices> parts(clients);
  for (int64_t c = 0; c < clients; ++c) {
    const int64_t begin = n * c / clients, end = n * (c + 1) / clients;
    parts[c].assign(all.begin() + begin, all.begin() + end);
  }
  return finish(std::move(parts));
}

std::vector<Indices> by_class(const std::vector<int64_t>& labels, int64_t classes) {
  std::vector<Indices> out(classes);
  for (int64_t i = 0; i < static_cast<int64_t>(labels.size()); ++i) out[labels[i]].push_back(i);
  return out;
}

// For a tiny alpha every Gamma(alpha) draw can underflow to 0. Then the draws are made in log
// space: Gamma(alpha) = Gamma(alpha + 1) * U^(1/alpha), so alpha * log g = alpha * log
// Gamma(alpha + 1) + log U keeps their order finite, and p_i = exp((s_i - s_max) / alpha) is
// the proportion (nearly one-hot, as the Dirichlet is in that limit), never an even split.
std::vector<double> dirichlet_in_log_space(int64_t k, double alpha, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha + 1, 1.0);
  std::uniform_real_distribution<double> uniform(std::numeric_limits<double>::min(), 1.0);
  std::vector<double> s(k);
  for (auto& v : s) v = alpha * std::log(gamma(rng)) + std::log(uniform(rng));
  const double top = *std::max_element(s.begin(), s.end());
  double sum = 0;
  for (auto& v : s) sum += (v = v == top ? 1.0 : std::exp((v - top) / alpha));
  for (auto& v : s) v /= sum;
  return s;
}

std::vector<double> dirichlet(int64_t k, double alpha, std::mt19937_64& rng) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  std::vector<double> p(k);
  double sum = 0;
  for (auto& v : p) sum += (v = gamma(rng));
  if (!(sum > 0)) return dirichlet_in_log_space(k, alpha, rng);
  for (auto& v : p) v /= sum;
  return p;
}

// One draw: each class's samples are cut by cumulative Dirichlet proportions.
std::vector<Indices> dirichlet_draw(const std::vector<Indices>& classes, int64_t clients,
                                    double alpha, std::mt19937_64& rng) {
  std::vector<Indices> parts(clients);
  for (auto members : classes) {
    std::shuffle(members.begin(), members.end(), rng);
    const auto p = dirichlet(clients, alpha, rng);
    const int64_t n = static_cast<int64_t>(members.size());
    double cum = 0;
    int64_t begin = 0;
    for (int64_t c = 0; c < clients; ++c) {
      cum += p[c];
      const int64_t end = c + 1 == clients ? n : std::min<int64_t>(n, std::llround(cum * n));
      parts[c].insert(parts[c].end(), members.begin() + begin, members.begin() + end);
      begin = std::max(begin, end);
    }
  }
  return parts;
}

Result<Partition> split_dirichlet(const std::vector<int64_t>& labels, int64_t classes,
                                  int64_t clients, double alpha, std::mt19937_64& rng) {
  const auto members = by_class(labels, classes);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto parts = dirichlet_draw(members, clients, alpha, rng);
    const bool ok = std::all_of(parts.begin(), parts.end(), [](const Indices& p) {
      return static_cast<int64_t>(p.size()) >= kMinDirichletSamples;
    });
    if (ok) return finish(std::move(parts));
  }
  return Status::usage("--partition dirichlet:" + std::to_string(alpha) + ": could not give " +
                       std::to_string(clients) + " clients at least " +
                       std::to_string(kMinDirichletSamples) +
                       " samples each; use a larger alpha or fewer clients");
}

Result<Partition> split_shards(const std::vector<int64_t>& labels, int64_t clients,
                               int64_t per_client, std::mt19937_64& rng) {
  const int64_t n = static_cast<int64_t>(labels.size());
  const int64_t shards = clients * per_client;
  if (shards > n)
    return Status::usage("--partition shards:" + std::to_string(per_client) + ": " +
                         std::to_string(shards) + " shards for only " + std::to_string(n) +
                         " samples");
  Indices sorted(n);
  std::iota(sorted.begin(), sorted.end(), 0);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](int64_t a, int64_t b) { return labels[a] < labels[b]; });
  Indices order(shards);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  // Every sample is used: the first n % shards shards (in label order) hold one more.
  const int64_t base = n / shards, extra = n % shards;
  const auto start = [&](int64_t shard) { return shard * base + std::min(shard, extra); };
  std::vector<Indices> parts(clients);
  for (int64_t s = 0; s < shards; ++s) {
    const int64_t shard = order[s];
    auto& dst = parts[s / per_client];
    dst.insert(dst.end(), sorted.begin() + start(shard), sorted.begin() + start(shard + 1));
  }
  return finish(std::move(parts));
}

}  // namespace

Result<PartitionSpec> PartitionSpec::parse(const std::string& text) {
  PartitionSpec spec;
  const auto [head, args] = split_spec(text);
  const std::string arg = args.value_or("");
  const auto bad = Status::usage("--partition '" + text +
                                 "': expected iid, dirichlet:ALPHA (ALPHA > 0) or shards:K "
                                 "(K >= 1)");
  if (head == "iid" && !args) return spec;
  spec.kind = head == "dirichlet" ? Kind::kDirichlet : Kind::kShards;
  if (head == "dirichlet" && parse_double(arg, &spec.alpha) && in_range(spec.alpha, 0, 1e6, true))
    return spec;
  if (head == "shards" && parse_int64(arg, &spec.shards) && spec.shards >= 1 &&
      spec.shards <= (int64_t{1} << 24))
    return spec;
  return bad;
}

std::string PartitionSpec::to_string() const {
  switch (kind) {
    case Kind::kIid: return "iid";
    case Kind::kDirichlet: return "dirichlet:" + std::to_string(alpha);
    case Kind::kShards: return "shards:" + std::to_string(shards);
  }
  return "?";
}

std::vector<int64_t> Partition::sizes() const {
  std::vector<int64_t> s;
  for (const auto& p : indices) s.push_back(static_cast<int64_t>(p.size()));
  return s;
}

Result<Partition> make_partition(const std::vector<int64_t>& labels, int64_t classes,
                                 const PartitionSpec& spec, int64_t clients, uint64_t seed) {
  const int64_t n = static_cast<int64_t>(labels.size());
  if (clients < 1 || clients > n)
    return Status::usage("--clients " + std::to_string(clients) + ": must be between 1 and " +
                         std::to_string(n) + " (the number of training samples)");
  std::mt19937_64 rng(mix_seed(seed, kStreamPartition));
  switch (spec.kind) {
    case PartitionSpec::Kind::kIid: return split_iid(n, clients, rng);
    case PartitionSpec::Kind::kDirichlet:
      return split_dirichlet(labels, classes, clients, spec.alpha, rng);
    case PartitionSpec::Kind::kShards: return split_shards(labels, clients, spec.shards, rng);
  }
  return Status::usage("unknown partition kind");
}

std::vector<std::vector<int64_t>> class_histograms(const Partition& p,
                                                   const std::vector<int64_t>& labels,
                                                   int64_t classes) {
  std::vector<std::vector<int64_t>> hist(p.clients(), std::vector<int64_t>(classes, 0));
  for (int64_t c = 0; c < p.clients(); ++c)
    for (auto i : p.indices[c]) ++hist[c][labels[i]];
  return hist;
}

}  // namespace xfed
