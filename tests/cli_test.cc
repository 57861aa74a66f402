// The CLI contract: exit codes, one-line errors naming the flag/key/file, config files,
// metrics schema, save/eval. Runs the real binary.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "tests/cli_run.h"
#include "tests/test_util.h"

namespace xfed {
namespace {

using testing::TempDir;
using testing::expect_usage_error;
using testing::read_jsonl;
using testing::xfed;

const std::string kSmall =
    "simulate --dataset synthetic --synthetic-shape 1x8x8 --synthetic-train 600 "
    "--synthetic-test 200 --clients 3 --widths 16,8 --quiet ";

TEST(Cli, BadFlagsExitWithTwoAndNameTheFlag) {
  expect_usage_error(kSmall + "--clients 0", "--clients");
  expect_usage_error(kSmall + "--fraction 1.5", "--fraction");
  expect_usage_error(kSmall + "--partition nope", "--partition 'nope'");
  expect_usage_error(kSmall + "--strategy fedsgd", "--strategy 'fedsgd'");
  expect_usage_error(kSmall + "--model transformer", "--model 'transformer'");
  expect_usage_error(kSmall + "--widths 16", "--widths");
  expect_usage_error(kSmall + "--compress magic", "--compress 'magic'");
  expect_usage_error(kSmall + "--bogus 1", "--bogus");
  expect_usage_error(kSmall + "--resume", "--resume needs --checkpoint-dir");
  expect_usage_error(kSmall + "--prune di:fraction=2", "'fraction=2': expected a number in [1e-06, 0.95]");
  expect_usage_error(kSmall + "--prune bn", "--prune bn: model mlp has no BatchNorm");  // before round 1
  expect_usage_error("simulate --dataset cifar10 --data-dir /nonexistent", "/nonexistent/data_batch_1.bin");
  expect_usage_error("simulate --data-dir /nonexistent", "/nonexistent/train-images-idx3-ubyte");
  expect_usage_error("frobnicate", "frobnicate");
}

TEST(Cli, HelpListsTheFlags) {
  const auto r = xfed("simulate --help");
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--partition", "--strategy", "--compress", "--metrics", "--resume"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

TEST(Cli, ConfigFileUnknownKeyAndBadSyntax) {
  TempDir dir;
  std::ofstream(dir.file("bad.toml")) << "roundz = 3\n";
  expect_usage_error(kSmall + "--config " + dir.file("bad.toml"), "unknown key 'roundz'");
  std::ofstream(dir.file("broken.toml")) << "rounds = = 3\n";
  expect_usage_error(kSmall + "--config " + dir.file("broken.toml"), dir.file("broken.toml"));
  std::ofstream(dir.file("bad.json")) << "{\"rounds\": \"many\"}";
  expect_usage_error(kSmall + "--config " + dir.file("bad.json"), "--rounds");
  expect_usage_error(kSmall + "--config " + dir.file("missing.toml"), "missing.toml: cannot open");
}

TEST(Cli, ConfigFilesAreReadAndFlagsOverrideThem) {
  TempDir dir;
  std::ofstream(dir.file("run.toml")) << "rounds = 5\nlocal_epochs = 1\nlr = 0.05\n"
                                         "partition = \"shards:2\"\n";
  std::ofstream(dir.file("run.json")) << R"({"rounds": 5, "strategy": "fedavgm"})";
  for (const char* name : {"run.toml", "run.json"}) {
    const auto metrics = dir.file(std::string(name) + ".jsonl");
    const auto r = xfed(kSmall + "--config " + dir.file(name) + " --rounds 2 --metrics " + metrics);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(read_jsonl(metrics).size(), 3u) << "2 rounds (flag wins over the file) + summary";
  }
}

TEST(Cli, MetricsFollowTheSchemaAndEvalReproducesAccuracy) {
  TempDir dir;
  const auto r = xfed(kSmall + "--rounds 2 --metrics " + dir.file("m.jsonl") + " --save-model " +
                      dir.file("m.model"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto lines = read_jsonl(dir.file("m.jsonl"));
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    for (const char* key : {"round", "test_accuracy", "test_loss", "clients", "dropped",
                            "bytes_up", "bytes_down", "bytes_up_dense", "bytes_down_dense",
                            "params", "flops", "seconds", "seconds_compute", "seconds_encode",
                            "seconds_comm", "seconds_decode", "seconds_aggregate"})
      EXPECT_TRUE(lines[i].contains(key)) << key;
    EXPECT_EQ(lines[i]["round"], i + 1);
  }
  const auto& summary = lines[2];
  EXPECT_EQ(summary["summary"], true);
  for (const char* key : {"model_checksum", "final_accuracy", "total_bytes_up", "total_bytes_down"})
    EXPECT_TRUE(summary.contains(key)) << key;
  EXPECT_EQ(summary["total_bytes_up"].get<int64_t>(),
            lines[0]["bytes_up"].get<int64_t>() + lines[1]["bytes_up"].get<int64_t>());
  const std::string data = "--dataset synthetic --synthetic-shape 1x8x8 --synthetic-train 600 "
                           "--synthetic-test 200";
  const auto ev = xfed("eval --load-model " + dir.file("m.model") + " " + data);
  ASSERT_EQ(ev.code, 0) << ev.out;
  const auto j = nlohmann::json::parse(ev.out);
  EXPECT_DOUBLE_EQ(j["test_accuracy"].get<double>(), summary["final_accuracy"].get<double>());
  expect_usage_error("eval --load-model " + dir.file("m.model") + " --dataset synthetic",
                     "model expects 1x8x8 inputs");
  expect_usage_error("eval --load-model " + dir.file("nothing"), "nothing: cannot open");
}

TEST(Cli, DiScoreScoresCsvFilesAndRejectsBadOnes) {
  TempDir dir;
  // Two units, two classes: unit 0 separates the classes, unit 1 is noise.
  std::ofstream(dir.file("a.csv")) << "u0,u1\n1,0.3\n1.2,-0.2\n0.9,0.1\n-1,0.2\n-1.1,-0.1\n-0.8,0\n";
  std::ofstream(dir.file("y.csv")) << "0\n0\n0\n1\n1\n1\n";
  const auto r = xfed("di-score --activations " + dir.file("a.csv") + " --labels " + dir.file("y.csv") + " --rho 0.5");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j["rho"].get<double>(), 0.5);
  EXPECT_GT(j["diloss"][0].get<double>(), 10 * j["diloss"][1].get<double>());
  EXPECT_GT(j["drop"][0].get<double>(), j["drop"][1].get<double>());
  // DI for this data by hand: Sbar = [[0.08+..]] is checked in di_test; here: 0 < DI < 1.
  EXPECT_GT(j["di"].get<double>(), 0.5);
  EXPECT_LT(j["di"].get<double>(), 1.0);
  std::ofstream(dir.file("ragged.csv")) << "1,2\n3\n";
  expect_usage_error("di-score --activations " + dir.file("ragged.csv") + " --labels " + dir.file("y.csv"),
                     "ragged.csv:2: 1 columns");
  std::ofstream(dir.file("short.csv")) << "0\n1\n";
  expect_usage_error("di-score --activations " + dir.file("a.csv") + " --labels " + dir.file("short.csv"),
                     "2 labels for 6 activation rows");
  std::ofstream(dir.file("neg.csv")) << "0\n0\n0\n1\n1\n-1\n";
  expect_usage_error("di-score --activations " + dir.file("a.csv") + " --labels " + dir.file("neg.csv"),
                     "row 6 is not a class index");
  expect_usage_error("di-score --activations " + dir.file("none.csv") + " --labels " + dir.file("y.csv"),
                     "none.csv: cannot open");
}

TEST(Cli, PrunedModelIsExportedWithKeptUnitsAndReloads) {
  TempDir dir;
  const auto r = xfed(kSmall + "--rounds 4 --prune di:every=1,warmup=2,fraction=0.5,target=0.2,min_units=2 "
                      "--save-model " + dir.file("p.model") + " --metrics " + dir.file("m.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream in(dir.file("p.model.json"));
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["kept"]["fc1"].size(), j["spec"]["widths"][0].get<size_t>());
  EXPECT_EQ(j["kept"]["input"].size(), j["spec"]["input_kept"].size());
  const auto lines = read_jsonl(dir.file("m.jsonl"));
  EXPECT_EQ(j["params"], lines.back()["params"]);
  const auto ev = xfed("eval --load-model " + dir.file("p.model") +
                       " --dataset synthetic --synthetic-shape 1x8x8 --synthetic-train 600 --synthetic-test 200");
  ASSERT_EQ(ev.code, 0) << ev.out;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(ev.out)["test_accuracy"].get<double>(),
                   lines.back()["final_accuracy"].get<double>());
  expect_usage_error(kSmall + "--prune di:every=0", "--prune 'di:every=0'");
}

// Without --quiet, each pruning step prints a permanent line with the kept widths and the
// new size, the same as the metrics say.
TEST(Cli, ProgressShowsEachPruningStep) {
  TempDir dir;
  std::string args = kSmall + "--rounds 4 --prune di:every=1,warmup=2,fraction=0.5,target=0.2,min_units=2 "
                              "--metrics " + dir.file("m.jsonl");
  args.replace(args.find("--quiet "), 8, "");
  const auto r = xfed(args);
  ASSERT_EQ(r.code, 0) << r.out;
  std::vector<std::string> expected;
  for (const auto& round : read_jsonl(dir.file("m.jsonl"))) {
    if (!round.contains("kept")) continue;
    std::string widths;
    for (const auto& k : round["kept"]) widths += (widths.empty() ? "" : "-") + std::to_string(k.get<int64_t>());
    expected.push_back("  pruned: kept " + widths + " units per layer, " +
                       std::to_string(round["params"].get<int64_t>()) + " params (");
  }
  ASSERT_GE(expected.size(), 2u) << r.out;
  size_t at = 0;
  for (const auto& line : expected) {
    at = r.out.find(line, at);
    ASSERT_NE(at, std::string::npos) << line << "\n" << r.out;
  }
  size_t lines = 0;
  for (size_t p = r.out.find("  pruned: "); p != std::string::npos; p = r.out.find("  pruned: ", p + 1)) ++lines;
  EXPECT_EQ(lines, expected.size()) << "one line per pruning step\n" << r.out;
}

}  // namespace
}  // namespace xfed
