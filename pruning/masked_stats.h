// Class statistics as bounded numbers, for secure aggregation (#19): masks cancel only on
// fixed-point numbers in a known range (secagg/fixed_point.h), so a client lays its evidence
// out as one vector of values in [-1, 1] — each statistic over its bound — and the
// coordinator turns the unmasked sum back into evidence, which is additive like the plain
// one (pruning/class_stats.h). With every activation clipped to [-A, A] and at most N samples
// per client (the stats round's stats_samples), per present tap, in this order:
//   counts[l] / N                       in [0, 1]       (L values)
//   sums[j, l] / (N·A)                  in [-1, 1]      (M·L, row-major)
//   second[i, j] / (N·A²), i <= j       in [-1, 1]      (M(M+1)/2: the matrix is symmetric)
// Taps of 0 units (the input tap when its features are scored by their weights) are absent.
//
// Decoding the sum of n clients' vectors, each value encoded at B bits (one step 2/(2^B − 1)):
// each statistic is off by less than n steps times its bound; counts are rounded to whole
// numbers, which makes them exact while 4·n·N < 2^B − 1 (counts_exact). Pure; no crypto.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "pruning/evidence.h"

namespace xfed {
class NetImpl;
}

namespace xfed::pruning {

struct StatsBounds {
  int64_t samples = 0;      // N: the most samples a client's statistics count (> 0)
  double activation = 0.0;  // A: activations clipped to [-A, A] (> 0)
};

// The units of each tap of `net` that a stats round gathers: 0 for the input tap when
// `skip_input` (its statistics are not sent), the layer's units otherwise.
std::vector<int64_t> gathered_tap_units(const NetImpl& net, bool skip_input);

// Values a client sends for taps of `tap_units` (0: absent) and `classes` classes.
size_t masked_stats_length(const std::vector<int64_t>& tap_units, int64_t classes);

// The evidence as values in [-1, 1] (a tap missing from `evidence`, e.g. a client that saw no
// sample, counts as zeros; a value beyond its bound, e.g. from noise, is clipped to it).
std::vector<double> to_unit_values(const Evidence& evidence, const std::vector<int64_t>& tap_units,
                                   int64_t classes, const StatsBounds& bounds);

// The evidence whose unit values sum to `sums` (counts rounded to whole numbers). An error
// when the length does not fit the taps.
Result<Evidence> from_unit_sums(const std::vector<double>& sums, const std::vector<int64_t>& tap_units,
                                int64_t classes, const StatsBounds& bounds);

// Whether the sum of `summands` clients' counts decodes exactly at `bits` bits (see above).
bool counts_exact(int64_t summands, const StatsBounds& bounds, int bits);

}  // namespace xfed::pruning
