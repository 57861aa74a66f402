// A SecAgg+ round between ClientSession and CoordinatorSession objects (secagg/session.h),
// messages handed over by hand: the unmasked sum equals the plain sum of the same
// fixed-point values exactly, with clients lost before sharing, after sharing, or not at
// all; below the threshold the round fails and nothing is unmasked; an honest client
// refuses an unmask request that asks for both shares of one client.
#include <gtest/gtest.h>

#include <set>

#include "secagg/neighbours.h"
#include "secagg/session.h"

namespace xfed::secagg {
namespace {

// bits 8 and range 127.5: the step is 1, and values −127.5 + j are encoded without rounding,
// so the decoded sum is exact; a ring of 12 bits holds 16 such values (8 + ⌈log2 12⌉).
RoundParams params(size_t length) {
  RoundParams p;
  p.round = 9;
  p.neighbours = 4;
  p.threshold = 3;
  p.numbers = FixedPoint{127.5, 8, 12};
  p.length = length;
  p.graph_seed = 77;
  return p;
}

std::vector<float> values_of(int64_t client, size_t length) {
  std::vector<float> v;
  for (size_t i = 0; i < length; ++i) v.push_back(-127.5f + static_cast<float>((client * 31 + i * 7) % 256));
  return v;
}

struct Round {
  std::map<int64_t, ClientSession> clients;
  CoordinatorSession coordinator;
  size_t length;
  Round(int64_t n, size_t length) : coordinator(params(length)), length(length) {
    for (int64_t c = 0; c < n; ++c) clients.emplace(c, ClientSession(c, params(length)));
  }
  // Runs every step; `silent_before_sharing` advertise only, `silent_after_sharing` never
  // send a masked input. Returns the coordinator's sum and the expected one.
  std::pair<Result<std::vector<double>>, std::vector<double>> run(const std::set<int64_t>& silent_before_sharing,
                                                                   const std::set<int64_t>& silent_after_sharing) {
    for (auto& [id, c] : clients) coordinator.take_advert(c.advertise());
    const auto adverts = coordinator.adverts();
    for (auto& [id, c] : clients)
      if (!silent_before_sharing.count(id)) coordinator.take_shares(c.share_keys(adverts).value());
    std::vector<double> expected(length, 0.0);
    std::set<int64_t> survivors;
    for (auto& [id, c] : clients) {
      if (silent_before_sharing.count(id) || silent_after_sharing.count(id)) continue;
      const auto values = values_of(id, length);
      coordinator.take_masked(c.mask(coordinator.shares_for(id), values).value());
      for (size_t i = 0; i < length; ++i) expected[i] += values[i];
      survivors.insert(id);
    }
    const auto request = coordinator.unmask_request();
    for (int64_t id : survivors) {
      auto reply = clients.at(id).unmask(request);
      if (reply) coordinator.take_reply(reply.value());
    }
    return {coordinator.sum(), expected};
  }
};

TEST(SecAggRound, TheUnmaskedSumIsThePlainSumExactly) {
  Round round(12, 50);
  auto [sum, expected] = round.run({}, {});
  ASSERT_TRUE(sum) << sum.message();
  EXPECT_EQ(sum.value(), expected);
}

TEST(SecAggRound, ClientsLostAfterSharingAreRecoveredFromTheirNeighboursShares) {
  Round round(12, 50);
  auto [sum, expected] = round.run({}, {3});
  ASSERT_TRUE(sum) << sum.message();
  EXPECT_EQ(sum.value(), expected);
  EXPECT_EQ(round.coordinator.unmask_request().dropped, std::vector<int64_t>{3});
}

// Two clients a, b that are not neighbours and share no neighbour: losing both leaves every
// other client 3 of its 4 share-holders.
std::pair<int64_t, int64_t> far_apart(int64_t n) {
  std::vector<int64_t> ids;
  for (int64_t c = 0; c < n; ++c) ids.push_back(c);
  const auto g = neighbour_graph(ids, 4, params(1).graph_seed);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = a + 1; b < n; ++b) {
      std::set<int64_t> around(g.at(a).begin(), g.at(a).end());
      bool apart = !around.count(b);
      for (int64_t v : g.at(b)) apart = apart && !around.count(v);
      if (apart) return {a, b};
    }
  return {-1, -1};
}

TEST(SecAggRound, ClientsLostBeforeSharingAreLeftOutOfEveryMask) {
  Round round(12, 50);
  const auto [before, after] = far_apart(12);
  ASSERT_GE(before, 0);
  auto [sum, expected] = round.run({before}, {after});
  ASSERT_TRUE(sum) << sum.message();
  EXPECT_EQ(sum.value(), expected);
}

TEST(SecAggRound, BelowTheThresholdTheRoundFailsAndNothingIsUnmasked) {
  Round round(12, 20);
  // Clients 0..5 masked nothing: some survivor's dropped neighbours leave it fewer than 3
  // sharers of a dropped client's key, or some survivor has fewer than 3 surviving neighbours.
  auto [sum, expected] = round.run({}, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_FALSE(sum);
  EXPECT_NE(sum.message().find("nothing is unmasked"), std::string::npos) << sum.message();
}

TEST(SecAggRound, AnHonestClientRefusesToRevealBothSharesOfOneClient) {
  Round round(6, 4);
  for (auto& [id, c] : round.clients) round.coordinator.take_advert(c.advertise());
  const auto adverts = round.coordinator.adverts();
  for (auto& [id, c] : round.clients) round.coordinator.take_shares(c.share_keys(adverts).value());
  for (auto& [id, c] : round.clients) round.coordinator.take_masked(c.mask(round.coordinator.shares_for(id), values_of(id, 4)).value());
  auto& client = round.clients.at(0);
  const auto both = client.unmask({{0, 1, 2, 3, 4, 5}, {2}});
  EXPECT_FALSE(both);
  EXPECT_NE(both.message().find("both surviving and dropped"), std::string::npos) << both.message();
  EXPECT_FALSE(client.unmask({{1, 2, 3, 4, 5}, {0}})) << "named dropped, yet asked";
  EXPECT_FALSE(client.unmask({{0, 1}, {2, 3, 4, 5}})) << "fewer survivors than the threshold";
  EXPECT_FALSE(client.unmask({{0, 0, 1, 2}, {}})) << "a name twice";
  const auto fine = client.unmask({{0, 1, 3, 4, 5}, {2}});
  ASSERT_TRUE(fine) << fine.message();
  EXPECT_FALSE(fine.value().seed_shares.count(2));
  for (const auto& [owner, share] : fine.value().key_shares) EXPECT_EQ(owner, 2);
}

TEST(SecAggRound, TamperedSharesAreRefusedNamingTheSender) {
  Round round(6, 4);
  for (auto& [id, c] : round.clients) round.coordinator.take_advert(c.advertise());
  const auto adverts = round.coordinator.adverts();
  for (auto& [id, c] : round.clients) round.coordinator.take_shares(c.share_keys(adverts).value());
  auto shares = round.coordinator.shares_for(1);
  ASSERT_FALSE(shares.empty());
  shares[0].sealed[3] ^= 0x40;
  const auto masked = round.clients.at(1).mask(shares, values_of(1, 4));
  EXPECT_FALSE(masked);
  EXPECT_NE(masked.message().find("client " + std::to_string(shares[0].from)), std::string::npos) << masked.message();
  EXPECT_FALSE(round.clients.at(2).mask(round.coordinator.shares_for(1), values_of(2, 4)))
      << "shares addressed to another client";
}

}  // namespace
}  // namespace xfed::secagg
