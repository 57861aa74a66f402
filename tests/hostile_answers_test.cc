// Workers that answer wrongly, on purpose or not, in a real federation (threads over the
// in-process transport): frames that answer nothing are dropped and counted; a worker answers
// each task once, so an unusable answer is its client's answer (missing at once, never waited
// for); an answer for a client whose task went to another rank is forbidden (coordinator/
// task_ledger.h). The model never sees any of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "protocol/frame.h"
#include "protocol/messages.h"
#include "tests/sim_fixture.h"

namespace xfed {
namespace {

using testing::HookedTransport;
using testing::Recorder;
using testing::simulate;
using testing::simulate_hooked;
using testing::simulate_rewritten;
using testing::small_config;

// Before each genuine update the worker sends frames that answer no task: whose header cannot
// be trusted (bad CRC, cut, garbage) or that name a client with no task there. Every one is
// dropped and counted, the genuine update is taken, and the model is bit-identical to a clean
// run. (A well-formed frame for the client's own task is its answer: UnusableAnswers.)
TEST(Simulation, InvalidFramesAreDroppedAndNeverTouchTheModel) {
  const auto c = small_config();
  const auto reference = simulate(c, 2).summary.model_checksum;
  auto corrupt = [](transport::Transport& inner, int dest, const Bytes& good) {
    auto f = protocol::decode_frame(good).value();
    if (f.header.kind != protocol::FrameKind::kUpdate) return;  // updates only: the rounds' counts
    Bytes bad_crc = good;
    bad_crc.back() ^= 0xff;
    ASSERT_TRUE(inner.send(dest, bad_crc));
    ASSERT_TRUE(inner.send(dest, Bytes(good.begin(), good.begin() + good.size() / 2)));
    ASSERT_TRUE(inner.send(dest, Bytes{1, 2, 3}));
    auto stranger = f.header;
    stranger.client = 999;
    ASSERT_TRUE(inner.send(dest, protocol::encode_frame(stranger, Bytes(f.payload(), f.payload() + f.payload_size))));
  };
  Recorder rec;
  auto r = simulate_hooked(c, 2, [&](int) { return corrupt; }, &rec);
  EXPECT_EQ(r.summary.model_checksum, reference);
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.dropped, 4 * 6);
    // Each kind for its reason: bad CRC, cut frame, garbage; a client with no task there.
    EXPECT_EQ(round.dropped_kinds.at(StatusCode::kCorruption), 3 * 6);
    EXPECT_EQ(round.dropped_kinds.at(StatusCode::kForbidden), 1 * 6);
    EXPECT_EQ(round.clients, 6);
    EXPECT_EQ(round.missing, 0);
  }
}

// Client 0's worker answers its task every round with an unusable frame instead of its
// update. A worker answers each task once: the answer is refused and counted, client 0 is
// missing at once (no deadline is set: a round that waited for it would never close), and
// the model is that of a run in which client 0 reported a failure every round.
class UnusableAnswers : public ::testing::TestWithParam<std::string> {};

TEST_P(UnusableAnswers, AreTheClientsOnlyAnswerNotAWaitForever) {
  const auto c = small_config();
  const auto instead = [](protocol::Frame f, const std::string& how) -> Bytes {
    auto h = f.header;
    Bytes payload(f.payload(), f.payload() + f.payload_size);
    if (how == "failure") {
      h.kind = protocol::FrameKind::kFailure;
      payload.clear();
      ByteWriter w(&payload);
      protocol::TaskFailure{protocol::FailureKind::kInternal, "it failed"}.write(w);
    } else if (how == "nan") {
      const uint8_t nan[4] = {0x00, 0x00, 0xc0, 0x7f};  // a quiet NaN, little-endian float32
      std::copy(nan, nan + 4, payload.end() - 4);
    } else if (how == "another-round") {
      h.round += 7;
    } else if (how == "another-kind") {
      h.kind = protocol::FrameKind::kStats;
    } else if (how == "cut-payload") {
      payload.resize(payload.size() - 4);
    }
    return protocol::encode_frame(h, payload);
  };
  const auto run = [&](const std::string& how, Recorder* rec) {
    return simulate_rewritten(c, 2, [&, how](const Bytes& bytes) {
      auto f = protocol::decode_frame(bytes).value();
      if (f.header.kind != protocol::FrameKind::kUpdate || f.header.client != 0) return bytes;
      return instead(f, how);
    }, rec);
  };
  Recorder failed, rec;
  const auto reference = run("failure", &failed).summary.model_checksum;
  const auto r = run(GetParam(), &rec);
  ASSERT_EQ(rec.rounds.size(), static_cast<size_t>(c.rounds));
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.clients, 5) << "round " << round.round;
    EXPECT_EQ(round.missing, 1) << "round " << round.round;
    EXPECT_EQ(round.dropped, 1) << "round " << round.round;
    const auto expected = GetParam() == "nan" || GetParam() == "cut-payload" ? StatusCode::kCorruption : StatusCode::kStale;
    EXPECT_EQ(round.dropped_kinds.at(expected), 1) << "round " << round.round;
  }
  EXPECT_EQ(r.summary.model_checksum, reference);
}

INSTANTIATE_TEST_SUITE_P(Kinds, UnusableAnswers,
                         ::testing::Values("nan", "another-round", "another-kind", "cut-payload"),
                         [](const auto& info) {
                           std::string n = info.param;
                           n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
                           return n;
                         });

// Clients live on fixed ranks (0, 2, 4 on rank 1; 1, 3, 5 on rank 2). Before each of its
// updates, rank 1 sends a copy relabelled as the next client, which is rank 2's: every copy
// is refused as forbidden, rank 2's own answers are taken, and the model is a clean run's.
TEST(Simulation, AnAnswerForAnotherRanksClientIsForbidden) {
  auto c = small_config();
  const auto reference = simulate(c, 2).summary.model_checksum;
  const auto relabel = [](int rank) -> HookedTransport::Hook {
    return [rank](transport::Transport& inner, int dest, const Bytes& good) {
      auto f = protocol::decode_frame(good).value();
      if (rank != 1 || f.header.kind != protocol::FrameKind::kUpdate) return;
      auto h = f.header;
      h.client += 1;
      ASSERT_TRUE(inner.send(dest, protocol::encode_frame(h, Bytes(f.payload(), f.payload() + f.payload_size))));
    };
  };
  Recorder rec;
  const auto r = simulate_hooked(c, 2, relabel, &rec, {1, 2, 1, 2, 1, 2});
  ASSERT_EQ(rec.rounds.size(), static_cast<size_t>(c.rounds));
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.clients, 6) << "round " << round.round;
    EXPECT_EQ(round.dropped_kinds.at(StatusCode::kForbidden), 3) << "round " << round.round;
  }
  EXPECT_EQ(r.summary.model_checksum, reference);
}

// Rank 2 is alive (its transport works) but never answers a task, or not even the
// configuration check before round 1. No deadline is set: the straggler bound (1 s here,
// 600 s by default) ends the wait, the run goes on, and its clients are missing (or, never
// checked, it gets no work at all). Answering the check only, it sends garbage every 20 ms
// besides: frames that keep coming must not hold a round open.
class SilentWorker : public ::testing::TestWithParam<bool> {};

TEST_P(SilentWorker, CostsAStragglerTimeoutNotTheRun) {
  const bool answers_the_check = GetParam();
  auto c = small_config();
  c.rounds = 3;
  c.straggler_timeout = 1.0;
  auto setup = app::make_run_setup(c);
  auto hub = std::make_shared<transport::InProcHub>(3);
  std::thread real([&] {
    app::use_single_intraop_thread();
    auto t = transport::make_inproc_transport({hub, 1});
    EXPECT_TRUE(app::run_worker(setup.clients, *t, app::worker_options(setup, nullptr, "")));
  });
  std::atomic<bool> over{false};
  std::thread silent([&] {
    auto t = transport::make_inproc_transport({hub, 2});
    while (!over) {
      auto got = t->recv({transport::kAnySource, std::chrono::milliseconds(20)});
      if (answers_the_check) {
        ASSERT_TRUE(t->send(0, Bytes{1, 2, 3}));
      }
      if (!got.ok()) continue;
      auto frame = protocol::decode_frame(std::move(got.message.bytes));
      if (!frame || frame.value().header.kind != protocol::FrameKind::kControl) continue;  // tasks: never answered
      auto r = frame.value().payload_reader();
      protocol::ControlMessage control;
      ASSERT_TRUE(control.read(r));
      if (control.command == protocol::ControlCommand::kShutdown) return;
      if (control.command == protocol::ControlCommand::kCheckConfig && answers_the_check) {
        ASSERT_TRUE(t->send(0, protocol::ControlMessage{protocol::ControlCommand::kConfigChecked, ""}.frame(0, 2)));
      }
    }
  });
  Recorder rec;
  auto t0 = transport::make_inproc_transport({hub, 0});
  const auto outcome = app::run_coordinator(setup, app::make_initial_model(setup.spec, c.seed), *t0, {&rec});
  over = true;
  real.join();
  silent.join();
  ASSERT_TRUE(outcome) << outcome.message();
  ASSERT_EQ(rec.rounds.size(), 3u);
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.clients + round.missing, 6) << "round " << round.round;
    if (answers_the_check) {
      EXPECT_EQ(round.missing, 3) << "round " << round.round << ": rank 2's clients";
    } else {
      EXPECT_EQ(round.clients, 6) << "round " << round.round << ": everything went to rank 1";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Checked, SilentWorker, ::testing::Bool(), [](const auto& info) {
  return std::string(info.param ? "AnswersTheCheckOnly" : "NeverAnswers");
});

// A user's aggregation rule is code the coordinator did not write: a result of another
// length, or none, ends the run with one line naming the round, never a crash.
TEST(Simulation, AnAggregatorThatReturnsTheWrongSizeOrNothingEndsTheRunWithOneLine) {
  ASSERT_TRUE(coordinator::register_aggregator(
      "broken-rule", [](const std::optional<std::string>& arg) -> Result<coordinator::Aggregator> {
        const bool nothing = arg && *arg == "nothing";
        return coordinator::Aggregator([nothing](const std::vector<coordinator::ClientUpdate>& u) {
          return nothing ? at::Tensor() : u.front().delta.narrow(0, 0, 3);
        });
      }));
  for (const char* rule : {"broken-rule", "broken-rule:nothing"}) {
    auto c = small_config();
    c.rounds = 1;
    c.aggregate = rule;
    auto setup = app::make_run_setup(c);
    const auto r = app::run_simulation(setup, app::make_initial_model(setup.spec, c.seed), 1, {});
    ASSERT_FALSE(r.is_ok()) << rule;
    EXPECT_NE(r.message().find("round 1: the aggregator returned "), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("(float32 expected)"), std::string::npos) << r.message();
  }
}

}  // namespace
}  // namespace xfed

namespace xfed {
namespace {

// F is checked against the clients that answered: in round 2 clients 0 and 1 report a
// failure instead of their updates, four of six answer, and krum:1 (which needs 2F+3 = 5)
// skips the round — the model stays, `skipped` says so — and the run goes on. A rule that can
// never be met ends the run after three skipped rounds in a row with one line naming the
// rule's minimum.
TEST(Simulation, TooFewAnswersForKrumSkipTheRoundAndAreCounted) {
  auto c = testing::small_config();
  c.aggregate = "krum:1";
  auto fail_in_round_2 = [](const Bytes& good) {
    const auto f = protocol::decode_frame(good).value();
    if (f.header.kind != protocol::FrameKind::kUpdate || f.header.round != 2 || f.header.client > 1) return good;
    auto h = f.header;
    h.kind = protocol::FrameKind::kFailure;
    Bytes payload;
    ByteWriter w(&payload);
    protocol::TaskFailure{protocol::FailureKind::kInternal, "injected"}.write(w);
    return protocol::encode_frame(h, payload);
  };
  testing::Recorder rec;
  testing::simulate_rewritten(c, 2, fail_in_round_2, &rec);
  ASSERT_EQ(rec.rounds.size(), 4u);
  for (const auto& r : rec.rounds) EXPECT_EQ(r.skipped, r.round == 2 ? 1 : 0) << "round " << r.round;
  EXPECT_EQ(rec.rounds[1].clients, 4);
  EXPECT_EQ(rec.rounds[1].model_version, rec.rounds[0].model_version) << "a skipped round leaves the model";
  EXPECT_EQ(rec.rounds[2].model_version, rec.rounds[0].model_version + 1);

  c.aggregate = "krum:2";  // needs 7 of 6 clients
  auto setup = app::make_run_setup(c);
  const auto r = app::run_simulation(setup, app::make_initial_model(setup.spec, c.seed), 1, {});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.message(), "coordinator: 3 rounds in a row skipped (Krum with F = 2 needs at least 2F+3 = 7 updates, "
                         "6 came); giving up");
}

}  // namespace
}  // namespace xfed

namespace xfed {
namespace {

// labelflip poisons the hostile clients' data: with every client hostile the federation
// learns y -> classes-1-y, and the test set (true labels) scores below chance; with none of
// the attack's model kinds the data is untouched (the clean run's model).
TEST(Simulation, LabelflipTrainsTheHostileClientsOnFlippedLabels) {
  auto c = testing::small_config();
  c.rounds = 6;
  const auto clean = testing::simulate(c, 2);
  c.attack = "labelflip:6";
  const auto flipped = testing::simulate(c, 2);
  EXPECT_GT(clean.summary.final_accuracy, 0.5);
  EXPECT_LT(flipped.summary.final_accuracy, 0.2) << "the model learned the flipped labels";
  c.attack = "signflip:1,scale=-1";  // a hostile client that sends its own update: the clean run
  EXPECT_EQ(testing::simulate(c, 2).summary.model_checksum, clean.summary.model_checksum);
}

}  // namespace
}  // namespace xfed
