// The pruning schedule (--prune) and the choice of kept units (scores -> StructurePlan).
//
// Spec: CRITERION[:key=value,...], keys:
//   every=N         rounds between pruning steps (2)        warmup=N  first step's round (4)
//   fraction=F      of each layer's remaining units dropped per step (0.25)
//   input_fraction=F  the same for the input features (0.15: at a 10 % budget a wider
//                   hidden layer on fewer pixels trains better than the other way round)
//   lambda=X        instead of fraction: drop units scoring below X x the layer's mean
//   target=F        stop once params <= F x the original (0.1); target_flops=F: FLOPs
//   min_units=N     never fewer units in a layer (4)        floor=A   stop if the last
//                   test accuracy fell below A (0: never)
//   rho=X           rho = X tr(Sbar)/M (5)                  rho_abs=X absolute rho
//   input_l1=1      input features scored by the L1 norm of their outgoing weights (their
//                   effect on the first hidden layer) instead of DiLOSS; their statistics
//                   (784 x 784 for an image) are then never gathered
//   stats_fraction=F  of the clients sampled for a stats round (default: --fraction)
//   stats_trim=F      leave out the F clients whose statistics lie farthest from the median
//                     (coordinator/robust_statistics.h; default 0)
//   input_rho=X     rho scale for the input features (0.05: 784 strongly correlated
//                   pixels need a small ridge for DI to see their redundancy)
//   stats_samples=N per client per stats round (1000; 0 = all)
//   noise=S         Gaussian noise std added client-side to the statistics (0)
//   spatial=1       conv taps: positions as samples instead of global average pooling
//   input=0         do not prune the input features (mlp)
//   restart_lr=1    restart the client learning-rate decay at each pruning step
//   refit=1         compensation: the consumer of each cut layer is refitted on the kept
//                   units by least squares (pruning/refit.h); the plan carries its weights.
//                   Gathers statistics also for criteria that need none (l1, bn, random)
//   refit_ridge=X   its ridge, X tr(S)/M (0.001)
//   bf16=0          statistics of the float32 activations as they are (float32 BLAS Gram)
//                   instead of bfloat16-rounded ones on bf16 matrix units (pruning/bf16.h)
// The last step is shrunk (same fraction for every layer) so that the model lands on the
// target rather than far below it. Pure functions; no I/O.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "core/model.h"
#include "pruning/criteria.h"
#include "pruning/di.h"
#include "pruning/structure_plan.h"

namespace xfed::pruning {

struct PruneOptions {
  Criterion criterion = Criterion::kDi;
  int64_t every = 2;
  int64_t warmup = 4;
  double fraction = 0.25;
  double input_fraction = 0.15;  // < 0: same as fraction
  double lambda = 0.0;
  double target = 0.1;
  bool target_flops = false;
  int64_t min_units = 4;
  double floor = 0.0;
  RhoOptions rho;
  double input_rho = 0.05;
  bool input_l1 = false;
  double stats_fraction = 0;  // 0: the run's --fraction
  int64_t stats_trim = 0;     // clients whose statistics are farthest from the median, left out
  int64_t stats_samples = 1000;
  double noise = 0.0;
  bool spatial = false;
  bool prune_input = true;
  bool restart_lr = false;
  bool bf16_stats = true;
  bool refit = false;
  double refit_ridge = 1e-3;

  static Result<PruneOptions> parse(const std::string& spec);
  bool is_step_round(int64_t round) const {
    return round >= warmup && (round - warmup) % every == 0;
  }
  // A step needs a statistics round first: a DI criterion, taylor's sums, or refit.
  bool gathers_statistics() const {
    return needs_class_stats(criterion) || criterion == Criterion::kTaylor || refit;
  }
  // The fraction of clients a statistics round asks: stats_fraction, or the run's.
  double statistics_fraction(double run_fraction) const { return stats_fraction > 0 ? stats_fraction : run_fraction; }
};

// Params or FLOPs of the model, the quantity `target` is about.
int64_t model_size(const NetImpl& model, const PruneOptions& o);

// The next plan, or an error. `original` is the size of the unpruned model.
Result<StructurePlan> make_plan(NetImpl& model, const std::vector<at::Tensor>& scores,
                                const PruneOptions& o, int64_t original, int64_t version);

// Indices of the `keep` highest scores, ascending (ties: lower index first).
std::vector<int64_t> top_units(const at::Tensor& scores, int64_t keep);

}  // namespace xfed::pruning
