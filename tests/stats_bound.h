// Tolerances for class statistics that follow from the float32 summation bound stated in
// pruning/gram.h, never from what one CPU happened to give.
//
// expect_within_sum_bound(got, want, slack): for every entry,
//   |got.second_ij - want.second_ij| <= slack * sqrt(Q_ii Q_jj)
//   |got.sums_jl   - want.sums_jl|   <= slack * sqrt(N_l Q_jj)
// with Q = want.second, N = want.counts; counts must be equal. `slack` is the relative
// error bound of the paths that produced got and want (e.g. 2 * float32_sum_bound() when
// both are float32 sums of the same values in different groupings).
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "pruning/class_stats.h"

namespace xfed::testing {

inline ::testing::AssertionResult within_sum_bound(const pruning::ClassStats& got,
                                                   const pruning::ClassStats& want, double slack) {
  if (!got.counts.equal(want.counts)) return ::testing::AssertionFailure() << "class counts differ";
  const auto diag = want.second.diagonal().clamp_min(0);
  const auto second_scale = (diag.unsqueeze(1) * diag.unsqueeze(0)).sqrt();
  const auto second_excess = (got.second - want.second).abs() - slack * second_scale;
  const auto sums_scale = (diag.unsqueeze(1) * want.counts.unsqueeze(0)).sqrt();
  const auto sums_excess = (got.sums - want.sums).abs() - slack * sums_scale;
  const double worst_second = second_excess.max().item<double>();
  const double worst_sums = sums_excess.max().item<double>();
  if (worst_second > 0 || worst_sums > 0 || !at::isfinite(got.second).all().item<bool>())
    return ::testing::AssertionFailure()
           << "beyond the bound " << slack << " x scale by " << worst_second << " (second moment), "
           << worst_sums << " (class sums)";
  return ::testing::AssertionSuccess();
}

}  // namespace xfed::testing
