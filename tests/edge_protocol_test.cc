// The pure pieces of the edge protocol: who may join a run (app/edge_admission.h), the
// handshake payloads it rides on (transport/zmq/greeting.h) and the chunks of large frames
// (transport/zmq/chunks.h): round trips, malformed bytes refused with a reason, the first
// differing flag named, clients out of range or already served refused, a returning worker
// free to name other clients, chunks out of order or corrupt dropping their frame, and a
// frame interrupted by a new one abandoned without losing the new one.
#include <gtest/gtest.h>

#include <optional>

#include "app/edge_admission.h"
#include "transport/zmq/chunks.h"
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

// A worker started without the TorchScript file says so, and runs whatever archive the
// coordinator has (its --model value a pattern, core/run_identity.h) or the one it pins.
TEST(EdgeAdmission, AWorkerWithoutTheArchiveWantsTheCodeAndMatchesAnyOrItsPinnedArchive) {
  const std::string coordinator = "--model=torchscript sha256=ab12\n" + kIdentity;
  const auto wanting = encode_introduction({{0}, "--model=torchscript sha256=*\n" + kIdentity, true});
  const auto back = decode_introduction(wanting);
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_TRUE(back.value().wants_code);
  EXPECT_EQ(back.value().run_identity, "--model=torchscript sha256=*\n" + kIdentity);
  EXPECT_FALSE(decode_introduction(introduction({0})).value().wants_code);
  EdgeAdmission admission(6, coordinator);
  EXPECT_EQ(admission.admit(1, wanting), "");
  EXPECT_EQ(admission.admit(2, introduction({1}, coordinator)), "") << "a worker with the file itself";
  EXPECT_EQ(admission.admit(3, encode_introduction({{2}, coordinator, true})), "") << "pinned to the same archive";
  EXPECT_TRUE(admission.wants_code(1));
  EXPECT_FALSE(admission.wants_code(2));
  EXPECT_TRUE(admission.wants_code(3));
  EXPECT_FALSE(admission.wants_code(4)) << "never admitted";
  const auto pinned_other = encode_introduction({{3}, "--model=torchscript sha256=cd34\n" + kIdentity, true});
  EXPECT_NE(admission.admit(4, pinned_other).find("--model is 'torchscript sha256=cd34' on worker 4"), std::string::npos);
  EXPECT_EQ(admission.admit(1, introduction({0}, coordinator)), "") << "back with the file: no code now";
  EXPECT_FALSE(admission.wants_code(1));
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

// The run identity starts with the build's version (app/resume_check.cc): a worker of
// another xfed is refused like one with another flag, naming it.
TEST(EdgeAdmission, RefusesAWorkerOfAnotherXfedVersion) {
  EdgeAdmission admission(6, "xfed=0.2.0\n" + std::string(kIdentity));
  const auto why = admission.admit(2, introduction({0}, "xfed=0.1.0\n" + std::string(kIdentity)));
  EXPECT_EQ(why,
            "worker 2 runs another configuration than the coordinator: xfed is '0.1.0' on worker 2 and '0.2.0' on the "
            "coordinator (every process needs the same flags)");
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

TEST(EdgeAdmission, ADeviceWithItsOwnDataIsClientRankMinusOneAndMayHaveOtherAmounts) {
  const std::string coordinator =
      "--dataset=mnist\n--data-dir=/srv/mnist\ndata shape=1x28x28, 10 classes, 60000 samples\n--lr=0.05\n"
      "--clients=4\n--partition=iid\n";
  const std::string device =
      "--dataset=mnist\n--data-dir=/home/pi/data\ndata shape=1x28x28, 10 classes, 512 samples\n--lr=0.05\n"
      "--clients=4\n--partition=dirichlet:0.5\n";
  EdgeAdmission admission(4, coordinator);
  const auto own = encode_introduction({{}, device});
  EXPECT_EQ(decode_introduction(own).value().clients, std::vector<int64_t>{}) << "clients=own";
  EXPECT_EQ(admission.admit(3, own), "");
  EXPECT_EQ(admission.rank_of(2), 3);
  const std::string other_shape =
      "--dataset=mnist\n--data-dir=/home/pi/data\ndata shape=1x32x32, 10 classes, 512 samples\n--lr=0.05\n"
      "--clients=4\n--partition=iid\n";
  EXPECT_NE(admission.admit(2, encode_introduction({{}, other_shape}))
                .find("data shape is '1x32x32, 10 classes' on worker 2 and '1x28x28, 10 classes' on the coordinator"),
            std::string::npos);
  EXPECT_NE(admission.admit(5, own).find("names client 4 but the run has --clients 4"), std::string::npos)
      << "a fifth device in a run of 4 clients";
  EXPECT_NE(admission.admit(1, encode_introduction({{2}, coordinator})).find("which worker 3 serves already"),
            std::string::npos);
  EXPECT_NE(admission.admit(1, encode_introduction({{0}, device})).find("--data-dir is"), std::string::npos)
      << "a worker naming partitions must have the coordinator's data";
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

Bytes frame_of(size_t size, uint8_t seed) {
  Bytes frame(size);
  for (size_t i = 0; i < size; ++i) frame[i] = static_cast<uint8_t>(i * 31 + seed);
  return frame;
}

// Feeds every chunk of `frame`; the frame once complete.
std::optional<Bytes> feed(transport::ChunkAssembler& a, const Bytes& frame) {
  for (size_t offset = 0; offset < frame.size(); offset += transport::kChunkBytes) {
    auto got = a.add(transport::make_chunk(frame, offset));
    if (!got) return std::nullopt;
    if (got.value()) return *got.value();
  }
  return std::nullopt;
}

TEST(Chunks, AFrameCutIntoChunksComesBackWhole) {
  const Bytes frame = frame_of(2 * transport::kChunkBytes + 17, 1);
  EXPECT_EQ(transport::make_chunk(frame, 0).size(), transport::kChunkBytes + transport::kChunkHeaderBytes);
  transport::ChunkAssembler a(uint64_t{1} << 30);
  EXPECT_EQ(feed(a, frame), frame);
  EXPECT_EQ(feed(a, frame_of(5, 2)), frame_of(5, 2)) << "the assembler is ready for the next frame";
}

TEST(Chunks, ACorruptOrMisplacedChunkDropsItsFrameAndTheNextFrameArrives) {
  const Bytes frame = frame_of(2 * transport::kChunkBytes + 17, 3);
  transport::ChunkAssembler a(uint64_t{1} << 30);
  ASSERT_TRUE(a.add(transport::make_chunk(frame, 0)).is_ok());
  auto corrupt = transport::make_chunk(frame, transport::kChunkBytes);
  corrupt.back() ^= 1;
  EXPECT_FALSE(a.add(corrupt).is_ok()) << "CRC";
  EXPECT_FALSE(a.add(transport::make_chunk(frame, 2 * transport::kChunkBytes)).is_ok()) << "a gap";
  EXPECT_EQ(feed(a, frame), frame);
  transport::ChunkAssembler small(1000);
  EXPECT_FALSE(small.add(transport::make_chunk(frame_of(2000, 4), 0)).is_ok()) << "above the cap";
  EXPECT_FALSE(small.add(Bytes{1, 2, 3}).is_ok()) << "shorter than a header";
}

TEST(Chunks, AFrameInterruptedByANewOneIsAbandonedAndTheNewOneArrives) {
  const Bytes first = frame_of(3 * transport::kChunkBytes, 5), second = frame_of(transport::kChunkBytes + 9, 6);
  transport::ChunkAssembler a(uint64_t{1} << 30);
  ASSERT_TRUE(a.add(transport::make_chunk(first, 0)).is_ok());
  ASSERT_TRUE(a.add(transport::make_chunk(first, transport::kChunkBytes)).is_ok());
  EXPECT_EQ(feed(a, second), second) << "a peer that restarted sends its next frame from offset 0";
  EXPECT_EQ(a.abandoned(), 1);
}

// A chunk header is a peer's claim: 40 bytes declaring a 1 GiB frame cost what arrived, not
// what was declared (the assembler grows with the chunks).
TEST(Chunks, ADeclaredSizeCostsNoMemoryOnlyArrivedBytesDo) {
  Bytes claim;
  ByteWriter w(&claim);
  w.put_u64(uint64_t{1} << 30);  // total
  w.put_u64(0);                  // offset
  const Bytes data(20, 7);
  w.put_u32(crc32_of(data.data(), data.size()));
  w.put_bytes(data.data(), data.size());
  transport::ChunkAssembler a(uint64_t{1} << 30);
  auto got = a.add(claim);
  ASSERT_TRUE(got.is_ok()) << got.message();
  EXPECT_FALSE(got.value()) << "more is due";
  EXPECT_LE(a.held_bytes(), 64u) << "the 1 GiB was never allocated";
  const Bytes frame = frame_of(3 * transport::kChunkBytes + 5, 8);
  EXPECT_EQ(feed(a, frame), frame);
}

}  // namespace
}  // namespace xfed::app
