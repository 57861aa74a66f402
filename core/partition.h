// Partitioners: split a labelled dataset across clients.
//
//   iid          seeded shuffle, then near-equal contiguous parts (sizes differ by <= 1)
//   dirichlet:A  per class, proportions ~ Dir(A) over clients (label skew, Hsu et al. 2019);
//                redrawn until every client holds >= kMinDirichletSamples samples (or an
//                error); a tiny A gives nearly one class per client, never an even split
//   shards:K     sort by label, cut into clients*K shards of equal size (the first n % shards
//                one sample larger: every sample is used), deal K random shards to each
//                client (McMahan et al. 2017): at most K classes per client
//
// Pure functions of (labels, spec, clients, seed); a Partition is plain data. A bad spec
// is a Status naming the flag and what is allowed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace xfed {

constexpr int64_t kMinDirichletSamples = 2;

struct PartitionSpec {
  enum class Kind { kIid, kDirichlet, kShards };
  Kind kind = Kind::kIid;
  double alpha = 0.5;     // dirichlet
  int64_t shards = 2;     // shards per client

  static Result<PartitionSpec> parse(const std::string& text);
  std::string to_string() const;
};

// indices[c] = sample indices of client c, ascending.
struct Partition {
  std::vector<std::vector<int64_t>> indices;
  int64_t clients() const { return static_cast<int64_t>(indices.size()); }
  std::vector<int64_t> sizes() const;
};

Result<Partition> make_partition(const std::vector<int64_t>& labels, int64_t classes,
                                 const PartitionSpec& spec, int64_t clients, uint64_t seed);

// hist[c][k] = samples of class k held by client c.
std::vector<std::vector<int64_t>> class_histograms(const Partition& p,
                                                   const std::vector<int64_t>& labels,
                                                   int64_t classes);

}  // namespace xfed
