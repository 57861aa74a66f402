// --dp end to end in one process: epsilon per round as the accountant computes it, the run
// stopping before target_epsilon, rounds with no sampled client, resume of the secret and
// the clip norm, and training with little noise.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "coordinator/rdp_accountant.h"
#include "coordinator/sampler.h"
#include "tests/sim_fixture.h"
#include "tests/test_util.h"

namespace xfed {
namespace {

using testing::Recorder;
using testing::simulate;
using testing::small_config;
using testing::TempDir;

app::RunConfig dp_config(const std::string& dp) {
  auto c = small_config();
  c.clients = 12;
  c.fraction = 0.5;
  c.dp = dp;
  return c;
}

TEST(DpSimulation, EveryRoundReportsTheEpsilonOfTheRoundsSoFar) {
  Recorder rec;
  const auto run = simulate(dp_config("clip=0.5,noise=1.2,delta=1e-4,seed=3"), 2, &rec);
  const coordinator::RdpAccountant accountant(0.5, 1.2, 1e-4);
  ASSERT_EQ(rec.rounds.size(), 4u);
  for (const auto& r : rec.rounds) {
    ASSERT_TRUE(r.epsilon) << r.round;
    EXPECT_DOUBLE_EQ(*r.epsilon, accountant.spent(r.round).epsilon) << r.round;
    EXPECT_EQ(*r.delta, 1e-4);
    EXPECT_EQ(*r.dp_clip, 0.5);
    EXPECT_EQ(r.skipped, 0);
  }
  EXPECT_DOUBLE_EQ(*run.summary.epsilon, accountant.spent(4).epsilon);
  EXPECT_LT(*rec.rounds[0].epsilon, *rec.rounds[3].epsilon);
}

TEST(DpSimulation, WithLittleNoiseClippedUpdatesStillTrain) {
  auto c = small_config();
  c.dp = "clip=100,noise=1e-4,seed=1";  // q = 1: every client every round, clipping inactive
  const auto run = simulate(c, 2);
  EXPECT_GT(run.summary.final_accuracy, 0.8) << "10 classes: chance is 0.1";
}

TEST(DpSimulation, TargetEpsilonEndsTheRunBeforeARoundWouldExceedIt) {
  const coordinator::RdpAccountant accountant(0.5, 1.2, 1e-5);
  const double target = (accountant.spent(2).epsilon + accountant.spent(3).epsilon) / 2;
  auto c = dp_config("clip=0.5,noise=1.2,seed=3,target_epsilon=" + std::to_string(target));
  c.rounds = 6;
  Recorder rec;
  const auto run = simulate(c, 2, &rec);
  ASSERT_EQ(rec.rounds.size(), 2u);
  EXPECT_EQ(run.summary.rounds, 2);
  EXPECT_LE(*run.summary.epsilon, target);
}

TEST(DpSimulation, RoundsWithoutASampledClientStillReleaseNoise) {
  auto c = dp_config("clip=0.5,noise=1,seed=21");
  c.fraction = 0.05;  // 0.6 clients a round on average
  c.rounds = 8;
  Recorder rec;
  simulate(c, 2, &rec);
  ASSERT_EQ(rec.rounds.size(), 8u);
  int empty = 0, busy = 0;
  for (const auto& r : rec.rounds) {
    (r.sampled == 0 ? empty : busy) += 1;
    EXPECT_EQ(r.skipped, 0);
    EXPECT_EQ(r.model_version, r.round) << "every round moves the model, if only by noise";
  }
  EXPECT_GT(empty, 0) << "seed 21 gives a round with no client";
  EXPECT_GT(busy, 0);
}

TEST(DpSimulation, ResumeKeepsTheSecretAndTheClipNorm) {
  TempDir dir;
  // adaptive clipping: C moves every round, so a resume that lost it would differ.
  auto c = dp_config("clip=0.5,noise=0.3,adaptive=0.5,seed=8");
  const auto uninterrupted = simulate(c, 2).summary;
  EXPECT_EQ(testing::simulate_resumed(c, 2, dir.file("seeded"), 2).summary.model_checksum, uninterrupted.model_checksum);

  // A secret from the OS: two resumes of one checkpoint agree, so the secret came from it.
  c = dp_config("clip=0.5,noise=0.3,adaptive=0.5");
  c.checkpoint_dir = dir.file("random");
  c.rounds = 2;
  simulate(c, 2);
  std::filesystem::copy(dir.file("random"), dir.file("copy"), std::filesystem::copy_options::recursive);
  c.rounds = 4;
  c.resume = true;
  const auto first = simulate(c, 2).summary.model_checksum;
  c.checkpoint_dir = dir.file("copy");
  EXPECT_EQ(simulate(c, 2).summary.model_checksum, first);
}

// DI pruning under central --dp: every statistics round is a second sampled Gaussian
// mechanism (q_s, Z_S) in the same budget, and the pruned structure is adopted everywhere.
TEST(DpSimulation, DiPruningSpendsItsStatisticsRoundsInTheSameBudget) {
  auto c = dp_config("clip=0.5,noise=1,stats_noise=2,stats_clip=1,seed=3");
  c.prune = "di:every=2,warmup=2,fraction=0.25,target=0.3,stats_fraction=0.75";
  c.rounds = 6;
  Recorder rec;
  const auto run = simulate(c, 2, &rec);
  const coordinator::RdpAccountant train(0.5, 1, 1e-5), stats(0.75, 2, 1e-5);
  ASSERT_EQ(rec.rounds.size(), 6u);
  int64_t stats_rounds = 0;
  for (const auto& r : rec.rounds) {
    stats_rounds += r.per_layer.count("pruned");
    ASSERT_TRUE(r.epsilon);
    EXPECT_DOUBLE_EQ(*r.epsilon, train.spent_with(r.round, stats, stats_rounds).epsilon) << r.round;
  }
  EXPECT_EQ(stats_rounds, 3) << "rounds 2, 4 and 6 prune";
  EXPECT_DOUBLE_EQ(*run.summary.epsilon, train.spent_with(6, stats, 3).epsilon);
  EXPECT_LT(run.summary.params, rec.rounds[0].params);
  EXPECT_GT(run.summary.final_accuracy, 0.2) << "10 classes: chance is 0.1";

  TempDir dir;
  Recorder resumed;
  EXPECT_EQ(testing::simulate_resumed(c, 3, dir.path(), 2, &resumed).summary.model_checksum,
            run.summary.model_checksum);
  ASSERT_EQ(resumed.rounds.size(), 3u);
  EXPECT_EQ(*resumed.rounds[2].epsilon, *rec.rounds[5].epsilon) << "the statistics rounds so far are restored";
}

// mode=local: the most-sampled client's epsilon, counted from the seeded sampling; the
// coordinator aggregates the noised updates with any rule and never sees a training loss.
TEST(DpSimulation, LocalModeReportsTheMostSampledClientsEpsilon) {
  auto c = dp_config("clip=1,noise=0.8,mode=local,seed=5");
  c.aggregate = "median";  // post-processing: allowed locally
  Recorder rec;
  simulate(c, 2, &rec);
  const coordinator::RdpAccountant per_client(1, 0.4, 1e-5);
  std::vector<int64_t> rounds_of(12, 0);
  ASSERT_EQ(rec.rounds.size(), 4u);
  for (const auto& r : rec.rounds) {
    for (auto client : coordinator::sample_clients(12, 0.5, c.seed, r.round)) ++rounds_of[client];
    const int64_t most = *std::max_element(rounds_of.begin(), rounds_of.end());
    ASSERT_TRUE(r.epsilon);
    EXPECT_DOUBLE_EQ(*r.epsilon, per_client.spent(most).epsilon) << r.round;
    EXPECT_EQ(r.train_loss, 0) << "a local-DP client reports no loss";
    EXPECT_EQ(r.clients, 6);
  }
}

TEST(DpSimulation, LocalModeResumesWithTheClientsSpendingSoFar) {
  TempDir dir;
  auto c = dp_config("clip=1,noise=0.8,mode=local,seed=5");
  Recorder whole;
  const auto uninterrupted = simulate(c, 2, &whole).summary;
  Recorder resumed;
  EXPECT_EQ(testing::simulate_resumed(c, 2, dir.path(), 2, &resumed).summary.model_checksum,
            uninterrupted.model_checksum);
  ASSERT_EQ(resumed.rounds.size(), 2u);
  EXPECT_EQ(*resumed.rounds[1].epsilon, *whole.rounds[3].epsilon);
}

TEST(DpSimulation, LocalModeStopsBeforeAClientWouldPassTheTarget) {
  const coordinator::RdpAccountant per_client(1, 0.4, 1e-5);
  auto c = small_config();  // every client every round: k = the round
  c.rounds = 6;
  c.dp = "clip=1,noise=0.8,mode=local,seed=5,target_epsilon=" +
         std::to_string((per_client.spent(3).epsilon + per_client.spent(4).epsilon) / 2);
  Recorder rec;
  const auto run = simulate(c, 2, &rec);
  EXPECT_EQ(rec.rounds.size(), 3u);
  EXPECT_EQ(run.summary.rounds, 3);
  EXPECT_DOUBLE_EQ(*run.summary.epsilon, per_client.spent(3).epsilon);
}

}  // namespace
}  // namespace xfed
