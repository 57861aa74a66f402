// Weight sharing's clustering (#20; Deep Compression, Han et al. 2016): a layer's weights
// grouped into k shared values by one-dimensional k-means. Centroids start spread linearly
// between the smallest and the largest weight (the paper's best initialization: it keeps
// centroids on the rare large weights that matter most), then Lloyd's iterations — assign
// each weight to its nearest centroid (ties to the lower one), move each centroid to the
// mean of its weights — until no assignment changes or `max_iterations`. A centroid that
// loses all its weights stays where it is. In one dimension the nearest centroid is found
// by binary search over the sorted centroids' midpoints. Deterministic; NaN is the
// caller's to refuse (an error here).
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace xfed::compression {

struct SharedWeights {
  std::vector<float> centroids;    // k values, increasing
  std::vector<uint32_t> index;     // per weight, its centroid
  int iterations = 0;              // Lloyd iterations run
};

// k in [1, 2^16]; an error for k out of range, no values, or a value that is not finite.
Result<SharedWeights> share_weights(const std::vector<float>& values, int k, int max_iterations = 100);

// Each weight replaced by its centroid.
std::vector<float> expand_shared(const SharedWeights& shared);

}  // namespace xfed::compression
