// Bring your own PyTorch model: TorchScript archives exported by Python in the test's set-up
// (tests/torchscript_models.h), trained by the real `xfed` binary under simulate and
// mpirun (and by edge processes in extension_cli_test.cc), and every archive xfed cannot run
// refused before round 1 with one line naming the flag and the file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
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

// The same run (simulate's flags) under mpirun -np 3 ends on `sim` (where xfed has MPI).
void expect_same_model_under_mpi(const std::string& run, const std::string& sim, const std::string& metrics) {
#ifdef XFED_MPIEXEC
  const std::string mpirun = std::string(XFED_MPIEXEC) + " -np 3 --oversubscribe " + XFED_BINARY + " mpi ";
  EXPECT_EQ(checksum_after(mpirun + run, metrics), sim) << "mpirun -np 3";
#else
  (void)run, (void)sim, (void)metrics;
#endif
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
  expect_same_model_under_mpi(run, sim, dir_->file("mpi.jsonl"));
}

// BatchNorm's running statistics are model state: aggregated with the weights, and the
// model learns (less noisy data than the default: at noise 8 this small CNN stays at chance
// for the first rounds, as the built-in lenet5 does). Dropout's draws depend on the task's
// seed alone: one model whatever thread or process trains it.
TEST_F(TorchScript, ACnnWithBatchNormAndDropoutTrains) {
  const auto sim = checksum_after(std::string(XFED_BINARY) + " simulate " + kData + model("bn_cnn.pt") +
                                      "--rounds 4 --synthetic-noise 2",
                                  dir_->file("cnn.jsonl"));
  ASSERT_FALSE(sim.empty());
  const auto summary = read_jsonl(dir_->file("cnn.jsonl")).back();
  EXPECT_GE(summary["final_accuracy"].get<double>(), 0.5) << "it learned (chance: 0.1)";
  EXPECT_EQ(summary["params"].get<int64_t>(), (4 * 9 + 4) + (4 + 4) + (4 * 13 * 13 * 10 + 10))
      << "conv, BatchNorm's affine weights, linear: the archive's parameters";
  EXPECT_EQ(checksum_after(std::string(XFED_BINARY) + " simulate --threads 1 " + kData + model("bn_cnn.pt") +
                               "--rounds 4 --synthetic-noise 2",
                           dir_->file("cnn1.jsonl")),
            sim);
  expect_same_model_under_mpi(kData + model("bn_cnn.pt") + "--rounds 4 --synthetic-noise 2", sim,
                              dir_->file("cnn-mpi.jsonl"));
}

// Channels-last (#21): a scripted CNN whose forward computes the same on channels-last
// convolution weights trains on the NHWC kernels; one that views its maps would fail there,
// so it trains on NCHW, and the verbose log says so once.
TEST_F(TorchScript, ACnnThatViewsItsMapsTrainsOnNchwKernelsAndTheLogSaysSo) {
  const std::string kFallback = "TorchScript model: its forward does not compute the same with channels-last";
  const std::string run = std::string(XFED_BINARY) + " simulate " + kData + "--rounds 2 --verbose ";
  const auto view = run_command(run + model("view_cnn.pt") + "--metrics " + dir_->file("view.jsonl"), 300);
  ASSERT_EQ(view.code, 0) << view.out;
  const auto at = view.out.find(kFallback);
  EXPECT_NE(at, std::string::npos) << view.out;
  EXPECT_EQ(view.out.find(kFallback, at + 1), std::string::npos) << "said once";
  EXPECT_TRUE(std::isfinite(read_jsonl(dir_->file("view.jsonl")).back()["final_loss"].get<double>()));
  const auto any_layout = run_command(run + model("bn_cnn.pt"), 300);
  ASSERT_EQ(any_layout.code, 0) << any_layout.out;
  EXPECT_EQ(any_layout.out.find(kFallback), std::string::npos) << any_layout.out;
}

TEST_F(TorchScript, WhatCannotRunIsRefusedBeforeRoundOneWithOneLine) {
  std::ofstream(dir_->file("text.pt")) << "not an archive\n";
  std::ofstream(dir_->file("empty.pt"));
  {
    std::ifstream whole(dir_->file("mlp.pt"), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(whole)), std::istreambuf_iterator<char>());
    std::ofstream(dir_->file("truncated.pt"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  const std::string sim = "simulate " + kData + "--rounds 2 ";
  const std::string mlp = dir_->file("mlp.pt");
  for (const auto& [args, words] : std::vector<std::pair<std::string, std::string>>{
           {model("text.pt"), "text.pt: not a TorchScript archive"},
           {model("empty.pt"), "empty.pt: not a TorchScript archive"},
           {model("truncated.pt"), "truncated.pt: not a TorchScript archive"},
           {model("missing.pt"), "missing.pt"},
           {"--model torchscript:" + dir_->path() + " ", dir_->path()},
           {"--model torchscript: ", "expected torchscript:FILE.pt"},
           {model("wrong_shape.pt"), "returns 2x5 float, not float [2, 10] (batch, classes)"},
           {model("three_channels.pt"), "its forward on a batch of shape 2x1x28x28 fails"},
           {model("nan_weights.pt"), "weight fc2_bias is not finite"},
           {model("mlp.pt") + "--prune bn", "--prune bn: a TorchScript model (--model torchscript:"},
           {model("mlp.pt") + "--widths 10", "--widths 10: a TorchScript model"},
           {"--model torchscript ", "--model torchscript: only an edge worker (xfed worker) runs the archive its "
                                    "coordinator sends; give the file: --model torchscript:FILE.pt"},
           {model("mlp.pt") + "--model-sha256 " + std::string(64, '0'),
            "mlp.pt: the archive's SHA-256 is "},
           {model("mlp.pt") + "--model-sha256 0123", "--model-sha256 '0123': expected the archive's SHA-256, 64 hex digits"},
           {"--model mlp --model-sha256 " + std::string(64, '0'), "pins a TorchScript archive, but --model is 'mlp'"}})
    expect_usage_error(sim + args, words);
  expect_usage_error("eval --dataset synthetic --synthetic-train 2400 --synthetic-test 400 --load-model " +
                         dir_->file("nan_weights.pt"),
                     "--load-model " + dir_->file("nan_weights.pt") + ": weight fc2_bias is not finite");
}

// --save-model of a scripted model writes the archive with the trained weights and
// BatchNorm's running statistics (and the .json): `xfed eval` gives the run's final
// accuracy from it, and Python's torch.jit.load reads it, in eval mode.
TEST_F(TorchScript, ASavedScriptedModelHoldsItsTrainingForXfedEvalAndPython) {
  const std::string saved = dir_->file("trained.pt");
  const auto r = run_command(std::string(XFED_BINARY) + " simulate " + kData + model("bn_cnn.pt") +
                                 "--rounds 2 --synthetic-noise 2 --save-model " + saved,
                             300);
  ASSERT_EQ(r.code, 0) << r.out;
  const auto summary = read_jsonl(saved + ".json").back();
  const auto eval = run_command(std::string(XFED_BINARY) +
                                    " eval --dataset synthetic --synthetic-train 2400 --synthetic-test 400 "
                                    "--synthetic-noise 2 --load-model " + saved,
                                300);
  ASSERT_EQ(eval.code, 0) << eval.out;
  const auto evaluated = nlohmann::json::parse(eval.out.substr(eval.out.find('{')));
  EXPECT_EQ(evaluated["test_accuracy"].get<double>(), summary["test_accuracy"].get<double>())
      << "the same weights on the same test set";
  EXPECT_EQ(evaluated["params"].get<int64_t>(), summary["params"].get<int64_t>());
  const auto python = run_command(
      "/usr/bin/python3 -c \"import sys, torch; a = torch.jit.load(sys.argv[1]); b = torch.jit.load(sys.argv[2]); "
      "trained = any(bool((x != y).any()) for x, y in zip(a.parameters(), b.parameters())); "
      "bn = dict(a.named_buffers()); "
      "print('training', a.training, 'shape', list(a(torch.zeros(2, 1, 28, 28)).shape), 'trained', trained, "
      "'bn', bool(bn['1.running_mean'].abs().sum() > 0))\" " +
          saved + " " + dir_->file("bn_cnn.pt"),
      120);
  ASSERT_EQ(python.code, 0) << python.out;
  EXPECT_NE(python.out.find("training False shape [2, 10] trained True bn True"), std::string::npos) << python.out;
}

// A scripted chain (conv, BatchNorm, pool, dropout, linear) is DI-pruned: fewer channels in
// the model, the same model under mpirun, and the saved slim archive runs in Python on the
// dataset's full inputs. A forward that is not a provable chain is refused, naming the node.
TEST_F(TorchScript, AScriptedChainIsPrunedAndTheSlimArchiveRunsInPython) {
  const std::string run = kData + model("wide_cnn.pt") +
                          "--rounds 4 --synthetic-noise 2 --prune di:warmup=2,every=1,target=0.5 ";
  const auto sim = checksum_after(std::string(XFED_BINARY) + " simulate " + run + " --save-model " +
                                      dir_->file("slim.pt"),
                                  dir_->file("prune.jsonl"));
  ASSERT_FALSE(sim.empty());
  const auto summary = read_jsonl(dir_->file("slim.pt.json")).back();
  const int64_t full = (8 * 9 + 8) + 2 * 8 + (8 * 13 * 13 * 32 + 32) + (32 * 10 + 10);
  EXPECT_LT(summary["params"].get<int64_t>(), full * 6 / 10) << summary.dump();
  EXPECT_LT(summary["kept"]["0"].get<std::vector<int64_t>>().size(), 8u) << "conv channels cut";
  expect_same_model_under_mpi(run, sim, dir_->file("prune-mpi.jsonl"));
  const auto python = run_command(
      "/usr/bin/python3 -c \"import sys, torch; m = torch.jit.load(sys.argv[1]); "
      "print('out', list(m(torch.zeros(3, 1, 28, 28)).shape), 'params', sum(p.numel() for p in m.parameters()))\" " +
          dir_->file("slim.pt"),
      120);
  ASSERT_EQ(python.code, 0) << python.out;
  EXPECT_NE(python.out.find("out [3, 10] params " + std::to_string(summary["params"].get<int64_t>())),
            std::string::npos)
      << python.out;
  expect_usage_error("simulate " + kData + model("residual.pt") + "--prune di",
                     "residual.pt cannot be pruned: aten::add");
  EXPECT_FALSE(checksum_after(std::string(XFED_BINARY) + " simulate " + kData + model("residual.pt") + "--rounds 2",
                              dir_->file("residual.jsonl"))
                   .empty())
      << "not prunable, but it trains";
}

// A scripted run, pruned and with dropout, stopped after round 3 and resumed from its
// checkpoint ends on the model of the run that was never stopped.
TEST_F(TorchScript, AResumedScriptedRunEndsOnTheUninterruptedModel) {
  const std::string run = kData + model("wide_cnn.pt") + "--synthetic-noise 2 --prune di:warmup=2,every=1,target=0.5 ";
  const std::string xfed = std::string(XFED_BINARY) + " simulate ";
  const auto full = checksum_after(xfed + run + "--rounds 5 --checkpoint-dir " + dir_->file("ck-full"),
                                   dir_->file("full.jsonl"));
  ASSERT_FALSE(full.empty());
  ASSERT_FALSE(checksum_after(xfed + run + "--rounds 3 --checkpoint-dir " + dir_->file("ck-part"),
                              dir_->file("part.jsonl"))
                   .empty());
  EXPECT_EQ(checksum_after(xfed + run + "--rounds 5 --resume --checkpoint-dir " + dir_->file("ck-part"),
                           dir_->file("resumed.jsonl")),
            full);
}

// From a Python file to a run: launch/export_model.py scripts (or traces) a class of
// examples/pytorch/lenet.py, and what xfed could not run is refused there, in one line.
TEST_F(TorchScript, ExportModelTurnsAPythonClassIntoAnArchiveXfedTrains) {
  const std::string exporter = "/usr/bin/python3 " XFED_SOURCE_DIR "/launch/export_model.py " XFED_SOURCE_DIR
                               "/examples/pytorch/lenet.py:";
  const auto scripted = run_command(exporter + "LeNet5 --input-shape 1x28x28 --out " + dir_->file("lenet5.pt"), 120);
  ASSERT_EQ(scripted.code, 0) << scripted.out;
  EXPECT_NE(scripted.out.find("scripted"), std::string::npos) << scripted.out;
  const auto traced =
      run_command(exporter + "LeNet300100 --trace --input-shape 1x28x28 --out " + dir_->file("lenet300.pt"), 120);
  ASSERT_EQ(traced.code, 0) << traced.out;
  EXPECT_NE(traced.out.find("traced"), std::string::npos) << traced.out;
  for (const auto& [file, params] : std::vector<std::pair<std::string, int64_t>>{
           {"lenet5.pt", (20 * 25 + 20) + (50 * 20 * 25 + 50) + (800 * 500 + 500) + (500 * 10 + 10)},
           {"lenet300.pt", (784 * 300 + 300) + (300 * 100 + 100) + (100 * 10 + 10)}}) {
    const std::string metrics = dir_->file(file + ".jsonl");
    ASSERT_FALSE(checksum_after(std::string(XFED_BINARY) + " simulate " + kData + model(file) + "--rounds 1", metrics)
                     .empty());
    EXPECT_EQ(read_jsonl(metrics).back()["params"].get<int64_t>(), params) << file;
  }
  const auto refused = run_command(exporter + "LeNet5 --input-shape 3x32x32 --out " + dir_->file("x.pt"), 120);
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_NE(refused.out.find("export_model.py: forward on a batch of 2x3x32x32 failed: RuntimeError: Given groups=1"),
            std::string::npos)
      << refused.out;
  const auto no_class = run_command(exporter + "LeNet6 --input-shape 1x28x28 --out " + dir_->file("x.pt"), 120);
  EXPECT_EQ(no_class.code, 2) << no_class.out;
  EXPECT_NE(no_class.out.find("lenet.py defines no 'LeNet6'"), std::string::npos) << no_class.out;
  for (const auto& [flags, words] : std::vector<std::pair<std::string, std::string>>{
           {"--input-shape nan --out x.pt", "--input-shape 'nan': expected CxHxW"},
           {"--input-shape inf --out x.pt", "--input-shape 'inf': expected CxHxW"},
           {"--input-shape -1x28x28 --out x.pt", "--input-shape '-1x28x28': expected CxHxW"},
           {"--input-shape 0x28x28 --out x.pt", "--input-shape '0x28x28': expected CxHxW"},
           {"--input-shape 4294967296x1x1 --out x.pt", "--input-shape '4294967296x1x1': expected CxHxW"},
           {"--input-shape 1x28x28 --classes 0 --out x.pt", "--classes 0: expected 2 or more"},
           {"--input-shape 1x28x28 --classes -1 --out x.pt", "--classes -1: expected 2 or more"},
           {"--input-shape 1x28x28 --out " + dir_->path(), "export_model.py: " + dir_->path()}}) {
    const auto r = run_command(exporter + "LeNet5 " + flags, 120);
    EXPECT_EQ(r.code, 2) << flags << "\n" << r.out;
    EXPECT_NE(r.out.find(words), std::string::npos) << flags << "\n" << r.out;
  }
}

}  // namespace
}  // namespace xfed::testing
