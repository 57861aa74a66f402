// `xfed export` and `xfed eval` of an .xdc file (#20) through the command line, in-process
// (tests/cli_in_process.h): a saved model exported in every format evaluates from the file;
// bad flags, files and models end in one line naming what was wrong (exit 2), and so do bad
// --share-weights specs and the flags it cannot run with.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "tests/cli_in_process.h"
#include "tests/cli_run.h"
#include "tests/test_util.h"

namespace xfed {
namespace {

using testing::TempDir;
using testing::expect_usage_error_in_process;
using testing::xfed_in_process;

const std::string kData = "--dataset synthetic --synthetic-shape 1x8x8 --synthetic-train 300 --synthetic-test 100 ";

// The last line of a command's output that is a JSON object.
nlohmann::json last_json(const std::string& out) {
  const auto at = out.rfind("\n{");
  return nlohmann::json::parse(out.substr(at == std::string::npos ? 0 : at + 1));
}

std::string saved_model(const TempDir& dir) {
  const std::string model = dir.file("m.bin");
  const auto r = xfed_in_process("simulate " + kData + "--clients 3 --widths 8,4 --rounds 2 --quiet --save-model " + model);
  EXPECT_EQ(r.code, 0) << r.out;
  return model;
}

TEST(ExportCli, ASavedModelEvaluatesFromTheFileInEveryFormat) {
  TempDir dir;
  const std::string model = saved_model(dir);
  const auto dense = xfed_in_process("eval --load-model " + model + " " + kData);
  ASSERT_EQ(dense.code, 0) << dense.out;
  const double accuracy = last_json(dense.out)["test_accuracy"];
  for (const std::string format : {"auto", "dense", "csr", "cer", "cser"}) {
    const std::string xdc = dir.file(format + ".xdc");
    const auto ex = xfed_in_process("export --load-model " + model + " --out " + xdc + " --format " + format);
    ASSERT_EQ(ex.code, 0) << ex.out;
    EXPECT_NE(ex.out.find("layers.0"), std::string::npos) << "a row per layer:\n" << ex.out;
    const auto summary = last_json(ex.out);
    EXPECT_EQ(summary["bytes"], std::filesystem::file_size(xdc));
    EXPECT_EQ(summary["dense_fp32_bytes"], 4 * (64 * 8 + 8 + 8 * 4 + 4 + 4 * 10 + 10));
    const auto ev = xfed_in_process("eval --load-model " + xdc + " " + kData);
    ASSERT_EQ(ev.code, 0) << ev.out;
    const auto j = last_json(ev.out);
    EXPECT_EQ(j["format"], "xdc");
    EXPECT_EQ(j["multiplications"], summary["multiplications"]);
    // Unshared weights: the file's float64 products and LibTorch's float32 ones can only
    // disagree on a sample whose top two logits tie within ~1e-6 (tests/compact_predictions_test.cc
    // bounds it); allow one such sample of the 100.
    EXPECT_NEAR(j["test_accuracy"].get<double>(), accuracy, 0.0101) << format;
  }
  const auto shared = xfed_in_process("export --load-model " + model + " --out " + dir.file("s.xdc") + " --bits 2");
  ASSERT_EQ(shared.code, 0) << shared.out;
  EXPECT_LE(last_json(shared.out)["multiplications"].get<int64_t>(),
            last_json(shared.out)["csr_multiplications"].get<int64_t>());
}

TEST(ExportCli, BadFlagsFilesAndModelsAreOneLineUsageErrors) {
  TempDir dir;
  const std::string model = saved_model(dir);
  const std::string out = " --out " + dir.file("o.xdc");
  for (const std::string bits : {"nan", "inf", "-1", "17", "4294967296"})
    expect_usage_error_in_process("export --load-model " + model + out + " --bits " + bits, "--bits: '" + bits + "'");
  expect_usage_error_in_process("export --load-model " + model + out + " --format zip",
                                "--format zip: expected auto, dense, csr, cer or cser");
  expect_usage_error_in_process("export --load-model " + dir.path() + out, dir.path() + ": is a directory");
  expect_usage_error_in_process("export --load-model " + dir.file("none.bin") + out, "none.bin");
  expect_usage_error_in_process("export --load-model " + model + " --out " + dir.path(), "--out");
  expect_usage_error_in_process("export --load-model " + model + " --out " + dir.file("no/o.xdc"), "--out");
  std::ofstream(dir.file("ts.pt")) << "PK\x03\x04 not really";
  expect_usage_error_in_process("export --load-model " + dir.file("ts.pt") + out, "a TorchScript archive");
  std::ofstream(dir.file("bad.xdc")) << "XDC1\x01garbage";
  expect_usage_error_in_process("eval --load-model " + dir.file("bad.xdc") + " " + kData, "bad.xdc: checksum mismatch");
  std::ofstream(dir.file("short.xdc")) << "XDC1";
  expect_usage_error_in_process("eval --load-model " + dir.file("short.xdc") + " " + kData, "short.xdc: truncated header");
  ASSERT_EQ(xfed_in_process("export --load-model " + model + out).code, 0);
  expect_usage_error_in_process("eval --load-model " + dir.file("o.xdc") +
                                    " --dataset synthetic --synthetic-shape 1x6x6 --synthetic-train 30 --synthetic-test 10",
                                "model expects 1x8x8 inputs");
}

TEST(ShareWeightsCli, BadSpecsAndWhatCannotKeepWeightsSharedAreOneLineUsageErrors) {
  const std::string run = "simulate " + kData + "--clients 4 --widths 8,4 --rounds 5 --quiet --share-weights ";
  const std::string usage = "--share-weights '";
  for (const std::string spec : {"bits=0", "bits=17", "bits=nan", "bits=inf", "bits=-1", "bits=4294967296", "after=0",
                                 "after=5", "after=-1", "after=nan", "after=4294967296", "size=3", "bits=2,bits=3", "bits",
                                 "sparsity=1", "sparsity=-0.1", "sparsity=nan", "sparsity=inf", "sparsity=", "prune_after=0",
                                 "prune_after=5", "prune_steps=0", "prune_steps=x", "restart_lr=2", "restart_lr=-1",
                                 "restart_lr=x", "restart_lr=", "restart_lr=nan", "restart_lr=inf",
                                 "restart_lr=4294967296", "restart_lr=1,restart_lr=0"})
    expect_usage_error_in_process(run + "'" + spec + "'", usage + spec + "'");
  expect_usage_error_in_process(run + "prune_after=2", "prune_after without sparsity=S");
  expect_usage_error_in_process(run + "prune_steps=2", "prune_steps without sparsity=S");
  expect_usage_error_in_process(run + "restart_lr=1", "restart_lr without sparsity=S");
  expect_usage_error_in_process(run + "sparsity=0.5,after=2,prune_after=2", "pruning must end a round before sharing");
  expect_usage_error_in_process(run + "sparsity=0.5,after=4,prune_after=2,prune_steps=3", "prune_steps 3 in 2 rounds");
  expect_usage_error_in_process(run + "''", "--share-weights: empty");
  expect_usage_error_in_process(run + "on --downlink qsgd:8", "--share-weights with --downlink qsgd:8: a lossy downlink");
  expect_usage_error_in_process(run + "on --secure-aggregation", "--share-weights with --secure-aggregation");
  expect_usage_error_in_process(run + "on --dp clip=1,noise=1", "--share-weights with --dp");
  expect_usage_error_in_process("simulate " + kData + "--rounds 1 --share-weights on", "--share-weights needs --rounds 2");
  EXPECT_EQ(xfed_in_process(run + "bits=2,after=4").code, 0);
  EXPECT_EQ(xfed_in_process(run + "bits=2,after=4,sparsity=0.5,prune_after=3,prune_steps=2").code, 0);
}

// restart_lr=1: the client lr's decay starts again after each magnitude-pruning step (here
// the ends of rounds 2 and 3), so round r's lr is lr·D^(r - 1 - the last step before r); a
// run stopped after round 5 resumes with that origin (it is the checkpoint's) to the same
// model as the uninterrupted run.
TEST(ShareWeightsCli, RestartLrStartsTheDecayAgainAfterEachPruningStepAndResumesWithIt) {
  TempDir dir;
  const std::string run = "simulate " + kData + "--clients 4 --widths 8,4 --quiet --lr 0.1 --lr-decay 0.5 "
                          "--share-weights bits=2,after=4,sparsity=0.5,prune_after=3,prune_steps=2,restart_lr=1 ";
  const auto lrs = [](const std::string& metrics) {
    std::vector<double> out;
    for (const auto& round : testing::read_jsonl(metrics))
      if (round.contains("lr")) out.push_back(round["lr"].get<double>());
    return out;
  };
  const std::string whole = dir.file("whole.jsonl"), model = dir.file("whole.bin");
  ASSERT_EQ(xfed_in_process(run + "--rounds 6 --metrics " + whole + " --save-model " + model).code, 0);
  EXPECT_EQ(lrs(whole), (std::vector<double>{0.1, 0.05, 0.1, 0.1, 0.05, 0.025}));
  const std::string ck = " --checkpoint-dir " + dir.file("ck") + " --save-model " + dir.file("resumed.bin");
  ASSERT_EQ(xfed_in_process(run + "--rounds 5" + ck).code, 0);
  const std::string resumed = dir.file("resumed.jsonl");
  ASSERT_EQ(xfed_in_process(run + "--rounds 6 --resume --metrics " + resumed + ck).code, 0);
  EXPECT_EQ(lrs(resumed), (std::vector<double>{0.025})) << "round 6";
  const auto bytes = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(bytes(dir.file("resumed.bin")), bytes(model)) << "resumed model";
  const std::string plain = dir.file("plain.jsonl");
  ASSERT_EQ(xfed_in_process("simulate " + kData + "--clients 4 --widths 8,4 --quiet --lr 0.1 --lr-decay 0.5 --rounds 3 "
                            "--share-weights bits=2,after=2,sparsity=0.5,prune_after=1 --metrics " + plain).code, 0);
  EXPECT_EQ(lrs(plain), (std::vector<double>{0.1, 0.05, 0.025})) << "without restart_lr the decay runs on";
}

}  // namespace
}  // namespace xfed
