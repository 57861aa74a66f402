// Secure aggregation in a real federation (threads over the in-process transport, workers
// whose frames are rewritten on the way): clients lost after sharing their keys are recovered
// exactly, too few shares skip the round with nothing unmasked, a malformed step is dropped
// naming its peer, and an honest worker refuses an unmask request that asks for both shares.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <set>

#include "coordinator/secure_round.h"
#include "core/model_state.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/secagg_messages.h"
#include "tests/sim_fixture.h"
#include "worker/secure_client.h"

namespace xfed {
namespace {

using protocol::FrameKind;
using testing::Recorder;
using testing::simulate;
using testing::simulate_rewritten;
using testing::small_config;

app::RunConfig secure_config() {
  auto c = small_config();
  c.compress = "randk:0.5";
  c.secure_aggregation = "threshold=2,degree=4,range=0.5,bits=12";
  return c;
}

// Each frame of `kind` for one of `clients` (in `rounds`, or any round when empty) becomes a
// failure frame: the client says it cannot go on at that step (gone, as the coordinator sees it).
std::function<Bytes(const Bytes&)> fail_at(FrameKind kind, std::set<uint32_t> clients, std::set<uint32_t> rounds = {}) {
  return [kind, clients, rounds](const Bytes& bytes) {
    auto f = protocol::decode_frame(bytes).value();
    if (f.header.kind != kind || !clients.count(f.header.client)) return bytes;
    if (!rounds.empty() && !rounds.count(f.header.round)) return bytes;
    auto h = f.header;
    h.kind = FrameKind::kFailure;
    Bytes payload;
    ByteWriter w(&payload);
    protocol::TaskFailure{protocol::FailureKind::kInternal, "gone"}.write(w);
    return protocol::encode_frame(h, payload);
  };
}

// One tensor of `values` values, and a training task over it with secure aggregation.
StateLayout one_tensor(int64_t values) {
  StateLayout layout;
  layout.add("w", {values}, false);
  return layout;
}

protocol::TrainTask secure_task(uint64_t seed, const std::string& uplink, const protocol::SecAggTask& secagg) {
  protocol::TrainTask task;
  task.train.seed = seed;
  task.uplink = compression::Pipeline::parse(uplink).value();
  task.secagg = secagg;
  return task;
}

// ... and no client says its sample count or loss: each advert's metadata carries 1 and 0.
TEST(SecureAggregation, ARunAggregatesEveryClientAndReportsNoLoss) {
  Recorder rec;
  int adverts = 0, told = 0;
  const auto watch = [&](const Bytes& bytes) {
    const auto f = protocol::decode_frame(bytes).value();
    if (f.header.kind == FrameKind::kSecAggKeys && f.header.sender != 0) {  // a worker's advert
      auto r = f.payload_reader();
      protocol::UpdateMeta meta;
      EXPECT_TRUE(meta.read(r));
      ++adverts;
      told += meta.samples != 1 || meta.train_loss != 0;
    }
    return bytes;
  };
  const auto r = simulate_rewritten(secure_config(), 2, watch, &rec);
  EXPECT_EQ(adverts, 6 * 4);
  EXPECT_EQ(told, 0);
  ASSERT_EQ(rec.rounds.size(), 4u);
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.clients, 6);
    EXPECT_EQ(round.skipped, 0);
    ASSERT_TRUE(round.secagg_dropped.has_value());
    EXPECT_EQ(*round.secagg_dropped, 0);
    EXPECT_EQ(round.train_loss, 0) << "a secure run does not report its clients' losses";
  }
  EXPECT_GT(r.summary.final_accuracy, rec.rounds.front().test_accuracy.value_or(1)) << "it trains";
}

// Client 1 drops after sharing its keys (its masked input never comes): its pairwise masks
// are removed from its neighbours' shares of its key. The sum is the other five clients',
// exactly: the model is bit-identical to the run where client 1 dropped before advertising
// (no masks with it at all; the same values, positions and rounding otherwise).
TEST(SecureAggregation, AClientLostAfterSharingKeysIsRecoveredExactly) {
  const auto c = secure_config();
  Recorder after, before;
  const auto lost_after = simulate_rewritten(c, 2, fail_at(FrameKind::kSecAggMasked, {1}), &after);
  const auto lost_before = simulate_rewritten(c, 2, fail_at(FrameKind::kSecAggKeys, {1}), &before);
  EXPECT_EQ(lost_after.summary.model_checksum, lost_before.summary.model_checksum);
  for (size_t i = 0; i < after.rounds.size(); ++i) {
    EXPECT_EQ(after.rounds[i].clients, 5);
    EXPECT_EQ(*after.rounds[i].secagg_dropped, 1) << "lost after sharing: recovered";
    EXPECT_EQ(*before.rounds[i].secagg_dropped, 0) << "lost before sharing: in no mask";
    EXPECT_EQ(after.rounds[i].skipped, 0);
  }
  EXPECT_NE(lost_after.summary.model_checksum, simulate(c, 2).summary.model_checksum) << "client 1 is left out";
}

// In round 1 four of six clients drop after sharing: the two survivors are fewer than the
// threshold their unmask requests need (t = 3), so they refuse, no shares come, nothing is
// unmasked and the round is skipped with the model unchanged; round 2 goes on with all six.
TEST(SecureAggregation, BelowTheThresholdNothingIsUnmaskedAndTheRoundIsSkipped) {
  auto c = secure_config();
  c.secure_aggregation = "threshold=3,degree=4,range=0.5,bits=12";
  c.rounds = 2;
  Recorder rec;
  simulate_rewritten(c, 2, fail_at(FrameKind::kSecAggMasked, {0, 2, 3, 5}, {1}), &rec);
  ASSERT_EQ(rec.rounds.size(), 2u);
  EXPECT_EQ(rec.rounds[0].skipped, 1);
  EXPECT_EQ(rec.rounds[0].clients, 0);
  EXPECT_EQ(rec.rounds[0].model_version, 0) << "nothing unmasked, nothing applied";
  EXPECT_EQ(rec.rounds[1].skipped, 0);
  EXPECT_EQ(rec.rounds[1].clients, 6);
  EXPECT_EQ(rec.rounds[1].model_version, 1);
}

// A masked input cut short on the way: dropped and counted (its peer named in the log), and
// its client is recovered like one that left.
TEST(SecureAggregation, AMalformedMaskedInputIsDroppedAndItsClientRecovered) {
  const auto cut = [](const Bytes& bytes) {
    auto f = protocol::decode_frame(bytes).value();
    if (f.header.kind != FrameKind::kSecAggMasked || f.header.client != 4) return bytes;
    return protocol::encode_frame(f.header, Bytes(f.payload(), f.payload() + f.payload_size / 2));
  };
  Recorder rec;
  ::testing::internal::CaptureStderr();
  simulate_rewritten(secure_config(), 2, cut, &rec);
  const auto log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("for client 4: a malformed masked input"), std::string::npos) << log;
  for (const auto& round : rec.rounds) {
    EXPECT_EQ(round.dropped, 1);
    EXPECT_EQ(round.clients, 5);
    EXPECT_EQ(*round.secagg_dropped, 1);
  }
}

// --dp mode=distributed: each of the n = 6 clients adds N(0, (Z C)^2 / m), m = --min-clients = 3,
// its share of the noise; the coordinator unmasks only the sum, which carries N(0, n (Z C)^2 / m).
// With updates ~0 (lr 1e-12) the model moves by the mean: std Z C sqrt(n / m) / n per value
// (sample std of ~2.7k values: relative error ~1.4 %; bound 6 %, and the noise's secret is
// seed=3's, so the run is the same every time).
TEST(SecureAggregation, DistributedNoiseGivesTheSumItsStdAndIsAccounted) {
  auto c = secure_config();
  c.compress = "none";
  c.secure_aggregation = "range=4,bits=20";
  c.train.lr = 1e-12;
  c.dp = "clip=1,noise=0.5,mode=distributed,seed=3";
  c.min_clients = 3;
  c.rounds = 1;
  Recorder rec;
  const auto r = simulate(c, 2, &rec);
  const auto setup = app::make_run_setup(c);
  const auto moved = read_state(*r.model) - read_state(*app::make_initial_model(setup.spec, c.seed));
  const double expected = 0.5 * std::sqrt(6.0 / 3.0) / 6.0;
  EXPECT_NEAR(moved.std().item<double>(), expected, 0.06 * expected);
  EXPECT_NEAR(moved.mean().item<double>(), 0.0, 4 * expected / std::sqrt(static_cast<double>(moved.numel())));
  ASSERT_EQ(rec.rounds.size(), 1u);
  ASSERT_TRUE(rec.rounds[0].epsilon.has_value());
  EXPECT_GT(*rec.rounds[0].epsilon, 0);
  // Without the flag the same run must be refused: the noise share needs the masks.
  c.secure_aggregation.clear();
  EXPECT_THROW(app::make_run_setup(c), UsageError);
}

// DI pruning from masked statistics: with training a no-op (lr 1e-12, and a range of 1e-6 for
// the masked updates, so the models of both runs are the initial one to ~1e-12), the secure
// run's stats rounds sum the same statistics as the plain run's — decoded from 29-bit fixed
// point, off by under 6 steps of their bound (pruning/masked_stats.h: ~1e-5 of a second
// moment here) — so the layers' DI agree to 1e-4 and the same units are kept. No stats frame
// travels in the secure run: the statistics come masked.
TEST(SecureAggregation, DiPruningFromMaskedStatisticsKeepsThePlainRunsUnits) {
  auto c = secure_config();
  c.compress = "none";
  c.secure_aggregation = "range=1e-6,bits=24";
  c.train.lr = 1e-12;
  c.rounds = 3;
  c.prune = "di:every=1,warmup=1,fraction=0.3,target=0.4,min_units=2,stats_samples=300";
  const auto run = [&](const app::RunConfig& config, int* stats_frames, Recorder* rec) {
    const auto count = [stats_frames](const Bytes& bytes) {
      if (protocol::decode_frame(bytes).value().header.kind == FrameKind::kStats) ++*stats_frames;
      return bytes;
    };
    return simulate_rewritten(config, 2, count, rec);
  };
  int secure_stats = 0, plain_stats = 0;
  Recorder secure, plain;
  const auto masked = run(c, &secure_stats, &secure);
  auto p = c;
  p.secure_aggregation.clear();
  const auto clear = run(p, &plain_stats, &plain);
  EXPECT_EQ(secure_stats, 0) << "statistics travel masked";
  EXPECT_GT(plain_stats, 0);
  ASSERT_EQ(secure.rounds.size(), plain.rounds.size());
  int steps = 0;
  for (size_t i = 0; i < secure.rounds.size(); ++i) {
    const auto& s = secure.rounds[i].per_layer;
    const auto& q = plain.rounds[i].per_layer;
    ASSERT_EQ(s.count("di"), q.count("di")) << "round " << i + 1;
    if (!s.count("di")) continue;
    ++steps;
    ASSERT_EQ(s.at("di").size(), q.at("di").size());
    for (size_t l = 0; l < s.at("di").size(); ++l)
      EXPECT_NEAR(s.at("di")[l], q.at("di")[l], 1e-4 * std::abs(q.at("di")[l])) << "round " << i + 1 << " layer " << l;
    EXPECT_EQ(s.at("kept"), q.at("kept")) << "round " << i + 1;
  }
  EXPECT_GE(steps, 1);
  EXPECT_EQ(masked.kept, clear.kept) << "the same units of every layer";
  EXPECT_LT(masked.summary.params, secure.rounds.front().params) << "it pruned";
}

// A stats round whose masked inputs come from too few clients unmasks nothing: no plan that
// round (the log says pruning waits), the run goes on, and the next step round prunes.
TEST(SecureAggregation, AStatsRoundBelowTheThresholdWaitsForTheNextStepRound) {
  auto c = secure_config();
  c.secure_aggregation = "threshold=3,degree=4,range=0.5,bits=12";
  c.rounds = 3;
  c.prune = "di:every=1,warmup=1,fraction=0.2,target=0.5,min_units=2,stats_samples=300";
  Recorder rec;
  ::testing::internal::CaptureStderr();
  simulate_rewritten(c, 2, fail_at(FrameKind::kSecAggMasked, {0, 2, 3, 5}, {1}), &rec);
  const auto log = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(rec.rounds.size(), 3u);
  EXPECT_EQ(rec.rounds[0].per_layer.count("pruned"), 0u);
  EXPECT_NE(log.find("stats round 1: secure aggregation: "), std::string::npos) << log;
  EXPECT_NE(log.find("nothing is unmasked; pruning waits for its next step round"), std::string::npos) << log;
  EXPECT_EQ(rec.rounds[1].per_layer.count("pruned"), 1u) << "round 2 prunes";
  EXPECT_LT(rec.rounds[1].params, rec.rounds[0].params);
}

// The worker side alone: three clients of one worker through every step, then a request that
// names a neighbour both surviving and dropped, which asks for both its shares.
TEST(SecureAggregation, AWorkerRefusesToHandOverBothSharesOfOneClient) {
  const auto layout = one_tensor(40);
  const auto task = secure_task(7, "randk:0.5", {4, 2, 1.0, 8, 10});
  worker::SecureClients clients;
  std::vector<worker::ClientState> states(3);
  coordinator::SecureRound round(*task.secagg, 7, 1, protocol::secagg_support(layout, 0.5, 7, 1), 3);
  const auto frame = [](FrameKind kind, uint32_t client, const Bytes& payload) {
    protocol::FrameHeader h{kind, 1, 0, client, 0, {protocol::CodecId::kNone}};
    return protocol::decode_frame(protocol::encode_frame(h, payload)).value();
  };
  for (int c = 0; c < 3; ++c) {
    auto advert = clients.begin(c, 1, task, at::full({40}, 0.1f * (c + 1)), layout, protocol::UpdateMeta{}, states[c]);
    ASSERT_TRUE(advert) << advert.message();
    ByteReader r(advert.value());
    protocol::UpdateMeta meta;
    secagg::KeyAdvert a;
    ASSERT_TRUE(meta.read(r) && protocol::read_advert(r, round.bounds(), &a));
    round.session().take_advert(a);
  }
  Bytes adverts;
  ByteWriter aw(&adverts);
  protocol::write_adverts(aw, round.session().adverts());
  for (uint32_t c = 0; c < 3; ++c) {
    auto shares = clients.answer(frame(FrameKind::kSecAggKeys, c, adverts));
    ASSERT_TRUE(shares) << shares.message();
    ByteReader r(shares.value());
    std::vector<secagg::SealedShares> s;
    ASSERT_TRUE(protocol::read_sealed_shares(r, round.bounds(), &s));
    round.session().take_shares(s);
  }
  for (uint32_t c = 0; c < 3; ++c) {
    Bytes mine;
    ByteWriter w(&mine);
    protocol::write_sealed_shares(w, round.session().shares_for(c));
    ASSERT_TRUE(clients.answer(frame(FrameKind::kSecAggShares, c, mine)));
  }
  Bytes both;
  ByteWriter bw(&both);
  protocol::write_unmask_request(bw, secagg::UnmaskRequest{{0, 1, 2}, {1}});
  const auto refused = clients.answer(frame(FrameKind::kSecAggUnmask, 0, both));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("both surviving and dropped"), std::string::npos) << refused.message();
  EXPECT_FALSE(clients.answer(frame(FrameKind::kSecAggUnmask, 0, both))) << "one request per round: the session is gone";
  const auto garbage = clients.answer(frame(FrameKind::kSecAggUnmask, 1, Bytes{0xff, 0xff}));
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.message().find("malformed unmask request for client 1"), std::string::npos) << garbage.message();
}

// What clipping and rounding leave out stays in the client's residual: residual + decoded
// = update + old residual at the round's positions, and the residual is the whole value off them.
TEST(SecureAggregation, ErrorFeedbackKeepsWhatTheFixedPointLeftOut) {
  const auto layout = one_tensor(64);
  const auto task = secure_task(3, "randk:0.25", {4, 2, 0.5, 6, 8});
  const auto delta = at::linspace(-1.0, 1.0, 64);
  worker::SecureClients clients;
  worker::ClientState state;
  ASSERT_TRUE(clients.begin(0, 2, task, delta, layout, protocol::UpdateMeta{}, state));
  const auto support = protocol::secagg_support(layout, 0.25, 3, 2);
  ASSERT_EQ(support.size(), 16u);
  std::set<int64_t> on(support.begin(), support.end());
  const double step = 2 * 0.5 / 63;
  for (int64_t i = 0; i < 64; ++i) {
    const double v = delta[i].item<double>(), r = state.residual[i].item<double>();
    if (!on.count(i)) {
      EXPECT_FLOAT_EQ(r, v) << i;
      continue;
    }
    const double sent = v - r;  // on the grid -R + j * step, within [-R, R]
    const double j = (sent + 0.5) / step;
    EXPECT_NEAR(j, std::round(j), 1e-4) << i;
    EXPECT_LE(std::abs(sent), 0.5 + 1e-6) << i;
    EXPECT_LE(std::abs(r), std::max(0.0, std::abs(v) - 0.5) + step + 1e-6) << i << ": clipped mass kept, rounding within a step";
  }
}

}  // namespace
}  // namespace xfed
