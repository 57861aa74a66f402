// Bring your own PyTorch model: TorchScript archives exported by Python in the test's set-up
// (tests/torchscript_models.h), trained by the real `xfed` binary under simulate and
// mpirun (and by edge processes in extension_cli_test.cc), and every archive xfed cannot run
// refused before round 1 with one line naming the flag and the file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/cli_run.h"
#include "tests/test_util.h"
#include "tests/torchscript_models.h"

namespace xfed::testing {
namespace {

const std::string kData =
    "--dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 6 --fraction 0.5 --quiet ";

class TorchScript : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);  // CI runs as root
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    dir_ = new TempDir();
    ASSERT_TRUE(export_test_models(dir_->path()));
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string model(const std::string& name) { return "--model torchscript:" + dir_->file(name) + " "; }
  static TempDir* dir_;
};
TempDir* TorchScript::dir_ = nullptr;

std::string checksum_after(const std::string& command, const std::string& metrics) {
  const auto r = run_command(command + " --metrics " + metrics, 300);
  EXPECT_EQ(r.code, 0) << command << "\n" << r.out;
  return r.code == 0 ? read_jsonl(metrics).back()["model_checksum"].get<std::string>() : "";
}

TEST_F(TorchScript, AScriptedMlpTrainsCompressedAndGivesOneModelUnderSimulateAndMpi) {
  const std::string run = kData + model("mlp.pt") + "--rounds 5 --compress topk:0.1,qsgd:4,zstd --downlink qsgd:8 ";
  const auto sim = checksum_after(std::string(XFED_BINARY) + " simulate " + run, dir_->file("sim.jsonl"));
  ASSERT_FALSE(sim.empty());
  const auto summary = read_jsonl(dir_->file("sim.jsonl")).back();
  EXPECT_GE(summary["final_accuracy"].get<double>(), 0.25) << "it learned (chance: 0.1)";
  EXPECT_EQ(summary["params"].get<int64_t>(), 784 * 64 + 64 + 64 * 10 + 10) << "the archive's parameters";
  EXPECT_EQ(checksum_after(std::string(XFED_BINARY) + " simulate --threads 1 " + run, dir_->file("t1.jsonl")), sim)
      << "one thread or several: one model";
#ifdef XFED_MPIEXEC
  EXPECT_EQ(checksum_after(std::string(XFED_MPIEXEC) + " -np 3 --oversubscribe " + XFED_BINARY + " mpi " + run,
                           dir_->file("mpi.jsonl")),
            sim)
      << "mpirun -np 3";
#endif
}

// BatchNorm's running statistics are model state: aggregated with the weights, and the
// model learns (less noisy data than the default: at noise 8 this small CNN stays at chance
// for the first rounds, as the built-in lenet5 does).
TEST_F(TorchScript, ACnnWithBatchNormAndDropoutTrains) {
  const auto sim = checksum_after(std::string(XFED_BINARY) + " simulate " + kData + model("bn_cnn.pt") +
                                      "--rounds 4 --synthetic-noise 2",
                                  dir_->file("cnn.jsonl"));
  ASSERT_FALSE(sim.empty());
  const auto summary = read_jsonl(dir_->file("cnn.jsonl")).back();
  EXPECT_GE(summary["final_accuracy"].get<double>(), 0.5) << "it learned (chance: 0.1)";
  EXPECT_EQ(summary["params"].get<int64_t>(), (4 * 9 + 4) + (4 + 4) + (4 * 13 * 13 * 10 + 10))
      << "conv, BatchNorm's affine weights, linear: the archive's parameters";
}

TEST_F(TorchScript, WhatCannotRunIsRefusedBeforeRoundOneWithOneLine) {
  std::ofstream(dir_->file("text.pt")) << "not an archive\n";
  std::ofstream(dir_->file("empty.pt"));
  const std::string sim = "simulate " + kData + "--rounds 2 ";
  const std::string mlp = dir_->file("mlp.pt");
  for (const auto& [args, words] : std::vector<std::pair<std::string, std::string>>{
           {model("text.pt"), "text.pt: not a TorchScript archive"},
           {model("empty.pt"), "empty.pt: not a TorchScript archive"},
           {model("missing.pt"), "missing.pt"},
           {"--model torchscript:" + dir_->path() + " ", dir_->path()},
           {"--model torchscript: ", "expected torchscript:FILE.pt"},
           {model("wrong_shape.pt"), "returns 2x5 float, not float [2, 10] (batch, classes)"},
           {model("three_channels.pt"), "its forward on a batch of shape 2x1x28x28 fails"},
           {model("nan_weights.pt"), "weight fc2_bias is not finite"},
           {model("mlp.pt") + "--prune di:target=0.5", "is trained and compressed, not pruned"},
           {model("mlp.pt") + "--save-model " + dir_->file("m.xfed"), "not supported yet"}})
    expect_usage_error(sim + args, words);
}

}  // namespace
}  // namespace xfed::testing
