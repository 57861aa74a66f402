// Private class statistics: what central --dp does to the statistics of a DI round
// (coordinator/dp.h runs it; this file is the math, pure functions of tensors).
//
// Client-level DP needs each client's whole contribution bounded, whatever it sent. For a
// tap of M units and a bound clip = r·√M (r: the largest root mean square of an activation
// vector, ‖a‖/√M, that the clients clip to, clip_rows_rms), one client's statistics become a
// per-sample average: counts, sums and second moment divided by its count total n. Then
//   ‖counts/n‖₂ ≤ 1,  ‖sums/n‖_F ≤ clip,  ‖second/n‖_F ≤ clip²
// (a mean of one-hot vectors, of class-slotted a with ‖a‖ ≤ clip, of a·aᵀ with ‖a·aᵀ‖_F =
// ‖a‖² ≤ clip²), and the coordinator clips each part to its bound in case a client did not.
// In units of (1, clip, clip²) a tap's contribution has norm ≤ √3; T taps ≤ √(3T) — the
// sensitivity of the sum when one client is added or removed. Gaussian noise of std σ in
// those units (σ = Z_s·√(3T)) on every count, every sum and the upper triangle of the second
// moment (mirrored) makes the summed statistics a Gaussian mechanism of noise multiplier Z_s.
//
// The sum is then statistics of the clients' equally weighted mixture (each client one unit
// of sample mass), which is what DI scores. Noise can leave a class with a count near zero
// or an indefinite scatter; make_usable repairs both (post-processing: costs no privacy).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

#include "pruning/class_stats.h"

namespace xfed::pruning {

// `activations` [n, M] (float32 or float64) with each row scaled so that its root mean square
// is at most `rms` (> 0).
at::Tensor clip_rows_rms(const at::Tensor& activations, double rms);

// One client's statistics of a tap as a per-sample average, each part clipped to its bound
// (counts to 1, sums to clip, second to clip²); new tensors. A tap with no samples gives zeros.
ClassStats bounded_contribution(const ClassStats& s, double clip);

// n draws of N(0, 1), float64.
using StandardNormals = std::function<at::Tensor(int64_t n)>;

// Adds N(0, σ²) to every count, N(0, (σ·clip)²) to every sum, N(0, (σ·clip²)²) to every
// entry on or above the diagonal of the second moment (mirrored below). Draws in that order.
void add_private_noise(ClassStats& s, double sigma, double clip, const StandardNormals& normals);

// Statistics that DI can score: classes with a count below `min_count` are left out (count
// and sums zero), and the centered scatter (second − n·μμᵀ) is projected onto the positive
// semidefinite matrices (negative eigenvalues set to zero).
void make_usable(ClassStats& s, double min_count);

}  // namespace xfed::pruning
