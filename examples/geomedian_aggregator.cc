// Your own aggregation rule: the geometric median of the round's client updates (robust
// federated aggregation, Pillutla et al. 2022), by smoothed Weiszfeld iterations, registered
// as `geomedian` and used with `--aggregate geomedian[:ITERS]`. The program is the xfed
// command line with the rule built in, so the rule works under every transport:
//   build/bin/example_geomedian_aggregator simulate --aggregate geomedian --rounds 5
//   mpirun -np 3 build/bin/example_geomedian_aggregator mpi --aggregate geomedian --rounds 5
//   build/bin/example_geomedian_aggregator coordinator --aggregate geomedian … (and its workers)
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "xfed/aggregator.h"
#include "xfed/cli.h"

namespace {

// |x - z| summed in coordinate order: a reduction that ATen splits across threads would make
// the result depend on the thread count, and the model differ between transports.
double distance(const at::Tensor& x, const at::Tensor& z) {
  const double* a = x.data_ptr<double>();
  const double* b = z.data_ptr<double>();
  double s = 0;
  for (int64_t j = 0; j < x.numel(); ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return std::sqrt(s);
}

// updates: the clients that answered, in client-id order, each a 1-D float32 delta. Float64
// throughout; the result depends only on the updates (the same model on every transport).
at::Tensor geometric_median(const std::vector<xfed::ClientUpdate>& updates, int iterations) {
  std::vector<at::Tensor> points;
  for (const auto& u : updates) points.push_back(u.delta.to(at::kDouble).contiguous());
  auto z = at::zeros_like(points.front());
  for (const auto& x : points) z.add_(x, 1.0 / static_cast<double>(points.size()));  // the mean
  for (int it = 0; it < iterations; ++it) {
    // Weights 1 / max(eps, |x_i - z|): the closer a client, the more it counts.
    auto next = at::zeros_like(z);
    double total = 0;
    for (const auto& x : points) {
      const double w = 1.0 / std::max(distance(x, z), 1e-8);
      next.add_(x, w);
      total += w;
    }
    z = next / total;
  }
  return z.to(at::kFloat);
}

}  // namespace

int main(int argc, char** argv) {
  const auto registered = xfed::register_aggregator(
      "geomedian", [](const std::optional<std::string>& arg) -> xfed::Result<xfed::Aggregator> {
        int iterations = 4;
        if (arg && (arg->empty() || arg->size() > 3 || arg->find_first_not_of("0123456789") != std::string::npos ||
                    (iterations = std::stoi(*arg)) < 1))
          return xfed::Status::usage("--aggregate 'geomedian:" + *arg + "': expected geomedian[:ITERS], ITERS in [1, 999]");
        return xfed::Aggregator([iterations](const std::vector<xfed::ClientUpdate>& u) -> xfed::Result<at::Tensor> {
          return geometric_median(u, iterations);
        });
      });
  if (!registered) return 2;
  return xfed::run_command_line(argc, argv);
}
