// Who may join an edge run (app/edge_admission.h) and the handshake payloads it rides on
// (transport/zmq/greeting.h): round trips, malformed bytes refused with a reason, the first
// differing flag named, clients out of range or already served refused, a returning worker
// free to name other clients.
#include <gtest/gtest.h>

#include "app/edge_admission.h"
#include "transport/zmq/greeting.h"

namespace xfed::app {
namespace {

const std::string kIdentity = "--dataset=synthetic\n--lr=0.05\n--clients=6\n";

Bytes introduction(std::vector<int64_t> clients, const std::string& identity = kIdentity) {
  return encode_introduction({std::move(clients), identity});
}

TEST(EdgeAdmission, AnIntroductionRoundTripsAndMalformedOnesAreErrors) {
  const auto back = decode_introduction(introduction({0, 3, 5}));
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_EQ(back.value().clients, (std::vector<int64_t>{0, 3, 5}));
  EXPECT_EQ(back.value().run_identity, kIdentity);
  for (const std::string bad : {"", "clients=1", "hello\n--lr=1\n", "clients=\n", "clients=1,,2\n", "clients=-1\n",
                                "clients=a\n"})
    EXPECT_FALSE(decode_introduction(Bytes(bad.begin(), bad.end())).is_ok()) << bad;
}

TEST(EdgeAdmission, AdmitsMatchingWorkersAndRoutesTheirClients) {
  EdgeAdmission admission(6, kIdentity);
  EXPECT_EQ(admission.admit(1, introduction({0, 2})), "");
  EXPECT_EQ(admission.admit(2, introduction({1})), "");
  EXPECT_EQ(admission.rank_of(0), 1);
  EXPECT_EQ(admission.rank_of(2), 1);
  EXPECT_EQ(admission.rank_of(1), 2);
  EXPECT_EQ(admission.rank_of(3), 0) << "nobody serves client 3 yet";
  EXPECT_EQ(admission.unserved(), (std::vector<int64_t>{3, 4, 5}));
}

TEST(EdgeAdmission, RefusesOtherSettingsNamingTheFlag) {
  EdgeAdmission admission(6, kIdentity);
  const auto why = admission.admit(3, introduction({0}, "--dataset=synthetic\n--lr=0.1\n--clients=6\n"));
  EXPECT_EQ(why,
            "worker 3 runs another configuration than the coordinator: --lr is '0.1' on worker 3 and '0.05' on the "
            "coordinator (every process needs the same flags)");
  EXPECT_EQ(admission.rank_of(0), 0) << "a refused worker serves nothing";
}

TEST(EdgeAdmission, RefusesClientsOutOfRangeOrServedByAnother) {
  EdgeAdmission admission(6, kIdentity);
  EXPECT_NE(admission.admit(1, introduction({6})).find("names client 6 but the run has --clients 6 (0..5)"),
            std::string::npos);
  ASSERT_EQ(admission.admit(1, introduction({0, 1})), "");
  EXPECT_EQ(admission.admit(2, introduction({4, 1})), "worker 2 names client 1, which worker 1 serves already");
  EXPECT_EQ(admission.rank_of(4), 0) << "nothing of a refused introduction is kept";
  EXPECT_NE(admission.admit(2, Bytes{1, 2, 3}).find("malformed introduction"), std::string::npos);
}

TEST(EdgeAdmission, AWorkerThatReturnsMayNameOtherClients) {
  EdgeAdmission admission(6, kIdentity);
  ASSERT_EQ(admission.admit(1, introduction({0, 1})), "");
  ASSERT_EQ(admission.admit(1, introduction({1, 2})), "");
  EXPECT_EQ(admission.rank_of(0), 0) << "released";
  EXPECT_EQ(admission.rank_of(2), 1);
  EXPECT_EQ(admission.admit(2, introduction({0})), "") << "a released client is free again";
}

TEST(Greeting, HandshakePayloadsRoundTripAndOutsideBytesAreChecked) {
  using namespace transport;
  const auto hello = decode_hello(encode_hello({"KEY", Bytes{9, 8}}));
  ASSERT_TRUE(hello.is_ok());
  EXPECT_EQ(hello.value().public_key, "KEY");
  EXPECT_EQ(hello.value().introduction, (Bytes{9, 8}));
  EXPECT_FALSE(decode_hello(Bytes{}).is_ok());
  EXPECT_FALSE(decode_hello(Bytes{200}).is_ok()) << "a key length beyond the bytes";
  const auto welcome = decode_welcome(encode_welcome({3, 5}));
  ASSERT_TRUE(welcome.is_ok());
  EXPECT_EQ(welcome.value().rank, 3);
  EXPECT_EQ(welcome.value().world, 5);
  for (const auto& bad : {Welcome{0, 5}, Welcome{5, 5}, Welcome{1, 1}})
    EXPECT_FALSE(decode_welcome(encode_welcome(bad)).is_ok()) << bad.rank << " of " << bad.world;
  auto longer = encode_welcome({1, 2});
  longer.push_back(0);
  EXPECT_FALSE(decode_welcome(longer).is_ok()) << "trailing bytes";
  const auto refusal = decode_refusal(encode_refusal("no"));
  ASSERT_TRUE(refusal.is_ok());
  EXPECT_EQ(refusal.value(), "no");
  EXPECT_FALSE(decode_refusal(Bytes{5, 'a'}).is_ok());
}

}  // namespace
}  // namespace xfed::app
