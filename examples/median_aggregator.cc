// Your own aggregation rule: the coordinate-wise median of the round's client updates (robust
// to a minority of outlying clients), registered as `median` and used with
// `--aggregate median`. The program is the xfed command line with the rule built in, so the
// rule works under every transport:
//   build/bin/example_median_aggregator simulate --aggregate median --rounds 5
//   mpirun -np 3 build/bin/example_median_aggregator mpi --aggregate median --rounds 5
//   build/bin/example_median_aggregator coordinator --aggregate median … (and its workers)
#include <ATen/ATen.h>

#include <vector>

#include "xfed/aggregator.h"
#include "xfed/cli.h"

namespace {

// updates: the clients that answered, in client-id order, each a 1-D float32 delta.
at::Tensor coordinate_median(const std::vector<xfed::ClientUpdate>& updates) {
  std::vector<at::Tensor> deltas;
  for (const auto& u : updates) deltas.push_back(u.delta);
  // With an even count, the mean of the two middle values (symmetric in the clients).
  const auto sorted = std::get<0>(at::stack(deltas).sort(/*dim=*/0));
  const int64_t n = sorted.size(0);
  return (sorted[(n - 1) / 2] + sorted[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const auto registered = xfed::register_aggregator(
      "median", [](const std::optional<std::string>& arg) -> xfed::Result<xfed::Aggregator> {
        if (arg) return xfed::Status::usage("--aggregate median takes no argument");
        return xfed::Aggregator(coordinate_median);
      });
  if (!registered) return 2;
  return xfed::run_command_line(argc, argv);
}
