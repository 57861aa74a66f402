#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>

#include "coordinator/checkpoint.h"
#include "coordinator/coordinator.h"
#include "coordinator/model_file.h"
#include "core/evaluate.h"
#include "protocol/frame.h"
#include "tests/sim_fixture.h"
#include "tests/test_util.h"
#include "transport/inproc/inproc_transport.h"
#include "worker/worker.h"

namespace xfed {
namespace {

using testing::HookedTransport;
using testing::Recorder;
using testing::simulate;
using testing::simulate_hooked;
using testing::small_config;
using testing::TempDir;
using namespace std::chrono_literals;


TEST(Simulation, LearnsWellAboveChance) {
  Recorder rec;
  auto r = simulate(small_config(), 2, &rec);
  EXPECT_GT(r.summary.final_accuracy, 0.8) << "10 classes: chance is 0.1";
  ASSERT_EQ(rec.rounds.size(), 4u);
  EXPECT_LT(rec.rounds.back().train_loss, rec.rounds.front().train_loss);
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.clients, 6);
    EXPECT_EQ(round.dropped + round.missing, 0);
    // uncompressed: the real frame is the dense size plus headers and metadata
    EXPECT_GT(round.bytes_up, round.bytes_up_dense);
    EXPECT_LT(round.bytes_up, round.bytes_up_dense + 6 * 1024);
  }
}

class Strategies : public ::testing::TestWithParam<std::string> {};

// Same seed -> bit-identical model whatever the number of worker threads; and it learns.
TEST_P(Strategies, DeterministicAcrossThreadCountsAndLearns) {
  auto c = small_config();
  c.strategy = GetParam();
  if (c.strategy == "fedadam" || c.strategy == "fedyogi") c.server_lr = 0.05;
  c.fraction = 0.5;
  const auto one = simulate(c, 1).summary;
  const auto three = simulate(c, 3).summary;
  EXPECT_EQ(one.model_checksum, three.model_checksum);
  EXPECT_GT(one.final_accuracy, 0.6) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(All, Strategies,
                         ::testing::Values("fedavg", "fedprox:0.01", "fedavgm", "fedadam",
                                           "fedyogi"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n) ch = std::isalnum(ch) ? ch : '_';
                           return n;
                         });

// Updates and pruning statistics are summed in client order, whatever order they arrive in:
// the model and the layer DIs are bit-identical. (Client statistics without noise are sums of
// float32 values, which float64 adds exactly in any order; with noise they are not.)
TEST(Simulation, ArrivalOrderDoesNotChangeTheModel) {
  auto c = small_config();
  c.prune = "di:every=1,warmup=2,fraction=0.2,target=0.5,stats_samples=0,noise=0.01";
  Recorder ordered;
  const auto reference = simulate(c, 3, &ordered).summary.model_checksum;
  Recorder rec;
  auto scrambled = simulate_hooked(c, 3, [](int rank) -> HookedTransport::Hook {
    auto rng = std::make_shared<std::mt19937>(rank);
    return [rng](transport::Transport&, int, const Bytes&) {
      std::this_thread::sleep_for(std::chrono::milliseconds((*rng)() % 15));
    };
  }, &rec);
  EXPECT_EQ(scrambled.summary.model_checksum, reference);
  ASSERT_EQ(rec.rounds.size(), ordered.rounds.size());
  int pruning_rounds = 0;
  for (size_t i = 0; i < rec.rounds.size(); ++i) {
    const auto di = rec.rounds[i].per_layer.find("di");
    if (di == rec.rounds[i].per_layer.end()) continue;
    ++pruning_rounds;
    EXPECT_EQ(di->second, ordered.rounds[i].per_layer.at("di")) << "round " << i + 1;
  }
  EXPECT_GT(pruning_rounds, 0);
}

// A norm limit below every honest update refuses them all: the round has no update, and the
// run ends with an error that says so, instead of waiting for answers that already came.
TEST(Simulation, ANormLimitRefusesLargeUpdates) {
  auto c = small_config();
  c.max_update_norm = 1e-9;
  auto setup = app::make_run_setup(c);
  const auto outcome = app::run_simulation(setup, app::make_initial_model(setup.spec, c.seed), 2, {});
  ASSERT_FALSE(outcome);
  EXPECT_NE(outcome.message().find("rejected"), std::string::npos) << outcome.message();
}

TEST(Simulation, DeadlineClosesRoundsWithoutASlowWorker) {
  auto c = small_config();
  c.round_timeout = 0.3;
  c.rounds = 3;
  Recorder rec;
  auto r = simulate_hooked(c, 2, [](int rank) -> HookedTransport::Hook {
    auto first = std::make_shared<bool>(true);
    return [rank, first](transport::Transport&, int, const Bytes& frame) {
      if (protocol::decode_frame(frame).value().header.kind != protocol::FrameKind::kUpdate) return;
      if (rank == 2 && *first) std::this_thread::sleep_for(700ms);
      *first = false;
    };
  }, &rec);
  ASSERT_EQ(rec.rounds.size(), 3u);
  int64_t missing = 0, dropped = 0;
  for (const auto& round : rec.rounds) {
    missing += round.missing;
    dropped += round.dropped;
    EXPECT_GE(round.clients, 1);
  }
  EXPECT_GE(missing, 3) << "rank 2's clients miss the first deadline";
  EXPECT_GE(dropped, 1) << "their updates arrive late and are dropped";
}

TEST(Simulation, ALostWorkerRankIsSurvived) {
  auto c = small_config();
  c.rounds = 3;
  auto setup = app::make_run_setup(c);
  auto hub = std::make_shared<transport::InProcHub>(3);
  std::thread good([&] {
    auto t = transport::make_inproc_transport({hub, 1});
    worker::Worker w(*t, setup.clients, app::worker_options(setup, nullptr, ""));
    EXPECT_TRUE(w.run());
  });
  std::thread doomed([&] {  // hears where the run starts, passes the configuration check, takes its first task, dies
    auto t = transport::make_inproc_transport({hub, 2});
    const auto command_of = [](transport::Received got) {
      auto frame = protocol::decode_frame(std::move(got.message.bytes), protocol::kDefaultMaxFrameBytes);
      auto r = frame.value().payload_reader();
      protocol::ControlMessage control;
      EXPECT_TRUE(control.read(r));
      return control.command;
    };
    EXPECT_EQ(command_of(t->recv({})), protocol::ControlCommand::kResume) << "round 0: a fresh start";
    EXPECT_EQ(command_of(t->recv({})), protocol::ControlCommand::kCheckConfig);
    const protocol::ControlMessage same{protocol::ControlCommand::kConfigChecked, ""};
    EXPECT_TRUE(t->send(0, same.frame(0, 2)));
    EXPECT_TRUE(t->recv({}).ok());
    hub->mark_gone(2);
  });
  auto t0 = transport::make_inproc_transport({hub, 0});
  coordinator::Coordinator coord(setup.coordinator, *t0, app::make_initial_model(setup.spec, 1),
                                 setup.test);
  Recorder rec;
  coord.add_observer(&rec);
  auto summary = coord.run();
  good.join();
  doomed.join();
  ASSERT_TRUE(summary) << summary.message();
  EXPECT_EQ(rec.rounds[0].missing, 3) << "the lost rank's three clients";
  EXPECT_EQ(rec.rounds[1].clients, 6) << "later rounds go to the surviving rank";
  EXPECT_GT(summary.value().final_accuracy, 0.6);
}

TEST(Simulation, ResumeFromCheckpointIsBitIdentical) {
  TempDir dir;
  auto c = small_config();
  c.strategy = "fedadam";  // server optimizer state must survive too
  const auto uninterrupted = simulate(c, 2).summary;
  Recorder rec;
  const auto resumed = testing::simulate_resumed(c, 2, dir.path(), 2, &rec).summary;
  ASSERT_EQ(rec.rounds.size(), 2u);
  EXPECT_EQ(rec.rounds.front().round, 3);
  EXPECT_EQ(resumed.model_checksum, uninterrupted.model_checksum);
  EXPECT_EQ(resumed.total_bytes_up, uninterrupted.total_bytes_up);
}

TEST(Checkpoint, RoundTripsThePruningStateAndRejectsATruncatedFile) {
  TempDir dir;
  coordinator::CheckpointState s;
  s.round = 7;
  s.model_version = 9;
  s.spec_json = "{}";
  s.weights = at::arange(5, at::kFloat);
  s.structure_version = 2;
  s.lr_origin = 6;
  s.kept_original = {{0, 3, 700}, {}, {1}};
  s.has_input_stats = {1, 0, 1};
  s.input_stats = {9, 8, 7};
  ASSERT_TRUE(coordinator::save_checkpoint(dir.path(), s));
  const auto back = coordinator::load_checkpoint(dir.path()).value();
  EXPECT_EQ(back.round, 7);
  EXPECT_TRUE(back.weights.equal(s.weights));
  EXPECT_EQ(back.structure_version, 2);
  EXPECT_EQ(back.lr_origin, 6);
  EXPECT_EQ(back.kept_original, s.kept_original);
  EXPECT_EQ(back.has_input_stats, s.has_input_stats);
  EXPECT_EQ(back.input_stats, s.input_stats);

  const auto path = coordinator::checkpoint_path(dir.path());
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 3);
  const auto bad = coordinator::load_checkpoint(dir.path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.message().find(path), std::string::npos) << bad.message();
}

TEST(Simulation, SavedModelEvaluatesToTheSameAccuracy) {
  TempDir dir;
  const auto c = small_config();
  auto r = simulate(c, 2);
  ASSERT_TRUE(coordinator::save_model_file(dir.file("m.xfed"), *r.model));
  auto loaded = coordinator::load_model_file(dir.file("m.xfed"));
  ASSERT_TRUE(loaded) << loaded.message();
  const auto data = app::load_data(c);
  EXPECT_DOUBLE_EQ(evaluate(*loaded.value(), data.test).accuracy, r.summary.final_accuracy);
  testing::write_bytes(dir.file("junk"), {1, 2, 3});
  EXPECT_FALSE(coordinator::load_model_file(dir.file("junk")));
}

TEST(Simulation, ManyClientsFewSampled) {
  auto c = small_config();
  c.clients = 300;
  c.fraction = 0.02;
  c.rounds = 3;
  Recorder rec;
  simulate(c, 2, &rec);
  for (const auto& round : rec.rounds) EXPECT_EQ(round.clients, 6);
}

}  // namespace
}  // namespace xfed

namespace xfed {
namespace {

// The code frame (a TorchScript archive, protocol::ModelCode) from a stand-in coordinator:
// a worker hands code to options.accept_code and serves on; code it refuses, code whose
// digest does not match, or code with no acceptor ends its run with a usage error naming why.
Status worker_given_code(const std::vector<Bytes>& frames, bool with_acceptor, std::vector<std::string>* taken) {
  auto setup = app::make_run_setup(testing::small_config());
  auto hub = std::make_shared<transport::InProcHub>(2);
  auto options = app::worker_options(setup, nullptr, "");
  if (with_acceptor)
    options.accept_code = [taken](std::shared_ptr<const std::string> archive) {
      if (*archive != "good archive") return Status::usage("not the pinned archive");
      taken->push_back(*archive);
      return Status::ok();
    };
  auto t1 = transport::make_inproc_transport({hub, 1});
  Status result;
  std::thread worker([&] { result = worker::Worker(*t1, setup.clients, options).run(); });
  auto t0 = transport::make_inproc_transport({hub, 0});
  for (const auto& f : frames) EXPECT_TRUE(t0->send(1, f));
  EXPECT_TRUE(t0->send(1, protocol::ControlMessage{protocol::ControlCommand::kShutdown, ""}.frame(0, 0)));
  worker.join();
  return result;
}

Bytes code_frame(const std::string& archive) {
  return protocol::ModelCode{std::make_shared<const std::string>(archive)}.frame(1);
}

TEST(WorkerCode, TakesTheCodeItAcceptsAndEndsOnCodeItRefuses) {
  std::vector<std::string> taken;
  EXPECT_TRUE(worker_given_code({code_frame("good archive")}, true, &taken));
  EXPECT_EQ(taken, std::vector<std::string>{"good archive"});

  const auto refused = worker_given_code({code_frame("good archive"), code_frame("evil archive")}, true, &taken);
  EXPECT_EQ(refused.code(), StatusCode::kUsage);
  EXPECT_EQ(refused.message(), "worker 1: not the pinned archive");

  Bytes payload(32, 0);  // a digest of zeros before the archive
  const std::string archive = "good archive";
  payload.insert(payload.end(), archive.begin(), archive.end());
  protocol::FrameHeader h;
  h.kind = protocol::FrameKind::kCode;
  const auto forged = worker_given_code({protocol::encode_frame(h, payload)}, true, &taken);
  EXPECT_EQ(forged.code(), StatusCode::kUsage);
  EXPECT_NE(forged.message().find("its SHA-256 differs"), std::string::npos) << forged.message();
  EXPECT_EQ(taken.size(), 2u) << "the forged code never reached the acceptor";

  const auto unasked = worker_given_code({code_frame("good archive")}, false, &taken);
  EXPECT_NE(unasked.message().find("the coordinator sent model code, which this worker does not take"),
            std::string::npos) << unasked.message();
}

}  // namespace
}  // namespace xfed
