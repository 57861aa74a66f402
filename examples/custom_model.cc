// Federated training of your own LibTorch model with xfed, as a library: a small CNN on
// Fashion-MNIST, 10 clients (Dirichlet 0.5 non-iid) on 2 worker threads, a top-k + 4-bit
// uplink with error feedback and a compressed delta downlink.
//   build/bin/example_custom_model [ROUNDS]
// Given a subcommand instead, the program is the xfed command line with `tiny-cnn` built in,
// on every transport:
//   build/bin/example_custom_model simulate --model tiny-cnn …
//   mpirun -np 3 build/bin/example_custom_model mpi --model tiny-cnn …
//   build/bin/example_custom_model coordinator|worker --model tiny-cnn …
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

#include "xfed/xfed.h"

// Any NetImpl subclass: a forward pass, its modules registered, built from a ModelSpec.
struct TinyCnnImpl : xfed::NetImpl {
  explicit TinyCnnImpl(const xfed::ModelSpec& spec) : NetImpl(spec) {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(spec.in_channels, 16, 5).stride(2)));
    const int64_t side = (spec.height - 5) / 2 + 1;  // a square input
    fc = register_module("fc", torch::nn::Linear(16 * side * side, spec.classes));
  }
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>*) override {
    return fc(torch::relu(conv(x)).flatten(1));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear fc{nullptr};
};

int main(int argc, char** argv) try {
  // Every party of the run (the coordinator, each worker thread) builds the model by name.
  xfed::register_model("tiny-cnn", [](const xfed::ModelSpec& s) { return std::make_shared<TinyCnnImpl>(s); })
      .throw_if_error();
  if (argc > 1 && argv[1][0] >= 'a' && argv[1][0] <= 'z') return xfed::run_command_line(argc, argv);
  xfed::RunConfig config;  // every flag of `xfed simulate`, as a field
  config.model = "tiny-cnn";
  config.rounds = argc > 1 ? std::atoi(argv[1]) : 10;
  config.partition = "dirichlet:0.5";
  config.compress = "topk:0.05,qsgd:4,zstd";
  config.downlink = "topk:0.1,qsgd:8,zstd";
  const auto setup = xfed::make_run_setup(config);
  xfed::use_single_intraop_thread();
  const auto initial = xfed::make_initial_model(setup.spec, config.seed);
  xfed::ProgressPrinter progress(stdout, initial->num_params());
  auto run = xfed::run_simulation(setup, initial, /*threads=*/2, {&progress});
  if (!run) return std::fprintf(stderr, "%s\n", run.message().c_str()), 1;
  std::printf("tiny-cnn: %.2f %% after %d rounds, %.0f x fewer uplink bytes than dense\n",
              100 * run.value().summary.final_accuracy, static_cast<int>(config.rounds),
              double(run.value().summary.total_bytes_up_dense) / double(run.value().summary.total_bytes_up));
} catch (const std::exception& e) {
  std::fprintf(stderr, "example_custom_model: %s\n", e.what());
  return 1;
}
