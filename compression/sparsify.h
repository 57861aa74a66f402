// Sparsifiers: choose which positions of a tensor to send. Every function returns sorted,
// distinct indices; all are deterministic for the same input (and seed).
//
//   topk_indices      exact k largest |x| in O(n): a sampled threshold picks ~1.5k
//                     candidates in one pass, nth_element over the candidates finds the
//                     exact k-th value; ties broken by lower index. No full sort.
//   dgc_topk_indices  DGC-style approximate top-k for large tensors: threshold from a 1 %
//                     sample, everything above it is sent (exact top-k only if the sample
//                     overshoots by > 2x)
//   randk_indices     k distinct uniformly random positions (seeded)
//   threshold_indices every |x| >= t
//   nonzero_indices   every x != 0 (a round's aggregate touches few entries)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace xfed::compression {

// round(ratio * n), at least 1 for n > 0, at most n.
size_t k_for_ratio(size_t n, double ratio);

std::vector<uint32_t> topk_indices(const float* x, size_t n, size_t k);
std::vector<uint32_t> dgc_topk_indices(const float* x, size_t n, size_t k, uint64_t seed);
std::vector<uint32_t> randk_indices(size_t n, size_t k, uint64_t seed);
std::vector<uint32_t> threshold_indices(const float* x, size_t n, float t);
std::vector<uint32_t> nonzero_indices(const float* x, size_t n);

}  // namespace xfed::compression
