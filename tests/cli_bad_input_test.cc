// The CLI against bad input, as a careless or hostile user would give it: every numeric flag
// with nan, inf, a negative number, zero and 2^32; config booleans; resumes of another run;
// files that are directories or devices; outputs that cannot be written; divergence. Each
// case: the exit code and the words the one-line error must contain. Runs the real binary,
// and for the long tables of `simulate` usage errors its command line in-process
// (tests/cli_in_process.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <cctype>
#include <set>
#include <fstream>
#include <nlohmann/json.hpp>

#include "xfed/config.h"
#include "tests/cli_in_process.h"
#include "tests/cli_run.h"
#include "tests/test_util.h"

namespace xfed {
namespace {

using testing::TempDir;
using testing::xfed;

const std::string kTiny =
    "simulate --dataset synthetic --synthetic-shape 1x8x8 --synthetic-train 300 "
    "--synthetic-test 100 --clients 3 --widths 8,4 --rounds 1 --quiet ";

// The table: every numeric flag of simulate, tried with each of these values; expected exit
// 2 with a one-line error naming the flag, except the (flag, value) pairs listed as valid,
// which must run (exit 0). One test per flag, so that ctest runs them in parallel.
const char* const kNumericFlags[] = {
    "--clients", "--fraction", "--rounds", "--local-epochs", "--batch", "--lr", "--momentum",
    "--weight-decay", "--lr-decay", "--server-lr", "--ef-momentum", "--sparsity-warmup",
    "--warmup-start-ratio", "--seed", "--threads", "--checkpoint-every", "--eval-every",
    "--round-timeout", "--straggler-timeout", "--min-clients", "--synthetic-classes", "--synthetic-train",
    "--synthetic-test", "--synthetic-noise", "--max-update-norm"};
const char* const kBadValues[] = {"nan", "inf", "-1", "0", "4294967296"};
const std::set<std::pair<std::string, std::string>> kValid = {
    {"--momentum", "0"}, {"--weight-decay", "0"}, {"--ef-momentum", "0"},
    {"--warmup-start-ratio", "0"}, {"--round-timeout", "0"}, {"--straggler-timeout", "0"}, {"--synthetic-noise", "0"},
    {"--threads", "0"}, {"--sparsity-warmup", "0"}, {"--seed", "0"}, {"--seed", "4294967296"},
    {"--max-update-norm", "0"}, {"--max-update-norm", "4294967296"}};

class NumericFlag : public ::testing::TestWithParam<const char*> {};

TEST_P(NumericFlag, RefusesNanInfNegativeZeroAndHugeValues) {
  const std::string flag = GetParam();
  for (const std::string value : kBadValues) {
    const int expected = kValid.count({flag, value}) ? 0 : 2;
    const auto r = testing::xfed_in_process(kTiny + flag + "=" + value);
    EXPECT_EQ(r.code, expected) << flag << " " << value << "\n" << r.out;
    if (expected != 2) continue;
    EXPECT_NE(r.out.find(flag + ": '" + value + "'"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << r.out;
    EXPECT_LT(r.out.size(), 200u) << "bounds in short form: " << r.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, NumericFlag, ::testing::ValuesIn(kNumericFlags),
                         [](const auto& info) {
                           std::string name;
                           for (const char* c = info.param; *c; ++c)
                             if (std::isalnum(static_cast<unsigned char>(*c))) name += *c;
                           return name;
                         });

// The edge commands' own flags: bad numbers refused naming the flag, before any key, data or
// socket is touched; a client list out of range; a directory for a key file. Each run starts
// the binary (most of the cost), so each flag gets one non-finite, one out-of-range low and
// one huge value: they go through the validators the table above covers value by value.
TEST(CliBadInput, EdgeFlagsRefuseBadNumbersClientsAndDirectories) {
  if (!XFED_HAVE_ZMQ) GTEST_SKIP() << "xfed was built without ZeroMQ";
  const std::string coordinator = "coordinator --bind tcp://127.0.0.1:1 --authorized-keys none ";
  const std::string worker = "worker --connect tcp://127.0.0.1:1 --key none ";
  const std::vector<std::pair<std::string, std::string>> flags = {
      {coordinator, "--heartbeat"}, {coordinator, "--liveness"}, {coordinator, "--wait-workers"},
      {worker, "--heartbeat"},      {worker, "--connect-timeout"}, {worker, "--reconnect-timeout"}};
  for (const auto& [command, flag] : flags)
    for (const std::string value : {"nan", flag == "--wait-workers" ? "-1" : "0", "4294967296"})
      testing::expect_usage_error(command + flag + "=" + value, flag + ": '" + value + "'");
  for (const std::string clients : {"-1", "10", "1,,2"})
    testing::expect_usage_error(worker + "--client=" + clients, "--client '" + clients + "'");
  testing::expect_usage_error(worker + "--client 0", "--key none");
  testing::expect_usage_error("worker --connect tcp://127.0.0.1:1 --key / --client 0", "--key /: is a directory");
  // The attack bench is for simulations: an edge run has real clients.
  testing::expect_usage_error(coordinator + "--attack signflip:1", "--attack");
  testing::expect_usage_error(worker + "--client 0 --attack signflip:1", "--attack");
}

TEST(CliBadInput, SpecsRefuseNonFiniteAndOutOfRangeNumbers) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--strategy fedprox:nan", "--strategy 'fedprox:nan'"},
      {"--strategy fedprox:inf", "--strategy 'fedprox:inf'"},
      {"--strategy fedprox:-1", "--strategy 'fedprox:-1'"},
      {"--partition dirichlet:nan", "--partition 'dirichlet:nan'"},
      {"--partition dirichlet:inf", "--partition 'dirichlet:inf'"},
      {"--partition shards:4294967296", "--partition 'shards:4294967296'"},
      {"--compress threshold:1e39", "--compress 'threshold:1e39'"},
      {"--compress threshold:nan", "--compress 'threshold:nan'"},
      {"--compress topk:nan", "--compress 'topk:nan'"},
      {"--downlink qsgd:4294967296", "--downlink 'qsgd:4294967296'"},
      {"--prune di:fraction=nan", "'fraction=nan'"},
      {"--prune di:rho=inf", "'rho=inf'"},
      {"--prune di:refit=2", "'refit=2'"},
      {"--prune di:refit=4294967296", "'refit=4294967296'"},
      {"--prune di:refit_ridge=nan", "'refit_ridge=nan'"},
      {"--prune di:refit_ridge=inf", "'refit_ridge=inf'"},
      {"--prune di:refit_ridge=-1", "'refit_ridge=-1'"},
      {"--prune di:input_l1=0.5", "'input_l1=0.5'"},
      {"--prune di:stats_fraction=0", "'stats_fraction=0'"},
      {"--prune di:stats_fraction=nan", "'stats_fraction=nan'"},
      {"--prune di:stats_fraction=-0.5", "'stats_fraction=-0.5'"},
      {"--prune di:stats_fraction=4294967296", "'stats_fraction=4294967296'"},
      {"--prune di:stats_trim=nan", "'stats_trim=nan'"},
      {"--prune di:stats_trim=-1", "'stats_trim=-1'"},
      {"--prune di:stats_trim=1.5", "'stats_trim=1.5'"},
      {"--prune di:stats_trim=4294967296", "'stats_trim=4294967296'"},
      {"--prune di:stats_trim=inf", "'stats_trim=inf'"},
      {"--prune di:stats_trim=/tmp", "'stats_trim=/tmp'"},
      {"--link nanmbit", "--link 'nanmbit'"},
      // One strict spec parser: empty items and half-numbers are refused, never skipped.
      {"--link 1.2.3mbit", "--link '1.2.3mbit'"},
      {"--link 1mbit,", "--link '1mbit,'"},
      {"--link 1mbit:-5ms", "--link '1mbit:-5ms'"},
      {"--compress topk:0.1,", "--compress 'topk:0.1,'"},
      {"--compress qsgd:8:", "--compress 'qsgd:8:'"},
      {"--prune di:target=0.5,", "--prune 'di:target=0.5,'"},
      {"--widths 30,,10", "--widths '30,,10'"},
      {"--partition iid:", "--partition 'iid:'"},
      {"--strategy fedavg:", "--strategy 'fedavg:'"},
      {"--widths -3,4", "--widths '-3,4'"},
      {"--widths 4294967296,4", "--widths '4294967296,4'"},
      {"--synthetic-shape 1x100000x100000", "--synthetic-shape '1x100000x100000'"},
      {"--synthetic-shape 0x8x8", "--synthetic-shape '0x8x8'"},
      {"--min-clients 4", "--min-clients 4 is more than --clients 3"},
      // --aggregate: a registered name, mean with no argument, the robust rules' arguments.
      {"--aggregate nan", "--aggregate 'nan': no aggregator of that name (registered: cclip, krum, mean, median, "
                          "multikrum, trimmed)"},
      {"--aggregate trimmed:nan", "--aggregate 'trimmed:nan': expected trimmed:BETA with BETA in [0, 0.5)"},
      {"--aggregate trimmed:inf", "--aggregate 'trimmed:inf': expected trimmed:BETA"},
      {"--aggregate trimmed:-1", "--aggregate 'trimmed:-1': expected trimmed:BETA"},
      {"--aggregate krum:-1", "--aggregate 'krum:-1': expected krum:F, F >= 0 hostile clients"},
      {"--aggregate krum:4294967296", "--aggregate 'krum:4294967296': expected krum:F"},
      {"--aggregate multikrum:1:0", "--aggregate 'multikrum:1:0': expected multikrum:F[:M]"},
      {"--aggregate cclip:0", "--aggregate 'cclip:0': expected cclip:TAU[:ITERS], TAU > 0"},
      {"--aggregate cclip:nan", "--aggregate 'cclip:nan': expected cclip:TAU[:ITERS]"},
      {"--aggregate cclip:/tmp", "--aggregate 'cclip:/tmp': expected cclip:TAU[:ITERS]"},
      {"--attack signflip:nan", "--attack 'signflip:nan': expected KIND:K[,scale=S]"},
      {"--attack signflip:0", "--attack 'signflip:0'"},
      {"--attack signflip:-1", "--attack 'signflip:-1'"},
      {"--attack signflip:4294967296", "--attack 'signflip:4294967296'"},
      {"--attack signflip:4", "--attack 'signflip:4': 4 hostile clients of --clients 3"},
      {"--attack scaled:1,scale=inf", "--attack 'scaled:1,scale=inf'"},
      {"--attack gaussian:1,scale=0", "--attack 'gaussian:1,scale=0': gaussian's scale is a standard deviation"},
      {"--attack /tmp", "--attack '/tmp'"},
      {"--attack stats:1", "--attack stats:1: forges the class statistics of pruning rounds; it needs --prune"},
      {"--aggregate mean:nan", "--aggregate 'mean:nan': mean takes no argument"},
      {"--aggregate mean:", "--aggregate 'mean:': mean takes no argument"},
      {"--aggregate ''", "--aggregate '': no aggregator of that name"},
      {"--aggregate /tmp", "--aggregate '/tmp': no aggregator of that name"},
      {"--aggregate 4294967296", "--aggregate '4294967296': no aggregator of that name"},
  };
  for (const auto& [args, words] : cases) testing::expect_usage_error_in_process(kTiny + args, words);
}

// --dp's spec in a table of its own (each row starts a process: under the sanitizers one
// table of every spec would pass the test's time limit).
TEST(CliBadInput, DpSpecsRefuseNonFiniteAndOutOfRangeNumbers) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // --dp: every number finite and in range, what it cannot combine with named.
      {"--dp clip=nan,noise=1", "--dp 'clip=nan,noise=1': expected clip=C,noise=Z"},
      {"--dp clip=-1,noise=1", "--dp 'clip=-1,noise=1': expected clip=C,noise=Z"},
      {"--dp clip=0,noise=1", "--dp 'clip=0,noise=1'"},
      {"--dp clip=1,noise=inf", "--dp 'clip=1,noise=inf'"},
      {"--dp clip=4294967296,noise=1", "--dp 'clip=4294967296,noise=1'"},
      {"--dp clip=1,noise=1,delta=1", "--dp 'clip=1,noise=1,delta=1'"},
      {"--dp clip=1,noise=1,delta=nan", "--dp 'clip=1,noise=1,delta=nan'"},
      {"--dp clip=1,noise=1,target_epsilon=-1", "--dp 'clip=1,noise=1,target_epsilon=-1'"},
      {"--dp clip=1,noise=1,seed=-1", "--dp 'clip=1,noise=1,seed=-1'"},
      {"--dp clip=1", "--dp 'clip=1'"},
      {"--dp clip=1,noise=0", "--dp 'clip=1,noise=0'"},
      {"--dp clip=1,noise=-1", "--dp 'clip=1,noise=-1'"},
      {"--dp clip=1,noise=4294967296", "--dp 'clip=1,noise=4294967296'"},
      {"--dp clip=inf,noise=1", "--dp 'clip=inf,noise=1'"},
      {"--dp clip=1,noise=1,delta=0", "--dp 'clip=1,noise=1,delta=0'"},
      {"--dp clip=1,noise=1,target_epsilon=nan", "--dp 'clip=1,noise=1,target_epsilon=nan'"},
      {"--dp clip=1,noise=1,target_epsilon=0", "--dp 'clip=1,noise=1,target_epsilon=0'"},
      {"--dp clip=1,noise=1,adaptive=nan", "--dp 'clip=1,noise=1,adaptive=nan'"},
      {"--dp clip=1,noise=1,seed=4294967296e9", "--dp 'clip=1,noise=1,seed=4294967296e9'"},
      {"--dp clip=/tmp,noise=1", "--dp 'clip=/tmp,noise=1'"},
      {"--dp /tmp", "--dp '/tmp'"},
      {"--dp clip=1,noise=0.5,target_epsilon=1", "--dp target_epsilon=1: one round alone spends epsilon"},
      {"--dp clip=1,noise=1,adaptive=0.5", "--dp adaptive=0.5: the clipped-count noise"},
      {"--dp clip=1,noise=1 --prune taylor:target=0.5", "--dp clip=1,noise=1 with --prune taylor"},
      {"--dp clip=1,noise=1 --prune di:target=0.5,stats_trim=1", "with --prune stats_trim"},
      {"--dp clip=1,noise=1 --prune di:target=0.5,noise=0.1", "with --prune noise"},
      {"--dp clip=1,noise=1,stats_noise=nan", "--dp 'clip=1,noise=1,stats_noise=nan'"},
      {"--dp clip=1,noise=1,stats_noise=inf", "--dp 'clip=1,noise=1,stats_noise=inf'"},
      {"--dp clip=1,noise=1,stats_noise=-1", "--dp 'clip=1,noise=1,stats_noise=-1'"},
      {"--dp clip=1,noise=1,stats_noise=0", "--dp 'clip=1,noise=1,stats_noise=0'"},
      {"--dp clip=1,noise=1,stats_noise=4294967296", "--dp 'clip=1,noise=1,stats_noise=4294967296'"},
      {"--dp clip=1,noise=1,stats_clip=/tmp", "--dp 'clip=1,noise=1,stats_clip=/tmp'"},
      {"--dp clip=1,noise=1,stats_clip=0", "--dp 'clip=1,noise=1,stats_clip=0'"},
      {"--dp clip=1,noise=1,stats_clip=nan", "--dp 'clip=1,noise=1,stats_clip=nan'"},
      {"--dp clip=1,noise=1,stats_clip=-1", "--dp 'clip=1,noise=1,stats_clip=-1'"},
      {"--dp clip=1,noise=1,stats_clip=inf", "--dp 'clip=1,noise=1,stats_clip=inf'"},
      {"--dp clip=1,noise=1,mode=local,stats_noise=1", "stats_noise and stats_clip are for DI pruning"},
      {"--dp clip=1,noise=1 --aggregate median", "--dp clip=1,noise=1 with --aggregate median"},
      {"--dp clip=1,noise=1 --min-clients 2", "--dp clip=1,noise=1 with --min-clients 2"},
      {"--dp clip=1,noise=1,mode=nan", "--dp 'clip=1,noise=1,mode=nan'"},
      {"--dp clip=1,noise=1,mode=local,adaptive=0.5", "adaptive clipping counts the clipped updates at the coordinator"},
      {"--dp clip=1,noise=1,mode=local --prune di:target=0.5", "with --prune"},
  };
  for (const auto& [args, words] : cases) testing::expect_usage_error_in_process(kTiny + args, words);
}

TEST(CliBadInput, SecureAggregationSpecsRefuseBadNumbersAndWhatNeedsSingleUpdates) {
  const std::string sa = "--secure-aggregation";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {sa + "=threshold=nan", "--secure-aggregation 'threshold=nan': expected on, or threshold=T"},
      {sa + "=threshold=1", "--secure-aggregation 'threshold=1'"},
      {sa + "=threshold=-1", "--secure-aggregation 'threshold=-1'"},
      {sa + "=threshold=0", "--secure-aggregation 'threshold=0'"},
      {sa + "=threshold=4294967296", "--secure-aggregation 'threshold=4294967296'"},
      {sa + "=degree=3", "--secure-aggregation 'degree=3'"},
      {sa + "=degree=inf", "--secure-aggregation 'degree=inf'"},
      {sa + "=degree=4,threshold=5", "threshold 5 is above degree 4"},
      {sa + "=range=nan", "--secure-aggregation 'range=nan'"},
      {sa + "=range=inf", "--secure-aggregation 'range=inf'"},
      {sa + "=range=0", "--secure-aggregation 'range=0'"},
      {sa + "=range=-1", "--secure-aggregation 'range=-1'"},
      {sa + "=range=4294967296", "--secure-aggregation 'range=4294967296'"},
      {sa + "=bits=0", "--secure-aggregation 'bits=0'"},
      {sa + "=bits=25", "--secure-aggregation 'bits=25'"},
      {sa + "=bits=/tmp", "--secure-aggregation 'bits=/tmp'"},
      {sa + "=/tmp", "--secure-aggregation '/tmp'"},
      {sa + "=bits=8,bits=9", "bits given twice"},
      {sa + " --compress topk:0.1", "--secure-aggregation with --compress topk:0.1: clients must all send the same positions"},
      {sa + " --compress randk:0.1,qsgd:4", "use --compress randk:R"},
      {sa + " --compress zstd", "masked values look random"},
      {sa + " --dp clip=1,noise=1", "--secure-aggregation with central --dp"},
      {sa + " --aggregate median", "--secure-aggregation with --aggregate median"},
      {sa + " --max-update-norm 5", "--secure-aggregation with --max-update-norm"},
      {sa + " --prune taylor:target=0.5", "activation x gradient sums have no bound under masks"},
      {sa + " --prune di:target=0.5,spatial=1", "spatial=1 counts positions as samples"},
      {sa + " --prune di:target=0.5,stats_samples=0", "stats_samples=0 leaves each client's statistics unbounded"},
      {sa + " --prune di:target=0.5,stats_trim=1", "stats_trim needs each client's statistics"},
      {sa + " --prune di:target=0.5,stats_samples=100000000", "do not decode exactly at 30 bits"},
      {sa + "=stats_range=nan", "--secure-aggregation 'stats_range=nan'"},
      {sa + "=stats_range=inf", "--secure-aggregation 'stats_range=inf'"},
      {sa + "=stats_range=0", "--secure-aggregation 'stats_range=0'"},
      {sa + "=stats_range=-1", "--secure-aggregation 'stats_range=-1'"},
      {sa + "=stats_range=4294967296", "--secure-aggregation 'stats_range=4294967296'"},
      {sa + "=stats_range=/tmp", "--secure-aggregation 'stats_range=/tmp'"},
      {sa + " --clients 2", "2 client(s) a round"},
      {sa + "=bits=24 --clients 300", "needs a ring of more than 32 bits"},
      {"--dp clip=1,noise=1,mode=distributed", "mode=distributed needs --secure-aggregation"},
      {sa + " --dp clip=1,noise=1,mode=distributed,adaptive=0.5", "adaptive clipping counts the clipped updates"},
  };
  for (const auto& [args, words] : cases) testing::expect_usage_error_in_process(kTiny + args, words);
}

// Sizes from input are bounded by what the input can hold, before LibTorch allocates them.
TEST(CliBadInput, SizesFromFilesAreBounded) {
  TempDir dir;
  std::ofstream(dir.file("a.csv")) << "1,2\n3,4\n";
  std::ofstream(dir.file("y.csv")) << "0\n1000000000\n";
  testing::expect_usage_error("di-score --activations " + dir.file("a.csv") + " --labels " + dir.file("y.csv"),
                              "row 2 is not a class index in [0, 100000)");
  std::ofstream(dir.file("y2.csv")) << "0\n1\n";
  testing::expect_usage_error("di-score --activations " + dir.file("a.csv") + " --labels " + dir.file("y2.csv") +
                                  " --rho nan",
                              "--rho: 'nan' is not a finite number");
  std::ofstream(dir.file("nan.csv")) << "1,2\n3,nan\n";
  testing::expect_usage_error("di-score --activations " + dir.file("nan.csv") + " --labels " + dir.file("y2.csv"),
                              "nan.csv:2: not a row of numbers");
  testing::expect_usage_error("simulate --dataset mnist --data-dir " + dir.path(), "mnist IDX files");
  testing::expect_usage_error("simulate --dataset imagenet",
                              "--dataset 'imagenet': no dataset of that name (registered: cifar10, fashion-mnist, "
                              "mnist, synthetic)");
}

// A threshold that selects nothing: empty sparse tensors (once a memcpy from null, UB).
TEST(CliBadInput, SparsifierThatSelectsNothingStillRuns) {
  TempDir dir;
  const auto r = xfed(kTiny + "--compress threshold:100 --metrics " + dir.file("m.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto lines = testing::read_jsonl(dir.file("m.jsonl"));
  EXPECT_LT(lines[0]["bytes_up"].get<int64_t>() * 10, lines[0]["bytes_up_dense"].get<int64_t>());
}

TEST(CliBadInput, BatchOfOneTrainsModelsWithoutBatchNorm) {
  TempDir dir;
  const auto r = xfed(kTiny + "--batch 1 --momentum 0 --lr 0.01 --metrics " + dir.file("m.jsonl"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto lines = testing::read_jsonl(dir.file("m.jsonl"));
  EXPECT_GT(lines[0]["train_loss"].get<double>(), 0.1) << "batches were trained";
  EXPECT_EQ(lines[0]["clients"], 3);
  testing::expect_usage_error(
      "simulate --dataset synthetic --synthetic-shape 3x8x8 --synthetic-train 300 --model vgg "
      "--widths 4,4,4,4,4,4,8 --batch 1 --quiet",
      "--batch 1: model vgg has BatchNorm");
}

// A false boolean in a config file leaves the flag off; a boolean where a value is expected,
// or a value for a flag, is a usage error naming the key.
TEST(CliBadInput, ConfigBooleansMeanWhatTheySay) {
  TempDir dir;
  std::ofstream(dir.file("off.toml")) << "resume = false\nquiet = false\nno_error_feedback = false\n";
  std::string loud = kTiny;
  loud.replace(loud.find("--quiet "), 8, "");
  const auto r = xfed(loud + "--config " + dir.file("off.toml"));
  EXPECT_EQ(r.code, 0) << "resume = false must not resume (it would need --checkpoint-dir)\n" << r.out;
  EXPECT_NE(r.out.find("round   1/1"), std::string::npos) << "quiet = false prints progress\n" << r.out;
  std::ofstream(dir.file("off.json")) << R"({"resume": false, "quiet": false})";
  EXPECT_EQ(xfed(loud + "--config " + dir.file("off.json")).code, 0);
  std::ofstream(dir.file("on.toml")) << "resume = true\n";
  testing::expect_usage_error(kTiny + "--config " + dir.file("on.toml"), "--resume needs --checkpoint-dir");
  std::ofstream(dir.file("bool.toml")) << "rounds = true\n";
  testing::expect_usage_error(kTiny + "--config " + dir.file("bool.toml"), "key 'rounds': expected a value");
  std::ofstream(dir.file("num.toml")) << "quiet = 1\n";
  testing::expect_usage_error(kTiny + "--config " + dir.file("num.toml"), "key 'quiet': expected true or false");
  std::ofstream(dir.file("nan.toml")) << "lr = nan\n";
  testing::expect_usage_error(kTiny + "--config " + dir.file("nan.toml"), "--lr");
}

TEST(CliBadInput, DirectoriesAndDevicesWhereFilesAreExpected) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("d"));
  testing::expect_usage_error("eval --load-model " + dir.path() + " --dataset synthetic", "is a directory");
  testing::expect_usage_error(kTiny + "--config " + dir.path(), "is a directory");
  testing::expect_usage_error(kTiny + "--config /dev/zero", "/dev/zero: not a regular file");
  std::filesystem::create_directories(dir.file("ck/checkpoint.xfed"));
  testing::expect_usage_error(kTiny + "--resume --checkpoint-dir " + dir.file("ck"), "is a directory");
  std::filesystem::create_directories(dir.file("cifar/data_batch_1.bin"));
  testing::expect_usage_error("simulate --dataset cifar10 --data-dir " + dir.file("cifar"), "is a directory");
  std::ofstream(dir.file("a.csv")) << "1,2\n3,4\n";
  testing::expect_usage_error("di-score --activations " + dir.file("a.csv") + " --labels " + dir.path(),
                              "is a directory");
}

// --model-sha256 takes 64 hex digits, and pins only a TorchScript model.
TEST(CliBadInput, ModelSha256TakesOnlyAHashOfAScriptedModel) {
  TempDir dir;
  const std::string scripted = kTiny + "--model torchscript --model-sha256 ";
  for (const auto& bad : std::vector<std::string>{"nan", "inf", "-1", "0", "4294967296", std::string(63, 'a'), std::string(65, 'a'),
                                std::string(64, 'g'), dir.path()})
    testing::expect_usage_error(scripted + "'" + bad + "'", "--model-sha256 '" + bad +
                                                               "': expected the archive's SHA-256, 64 hex digits");
  testing::expect_usage_error(scripted + std::string(64, 'a'), "only an edge worker (xfed worker) runs the archive");
  testing::expect_usage_error(kTiny + "--model-sha256 " + std::string(64, '0'),
                              "pins a TorchScript archive, but --model is 'mlp'");
}

TEST(CliBadInput, OutputsThatCannotBeWrittenFailBeforeRoundOne) {
  TempDir dir;
  testing::expect_usage_error(kTiny + "--metrics /dev/full", "--metrics /dev/full: not a regular file");
  testing::expect_usage_error(kTiny + "--save-model /dev/null", "--save-model /dev/null: not a regular file");
  testing::expect_usage_error(kTiny + "--save-model " + dir.file("no/such/m.model"), "does not exist");
  testing::expect_usage_error(kTiny + "--metrics " + dir.path(), "is a directory");
  std::ofstream(dir.file("file")) << "x";
  testing::expect_usage_error(kTiny + "--checkpoint-dir " + dir.file("file"), "--checkpoint-dir");
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null")) << "the device node is untouched";
}

TEST(CliBadInput, DivergenceEndsTheRunAndSaysSo) {
  // Before: every client's task was dropped silently and the coordinator waited forever.
  const auto r = xfed("simulate --dataset synthetic --synthetic-shape 1x8x8 --synthetic-train 3000 "
                      "--synthetic-test 100 --rounds 3 --lr 20 --quiet", 120);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("training diverged"), std::string::npos) << r.out;
}

// A checkpoint records what defines the run; a resume with other settings is refused with
// one line naming the setting, before anything trains.
TEST(CliBadInput, ResumeRefusesAnotherRun) {
  TempDir dir;
  const std::string ck = " --checkpoint-dir " + dir.file("ck");
  ASSERT_EQ(xfed(kTiny + "--rounds 3" + ck).code, 0);
  for (const auto& [change, words] : std::vector<std::pair<std::string, std::string>>{
           {"--clients 4", "--clients '3', this run has '4'"},
           {"--widths 8,5", "--widths '8,4', this run has '8,5'"},
           {"--synthetic-shape 1x9x9", "data shape"},
           {"--seed 2", "--seed '1', this run has '2'"},
           {"--compress topk:0.5", "--compress 'none'"},
           {"--rounds 2", "is at round 3, beyond --rounds 2"}})
    testing::expect_usage_error(kTiny + "--rounds 5 --resume" + ck + " " + change, words);
  std::ofstream(dir.file("ck/checkpoint.xfed"), std::ios::binary | std::ios::trunc) << "XFED garbage";
  testing::expect_usage_error(kTiny + "--rounds 5 --resume" + ck, "checkpoint.xfed");
}

// Metrics of a run killed after writing round r but before checkpoint r: the resume
// rewrites round r, so it must appear once (and the earlier run's summary not at all).
TEST(CliBadInput, ResumeDoesNotDuplicateMetricsRounds) {
  TempDir dir;
  const std::string args = kTiny + "--checkpoint-dir " + dir.file("ck") + " --metrics " + dir.file("m.jsonl");
  ASSERT_EQ(xfed(args + " --rounds 3").code, 0);
  std::ofstream(dir.file("m.jsonl"), std::ios::app) << R"({"round":4,"test_accuracy":0.5})" << "\n";
  const auto r = xfed(args + " --rounds 5 --resume");
  ASSERT_EQ(r.code, 0) << r.out;
  std::vector<int64_t> rounds;
  int summaries = 0;
  for (const auto& j : testing::read_jsonl(dir.file("m.jsonl"))) {
    if (j.contains("summary")) ++summaries;
    else rounds.push_back(j["round"].get<int64_t>());
  }
  EXPECT_EQ(rounds, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(summaries, 1);
}

}  // namespace
}  // namespace xfed
