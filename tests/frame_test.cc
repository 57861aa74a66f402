#include <gtest/gtest.h>
#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>

#include "protocol/frame.h"
#include "protocol/messages.h"

namespace xfed::protocol {
namespace {

FrameHeader sample_header() {
  FrameHeader h;
  h.kind = FrameKind::kUpdate;
  h.round = 7;
  h.sender = 3;
  h.client = 42;
  h.model_version = 9;
  h.codecs = {CodecId::kTopK, CodecId::kQsgd, CodecId::kZstd};
  return h;
}

TEST(Frame, RoundTripKeepsEveryField) {
  const Bytes payload{1, 2, 3, 4, 5};
  auto bytes = encode_frame(sample_header(), payload);
  EXPECT_EQ(bytes.size(), kFrameFixedHeaderBytes + 3 + payload.size());
  auto f = decode_frame(bytes);
  ASSERT_TRUE(f) << f.message();
  const auto& h = f.value().header;
  EXPECT_EQ(h.kind, FrameKind::kUpdate);
  EXPECT_EQ(h.round, 7u);
  EXPECT_EQ(h.sender, 3u);
  EXPECT_EQ(h.client, 42u);
  EXPECT_EQ(h.model_version, 9u);
  EXPECT_EQ(h.codecs, sample_header().codecs);
  EXPECT_EQ(Bytes(f.value().payload(), f.value().payload() + f.value().payload_size), payload);
}

TEST(Frame, EmptyPayloadIsValid) {
  auto f = decode_frame(encode_frame(sample_header(), Bytes{}));
  ASSERT_TRUE(f) << f.message();
  EXPECT_EQ(f.value().payload_size, 0u);
}

TEST(Frame, HeaderBytesAreTheDocumentedLayout) {
  auto b = encode_frame(sample_header(), Bytes{0xaa});
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "XFED");
  EXPECT_EQ(b[4], 2);  // version, little-endian
  auto v1 = b;  // format 1 frames (older checkpoints, saved models) are still read
  v1[4] = 1;
  auto old = decode_frame(v1);
  ASSERT_TRUE(old) << old.message();
  EXPECT_EQ(old.value().version, 1);
  EXPECT_EQ(b[5], 0);
  EXPECT_EQ(b[6], static_cast<uint8_t>(FrameKind::kUpdate));
  EXPECT_EQ(b[7], 3);  // codec count
  EXPECT_EQ(b[8], 7);  // round
  EXPECT_EQ(b[24], 1);  // payload length
  EXPECT_EQ(b[36], static_cast<uint8_t>(CodecId::kTopK));
  EXPECT_EQ(b.back(), 0xaa);
}

// Every malformation is an error value with a message, never a crash.
struct Corruption {
  const char* name;
  std::function<void(Bytes&)> apply;
  const char* expected;
};

void PrintTo(const Corruption& c, std::ostream* os) { *os << c.name; }

class FrameCorruption : public ::testing::TestWithParam<Corruption> {};

TEST_P(FrameCorruption, IsRejectedWithAClearMessage) {
  auto bytes = encode_frame(sample_header(), Bytes{10, 20, 30, 40});
  GetParam().apply(bytes);
  auto f = decode_frame(bytes, 1 << 20);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.code(), StatusCode::kCorruption) << f.message();
  EXPECT_NE(f.message().find(GetParam().expected), std::string::npos) << f.message();
}

INSTANTIATE_TEST_SUITE_P(
    All, FrameCorruption,
    ::testing::Values(
        Corruption{"magic", [](Bytes& b) { b[0] = 'Y'; }, "bad magic"},
        Corruption{"version", [](Bytes& b) { b[4] = 99; }, "unsupported frame format version 99"},
        Corruption{"kind", [](Bytes& b) { b[6] = 200; }, "unknown frame kind 200"},
        Corruption{"kind_after_the_last", [](Bytes& b) { b[6] = 17; }, "unknown frame kind 17"},
        Corruption{"codec", [](Bytes& b) { b[36] = 250; }, "unknown codec id 250"},
        Corruption{"checksum", [](Bytes& b) { b.back() ^= 1; }, "payload checksum mismatch"},
        Corruption{"truncated_payload", [](Bytes& b) { b.pop_back(); }, "payload length 4 but 3"},
        Corruption{"extra_bytes", [](Bytes& b) { b.push_back(0); }, "payload length 4 but 5"},
        Corruption{"truncated_header", [](Bytes& b) { b.resize(20); }, "truncated frame header"},
        Corruption{"truncated_codecs", [](Bytes& b) { b.resize(37); }, "truncated codec list"},
        Corruption{"empty", [](Bytes& b) { b.clear(); }, "truncated frame header"},
        Corruption{"huge_length", [](Bytes& b) { b[31] = 0x7f; }, "payload length"},
        Corruption{"oversized", [](Bytes& b) { b.resize(2 << 20); }, "exceeds max_frame_bytes"}),
    [](const auto& info) { return std::string(info.param.name); });

// A stats task keeps every field, each flag on its own; unknown flag bits and a clip that is
// negative or not finite are rejected.
TEST(TrainTask, StatsFieldsRoundTripAndUnknownFlagsAreRejected) {
  for (int flag = 0; flag < 4; ++flag) {
    TrainTask t;
    t.mode = TaskMode::kStats;
    t.stats_samples = 123;
    t.stats_noise = 0.5;
    t.spatial = flag == 0;
    t.taylor = flag == 1;
    t.skip_input = flag == 2;
    t.fp32_stats = flag == 3;
    t.stats_clip_rms = 0.25 * flag;
    Bytes b;
    ByteWriter w(&b);
    t.write(w);
    ByteReader r(b);
    TrainTask back;
    ASSERT_TRUE(back.read(r)) << flag;
    EXPECT_EQ(back.mode, TaskMode::kStats);
    EXPECT_EQ(back.stats_samples, 123u);
    EXPECT_EQ(back.stats_noise, 0.5);
    EXPECT_EQ(back.spatial, t.spatial);
    EXPECT_EQ(back.taylor, t.taylor);
    EXPECT_EQ(back.skip_input, t.skip_input);
    EXPECT_EQ(back.fp32_stats, t.fp32_stats);
    EXPECT_EQ(back.stats_clip_rms, t.stats_clip_rms);
    b[b.size() - 9] |= 32;  // the flags byte, before the clip's 8 bytes: a bit no task has
    ByteReader bad(b);
    EXPECT_FALSE(TrainTask().read(bad)) << flag;
  }
  for (double clip : {-1.0, double{NAN}, double{INFINITY}, 2e6}) {
    TrainTask t;
    t.stats_clip_rms = clip;
    Bytes b;
    ByteWriter w(&b);
    t.write(w);
    ByteReader r(b);
    EXPECT_FALSE(TrainTask().read(r)) << clip;
  }
}

// --secure-aggregation's block travels only with a training task that has it (flag 16); each
// field is checked on reading, and a stats task with the flag is refused.
TEST(TrainTask, SecureAggregationBlockRoundTripsAndItsFieldsAreChecked) {
  const auto bytes_of = [](const TrainTask& t) {
    Bytes b;
    ByteWriter w(&b);
    t.write(w);
    return b;
  };
  TrainTask plain;
  TrainTask t;
  t.secagg = protocol::SecAggTask{6, 4, 0.25, 12, 19, 0.5, 0.125};
  const Bytes b = bytes_of(t);
  EXPECT_EQ(b.size(), bytes_of(plain).size() + 4 + 4 + 8 + 1 + 1 + 8 + 8) << "only a task with it carries it";
  ByteReader r(b);
  TrainTask back;
  ASSERT_TRUE(back.read(r) && r.done());
  ASSERT_TRUE(back.secagg.has_value());
  EXPECT_EQ(back.secagg->degree, 6u);
  EXPECT_EQ(back.secagg->threshold, 4u);
  EXPECT_EQ(back.secagg->range, 0.25);
  EXPECT_EQ(back.secagg->bits, 12);
  EXPECT_EQ(back.secagg->ring_bits, 19);
  EXPECT_EQ(back.secagg->dp_clip, 0.5);
  EXPECT_EQ(back.secagg->dp_noise, 0.125);
  const Bytes plain_bytes = bytes_of(plain);
  ByteReader r2(plain_bytes);
  ASSERT_TRUE(back.read(r2));
  EXPECT_FALSE(back.secagg.has_value()) << "a task read again forgets the old block";
  const std::vector<protocol::SecAggTask> bad = {
      {5, 4, 0.25, 12, 19},  {0, 0, 0.25, 12, 19},       {6, 1, 0.25, 12, 19},     {6, 8, 0.25, 12, 19},
      {6, 4, 0.0, 12, 19},   {6, 4, -1.0, 12, 19},       {6, 4, double{NAN}, 12, 19}, {6, 4, double{INFINITY}, 12, 19},
      {6, 4, 0.25, 0, 19},   {6, 4, 0.25, 32, 32},       {6, 4, 0.25, 12, 11},     {6, 4, 0.25, 12, 33},
      {2048, 4, 0.25, 12, 19}, {6, 4, 0.25, 12, 19, -1, 0}, {6, 4, 0.25, 12, 19, double{NAN}, 0},
      {6, 4, 0.25, 12, 19, 0, 0.5}, {6, 4, 0.25, 12, 19, 1, double{INFINITY}}, {6, 4, 0.25, 12, 19, 1, 2e6}};
  for (const auto& s : bad) {
    TrainTask x;
    x.secagg = s;
    const Bytes xb = bytes_of(x);
    ByteReader rb(xb);
    EXPECT_FALSE(TrainTask().read(rb)) << s.degree << " " << s.threshold << " " << s.range << " " << int{s.bits} << " "
                                       << int{s.ring_bits};
  }
  TrainTask stats = t;  // masked statistics: the block's range is the activation bound
  stats.mode = TaskMode::kStats;
  stats.stats_samples = 500;
  const Bytes sb = bytes_of(stats);
  ByteReader rs(sb);
  TrainTask stats_back;
  ASSERT_TRUE(stats_back.read(rs));
  EXPECT_EQ(stats_back.mode, TaskMode::kStats);
  ASSERT_TRUE(stats_back.secagg.has_value());
  EXPECT_EQ(stats_back.secagg->range, 0.25);
  EXPECT_EQ(stats_back.stats_samples, 500u);
}

// The training knobs (core/train_options.h) keep format version 2's bytes, written out by
// hand here, and a value outside a knob's range (or not finite) makes the task unreadable.
TEST(TrainTask, TrainingKnobsKeepTheirBytesAndTheirRanges) {
  TrainTask t;
  t.train.lr = 0.125;
  t.train.momentum = 0.5;
  t.train.weight_decay = 1e-4;
  t.train.prox_mu = 0.01;
  t.train.local_epochs = 3;
  t.train.batch = 48;
  t.train.seed = 0x0123456789abcdefull;
  Bytes b;
  ByteWriter w(&b);
  t.write(w);
  Bytes expected;
  ByteWriter e(&expected);
  e.put_u8(0);  // kTrain
  e.put_f64(0.125);
  e.put_f64(0.5);
  e.put_f64(1e-4);
  e.put_f64(0.01);
  e.put_u32(3);
  e.put_u32(48);
  e.put_u64(0x0123456789abcdefull);
  ASSERT_GE(b.size(), expected.size());
  EXPECT_EQ(Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(expected.size())), expected);
  ByteReader r(b);
  TrainTask back;
  ASSERT_TRUE(back.read(r));
  EXPECT_EQ(back.train.lr, 0.125);
  EXPECT_EQ(back.train.weight_decay, 1e-4);
  EXPECT_EQ(back.train.local_epochs, 3);
  EXPECT_EQ(back.train.batch, 48);
  EXPECT_EQ(back.train.seed, 0x0123456789abcdefull);

  // Offsets in the task: lr 1, momentum 9, weight decay 17, mu 25, epochs 33, batch 37.
  const auto refused = [&](size_t offset, auto value, const char* what) {
    Bytes bad = b;
    Bytes field;
    ByteWriter fw(&field);
    if constexpr (std::is_same_v<decltype(value), double>) {
      fw.put_f64(value);
    } else {
      fw.put_u32(value);
    }
    std::copy(field.begin(), field.end(), bad.begin() + static_cast<std::ptrdiff_t>(offset));
    ByteReader br(bad);
    EXPECT_FALSE(TrainTask().read(br)) << what;
  };
  refused(1, std::nan(""), "NaN learning rate");
  refused(1, 2e3, "learning rate above 1000");
  refused(9, 1.0, "momentum 1");
  refused(17, -1e-3, "negative weight decay");
  refused(25, std::numeric_limits<double>::infinity(), "infinite mu");
  refused(33, uint32_t{0}, "no epochs");
  refused(37, uint32_t{0}, "batch 0");
  refused(37, uint32_t{(1u << 24) + 1}, "batch above 2^24");
}

}  // namespace
}  // namespace xfed::protocol

namespace xfed::protocol {
namespace {

// Every control command round-trips with its text (when it carries one); unknown commands,
// a text on a command without one and trailing bytes are refused.
TEST(ControlMessage, EveryCommandRoundTripsAndMalformedOnesAreRefused) {
  for (auto command : {ControlCommand::kShutdown, ControlCommand::kSaveClientState, ControlCommand::kClientStateSaved,
                       ControlCommand::kCheckConfig, ControlCommand::kConfigChecked, ControlCommand::kResume}) {
    const bool text = command != ControlCommand::kShutdown && command != ControlCommand::kSaveClientState;
    const ControlMessage sent{command, text ? "structure 2" : ""};
    Bytes bytes;
    ByteWriter w(&bytes);
    sent.write(w);
    ByteReader r(bytes);
    ControlMessage back;
    ASSERT_TRUE(back.read(r)) << static_cast<int>(command);
    EXPECT_EQ(back.command, command);
    EXPECT_EQ(back.text, sent.text);
    bytes.push_back(0);
    ByteReader longer(bytes);
    EXPECT_FALSE(ControlMessage{}.read(longer)) << "trailing bytes, command " << static_cast<int>(command);
  }
  // A shutdown may say why the run stops early; without a reason it is the one byte it was.
  const ControlMessage stop{ControlCommand::kShutdown, "interrupted (SIGTERM)"};
  Bytes bytes;
  ByteWriter w(&bytes);
  stop.write(w);
  ByteReader r(bytes);
  ControlMessage back;
  ASSERT_TRUE(back.read(r));
  EXPECT_EQ(back.command, ControlCommand::kShutdown);
  EXPECT_EQ(back.text, stop.text);
  bytes.push_back(0);
  ByteReader longer(bytes);
  EXPECT_FALSE(ControlMessage{}.read(longer)) << "trailing bytes after the reason";
  for (uint8_t unknown : {uint8_t{0}, uint8_t{7}, uint8_t{255}}) {
    const Bytes bytes{unknown};
    ByteReader r(bytes);
    ControlMessage m;
    EXPECT_FALSE(m.read(r)) << int(unknown);
  }
}

// The payload is the archive's SHA-256 then the archive: written by hand here, so that the
// layout is pinned; a digest that does not match the bytes, an empty archive or a cut
// digest are refused.
TEST(ModelCode, IsTheDigestThenTheArchiveAndTheDigestIsChecked) {
  const std::string archive = "PK\x03\x04 not a real archive";
  const auto digest = sha256(archive);
  Bytes expected(digest.begin(), digest.end());
  expected.insert(expected.end(), archive.begin(), archive.end());
  Bytes written;
  ByteWriter w(&written);
  ModelCode{std::make_shared<const std::string>(archive)}.write(w);
  EXPECT_EQ(written, expected);
  ByteReader r(written);
  ModelCode back;
  ASSERT_TRUE(back.read(r));
  EXPECT_EQ(*back.archive, archive);

  auto tampered = written;
  tampered.back() ^= 1;
  ByteReader rt(tampered);
  EXPECT_FALSE(ModelCode{}.read(rt)) << "one bit of the archive changed";
  const Bytes digest_only(digest.begin(), digest.end());
  ByteReader re(digest_only);
  EXPECT_FALSE(ModelCode{}.read(re)) << "an empty archive";
  const Bytes cut(digest.begin(), digest.begin() + 20);
  ByteReader rc(cut);
  EXPECT_FALSE(ModelCode{}.read(rc)) << "a cut digest";

  const auto frame = decode_frame(ModelCode{std::make_shared<const std::string>(archive)}.frame(3));
  ASSERT_TRUE(frame.is_ok()) << frame.message();
  EXPECT_EQ(frame.value().header.kind, FrameKind::kCode);
  EXPECT_EQ(std::string(frame_kind_name(FrameKind::kCode)), "code");
  auto fr = frame.value().payload_reader();
  ASSERT_TRUE(back.read(fr));
  EXPECT_EQ(*back.archive, archive);
}

}  // namespace
}  // namespace xfed::protocol
