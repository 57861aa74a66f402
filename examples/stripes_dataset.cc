// Your own dataset: 12x12 grey images of horizontal or vertical stripes under noise (2
// classes), made from the run's --seed, registered as `stripes` and used with
// `--dataset stripes`. The program is the xfed command line with the dataset built in:
//   build/bin/example_stripes_dataset simulate --dataset stripes --clients 4 --rounds 3
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "xfed/cli.h"
#include "xfed/dataset.h"

namespace {

constexpr int64_t kSide = 12;

// n images, half of each class in a seeded order, normalized to mean 0 and unit variance.
xfed::Dataset stripes(int64_t n, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto labels = at::randint(2, {n}, gen, at::kLong);
  const auto rows = (at::arange(kSide) % 4 < 2).to(at::kFloat).view({1, kSide, 1}).expand({n, kSide, kSide});
  const auto horizontal = labels.view({n, 1, 1}).to(at::kBool);
  auto images = at::where(horizontal, rows, rows.transpose(1, 2)) + at::randn({n, kSide, kSide}, gen);
  images = (images - images.mean()) / images.std();
  return {images.unsqueeze(1).contiguous(), labels, 2};
}

}  // namespace

int main(int argc, char** argv) {
  const auto registered = xfed::register_dataset(
      "stripes", [](const xfed::RunConfig& config, bool) -> xfed::Result<xfed::TrainTestData> {
        return xfed::TrainTestData{"stripes", stripes(2000, config.seed), stripes(500, config.seed + 1)};
      });
  if (!registered) return 2;
  return xfed::run_command_line(argc, argv);
}
