// Users' registrations on every transport, with real processes: the example programs
// (examples/geomedian_aggregator.cc, custom_model.cc, stripes_dataset.cc, ternary_stage.cc)
// are the xfed command line with their aggregator, model, dataset or stage built in; each gives one model under
// simulate, mpirun -np 3 (and three edge workers), and a process without the registration
// is told so before round 1.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <regex>
#include <string>

#include "core/crypto.h"
#include "core/file_io.h"
#include "tests/edge_fixture.h"
#include "tests/torchscript_models.h"

namespace xfed::testing {
namespace {

const std::string kGeomedianRun = kRun + "--aggregate geomedian:3 ";
// The user stage both ways, after a built-in sparsifier and before zstd, with pruning.
const std::string kTernaryRun =
    "--dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 8 --rounds 6 "
    "--compress topk:0.05,ternary,zstd --downlink ternary --prune di:every=2,warmup=2 --fraction 0.5 ";
// tiny-cnn describes no prunable layers: trained and compressed, not pruned.
const std::string kTinyCnnRun =
    "--model tiny-cnn --dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 8 --rounds 4 "
    "--fraction 0.5 --compress topk:0.05,qsgd:4,zstd --downlink qsgd:8 ";

class Extension : public EdgeRun {
 protected:
  static void SetUpTestSuite() {
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);  // CI runs as root
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  }
  std::string simulate(const std::string& run, const std::string& name) {
    const auto r = run_command(binary_ + " simulate " + run + "--quiet --metrics " + dir_.file(name), 180);
    EXPECT_EQ(r.code, 0) << r.out;
    return r.code == 0 ? checksum_of(dir_.file(name)) : "";
  }
  std::string mpi(const std::string& run, const std::string& name) {
#ifdef XFED_MPIEXEC
    const auto r = run_command(std::string(XFED_MPIEXEC) + " -np 3 --oversubscribe " + binary_ + " mpi " + run +
                                   "--metrics " + dir_.file(name),
                               180);
    EXPECT_EQ(r.code, 0) << r.out;
    return checksum_of(dir_.file(name));
#else
    (void)run, (void)name;
    return "";  // built without MPI: the other transports still agree
#endif
  }
  std::string edge(const std::string& run, const std::string& name) {
    authorize(3);
    auto co = coordinator(run + "--metrics " + dir_.file(name));
    auto w1 = worker("w1", "0,3,6", run);
    auto w2 = worker("w2", "1,4,7", run);
    auto w3 = worker("w3", "2,5", run);
    expect_exit(*co, 0, "coordinator");
    for (auto* w : {w1.get(), w2.get(), w3.get()}) expect_exit(*w, 0, "worker");
    return checksum_of(dir_.file(name));
  }
  void expect_one_model(const std::string& run) {
    const auto sim = simulate(run, "sim.jsonl");
    ASSERT_FALSE(sim.empty());
    if (const auto m = mpi(run, "mpi.jsonl"); !m.empty()) {
      EXPECT_EQ(m, sim) << "mpirun -np 3";
    }
    EXPECT_EQ(edge(run, "edge.jsonl"), sim) << "3 edge workers";
  }
};

TEST_F(Extension, AUserAggregatorGivesOneModelOnEveryTransport) {
  binary_ = XFED_EXAMPLE_GEOMEDIAN;
  expect_one_model(kGeomedianRun);
  const auto geomedian = checksum_of(dir_.file("sim.jsonl"));
  binary_ = XFED_BINARY;
  EXPECT_NE(simulate(kRun, "mean.jsonl"), geomedian) << "--aggregate geomedian changed nothing";
}

// The built-in robust rules are registrations of the stock binary: the coordinate-wise
// median gives one model on every transport, another than the mean's.
TEST_F(Extension, ABuiltInRobustRuleGivesOneModelOnEveryTransport) {
  expect_one_model(kRun + "--aggregate median ");
  const auto median = checksum_of(dir_.file("sim.jsonl"));
  EXPECT_NE(simulate(kRun, "mean.jsonl"), median) << "--aggregate median changed nothing";
}

// The attack bench under mpirun: labelflip poisons the data each rank reads, gaussian the
// hostile updates on rank 0; each gives the model simulate gives (one seed, one choice of
// hostile clients, one noise).
TEST_F(Extension, AnAttackGivesTheSameModelUnderSimulateAndMpi) {
  for (const std::string attack : {"labelflip:3 --aggregate median ", "gaussian:2 --aggregate trimmed:0.25 "}) {
    const std::string run = kRun + "--attack " + attack;
    const auto sim = simulate(run, "sim.jsonl");
    ASSERT_FALSE(sim.empty()) << attack;
    if (const auto m = mpi(run, "mpi.jsonl"); !m.empty()) {
      EXPECT_EQ(m, sim) << attack;
    }
    EXPECT_NE(simulate(kRun + "--aggregate " + attack.substr(attack.find("--aggregate ") + 12), "clean.jsonl"), sim)
        << attack << ": the attack changed nothing";
  }
}

// --dp runs at the coordinator: Poisson sampling, clipping and noise from the secret of
// seed=, one model on every transport (edge workers give the same --dp, part of the identity).
TEST_F(Extension, DifferentialPrivacyGivesOneModelOnEveryTransport) {
  const std::string run = "--dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 8 --rounds 4 "
                          "--compress topk:0.1,qsgd:4,zstd --fraction 0.5 --dp clip=0.5,noise=0.2,seed=6 ";
  expect_one_model(run);
  const auto rounds = read_jsonl(dir_.file("sim.jsonl"));
  ASSERT_EQ(rounds.size(), 5u);
  EXPECT_GT(rounds[3]["epsilon"].get<double>(), rounds[0]["epsilon"].get<double>());
  EXPECT_EQ(rounds[4]["epsilon"], rounds[3]["epsilon"]) << "the summary's is the last round's";
  // mode=local: every worker process noises its clients' updates with the secret of seed=.
  expect_one_model(std::regex_replace(run, std::regex("noise=0.2,seed=6"), "noise=0.2,mode=local,seed=6"));
  EXPECT_NE(checksum_of(dir_.file("sim.jsonl")), rounds[4]["model_checksum"].get<std::string>());
  // DI pruning under central --dp: the task carries the activations' clip, the coordinator
  // bounds and noises the statistics; one plan, one model everywhere.
  expect_one_model(std::regex_replace(run, std::regex("seed=6 "), "seed=6,stats_clip=0.5 ") +
                   "--prune di:every=2,warmup=2,target=0.5 ");
  const auto pruned = read_jsonl(dir_.file("sim.jsonl"));
  EXPECT_LT(pruned[4]["params"].get<double>(), pruned[0]["params"].get<double>());
  EXPECT_GT(pruned[4]["epsilon"].get<double>(), rounds[4]["epsilon"].get<double>()) << "statistics rounds spend too";
}

// --secure-aggregation: every worker process masks its clients' values, the coordinator
// unmasks only the sum. Masks are drawn afresh by each process and cancel exactly; positions
// and rounding come from the run seed: one model on every transport — with DI pruning from
// masked class statistics (round 2), and with distributed --dp (each client's share of the
// noise from the secret of seed=).
TEST_F(Extension, SecureAggregationGivesOneModelOnEveryTransport) {
  const std::string run = "--dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 8 --rounds 3 "
                          "--compress randk:0.2 --fraction 0.5 --secure-aggregation=range=0.5,bits=12 ";
  expect_one_model(run + "--prune di:every=2,warmup=2,stats_samples=200 ");
  const auto rounds = read_jsonl(dir_.file("sim.jsonl"));
  ASSERT_EQ(rounds.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rounds[i]["clients"], 4) << i;
    EXPECT_EQ(rounds[i]["secagg_dropped"], 0) << i;
  }
  EXPECT_LT(rounds[1]["params"].get<int64_t>(), rounds[0]["params"].get<int64_t>()) << "round 2 pruned";
  expect_one_model(run + "--dp clip=0.5,noise=0.2,mode=distributed,seed=6 ");
}

// Forged statistics are written on rank 0 from (seed, round, client): the pruning plans, and
// so the model, are the ones simulate makes, with and without a trimmed statistics round.
TEST_F(Extension, ForgedStatisticsGiveTheSameModelUnderSimulateAndMpi) {
  for (const std::string trim : {"", ",stats_trim=2"}) {
    const std::string run = kRun + "--attack stats:2 --prune di:every=2,warmup=2" + trim + " ";
    const auto sim = simulate(run, "sim.jsonl");
    ASSERT_FALSE(sim.empty()) << trim;
    if (const auto m = mpi(run, "mpi.jsonl"); !m.empty()) {
      EXPECT_EQ(m, sim) << trim;
    }
  }
}

// --share-weights (#20): DI pruning in round 2, half the weight-matrix entries pruned by
// magnitude at the end of round 3 (zeros kept while the rest retrains in round 4), the
// weight matrices clustered at the end of round 4 (3 bits, zero one of the values), then
// rounds of centroid updates through a lossy uplink: one model on every transport, with at
// most 8 values per matrix and at least half of its entries zero; the centroid rounds'
// uplink is a small fraction of the others'; a run stopped after round 5 resumes to the
// same model (its zeros and clusters are the checkpoint's own).
TEST_F(Extension, SharedWeightsGiveOneModelOnEveryTransportAndResumeBitIdentical) {
  const std::string run = "--dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 8 --fraction 0.5 "
                          "--compress qsgd:8,zstd --prune di:every=2,warmup=2 "
                          "--share-weights bits=3,after=4,sparsity=0.5,prune_after=3 ";
  expect_one_model(run + "--rounds 6 ");
  const auto sim = checksum_of(dir_.file("sim.jsonl"));
  const auto rounds = read_jsonl(dir_.file("sim.jsonl"));
  ASSERT_EQ(rounds.size(), 7u);
  const auto per_client = [&](size_t i) { return rounds[i]["bytes_up"].get<double>() / rounds[i]["clients"].get<double>(); };
  EXPECT_LT(rounds[1]["params"].get<int64_t>(), rounds[0]["params"].get<int64_t>()) << "round 2 pruned";
  EXPECT_EQ(rounds[3]["params"].get<int64_t>(), rounds[1]["params"].get<int64_t>()) << "DI pruning ended at round 3";
  for (size_t i = 4; i < 6; ++i) EXPECT_LT(per_client(i), per_client(1) / 5) << "round " << i + 1 << " sends centroids";
  const std::string ckpt = " --checkpoint-dir " + dir_.file("ckpt") + " --save-model " + dir_.file("m.bin") + " ";
  ASSERT_FALSE(simulate(run + "--rounds 5" + ckpt, "first.jsonl").empty());
  EXPECT_EQ(simulate(run + "--rounds 6 --resume" + ckpt, "resumed.jsonl"), sim) << "resumed after round 5";
  const auto exported = run_command(binary_ + " export --load-model " + dir_.file("m.bin") + " --out " + dir_.file("m.xdc"), 60);
  ASSERT_EQ(exported.code, 0) << exported.out;
  const std::regex row(R"((layers\.\d+)\s+\d+x\d+\s+\w+\s+[\d,]+\s+(\d+))");
  int layers = 0;
  for (std::sregex_iterator it(exported.out.begin(), exported.out.end(), row), end; it != end; ++it, ++layers)
    EXPECT_LE(std::stoi((*it)[2]), 8) << (*it)[1] << " holds more than 2^3 values:\n" << exported.out;
  EXPECT_EQ(layers, 3) << exported.out;
  const auto summary = nlohmann::json::parse(exported.out.substr(exported.out.rfind('{')));
  EXPECT_LE(2 * summary["nonzero_weights"].get<int64_t>(), summary["weights"].get<int64_t>() + 1) << exported.out;
}

TEST_F(Extension, AUserModelGivesOneModelOnEveryTransport) {
  binary_ = XFED_EXAMPLE_CUSTOM_MODEL;
  expect_one_model(kTinyCnnRun);
}

TEST_F(Extension, AUserCompressionStageGivesOneModelOnEveryTransport) {
  binary_ = XFED_EXAMPLE_TERNARY;
  expect_one_model(kTernaryRun);
  const auto rounds = read_jsonl(dir_.file("sim.jsonl"));
  EXPECT_GE(rounds.back()["final_accuracy"].get<double>(), 0.25) << "ternary updates train (chance: 0.1)";
  // Round 1 (updates only, no statistics): 2-bit values against float32 ones, the same
  // top-5 % positions (about a byte of index each): (1 + 1/4) / (1 + 4) = 0.25, less than 0.4
  // whatever zstd does.
  binary_ = XFED_BINARY;
  const std::string fp32_run = std::regex_replace(kTernaryRun, std::regex("topk:0.05,ternary,zstd --downlink ternary"),
                                                  "topk:0.05,zstd --downlink none");
  ASSERT_FALSE(simulate(fp32_run, "fp32.jsonl").empty());
  const auto fp32_round1 = read_jsonl(dir_.file("fp32.jsonl")).front();
  EXPECT_LT(rounds.front()["bytes_up"].get<double>(), 0.4 * fp32_round1["bytes_up"].get<double>());
}

// A PyTorch model exported by Python, with the stock binary: each process reads the archive.
// DI pruning cuts its hidden layer on every party alike (round 2 and 3).
TEST_F(Extension, AScriptedModelGivesOneModelOnEveryTransport) {
  ASSERT_TRUE(export_test_models(dir_.path()));
  expect_one_model("--dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 8 --rounds 4 "
                   "--fraction 0.5 --compress topk:0.1,qsgd:4,zstd --downlink qsgd:8 --model torchscript:" +
                   dir_.file("mlp.pt") + " --prune di:warmup=2,every=1,target=0.5 ");
  EXPECT_LT(read_jsonl(dir_.file("sim.jsonl")).back()["params"].get<int64_t>(), 784 * 64 + 64 + 64 * 10 + 10)
      << "pruned";
}

// Workers without the file: the coordinator sends its archive once to each that asks (one
// runs any archive, one pins its SHA-256), not to the worker that has the file; the model is
// the one simulate gives. A worker pinned to another archive is refused before round 1.
TEST_F(Extension, AScriptedModelTravelsToWorkersWithoutTheFile) {
  ASSERT_TRUE(export_test_models(dir_.path()));
  const auto archive = read_file_bytes(dir_.file("mlp.pt"), 1 << 30);
  ASSERT_TRUE(archive.is_ok());
  const std::string hash = hex_of(sha256(archive.value().data(), archive.value().size()));
  const std::string run = "--dataset synthetic --synthetic-train 2400 --synthetic-test 400 --clients 8 --rounds 3 "
                          "--fraction 0.5 --compress topk:0.1,qsgd:4,zstd ";
  const std::string with_file = run + "--model torchscript:" + dir_.file("mlp.pt") + " ";
  const auto sim = simulate(with_file, "sim.jsonl");
  ASSERT_FALSE(sim.empty());
  authorize(3);
  auto co = coordinator(with_file + "--metrics " + dir_.file("edge.jsonl"));
  auto w1 = worker("w1", "0,3,6", run + "--model torchscript");
  auto w2 = worker("w2", "1,4,7", run + "--model torchscript --model-sha256 " + hash);
  auto w3 = worker("w3", "2,5", with_file);
  expect_exit(*co, 0, "coordinator");
  for (auto* w : {w1.get(), w2.get(), w3.get()}) expect_exit(*w, 0, "worker");
  EXPECT_EQ(checksum_of(dir_.file("edge.jsonl")), sim);
  int64_t code_bytes = 0;
  for (const auto& round : read_jsonl(dir_.file("edge.jsonl")))
    if (round.contains("bytes_down_code")) code_bytes += round["bytes_down_code"].get<int64_t>();
  const int64_t one_frame = 36 + 32 + static_cast<int64_t>(archive.value().size());  // header, digest, archive
  EXPECT_EQ(code_bytes, 2 * one_frame) << "w1 and w2 once each, w3 never";
  EXPECT_NE(w1->output().find("runs the coordinator's TorchScript archive, " +
                              std::to_string(archive.value().size()) + " bytes, sha256 " + hash),
            std::string::npos) << w1->output();

  authorize(1);
  auto co2 = coordinator(with_file + "--wait-workers 60", "coordinator2.log");
  auto other = worker("w1", "0", run + "--model torchscript --model-sha256 " + std::string(64, 'a'));
  expect_exit(*other, 2, "worker pinned to another archive");
  EXPECT_NE(other->output().find("--model is 'torchscript sha256=" + std::string(64, 'a') + "' on worker 1 and "
                                 "'torchscript sha256=" + hash + "' on the coordinator"),
            std::string::npos) << other->output();
}

TEST_F(Extension, AUserDatasetTrainsAndGivesOneModelUnderMpi) {
  binary_ = XFED_EXAMPLE_STRIPES;
  const std::string run = "--dataset stripes --clients 4 --rounds 3 --fraction 1 ";
  const auto sim = simulate(run, "sim.jsonl");
  ASSERT_FALSE(sim.empty());
  const double accuracy = read_jsonl(dir_.file("sim.jsonl")).back()["final_accuracy"].get<double>();
  EXPECT_GE(accuracy, 0.9) << "stripes are separable: the data reached the clients";
  if (const auto m = mpi(run, "mpi.jsonl"); !m.empty()) {
    EXPECT_EQ(m, sim) << "mpirun -np 3";
  }
}

TEST_F(Extension, WhatTheStockBinaryLacksIsOneLineNamingIt) {
  const auto aggregate = xfed("simulate " + kGeomedianRun + "--quiet");
  EXPECT_EQ(aggregate.code, 2) << aggregate.out;
  EXPECT_NE(aggregate.out.find("--aggregate 'geomedian': no aggregator of that name (registered: cclip, krum, "
                               "mean, median, multikrum, trimmed)"),
            std::string::npos) << aggregate.out;
  const auto model = xfed("simulate " + kTinyCnnRun + "--quiet");
  EXPECT_EQ(model.code, 2) << model.out;
  EXPECT_NE(model.out.find("--model 'tiny-cnn'"), std::string::npos) << model.out;
  const auto stage = xfed("simulate " + kTernaryRun + "--quiet");
  EXPECT_EQ(stage.code, 2) << stage.out;
  EXPECT_NE(stage.out.find("--compress 'topk:0.05,ternary,zstd': no compression stage 'ternary'"),
            std::string::npos) << stage.out;
}

// A coordinator started from the program, a worker from the stock binary with the same
// flags: the worker's run identity lacks the program's registrations and it is refused
// before round 1, with the key that differs.
TEST_F(Extension, AWorkerWithoutTheProgramsRegistrationsIsRefusedBeforeRoundOne) {
  authorize(1);
  binary_ = XFED_EXAMPLE_GEOMEDIAN;
  const std::string run = kRun + "--clients 2 --fraction 1 --rounds 2 ";
  auto co = coordinator(run + "--min-clients 1");
  binary_ = XFED_BINARY;
  auto w1 = worker("w1", "0,1", run);
  const auto got = w1->wait_for(120s);
  ASSERT_TRUE(got.has_value()) << "the stock worker did not end:\n" << w1->output();
  EXPECT_EQ(*got, 2) << w1->output();
  EXPECT_NE(w1->output().find("registered"), std::string::npos) << w1->output();
}

}  // namespace
}  // namespace xfed::testing
