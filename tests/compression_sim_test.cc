// End-to-end compressed federations on small synthetic data.
#include <gtest/gtest.h>

#include <filesystem>

#include "coordinator/checkpoint.h"
#include "protocol/frame.h"
#include "tests/sim_fixture.h"
#include "tests/test_util.h"
#include "transport/inproc/inproc_transport.h"
#include "worker/client_state_file.h"
#include "worker/worker.h"

namespace xfed {
namespace {

using testing::Recorder;
using testing::simulate;
using testing::small_config;


TEST(CompressedSimulation, SparseQuantizedUplinkStillLearns) {
  auto c = small_config();
  c.compress = "topk:0.1,qsgd:4,zstd";
  c.rounds = 6;
  Recorder rec;
  const auto r = simulate(c, 2, &rec);
  EXPECT_GT(r.summary.final_accuracy, 0.7);
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.dropped, 0);
    EXPECT_LT(round.bytes_up * 10, round.bytes_up_dense) << "round " << round.round;
  }
}

// Error feedback lives in a per-client store shared by the worker threads; stochastic
// quantization is seeded per (round, client). Neither may depend on the thread count.
TEST(CompressedSimulation, DeterministicWithErrorFeedbackAcrossThreadCounts) {
  auto c = small_config();
  c.compress = "topk:0.05,qsgd:3";
  c.downlink = "topk:0.2,qsgd:8";
  c.ef_momentum = 0.5;
  c.fraction = 0.5;  // clients move between worker threads from round to round
  Recorder a, b;
  const auto one = simulate(c, 1, &a), three = simulate(c, 3, &b);
  EXPECT_EQ(one.summary.model_checksum, three.summary.model_checksum);
  // ... and the runs did the work: every sampled client's update was aggregated, compressed.
  for (const auto* rec : {&a, &b})
    for (const auto& round : rec->rounds) {
      EXPECT_EQ(round.clients, round.sampled) << "round " << round.round;
      EXPECT_GT(round.clients, 0);
      EXPECT_EQ(round.dropped + round.missing, 0);
      EXPECT_LT(round.bytes_up * 5, round.bytes_up_dense);
    }
  EXPECT_GT(one.summary.final_accuracy, 0.5);
}

// A checkpoint carries the clients' residuals and DGC velocities (DIR/clients.xfed), so a
// resumed run with a lossy uplink, pruned in between, is bit-identical; without that file it
// is not (which shows the state matters), and the run still goes on.
TEST(CompressedSimulation, ResumeKeepsTheClientsResiduals) {
  testing::TempDir dir;
  auto c = small_config();
  c.compress = "topk:0.05,qsgd:3";
  c.ef_momentum = 0.5;
  c.fraction = 0.5;  // some clients hold residuals from rounds before the plan
  c.prune = "l1:warmup=2,every=2,fraction=0.25,target=0.5";
  c.rounds = 5;
  const auto uninterrupted = simulate(c, 2).summary;
  c.checkpoint_dir = dir.path();
  c.rounds = 3;
  simulate(c, 2);
  ASSERT_TRUE(std::filesystem::exists(worker::client_state_path(dir.path())));
  const auto saved = std::filesystem::path(dir.path()) / "saved.xfed";
  std::filesystem::copy_file(worker::client_state_path(dir.path()), saved);
  const auto checkpoint = std::filesystem::path(dir.path()) / "checkpoint.saved";
  std::filesystem::copy_file(coordinator::checkpoint_path(dir.path()), checkpoint);
  c.rounds = 5;
  c.resume = true;
  EXPECT_EQ(simulate(c, 2).summary.model_checksum, uninterrupted.model_checksum);

  // Without the clients' file of the checkpoint's round (nor a .prev of it) the resume could
  // not be bit-identical: it is refused, naming the file, before round 4.
  std::filesystem::copy_file(checkpoint, coordinator::checkpoint_path(dir.path()),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(worker::client_state_path(dir.path()));
  auto setup = app::make_run_setup(c);
  const auto without = app::run_simulation(setup, app::make_initial_model(setup.spec, c.seed), 2, {});
  ASSERT_FALSE(without);
  EXPECT_EQ(without.status().code(), StatusCode::kUsage) << without.message();
  EXPECT_NE(without.message().find("cannot resume: " + worker::client_state_path(dir.path())), std::string::npos)
      << without.message();
}

// A job killed after the workers saved round 4's client state but before the coordinator
// wrote its checkpoint resumes from round 3: the workers' round-3 files (kept as .prev)
// still hold the residuals of that round, so the resumed model is the uninterrupted one.
TEST(CompressedSimulation, AKillBetweenTheWorkersSaveAndTheCheckpointStillResumesExactly) {
  testing::TempDir dir;
  auto c = small_config();
  c.compress = "topk:0.05,qsgd:3";
  c.fraction = 0.5;
  c.rounds = 5;
  const auto uninterrupted = simulate(c, 2).summary;
  c.checkpoint_dir = dir.path();
  c.rounds = 3;
  simulate(c, 2);
  const auto round3 = std::filesystem::path(dir.path()) / "checkpoint.round3";
  std::filesystem::copy_file(coordinator::checkpoint_path(dir.path()), round3);
  c.rounds = 4;
  c.resume = true;
  simulate(c, 2);  // the workers' files now hold round 4, the previous ones round 3
  std::filesystem::copy_file(round3, coordinator::checkpoint_path(dir.path()),
                             std::filesystem::copy_options::overwrite_existing);
  c.rounds = 5;
  EXPECT_EQ(simulate(c, 2).summary.model_checksum, uninterrupted.model_checksum);
}

// With a lossy downlink every participant trains from exactly the coordinator's view: each
// update carries the CRC of the model it trained from, and a mismatch would be dropped.
TEST(CompressedSimulation, LossyDownlinkNeverDrifts) {
  auto c = small_config();
  c.downlink = "topk:0.1,qsgd:6";
  c.fraction = 0.5;  // clients miss rounds: the steps since, or the full model
  c.rounds = 8;
  Recorder rec;
  const auto r = simulate(c, 2, &rec);
  int64_t deltas = 0;
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.dropped, 0) << "round " << round.round;
    EXPECT_EQ(round.clients, round.sampled) << "round " << round.round;
    EXPECT_EQ(round.downloads_delta + round.downloads_seeded + round.downloads_full, round.sampled);
    EXPECT_EQ(round.bytes_down_delta + round.bytes_down_full, round.bytes_down);
    if (round.round > 1) deltas += round.downloads_delta;
  }
  EXPECT_EQ(rec.rounds.front().downloads_seeded, rec.rounds.front().sampled)
      << "first contact: clients build the initial model from the seed";
  EXPECT_GT(deltas, 0) << "clients that hold a recent view get the steps since";
  EXPECT_GT(r.summary.final_accuracy, 0.6);
}

// The round's sparse aggregate as the downlink (nonzero), clients away for rounds, a pruning
// step (full models after it) and a resume: every update is trained from the coordinator's
// view (a CRC mismatch would be dropped), and the resumed run is the uninterrupted one.
TEST(CompressedSimulation, SparseAggregateDownlinkWithPruningAndResumeIsExact) {
  testing::TempDir dir;
  auto c = small_config();
  c.compress = "topk:0.05,sign";
  c.downlink = "nonzero,qsgd:4,zstd";
  c.fraction = 0.5;
  c.prune = "l1:warmup=2,every=2,fraction=0.25,target=0.5";
  c.rounds = 5;
  Recorder rec;
  const auto uninterrupted = simulate(c, 2, &rec).summary;
  int64_t deltas = 0;
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.dropped, 0) << "round " << round.round;
    EXPECT_EQ(round.clients, round.sampled) << "round " << round.round;
    deltas += round.downloads_delta;
  }
  EXPECT_GT(deltas, 0);
  c.checkpoint_dir = dir.path();
  c.rounds = 3;
  simulate(c, 2);
  c.rounds = 5;
  c.resume = true;
  EXPECT_EQ(simulate(c, 2).summary.model_checksum, uninterrupted.model_checksum);
}

TEST(CompressedSimulation, LinkModelMatchesBytesOverBandwidth) {
  auto c = small_config();
  c.link = "2mbit:25ms";
  c.rounds = 2;
  Recorder rec;
  simulate(c, 2, &rec);
  for (const auto& round : rec.rounds) {
    const double per_client = static_cast<double>(round.bytes_up + round.bytes_down) / round.clients;
    EXPECT_NEAR(round.seconds_link, 8 * per_client / 2e6 + 0.05, 1e-3);  // equal-size clients
  }
  EXPECT_NEAR(rec.summary.total_seconds_link, rec.rounds[0].seconds_link + rec.rounds[1].seconds_link, 1e-9);
}

TEST(CompressedSimulation, SparsityWarmupSendsMoreFirstThenTheTarget) {
  auto c = small_config();
  c.compress = "topk:0.01";
  c.sparsity_warmup = 3;
  c.warmup_start_ratio = 0.08;
  c.rounds = 5;
  Recorder rec;
  simulate(c, 2, &rec);
  EXPECT_GT(rec.rounds[0].bytes_up, rec.rounds[1].bytes_up);
  EXPECT_GT(rec.rounds[1].bytes_up, rec.rounds[2].bytes_up);
  EXPECT_GT(rec.rounds[2].bytes_up, rec.rounds[3].bytes_up);
  // at the target ratio: sizes differ only by a few bytes of index coding
  EXPECT_NEAR(rec.rounds[3].bytes_up, rec.rounds[4].bytes_up, rec.rounds[4].bytes_up * 0.05);
}

// Malformed tasks are answered with a failure frame (bad task) naming the reason, so the
// coordinator never waits for them; frames that are not tasks are dropped. The worker keeps
// serving throughout.
TEST(Worker, SurvivesMalformedTaskFrames) {
  auto setup = app::make_run_setup(small_config());
  auto hub = std::make_shared<transport::InProcHub>(2);
  auto t0 = transport::make_inproc_transport({hub, 0});
  std::thread worker_thread([&] {
    auto t = transport::make_inproc_transport({hub, 1});
    worker::Worker w(*t, setup.clients);
    EXPECT_TRUE(w.run());
    EXPECT_EQ(w.tasks_done(), 0);
  });
  using protocol::FrameKind;
  auto send = [&](FrameKind kind, Bytes payload, uint32_t client = 0) {
    protocol::FrameHeader h{kind, 1, 0, client, 5, {protocol::CodecId::kNone}};
    ASSERT_TRUE(t0->send(1, protocol::encode_frame(h, payload)));
  };
  protocol::TrainTask task;
  Bytes task_bytes;
  ByteWriter w(&task_bytes);
  task.write(w);
  send(FrameKind::kModel, {1, 2, 3});                                    // truncated task
  send(FrameKind::kModel, task_bytes, 999);                              // unknown client
  auto bad_spec = task_bytes;
  ByteWriter(&bad_spec).put_string("{not json");
  send(FrameKind::kModel, bad_spec);                                     // bad model spec
  auto orphan_delta = task_bytes;
  ByteWriter(&orphan_delta).put_u32(4);
  send(FrameKind::kDelta, orphan_delta);                                 // base never held
  auto other_seed = task_bytes;
  ByteWriter seeded(&other_seed);
  seeded.put_string(setup.spec.to_json());
  seeded.put_u64(1);
  seeded.put_u32(12345);  // not the CRC of what seed 1 builds
  seeded.put_u32(0);
  send(FrameKind::kSeededModel, other_seed);                             // another build
  auto old_format = protocol::encode_frame({FrameKind::kModel, 1, 0, 0, 5, {protocol::CodecId::kNone}},
                                              task_bytes);
  old_format[4] = 1;                                                     // a format-1 task
  ASSERT_TRUE(t0->send(1, old_format));
  send(FrameKind::kUpdate, task_bytes);                                  // wrong direction
  ASSERT_TRUE(t0->send(1, Bytes{0xde, 0xad}));                           // not a frame
  send(FrameKind::kControl, {static_cast<uint8_t>(protocol::ControlCommand::kShutdown)});
  worker_thread.join();
  const std::vector<std::pair<uint32_t, std::string>> expected = {
      {0, "truncated or invalid training task"}, {999, "no data for client 999"},
      {0, "model spec"}, {0, "delta against version 4"}, {0, "the model built from seed 1 has CRC"},
      {0, "a task in frame format 1"}};
  for (const auto& [client, words] : expected) {
    auto got = t0->recv({transport::kAnySource, std::chrono::milliseconds(1000)});
    ASSERT_EQ(got.kind, transport::Received::Kind::kMessage) << words;
    auto frame = protocol::decode_frame(std::move(got.message.bytes));
    ASSERT_TRUE(frame) << frame.message();
    EXPECT_EQ(frame.value().header.kind, FrameKind::kFailure);
    EXPECT_EQ(frame.value().header.client, client);
    EXPECT_EQ(frame.value().header.round, 1u);
    auto r = frame.value().payload_reader();
    protocol::TaskFailure failure;
    ASSERT_TRUE(failure.read(r));
    EXPECT_EQ(failure.kind, protocol::FailureKind::kBadTask);
    EXPECT_NE(failure.reason.find(words), std::string::npos) << failure.reason;
  }
  EXPECT_EQ(t0->recv({transport::kAnySource, std::chrono::milliseconds(50)}).kind,
            transport::Received::Kind::kTimeout)
      << "nothing else: the update and the garbage get no answer";
}

}  // namespace
}  // namespace xfed
