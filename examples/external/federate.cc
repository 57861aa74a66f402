// An out-of-tree program built against an installed xfed (find_package(xfed)): its own
// model, registered by name, trained by 6 simulated clients for ROUNDS rounds on a
// synthetic dataset with a top-k + 4-bit uplink; prints the accuracy and the uplink saving.
// With a subcommand instead (`federate simulate|mpi|coordinator|worker …`) it is the xfed
// command line with the model built in.
//   federate [ROUNDS]      federate simulate --model two-layer …
#include <torch/torch.h>
#include <xfed/xfed.h>

#include <cstdio>
#include <cstdlib>
#include <string>

struct TwoLayerImpl : xfed::NetImpl {
  explicit TwoLayerImpl(const xfed::ModelSpec& spec) : NetImpl(spec) {
    hidden = register_module("hidden", torch::nn::Linear(spec.in_channels * spec.height * spec.width, 32));
    out = register_module("out", torch::nn::Linear(32, spec.classes));
  }
  at::Tensor forward_features(const at::Tensor& x, std::vector<at::Tensor>*) override {
    return out(torch::relu(hidden(x.flatten(1))));
  }
  torch::nn::Linear hidden{nullptr}, out{nullptr};
};

int main(int argc, char** argv) try {
  xfed::register_model("two-layer", [](const xfed::ModelSpec& s) { return std::make_shared<TwoLayerImpl>(s); })
      .throw_if_error();
  if (argc > 1 && argv[1][0] >= 'a' && argv[1][0] <= 'z') return xfed::run_command_line(argc, argv);
  xfed::RunConfig config;
  config.model = "two-layer";
  config.dataset = "synthetic";
  config.synthetic_train = 1200;
  config.synthetic_test = 400;
  config.clients = 6;
  config.rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  config.compress = "topk:0.1,qsgd:4,zstd";
  const auto setup = xfed::make_run_setup(config);
  xfed::use_single_intraop_thread();
  auto run = xfed::run_simulation(setup, xfed::make_initial_model(setup.spec, config.seed), /*threads=*/2, {});
  if (!run) return std::fprintf(stderr, "federate: %s\n", run.message().c_str()), 1;
  std::printf("two-layer: %.2f %% after %d rounds, %.1f x fewer uplink bytes than dense\n",
              100 * run.value().summary.final_accuracy, static_cast<int>(config.rounds),
              double(run.value().summary.total_bytes_up_dense) / double(run.value().summary.total_bytes_up));
} catch (const std::exception& e) {
  std::fprintf(stderr, "federate: %s\n", e.what());
  return 1;
}
